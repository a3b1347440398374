{%- from "docker/map.jinja" import docker, registry_certs_dirs with context %}

docker-service-dead:
  service.dead:
    - names:
      - {{ docker.socket }}
      - {{ docker.service }}
    - enable: false

docker-package-removed:
  pkg.purged:
    - name: {{ docker.package }}
    - require:
      - service: docker-service-dead

docker-files-absent:
  file.absent:
    - names:
      - {{ docker.config_file }}
      - {{ docker.client_config }}
{%- for registry_certs_dir in registry_certs_dirs.values() %}
      - {{ registry_certs_dir }}
{%- endfor %}
    - require:
      - pkg: docker-package-removed
