{%- from "mesos/map.jinja" import mesos with context %}
include:
  - .package

{#- Read by both daemons: the master's --zk, the agent's --master (via /etc/default/mesos-*). #}
mesos-zk-file-managed:
  file.managed:
    - name: {{ mesos.zk_file }}
    - contents: {{ mesos.zk | json }}
    - makedirs: true
    - require:
      - sls: mesos.package
