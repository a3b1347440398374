{%- from "mesos/map.jinja" import mesos with context %}
{%- from "mesos/flags.jinja" import flag_files with context %}
{%- from "nfs/map.jinja" import nfs with context %}
{%- from "docker/map.jinja" import docker with context %}
{%- set this_node = salt['topology.node']() %}
{%- if mesos.agent_principal not in mesos.credentials %}
{{ raise('mesos agent ' ~ grains.id ~ ': no secret for principal ' ~ mesos.agent_principal ~ ' in pillar: run `salt-run site.secrets`') }}
{%- endif %}
{%- set credential = {'principal': mesos.agent_principal, 'secret': mesos.credentials[mesos.agent_principal]} %}
{#- Marathon places each environment's app on its agents through the env attribute. The
    masters are found in ZooKeeper, read from the zk file (Mesos reads and trims file:// values).
    The agent pulls app images as the registry's pull user (docker.login writes its login). #}
{%- set flags = salt['slsutil.merge']({
      'master': 'file://' ~ mesos.zk_file,
      'attributes': 'env:' ~ this_node.env,
      'ip': this_node.ip,
      'hostname': this_node.fqdn,
      'credential': mesos.secrets_dir ~ '/credential.json',
      'http_credentials': mesos.secrets_dir ~ '/http_credentials.json',
      'docker_config': 'file://' ~ docker.client_config,
      'resources': 'ports:[' ~ mesos.agent.task_ports ~ ']',
    }, mesos.agent.flags, strategy='recurse') %}
include:
  - docker
  - .package
  - .zk
  - .secrets
  - .task_user
{{ flag_files('agent', mesos.agent.conf_dir, flags) }}

{#- The agent registers with its principal, and accepts the same one on its own endpoints
    (this node's health check). #}
mesos-agent-credential-file-managed:
  file.managed:
    - name: {{ mesos.secrets_dir }}/credential.json
    - contents: {{ credential | json | json }}
    - mode: "0600"
    - show_changes: false
    - require:
      - file: mesos-secrets-dir-managed

mesos-agent-http-credentials-file-managed:
  file.managed:
    - name: {{ mesos.secrets_dir }}/http_credentials.json
    - contents: {{ {'credentials': [credential]} | json | json }}
    - mode: "0600"
    - show_changes: false
    - require:
      - file: mesos-secrets-dir-managed
{%- for defaults_file in mesos.defaults_files %}

mesos-agent-defaults-{{ defaults_file | replace('/etc/default/', '') }}-absent:
  file.absent:
    - name: {{ defaults_file }}
{%- endfor %}
{%- if 'nfs-client' in this_node.roles %}

{#- The app's tasks bind the shared storage: an agent that starts before it is mounted would
    run them on the local, empty directory beneath. Salt's service states reload systemd
    when a unit's drop-in changes. #}
mesos-agent-unit-requires-shared-storage-managed:
  file.managed:
    - name: /etc/systemd/system/{{ mesos.agent.service }}.service.d/platform-storage.conf
    - contents: |
        [Unit]
        RequiresMountsFor={{ nfs.export }}/{{ this_node.env }}
    - makedirs: true
    - require_in:
      - service: mesos-agent-service-running
{%- endif %}

mesos-agent-service-running:
  service.running:
    - name: {{ mesos.agent.service }}
    - enable: true
    - require:
      # The docker containerizer needs a running engine when the agent starts.
      - service: docker-service-running
    # A new pinned version is an upgrade: the daemon restarts on it (tasks run on).
    - watch:
      - pkg: mesos-package-installed
      - file: mesos-zk-file-managed
      - file: mesos-agent-flag-*
      - file: mesos-agent-defaults-*
      - file: mesos-agent-credential-file-managed
      - file: mesos-agent-http-credentials-file-managed
      - file: docker-registry-login-file-*
{%- if 'mesos-master' not in this_node.roles %}

{#- One package holds both daemons; an agent runs no master, whoever enabled it. #}
mesos-master-service-dead:
  service.dead:
    - name: {{ mesos.master.service }}
    - enable: false
    - require:
      - sls: mesos.package
{%- endif %}
