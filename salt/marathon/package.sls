{%- from "marathon/map.jinja" import marathon with context %}
{#- Marathon comes from the same vendor repository as Mesos (pillar mesos:repo). #}
include:
  - mesos.repo
  - mesos.sasl

marathon-package-installed:
  pkg.installed:
    - name: {{ marathon.package }}
    - version: {{ marathon.version | json }}
    - require:
      - sls: mesos.repo
      - pkg: mesos-sasl-package-installed
