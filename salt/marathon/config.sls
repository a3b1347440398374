{%- from "marathon/map.jinja" import marathon with context %}
{%- from "mesos/map.jinja" import mesos with context %}
{%- set this_node = salt['topology.node']() %}
{%- set framework_secret = mesos.credentials.get(mesos.framework_principal) %}
{%- set missing = [] %}
{%- for key, value in [('marathon:http_password', marathon.get('http_password')),
                       ('marathon:zk_password', marathon.get('zk_password')),
                       ('mesos:credentials:' ~ mesos.framework_principal, framework_secret)] if not value %}
{%-   do missing.append(key) %}
{%- endfor %}
{%- if missing %}
{{ raise('marathon ' ~ grains.id ~ ': no ' ~ missing | join(', ') ~ ' in pillar: run `salt-run site.secrets`') }}
{%- endif %}
{#- Marathon takes --http_credentials only as user:password, and a value that does not match
    just logs an error and runs without authentication: refuse one here instead. #}
{%- if ':' in marathon.http_user or not marathon.http_user or ':' in marathon.http_password %}
{{ raise('marathon:http_user must be non-empty and neither it nor marathon:http_password may contain ":" (Marathon would run without authentication)') }}
{%- endif %}
{#- Agents run each task as mesos_user, the task user of the mesos formula (the masters' ACLs
    allow no other). The package's own /etc/default/marathon sets root, and this formula replaces
    that file: without the flag Marathon registers as `marathon`, and every task is refused. #}
{%- set flags = salt['slsutil.merge']({
      'master': marathon.master,
      'zk': marathon.zk,
      'hostname': this_node.fqdn,
      'http_port': marathon.http_port,
      'mesos_authentication': true,
      'mesos_authentication_principal': mesos.framework_principal,
      'mesos_authentication_secret_file': marathon.mesos_secret_file,
      'mesos_user': mesos.task_user,
    }, marathon.flags, strategy='recurse') %}
include:
  - .package

marathon-mesos-secret-file-managed:
  file.managed:
    - name: {{ marathon.mesos_secret_file }}
    - contents: {{ framework_secret | json }}
    # Read raw by Marathon: a newline would be part of the secret.
    - contents_newline: false
    - user: root
    - group: {{ marathon.group }}
    - mode: "0640"
    - makedirs: true
    - show_changes: false
    - require:
      - sls: marathon.package

marathon-env-file-managed:
  file.managed:
    - name: {{ marathon.env_file }}
    - source: salt://marathon/files/marathon.default.jinja
    - template: jinja
    # Read by systemd as root; Marathon's flags carry credentials.
    - mode: "0600"
    - show_changes: false
    - context:
        flags: {{ flags | json }}
        http_credentials: {{ (marathon.http_user ~ ':' ~ marathon.http_password) | json }}
        # libprocess binds the scheduler to what the hostname resolves to; Vagrant's
        # `127.0.1.1 <fqdn>` line in /etc/hosts would make it loopback, and a scheduler the
        # masters cannot reach never registers.
        libprocess_ip: {{ this_node.ip }}
        libprocess_port: {{ marathon.libprocess_port }}
    - require:
      - sls: marathon.package
