{%- from "mesos/map.jinja" import mesos with context %}

mesos-services-dead:
  service.dead:
    - names:
      - {{ mesos.master.service }}
      - {{ mesos.agent.service }}
    - enable: false

mesos-package-removed:
  pkg.purged:
    - name: {{ mesos.package }}
    - require:
      - service: mesos-services-dead

{#- Work dirs (replicated log, agent checkpoints) are left in place, like the package does. #}
mesos-config-removed:
  file.absent:
    - names:
      - {{ mesos.zk_file }}
      - {{ mesos.acls_file }}
      - {{ mesos.secrets_dir }}
      - {{ mesos.master.conf_dir }}
      - {{ mesos.agent.conf_dir }}
      - /etc/systemd/system/{{ mesos.agent.service }}.service.d
    - require:
      - pkg: mesos-package-removed
{%- if mesos.repo %}

mesos-repo-removed:
  pkgrepo.absent:
    - name: {{ mesos.repo | json }}
    - require:
      - pkg: mesos-package-removed
{%- endif %}
