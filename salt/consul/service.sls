{%- from "consul/map.jinja" import consul with context %}
include:
  - .config

consul-service-running:
  service.running:
    - name: {{ consul.service }}
    - enable: true
    - require:
      - file: consul-data-directory-managed
      - file: consul-gossip-key-file-managed
    - watch:
      - pkg: consul-package-installed
      - file: consul-environment-file-managed
      - file: consul-config-file-managed
      - file: consul-log-level-file-managed
      - file: consul-config-dir-cleaned
      - x509: consul-tls-certificate-managed
