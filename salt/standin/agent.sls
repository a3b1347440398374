{%- from "standin/map.jinja" import standin with context %}
{%- from "mesos/map.jinja" import mesos with context %}
{%- set this_node = salt['topology.node']() %}
{#- The agent side: Mesos agent state with this node's attributes; launches the tasks the
    stand-in master assigns on the node's own Docker engine. #}
include:
  - standin
  - docker

standin-agent-unit-managed:
  file.managed:
    - name: /etc/systemd/system/{{ standin.agent_service }}.service
    - source: salt://standin/files/service.jinja
    - template: jinja
    - context:
        description: Lab stand-in for a Mesos agent (not the real one)
        install_dir: {{ standin.install_dir }}
        arguments: >-
          agent --zk {{ standin.zk }} --hostname {{ this_node.fqdn }} --ip {{ this_node.ip }}
          --attributes env:{{ this_node.env }} --port {{ mesos.agent.flags.port }}
          --resources 'cpus:{{ grains['num_cpus'] }};mem:{{ this_node.memory }};{{ mesos.agent.flags.resources }}'

standin-agent-service-running:
  service.running:
    - name: {{ standin.agent_service }}
    - enable: true
    - require:
      - service: docker-service-running
    - watch:
      - file: standin-agent-unit-managed
      - file: standin-code-managed
      - pkg: standin-packages-installed
