{%- from "common/map.jinja" import common with context %}

common-packages-installed:
  pkg.installed:
    - pkgs: {{ common.packages | json }}
