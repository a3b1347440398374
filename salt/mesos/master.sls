{%- from "mesos/map.jinja" import mesos with context %}
{%- from "mesos/flags.jinja" import flag_files with context %}
{%- set this_node = salt['topology.node']() %}
{%- set masters = salt['topology.nodes']('mesos-master') %}
{%- set flags = salt['slsutil.merge']({
      'quorum': masters | length // 2 + 1,
      'ip': this_node.ip,
      'hostname': this_node.fqdn,
    }, mesos.master.flags, strategy='recurse') %}
include:
  - .package
  - .zk
{%- if mesos.stand_in %}
  {#- Lab only: the stand-in serves what this node's Mesos would. #}
  - standin.master
{%- endif %}
{{ flag_files('master', mesos.master.conf_dir, flags) }}
{%- if not mesos.stand_in %}

mesos-master-service-running:
  service.running:
    - name: {{ mesos.master.service }}
    - enable: true
    - watch:
      - file: mesos-zk-file-managed
      - file: mesos-master-flag-*
{%- endif %}
{#- Not with the stand-in: without the package there is no unit to stop, and a service.dead
    of a missing unit reports a pending change on every test=True run (false drift). #}
{%- if not mesos.stand_in and 'mesos-agent' not in this_node.roles %}

{#- The package installs and enables both daemons; a master runs no agent. #}
mesos-agent-service-dead:
  service.dead:
    - name: {{ mesos.agent.service }}
    - enable: false
    - require:
      - sls: mesos.package
{%- endif %}
