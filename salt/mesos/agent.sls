{%- from "mesos/map.jinja" import mesos with context %}
{%- from "mesos/flags.jinja" import flag_files with context %}
{%- from "nfs/map.jinja" import nfs with context %}
{%- set this_node = salt['topology.node']() %}
{#- Marathon places each environment's app on its agents through the env attribute. #}
{%- set flags = salt['slsutil.merge']({
      'attributes': 'env:' ~ this_node.env,
      'ip': this_node.ip,
      'hostname': this_node.fqdn,
    }, mesos.agent.flags, strategy='recurse') %}
include:
  - docker
  - .package
  - .zk
{%- if mesos.stand_in %}
  {#- Lab only: the stand-in serves what this node's Mesos agent would. #}
  - standin.agent
{%- endif %}
{{ flag_files('agent', mesos.agent.conf_dir, flags) }}
{%- if not mesos.stand_in %}
{%-   if 'nfs-client' in this_node.roles %}

{#- The app's tasks bind the shared storage: an agent that starts before it is mounted would
    run them on the local, empty directory beneath. Salt's service states reload systemd
    when a unit's drop-in changes. #}
mesos-agent-unit-requires-shared-storage-managed:
  file.managed:
    - name: /etc/systemd/system/{{ mesos.agent.service }}.service.d/platform-storage.conf
    - contents: |
        [Unit]
        RequiresMountsFor={{ nfs.export }}
    - makedirs: true
    - require_in:
      - service: mesos-agent-service-running
{%-   endif %}

mesos-agent-service-running:
  service.running:
    - name: {{ mesos.agent.service }}
    - enable: true
    - require:
      # The docker containerizer needs a running engine when the agent starts.
      - service: docker-service-running
    - watch:
      - file: mesos-zk-file-managed
      - file: mesos-agent-flag-*
{%- endif %}
{#- Not with the stand-in: without the package there is no unit to stop, and a service.dead
    of a missing unit reports a pending change on every test=True run (false drift). #}
{%- if not mesos.stand_in and 'mesos-master' not in this_node.roles %}

{#- The package installs and enables both daemons; an agent runs no master. #}
mesos-master-service-dead:
  service.dead:
    - name: {{ mesos.master.service }}
    - enable: false
    - require:
      - sls: mesos.package
{%- endif %}
