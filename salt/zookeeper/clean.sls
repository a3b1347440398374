{%- from "zookeeper/map.jinja" import zookeeper with context %}

zookeeper-service-dead:
  service.dead:
    - name: {{ zookeeper.service }}
    - enable: false

zookeeper-package-removed:
  pkg.purged:
    - name: {{ zookeeper.package }}
    - require:
      - service: zookeeper-service-dead
