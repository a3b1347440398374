{%- from "consul/map.jinja" import consul with context %}
{#- The first server makes the ACL policies and tokens (the others would race it for the same
    tokens); it waits for a leader, which holds the ACL system. Every holder already has its
    token in its config, so an agent is refused only until this has run. #}
{%- set servers = salt['topology.nodes'](consul.server_role) | dictsort | map('first') | list %}
{%- if servers and grains.id == servers[0] %}
{%- set tokens = {} %}
{%- for key, token_policies in consul.acl.tokens | dictsort %}
{%-   do tokens.update({key: {'secret': consul.acl[key], 'policies': token_policies}}) %}
{%- endfor %}
{%- for node_id, secret in consul.acl.agent_tokens | dictsort %}
{%-   do tokens.update({'agent token of ' ~ node_id: {'secret': secret, 'node': node_id, 'policies': []}}) %}
{%- endfor %}
include:
  - .service

consul-acl-bootstrapped:
  consul_acl.bootstrapped:
    - master_token: {{ consul.acl.master_token | json }}
    - policies: {{ consul.acl.policies | json }}
    - tokens: {{ tokens | json }}
    - anonymous_policies: {{ consul.acl.anonymous_policies | json }}
    - retired_tokens: {{ consul.acl.retired_tokens | json }}
    - datacenter: {{ consul.datacenter | json }}
    - url: http://127.0.0.1:{{ consul.http_port }}
    - timeout: {{ consul.acl.bootstrap_timeout }}
    - require:
      - service: consul-service-running
{%- endif %}
