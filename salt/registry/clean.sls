{%- from "registry/map.jinja" import registry with context %}
{#- The stored images (storage_dir) are data, not formula: they are kept. #}

registry-service-dead:
  service.dead:
    - names:
{%- for name, listener in registry.listeners | dictsort %}
      - {{ listener.service }}
{%- endfor %}
    - enable: false

registry-package-removed:
  pkg.purged:
    - name: {{ registry.package }}
    - require:
      - service: registry-service-dead

registry-files-absent:
  file.absent:
    - names:
      - {{ registry.tls_key }}
      - {{ registry.tls_cert }}
{%- for name, listener in registry.listeners | dictsort %}
      - {{ listener.config_file }}
      - {{ listener.htpasswd_file }}
{%-   if listener.get('unit_file') %}
      - {{ listener.unit_file }}
{%-   endif %}
{%- endfor %}
    - require:
      - service: registry-service-dead
