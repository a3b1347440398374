{%- from "lb/map.jinja" import lb with context %}

lb-container-absent:
  docker_container.absent:
    - name: {{ lb.container }}
    - force: true

lb-image-absent:
  docker_image.absent:
    - name: {{ lb.image_ref }}
    - require:
      - docker_container: lb-container-absent

lb-config-dir-absent:
  file.absent:
    - name: {{ lb.config_dir }}
    - require:
      - docker_container: lb-container-absent
