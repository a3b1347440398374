{%- from "registry/map.jinja" import registry with context %}
{#- The stored images (storage_dir) are data, not formula: they are kept. #}

registry-service-dead:
  service.dead:
    - name: {{ registry.service }}
    - enable: false

registry-package-removed:
  pkg.purged:
    - name: {{ registry.package }}
    - require:
      - service: registry-service-dead

registry-tls-files-absent:
  file.absent:
    - names:
      - {{ registry.tls_key }}
      - {{ registry.tls_cert }}
      - {{ registry.htpasswd_file }}
    - require:
      - service: registry-service-dead
