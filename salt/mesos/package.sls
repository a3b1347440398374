{%- from "mesos/map.jinja" import mesos with context %}
include:
  - .repo
{%- if mesos.stand_in %}

{#- Lab: the vendor package cannot be installed offline, so it is deliberately not installed;
    a stand-in speaking Mesos' state API takes its place (a later issue, not this formula). #}
mesos-package-skipped-for-stand-in:
  test.show_notification:
    - text: mesos:stand_in is set (lab); the Mesos package is not installed on this node.
{%- else %}

mesos-package-installed:
  pkg.installed:
    - name: {{ mesos.package }}
    - version: {{ mesos.version | json }}
  {%- if mesos.repo %}
    - require:
      - pkgrepo: mesos-repo-managed
  {%- endif %}
{%- endif %}
