{%- from "consul/map.jinja" import consul with context %}
{#- The first server keeps every member's gossip keyring on the site's key: after a rotation
    (`salt-run site.secrets rotate=consul_gossip_key`) it installs the new key cluster-wide,
    makes it the one in use and removes the old one (running agents ignore a new `encrypt`). #}
{%- set servers = salt['topology.nodes'](consul.server_role) | dictsort | map('first') | list %}
{%- if servers and grains.id == servers[0] %}
include:
  - .acl

consul-gossip-keyring-single-key:
  consul_keyring.single_key:
    - key: {{ consul.encrypt | json }}
    - token: {{ consul.acl.master_token | json }}
    - url: http://127.0.0.1:{{ consul.http_port }}
    - require:
      - consul_acl: consul-acl-bootstrapped
{%- endif %}
