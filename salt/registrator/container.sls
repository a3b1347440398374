{%- from "registrator/map.jinja" import registrator with context %}
{%- from "images/map.jinja" import refs with context %}
{%- from "consul/map.jinja" import consul with context %}
{#- Host networking: registrator must see the host's ports and reach the local Consul agent.
    Services are registered with this node's IP, where their published ports answer. #}
include:
  - docker

registrator-container-running:
  docker_container.running:
    - name: {{ registrator.container }}
    - image: {{ refs.registrator }}
    - network_mode: host
    - binds:
      - {{ registrator.docker_socket }}:{{ registrator.container_docker_socket }}
    - command: -ip {{ salt['topology.node']().ip }} -resync {{ registrator.resync }} {{ registrator.consul_url }}
    # Registrator's Consul client reads its ACL token (service write) from the environment.
    - environment:
      - CONSUL_HTTP_TOKEN: {{ consul.acl.registrator_token | json }}
    - restart_policy: always
    - require:
      - service: docker-service-running
