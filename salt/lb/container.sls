{%- from "lb/map.jinja" import lb with context %}
include:
  - docker
  - .config

{#- nginx and consul-template in one container on the host's network: nginx answers on the
    node's addresses (the VIP included) and consul-template reaches the local Consul agent. #}
lb-container-running:
  docker_container.running:
    - name: {{ lb.container }}
    - image: {{ lb.image_ref }}
    - command: {{ lb.config_dir }}/consul-template.hcl
    - network_mode: host
    - binds:
      - {{ lb.config_dir }}:{{ lb.config_dir }}:ro
    - restart_policy: always
    # A changed template, consul-template config or certificate is a reload, not a restart:
    # on SIGHUP the entrypoint has consul-template re-read its config and template and nginx
    # its certificate. A new image tag still re-creates the container.
    - watch_action: SIGHUP
    - require:
      - service: docker-service-running
    - watch:
      - file: lb-consul-template-config-file-managed
      - file: lb-nginx-template-file-managed
      - file: lb-config-dir-cleaned
      - x509: lb-tls-certificate-managed
