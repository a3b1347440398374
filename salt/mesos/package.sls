{%- from "mesos/map.jinja" import mesos with context %}
include:
  - .repo

mesos-package-installed:
  pkg.installed:
    - name: {{ mesos.package }}
    - version: {{ mesos.version | json }}
    - require:
      - sls: mesos.repo
