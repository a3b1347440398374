{%- from "zookeeper/map.jinja" import zookeeper with context %}
include:
  - .package

zookeeper-myid-file-managed:
  file.managed:
    - name: {{ zookeeper.conf_dir }}/myid
    - contents: "{{ salt['topology.node']().zookeeper_id }}"
    - require:
      - pkg: zookeeper-package-installed

zookeeper-config-file-managed:
  file.managed:
    - name: {{ zookeeper.conf_dir }}/zoo.cfg
    - source: salt://zookeeper/files/zoo.cfg.jinja
    - template: jinja
    - context:
        zookeeper: {{ zookeeper | json }}
        ensemble: {{ salt['topology.nodes']('zookeeper') | json }}
        address: {{ salt['topology.node']().ip }}
    - require:
      - pkg: zookeeper-package-installed
