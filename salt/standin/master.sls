{%- from "standin/map.jinja" import standin with context %}
{%- from "mesos/map.jinja" import mesos with context %}
{%- from "marathon/map.jinja" import marathon with context %}
{%- set this_node = salt['topology.node']() %}
{#- Serves Marathon's REST API and the Mesos master state on the ports the real ones use. #}
include:
  - standin

standin-master-unit-managed:
  file.managed:
    - name: /etc/systemd/system/{{ standin.master_service }}.service
    - source: salt://standin/files/service.jinja
    - template: jinja
    - context:
        description: Lab stand-in for Mesos master + Marathon (not the real ones)
        install_dir: {{ standin.install_dir }}
        arguments: >-
          master --zk {{ standin.zk }} --hostname {{ this_node.fqdn }} --ip {{ this_node.ip }}
          --marathon-port {{ marathon.http_port }} --mesos-port {{ mesos.master.port }}

standin-master-service-running:
  service.running:
    - name: {{ standin.master_service }}
    - enable: true
    - watch:
      - file: standin-master-unit-managed
      - file: standin-code-managed
      - pkg: standin-packages-installed
