{%- from "mesos/map.jinja" import mesos with context %}
include:
  - .package

{#- Read by both daemons: the master's zk and the agent's master flag files say file://<this>. #}
mesos-zk-file-managed:
  file.managed:
    - name: {{ mesos.zk_file }}
    - contents: {{ mesos.zk | json }}
    - makedirs: true
    - require:
      - sls: mesos.package
