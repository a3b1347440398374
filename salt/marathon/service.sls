{%- from "marathon/map.jinja" import marathon with context %}
include:
  - .config
{%- if not marathon.stand_in %}

marathon-service-running:
  service.running:
    - name: {{ marathon.service }}
    - enable: true
    - watch:
      - file: marathon-env-file-managed
{%- endif %}
