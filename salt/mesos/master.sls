{%- from "mesos/map.jinja" import mesos with context %}
{%- from "mesos/flags.jinja" import flag_files with context %}
{%- set this_node = salt['topology.node']() %}
{%- set masters = salt['topology.nodes']('mesos-master') %}
{#- The masters elect their leader in ZooKeeper, read from the zk file (file:// is read and trimmed). #}
{%- set flags = salt['slsutil.merge']({
      'zk': 'file://' ~ mesos.zk_file,
      'quorum': masters | length // 2 + 1,
      'ip': this_node.ip,
      'hostname': this_node.fqdn,
    }, mesos.master.flags, strategy='recurse') %}
include:
  - .package
  - .zk
{{ flag_files('master', mesos.master.conf_dir, flags) }}
{%- for defaults_file in mesos.defaults_files %}

mesos-master-defaults-{{ defaults_file | replace('/etc/default/', '') }}-absent:
  file.absent:
    - name: {{ defaults_file }}
{%- endfor %}

mesos-master-service-running:
  service.running:
    - name: {{ mesos.master.service }}
    - enable: true
    # A new pinned version is an upgrade: the daemon restarts on it (tasks run on).
    - watch:
      - pkg: mesos-package-installed
      - file: mesos-zk-file-managed
      - file: mesos-master-flag-*
      - file: mesos-master-defaults-*
{%- if 'mesos-agent' not in this_node.roles %}

{#- One package holds both daemons; a master runs no agent, whoever enabled it. #}
mesos-agent-service-dead:
  service.dead:
    - name: {{ mesos.agent.service }}
    - enable: false
    - require:
      - sls: mesos.package
{%- endif %}
