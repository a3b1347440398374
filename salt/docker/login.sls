{%- from "docker/map.jinja" import docker with context %}
{%- set registry = salt['topology.settings']('registry') %}
{#- The user this node's roles give it (pillar registry:clients, from the site's store): the
    image builder pushes (the push listener), every other client pulls (the read-only pull
    listener, the only one that knows its user). A node with neither pulls nothing. #}
{%- set user = 'builder' if 'builder' in registry.clients else 'pull' if 'pull' in registry.clients else none %}
include:
  - .package
{%- if user %}

docker-registry-login-file-managed:
  file.serialize:
    - name: {{ docker.client_config }}
    - dataset:
        auths:
          {{ salt['topology.registry'](access='push' if user == 'builder' else 'pull') | json }}:
            auth: {{ salt['hashutil.base64_b64encode'](user ~ ':' ~ registry.clients[user]) | json }}
    - serializer: json
    - user: root
    - group: root
    - mode: "0600"
    - makedirs: true
    - show_changes: false
    - require:
      - pkg: docker-package-installed
{%- else %}

docker-registry-login-file-absent:
  file.absent:
    - name: {{ docker.client_config }}
{%- endif %}
