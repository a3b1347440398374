{%- from "marathon/map.jinja" import marathon with context %}
include:
  - .config

marathon-service-running:
  service.running:
    - name: {{ marathon.service }}
    - enable: true
    - watch:
      - pkg: marathon-package-installed
      - file: marathon-env-file-managed
      - file: marathon-mesos-secret-file-managed
