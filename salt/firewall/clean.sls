{%- from "firewall/map.jinja" import firewall with context %}

{#- Stopping runs the drop-in's ExecStop: the platform's table goes, Docker's rules stay. #}
firewall-service-dead:
  service.dead:
    - name: {{ firewall.service }}
    - enable: false

firewall-files-absent:
  file.absent:
    - names:
      - {{ firewall.unit_dropin }}
      - {{ firewall.applied_digest }}
    - require:
      - service: firewall-service-dead
