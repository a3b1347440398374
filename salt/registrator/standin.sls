{%- from "registrator/map.jinja" import registrator with context %}
{#- LAB ONLY: the registrator stand-in (files/registrator_standin.py) as a systemd service,
    same arguments as the real container: this node's IP, the resync period, local Consul. #}
include:
  - docker

registrator-standin-packages-installed:
  pkg.installed:
    - pkgs:
      - python3-docker
      - python3-requests

registrator-standin-code-managed:
  file.managed:
    - name: {{ registrator.standin_path }}
    - source: salt://registrator/files/registrator_standin.py
    - mode: "0755"

registrator-standin-unit-managed:
  file.managed:
    - name: /etc/systemd/system/{{ registrator.container }}.service
    - contents: |
        # Managed by Salt (registrator formula). LAB ONLY: stand-in for gliderlabs/registrator.
        [Unit]
        Description=Lab stand-in for registrator (not the real one)
        After=docker.service consul.service
        Requires=docker.service

        [Service]
        ExecStart=/usr/bin/python3 {{ registrator.standin_path }} -ip {{ salt['topology.node']().ip }} -resync {{ registrator.resync }} {{ registrator.consul_url }}
        Restart=always
        RestartSec=2

        [Install]
        WantedBy=multi-user.target

registrator-standin-service-running:
  service.running:
    - name: {{ registrator.container }}
    - enable: true
    - require:
      - service: docker-service-running
    - watch:
      - file: registrator-standin-code-managed
      - file: registrator-standin-unit-managed
      - pkg: registrator-standin-packages-installed
