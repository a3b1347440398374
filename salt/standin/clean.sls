{%- from "standin/map.jinja" import standin with context %}

standin-services-dead:
  service.dead:
    - names:
      - {{ standin.master_service }}
      - {{ standin.agent_service }}
    - enable: false

standin-files-absent:
  file.absent:
    - names:
      - /etc/systemd/system/{{ standin.master_service }}.service
      - /etc/systemd/system/{{ standin.agent_service }}.service
      - {{ standin.install_dir }}
    - require:
      - service: standin-services-dead
