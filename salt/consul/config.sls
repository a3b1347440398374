{%- from "consul/map.jinja" import consul with context %}
{%- from "common/map.jinja" import common with context %}
{%- set missing = [] if consul.acl.get('agent_tokens', {}).get(grains.id) else ['agent_tokens:' ~ grains.id] %}
{%- if consul.server_role in salt['topology.node']().roles and not consul.acl.get('master_token') %}
{%-   do missing.append('master_token') %}
{%- endif %}
{%- if missing %}
{{ raise('consul ' ~ grains.id ~ ': no consul:acl:' ~ missing | join(', consul:acl:') ~ ' in pillar: run `salt-run site.secrets`') }}
{%- endif %}
include:
  - .package
  - .tls

consul-data-directory-managed:
  file.directory:
    - name: {{ consul.data_dir }}
    - user: {{ consul.user }}
    - group: {{ consul.user }}
    - mode: "0700"
    - require:
      - pkg: consul-package-installed

consul-environment-file-managed:
  file.managed:
    - name: {{ consul.environment_file }}
    - source: salt://consul/files/environment.jinja
    - template: jinja
    - context:
        consul: {{ consul | json }}
    - mode: "0644"
    - require:
      - pkg: consul-package-installed

# Readable by the agent only: it holds the agent's ACL tokens, kept out of every diff.
consul-config-file-managed:
  file.managed:
    - name: {{ consul.config_file }}
    - source: salt://consul/files/consul.json.jinja
    - template: jinja
    - show_changes: false
    - context:
        consul: {{ consul | json }}
        node: {{ salt['topology.node']() | json }}
        servers: {{ salt['topology.nodes'](consul.server_role) | json }}
        ca_file: {{ common.ca_trust_path | json }}
    - user: root
    - group: {{ consul.user }}
    - mode: "0640"
    - check_cmd: consul validate -config-format=json
    - require:
      - pkg: consul-package-installed
      - x509: consul-tls-certificate-managed

# The gossip encryption key, as the agent reads it at its first start. Not watched by the
# service: a running agent ignores a new `encrypt` and takes the key from its keyring, which
# the first server rotates cluster-wide (consul.keyring).
consul-gossip-key-file-managed:
  file.managed:
    - name: {{ consul.gossip_key_file }}
    - contents: {{ {'encrypt': consul.encrypt} | json | json }}
    - show_changes: false
    - user: root
    - group: {{ consul.user }}
    - mode: "0640"
    - require:
      - pkg: consul-package-installed

consul-log-level-file-managed:
  file.managed:
    - name: {{ consul.log_level_file }}
    - contents: 'log_level = "{{ consul.log_level }}"'
    - mode: "0644"
    - require:
      - pkg: consul-package-installed

{#- Consul reads every file in its config dir: a file dropped there changes the agent, so the
    directory is managed wholesale and anything but the three files above is drift. #}
consul-config-dir-cleaned:
  file.directory:
    - name: {{ consul.config_dir }}
    - clean: true
    - require:
      - file: consul-config-file-managed
      - file: consul-gossip-key-file-managed
      - file: consul-log-level-file-managed
