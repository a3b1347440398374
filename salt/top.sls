# Formulas follow roles: each node gets `common` plus the states of its roles in
# pillar platform:roles, so adding a node or a role is a pillar change only.
base:
{%- for node_id in salt['topology.nodes']() %}
  '{{ node_id }}':
  {%- for sls in salt['topology.states'](node_id) %}
    - {{ sls }}
  {%- endfor %}
{%- endfor %}
