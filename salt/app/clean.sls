{%- from "app/map.jinja" import app with context %}
{#- Removes the app's session keys from this node. #}
{%- if app %}

app-secret-dirs-absent:
  file.absent:
    - name: {{ app.secret_dir }}
{%- endif %}
