{%- from "mesos/map.jinja" import mesos with context %}
{#- The vendor repository ships both Mesos and Marathon (the marathon formula includes this).
    Without pillar mesos:repo the packages must come from an apt source the node already has. #}
{%- if mesos.repo %}

mesos-repo-managed:
  pkgrepo.managed:
    - name: {{ mesos.repo | json }}
    - file: {{ mesos.repo_file }}
  {%- if mesos.repo_key_url %}
    - key_url: {{ mesos.repo_key_url | json }}
    - aptkey: false
  {%- endif %}
{%- endif %}
