{%- from "docker/map.jinja" import docker with context %}

docker-package-installed:
  pkg.installed:
    - name: {{ docker.package }}
    - version: {{ docker.version | json }}
