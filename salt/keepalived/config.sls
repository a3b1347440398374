{%- from "keepalived/map.jinja" import keepalived, platform with context %}
{%- set this_node = salt['topology.node']() %}
{%- set peers = salt['topology.nodes']('keepalived') %}
{%- do peers.pop(this_node.id, none) %}
{#- VRRP runs on the interface that carries the node's own address. #}
{%- set found = namespace(interface=none) %}
{%- for interface, addresses in grains['ip4_interfaces'] | dictsort if this_node.ip in addresses %}
{%-   set found.interface = interface %}
{%- endfor %}
include:
  - .package
{%- if found.interface %}

keepalived-config-file-managed:
  file.managed:
    - name: {{ keepalived.config_file }}
    - source: salt://keepalived/files/keepalived.conf.jinja
    - template: jinja
    # It holds the VRRP password: root only, and out of every diff.
    - mode: "0600"
    - show_changes: false
    - context:
        keepalived: {{ keepalived | json }}
        this_node: {{ this_node | json }}
        peers: {{ peers | json }}
        interface: {{ found.interface }}
        vip: {{ platform.vip }}/{{ platform.network.split('/')[1] }}
    - require:
      - pkg: keepalived-package-installed

keepalived-config-dir-cleaned:
  file.directory:
    - name: {{ keepalived.config_dir }}
    - clean: true
    # Shipped by the package and never read: kept, so a reinstall does not bring it back as drift.
    - exclude_pat: keepalived.conf.sample
    - require:
      - file: keepalived-config-file-managed
{%- else %}

keepalived-config-file-managed:
  test.fail_without_changes:
    - name: No interface of {{ grains['id'] }} carries {{ this_node.ip }} (pillar platform:nodes:{{ this_node.id }}:ip); VRRP has nowhere to run.
{%- endif %}
