{%- from "docker/map.jinja" import docker with context %}
include:
  - .config

docker-service-running:
  service.running:
    - name: {{ docker.service }}
    - enable: true
    - watch:
      - file: docker-config-file-managed
