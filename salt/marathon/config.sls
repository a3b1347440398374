{%- from "marathon/map.jinja" import marathon with context %}
{%- set this_node = salt['topology.node']() %}
{%- set flags = salt['slsutil.merge']({
      'master': marathon.master,
      'zk': marathon.zk,
      'hostname': this_node.fqdn,
      'http_port': marathon.http_port,
    }, marathon.flags, strategy='recurse') %}
include:
  - .package

marathon-env-file-managed:
  file.managed:
    - name: {{ marathon.env_file }}
    - source: salt://marathon/files/marathon.default.jinja
    - template: jinja
    - context:
        flags: {{ flags | json }}
    - require:
      - sls: marathon.package
