{%- from "zookeeper/map.jinja" import zookeeper with context %}

zookeeper-package-installed:
  pkg.installed:
    - name: {{ zookeeper.package }}
    - version: {{ zookeeper.version | json }}
