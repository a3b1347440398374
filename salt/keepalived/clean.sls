{%- from "keepalived/map.jinja" import keepalived with context %}

keepalived-service-dead:
  service.dead:
    - name: {{ keepalived.service }}
    - enable: false

keepalived-package-removed:
  pkg.purged:
    - name: {{ keepalived.package }}
    - require:
      - service: keepalived-service-dead

{#- Not a conffile of the package (Debian ships none), so purging leaves it. #}
keepalived-config-file-absent:
  file.absent:
    - name: {{ keepalived.config_file }}
    - require:
      - pkg: keepalived-package-removed
