{%- from "nfs/map.jinja" import nfs, platform with context %}

nfs-server-package-installed:
  pkg.installed:
    - name: {{ nfs.server_package }}
    - version: {{ (nfs.server_version or nfs.version) | json }}

nfs-export-dir-managed:
  file.directory:
    - name: {{ nfs.export }}
    - user: root
    - group: root
    - mode: "0755"
    - makedirs: true

{%- set legacy_dir = nfs.export ~ '/' ~ nfs.legacy_db_dir %}
{%- for env in platform.environments %}
{%- set data_dir = nfs.export ~ '/' ~ env %}

nfs-{{ env }}-data-dir-managed:
  file.directory:
    - name: {{ data_dir }}
    - user: {{ nfs.app_uid }}
    - group: {{ nfs.app_gid }}
    - mode: {{ nfs.data_mode | json }}
    - require:
      - file: nfs-export-dir-managed

{#- A site from before per-environment exports keeps its databases in <legacy_dir>: each
    environment's are hard-linked into its directory, so the app, redeployed onto the new
    path, finds its data, and instances still on the old path write to the same files.
    A file the environment's directory already has is left alone. #}
nfs-{{ env }}-legacy-data-linked:
  cmd.run:
    - name: for f in {{ legacy_dir }}/*-{{ env }}.db; do [ -f "$f" ] && [ ! -e "{{ data_dir }}/${f##*/}" ] && ln "$f" {{ data_dir }}/; done; true
    - onlyif: for f in {{ legacy_dir }}/*-{{ env }}.db; do [ -f "$f" ] && [ ! -e "{{ data_dir }}/${f##*/}" ] && exit 0; done; exit 1
    - require:
      - file: nfs-{{ env }}-data-dir-managed
{%- endfor %}

nfs-exports-file-managed:
  file.managed:
    - name: {{ nfs.exports_file }}
    - source: salt://nfs/files/exports.jinja
    - template: jinja
    - context:
        nfs: {{ nfs | json }}
        # Each environment's directory to that environment's nfs-clients only.
        clients: {{ salt['topology.nfs_clients']() | json }}
    - require:
      - pkg: nfs-server-package-installed

nfs-server-service-running:
  service.running:
    - name: {{ nfs.server_service }}
    - enable: true
    - require:
      - file: nfs-exports-file-managed
{%- for env in platform.environments %}
      - file: nfs-{{ env }}-data-dir-managed
{%- endfor %}

{#- A running server takes a changed exports table without a restart (clients keep their mounts). #}
nfs-exports-reloaded:
  cmd.run:
    - name: exportfs -ra
    - onchanges:
      - file: nfs-exports-file-managed
    - require:
      - service: nfs-server-service-running
