{%- from "docker/map.jinja" import docker with context %}
include:
  - .package

docker-config-file-managed:
  file.serialize:
    - name: {{ docker.config_file }}
    - dataset: {{ docker.daemon | json }}
    - serializer: json
    - mode: "0644"
    - makedirs: true
    - require:
      - pkg: docker-package-installed
