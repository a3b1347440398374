{%- from "registrator/map.jinja" import registrator with context %}

registrator-container-absent:
  docker_container.absent:
    - name: {{ registrator.container }}
    - force: true
