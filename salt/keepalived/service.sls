{%- from "keepalived/map.jinja" import keepalived with context %}
include:
  - .config

keepalived-service-running:
  service.running:
    - name: {{ keepalived.service }}
    - enable: true
    # The config file, or the state explaining why it cannot be written (then keepalived is
    # left alone).
    - watch:
      - sls: keepalived.config
