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

nfs-db-dir-managed:
  file.directory:
    - name: {{ nfs.export }}/{{ nfs.db_dir }}
    - user: {{ nfs.app_uid }}
    - group: {{ nfs.app_gid }}
    - mode: {{ nfs.db_mode | json }}
    - require:
      - file: nfs-export-dir-managed

nfs-exports-file-managed:
  file.managed:
    - name: {{ nfs.exports_file }}
    - source: salt://nfs/files/exports.jinja
    - template: jinja
    - context:
        nfs: {{ nfs | json }}
        network: {{ platform.network | json }}
    - require:
      - pkg: nfs-server-package-installed

nfs-server-service-running:
  service.running:
    - name: {{ nfs.server_service }}
    - enable: true
    - require:
      - file: nfs-exports-file-managed
      - file: nfs-db-dir-managed

{#- A running server takes a changed exports table without a restart (clients keep their mounts). #}
nfs-exports-reloaded:
  cmd.run:
    - name: exportfs -ra
    - onchanges:
      - file: nfs-exports-file-managed
    - require:
      - service: nfs-server-service-running
