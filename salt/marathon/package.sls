{%- from "marathon/map.jinja" import marathon with context %}
{%- from "mesos/map.jinja" import mesos with context %}
{#- Marathon comes from the same vendor repository as Mesos (pillar mesos:repo). #}
include:
  - mesos.repo
{%- if marathon.stand_in %}

{#- Lab: the vendor package cannot be installed offline, so it is deliberately not installed;
    a stand-in speaking Marathon's v2 REST API takes its place (a later issue, not this formula). #}
marathon-package-skipped-for-stand-in:
  test.show_notification:
    - text: marathon:stand_in is set (lab); the Marathon package is not installed on this node.
{%- else %}

marathon-package-installed:
  pkg.installed:
    - name: {{ marathon.package }}
    - version: {{ marathon.version | json }}
  {%- if mesos.repo %}
    - require:
      - pkgrepo: mesos-repo-managed
  {%- endif %}
{%- endif %}
