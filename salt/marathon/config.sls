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
    # Read by systemd as root; Marathon's flags will carry credentials.
    - mode: "0640"
    - context:
        flags: {{ flags | json }}
        # libprocess binds the scheduler to what the hostname resolves to; Vagrant's
        # `127.0.1.1 <fqdn>` line in /etc/hosts would make it loopback, and a scheduler the
        # masters cannot reach never registers.
        libprocess_ip: {{ this_node.ip }}
    - require:
      - sls: marathon.package
