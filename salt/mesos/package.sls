{%- from "mesos/map.jinja" import mesos with context %}
include:
  - .repo
  - .sasl

mesos-package-installed:
  pkg.installed:
    - name: {{ mesos.package }}
    - version: {{ mesos.version | json }}
    - require:
      - sls: mesos.repo
      - pkg: mesos-sasl-package-installed
