{%- from "zookeeper/map.jinja" import zookeeper with context %}
include:
  - .config

zookeeper-service-running:
  service.running:
    - name: {{ zookeeper.service }}
    - enable: true
    - watch:
      - file: zookeeper-myid-file-managed
      - file: zookeeper-config-file-managed
