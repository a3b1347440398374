{%- from "registry/map.jinja" import registry with context %}

registry-package-installed:
  pkg.installed:
    - name: {{ registry.package }}
    - version: {{ registry.version | json }}
