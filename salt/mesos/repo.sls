{%- from "mesos/map.jinja" import mesos with context %}
{#- The vendor repository ships Mesos and Marathon (the marathon formula includes this). No
    Debian release carries them, so a site without pillar mesos:repo cannot install either:
    refuse it here, before anything is installed, rather than fail in apt later. #}
{%- if not mesos.repo %}

mesos-repo-managed:
  test.fail_without_changes:
    - name: >-
        pillar mesos:repo is empty: set it in this site's pillar to the apt line of the
        repository that carries {{ mesos.package }} {{ mesos.version }} and marathon, for example
        'deb [signed-by=/etc/apt/keyrings/mesos.gpg] https://<repository>/debian bookworm main',
        with mesos:repo_key_url naming its signing key
    - failhard: true
{%- else %}

mesos-repo-managed:
  pkgrepo.managed:
    - name: {{ mesos.repo | json }}
    - file: {{ mesos.repo_file }}
  {%- if mesos.repo_key_url %}
    - key_url: {{ mesos.repo_key_url | json }}
    - aptkey: false
  {%- endif %}
{%- endif %}
