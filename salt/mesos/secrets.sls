{%- from "mesos/map.jinja" import mesos with context %}
{#- The directory of the daemons' secret files (credentials, the masters' ZooKeeper URL),
    root only; a node with both daemons shares it. #}
include:
  - .package

mesos-secrets-dir-managed:
  file.directory:
    - name: {{ mesos.secrets_dir }}
    - user: root
    - group: root
    - mode: "0700"
    - require:
      - sls: mesos.package
