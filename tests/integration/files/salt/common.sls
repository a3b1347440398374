{#- The marker's cmd.run states would be pending on every dry run, so a node could never be
    clean: with pillar integration:drift the nodes get the drift probe instead. #}
include:
{%- if salt['pillar.get']('integration:drift') %}
  - drift_probe
{%- else %}
  - marker
{%- endif %}
