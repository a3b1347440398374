{%- from "mesos/map.jinja" import mesos with context %}
{%- from "mesos/flags.jinja" import flag_files with context %}
{%- set this_node = salt['topology.node']() %}
{%- set masters = salt['topology.nodes']('mesos-master') %}
{%- set principals = [mesos.agent_principal, mesos.framework_principal, mesos.operator_principal] %}
{%- set missing = principals | reject('in', mesos.credentials) | list %}
{%- if missing or not mesos.get('zk_password') %}
{{ raise('mesos master ' ~ grains.id ~ ': no secret for ' ~ (missing + ([] if mesos.get('zk_password') else ['mesos:zk_password'])) | join(', ') ~ ' in pillar: run `salt-run site.secrets`') }}
{%- endif %}
{%- set credentials = [] %}
{%- for principal, secret in mesos.credentials | dictsort %}
{%-   do credentials.append({'principal': principal, 'secret': secret}) %}
{%- endfor %}
{#- What each principal may do (Mesos' local authorizer: for an action, the first rule matching
    the principal and the object decides). The framework principal registers in any role and runs
    tasks as the task user only; the operator principal alone tears frameworks down; any other
    principal is refused all three. Every other action is left permissive: HTTP authentication
    already asks a principal of --credentials at every endpoint, and Marathon, the agents and the
    runners are all the principals there are. #}
{%- set acls = {
      'permissive': true,
      'register_frameworks': [
        {'principals': {'values': [mesos.framework_principal]}, 'roles': {'type': 'ANY'}},
        {'principals': {'type': 'ANY'}, 'roles': {'type': 'NONE'}},
      ],
      'run_tasks': [
        {'principals': {'values': [mesos.framework_principal]}, 'users': {'values': [mesos.task_user]}},
        {'principals': {'type': 'ANY'}, 'users': {'type': 'NONE'}},
      ],
      'teardown_frameworks': [
        {'principals': {'values': [mesos.operator_principal]}, 'framework_principals': {'type': 'ANY'}},
        {'principals': {'type': 'ANY'}, 'framework_principals': {'type': 'NONE'}},
      ],
    } %}
{#- The masters elect their leader in ZooKeeper, at the URL with their digest (file:// is read
    and trimmed, and keeps the password off the command line). #}
{%- set flags = salt['slsutil.merge']({
      'zk': 'file://' ~ mesos.secrets_dir ~ '/zk',
      'credentials': mesos.secrets_dir ~ '/credentials.json',
      'acls': 'file://' ~ mesos.acls_file,
      'quorum': masters | length // 2 + 1,
      'ip': this_node.ip,
      'hostname': this_node.fqdn,
    }, mesos.master.flags, strategy='recurse') %}
include:
  - .package
  - .zk
  - .secrets
{{ flag_files('master', mesos.master.conf_dir, flags) }}

mesos-master-zk-url-file-managed:
  file.managed:
    - name: {{ mesos.secrets_dir }}/zk
    - contents: {{ mesos.master_zk | json }}
    - mode: "0600"
    - show_changes: false
    - require:
      - file: mesos-secrets-dir-managed

{#- Every principal: frameworks and agents authenticate with one, and HTTP Basic on the
    master's endpoints checks these too (the master has no --http_credentials). #}
mesos-master-credentials-file-managed:
  file.managed:
    - name: {{ mesos.secrets_dir }}/credentials.json
    - contents: {{ {'credentials': credentials} | json | json }}
    - mode: "0600"
    - show_changes: false
    - require:
      - file: mesos-secrets-dir-managed

mesos-master-acls-file-managed:
  file.managed:
    - name: {{ mesos.acls_file }}
    - contents: {{ acls | json | json }}
    - mode: "0644"
    - makedirs: true
    - require:
      - sls: mesos.package
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
      - file: mesos-master-zk-url-file-managed
      - file: mesos-master-credentials-file-managed
      - file: mesos-master-acls-file-managed
{%- if 'mesos-agent' not in this_node.roles %}

{#- One package holds both daemons; a master runs no agent, whoever enabled it. #}
mesos-agent-service-dead:
  service.dead:
    - name: {{ mesos.agent.service }}
    - enable: false
    - require:
      - sls: mesos.package
{%- endif %}
