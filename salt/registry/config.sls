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

{%- for name, listener in registry.listeners | dictsort %}

registry-{{ name }}-config-file-managed:
  file.managed:
    - name: {{ listener.config_file }}
    - source: salt://registry/files/config.yml.jinja
    - template: jinja
    - context:
        registry: {{ registry | json }}
        listener: {{ listener | json }}
        node: {{ salt['topology.node']() | json }}
    - mode: "0644"
    - require:
      - pkg: registry-package-installed

{#- Only this listener's users: the pull user is not in the push listener's file. #}
registry-{{ name }}-htpasswd-file-managed:
  file.managed:
    - name: {{ listener.htpasswd_file }}
    - contents: |
{%- for user in listener.users %}
{%-   if user not in registry.htpasswd %}
{{ raise('registry ' ~ grains.id ~ ': no registry:htpasswd:' ~ user ~ ' in pillar (the ' ~ name ~ ' listener\'s user): run `salt-run site.secrets`') }}
{%-   endif %}
        {{ user }}:{{ registry.htpasswd[user] }}
{%- endfor %}
    - user: root
    - group: {{ registry.group }}
    - mode: "0640"
    - show_changes: false
    - require:
      - pkg: registry-package-installed
{%- if listener.get('unit_file') %}

{#- A listener the package has no unit for runs the package's binary as the package's user. #}
registry-{{ name }}-unit-file-managed:
  file.managed:
    - name: {{ listener.unit_file }}
    - contents: |
        # Managed by Salt (registry formula); edits are reverted.
        [Unit]
        Description=Docker registry, {{ name }} listener
        After=network.target

        [Service]
        User={{ registry.user }}
        Group={{ registry.group }}
        ExecStart={{ registry.binary }} serve {{ listener.config_file }}
        Restart=on-failure

        [Install]
        WantedBy=multi-user.target
    - mode: "0644"

registry-{{ name }}-unit-loaded:
  cmd.run:
    - name: systemctl daemon-reload
    - onchanges:
      - file: registry-{{ name }}-unit-file-managed
{%- endif %}
{%- endfor %}
