{%- from "marathon/map.jinja" import marathon with context %}

marathon-service-dead:
  service.dead:
    - name: {{ marathon.service }}
    - enable: false

marathon-package-removed:
  pkg.purged:
    - name: {{ marathon.package }}
    - require:
      - service: marathon-service-dead

marathon-env-file-absent:
  file.absent:
    - name: {{ marathon.env_file }}
    - require:
      - pkg: marathon-package-removed

marathon-mesos-secret-file-absent:
  file.absent:
    - name: {{ marathon.mesos_secret_file }}
    - require:
      - pkg: marathon-package-removed
