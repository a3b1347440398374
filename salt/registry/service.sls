{%- from "registry/map.jinja" import registry with context %}
include:
  - .tls
  - .config
{%- for name, listener in registry.listeners | dictsort %}

registry-{{ name }}-service-running:
  service.running:
    - name: {{ listener.service }}
    - enable: true
    - require:
      - file: registry-storage-directory-managed
{%-   if listener.get('unit_file') %}
      - cmd: registry-{{ name }}-unit-loaded
{%-   endif %}
    - watch:
      - file: registry-{{ name }}-config-file-managed
      - file: registry-{{ name }}-htpasswd-file-managed
      - x509: registry-tls-key-managed
      - x509: registry-tls-certificate-managed
{%-   if listener.get('unit_file') %}
      - file: registry-{{ name }}-unit-file-managed
{%-   endif %}
{%- endfor %}
