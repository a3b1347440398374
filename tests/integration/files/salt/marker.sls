{#- Stands in for a formula: records when this node was converged, and fails when the
    test drops a fail-<id> flag, so the test sees the order and the stop on failure. #}
{%- set log_dir = pillar['integration']['log_dir'] %}

marker-converged-recorded:
  cmd.run:
    - name: echo "{{ grains['id'] }} {{ sls }} $(date +%s.%N)" >> {{ log_dir }}/applied.log

marker-node-healthy:
  cmd.run:
    - name: test ! -e {{ log_dir }}/fail-{{ grains['id'] }}
    - require:
      - cmd: marker-converged-recorded
