{%- from "registry/map.jinja" import registry with context %}
{%- if not registry.htpasswd %}
{{ raise('registry ' ~ grains.id ~ ': no registry:htpasswd in pillar (the users\' hashes): run `salt-run site.secrets`') }}
{%- endif %}
include:
  - .package

registry-storage-directory-managed:
  file.directory:
    - name: {{ registry.storage_dir }}
    - user: {{ registry.group }}
    - group: {{ registry.group }}
    - mode: "0750"
    - require:
      - pkg: registry-package-installed

registry-config-file-managed:
  file.managed:
    - name: {{ registry.config_file }}
    - source: salt://registry/files/config.yml.jinja
    - template: jinja
    - context:
        registry: {{ registry | json }}
        node: {{ salt['topology.node']() | json }}
    - mode: "0644"
    - require:
      - pkg: registry-package-installed

registry-htpasswd-file-managed:
  file.managed:
    - name: {{ registry.htpasswd_file }}
    - contents: |
{%- for user, hash in registry.htpasswd | dictsort %}
        {{ user }}:{{ hash }}
{%- endfor %}
    - user: root
    - group: {{ registry.group }}
    - mode: "0640"
    - show_changes: false
    - require:
      - pkg: registry-package-installed
