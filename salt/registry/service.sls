{%- from "registry/map.jinja" import registry with context %}
include:
  - .tls
  - .config

registry-service-running:
  service.running:
    - name: {{ registry.service }}
    - enable: true
    - require:
      - file: registry-storage-directory-managed
    - watch:
      - file: registry-config-file-managed
      - file: registry-htpasswd-file-managed
      - x509: registry-tls-key-managed
      - x509: registry-tls-certificate-managed
