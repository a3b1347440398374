{%- from "keepalived/map.jinja" import keepalived with context %}

keepalived-package-installed:
  pkg.installed:
    - name: {{ keepalived.package }}
    - version: {{ keepalived.version | json }}
