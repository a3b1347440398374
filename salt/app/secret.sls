{%- from "app/map.jinja" import app, node with context %}
{%- from "nfs/map.jinja" import nfs with context %}
{#- An agent holds its own environment's session key (the site_secrets ext_pillar gives it no
    other) as a file its app instances read through a read-only bind (apps.definition): never an
    environment variable, which Marathon's API would show. Readable by the app's group only. #}
{%- if app and node.get('env') %}
{%-   set secret_dir = app.secret_dir ~ '/' ~ node.env %}

app-secret-dir-managed:
  file.directory:
    - name: {{ secret_dir }}
    - user: root
    - group: {{ nfs.app_gid }}
    - mode: "0750"
    - makedirs: true

app-secret-file-managed:
  file.managed:
    - name: {{ secret_dir }}/secret_key
    - contents_pillar: app:environments:{{ node.env }}:secret_key
    - user: root
    - group: {{ nfs.app_gid }}
    - mode: "0440"
    - show_changes: false
    - require:
      - file: app-secret-dir-managed

{#- Only this environment's key: a directory the instances read is managed whole. #}
app-secret-dirs-cleaned:
  file.directory:
    - name: {{ app.secret_dir }}
    - user: root
    - group: root
    - mode: "0755"
    - clean: true
    - require:
      - file: app-secret-file-managed
{%- endif %}
