{%- from "nfs/map.jinja" import nfs, platform with context %}

{%- if nfs.stand_in %}
{#- LAB ONLY: the lab kernel has no NFS server, so NFS-Ganesha, a userspace server, serves the
    export. Its clients cannot mount NFS either: <export> is also a Docker volume that the lab
    mounts on every agent (lab/lab.py), and the server exports that directory. #}

nfs-server-ganesha-units-masked:
  service.masked:
    - names: {{ nfs.ganesha.masked_units | json }}

nfs-server-ganesha-package-installed:
  pkg.installed:
    - pkgs:
{%-   for package in nfs.ganesha.packages %}
      - {{ package }}: {{ nfs.ganesha.version | json }}
{%-   endfor %}
    - require:
      - service: nfs-server-ganesha-units-masked
{%- else %}

nfs-server-package-installed:
  pkg.installed:
    - name: {{ nfs.server_package }}
    - version: {{ nfs.version | json }}
{%- endif %}

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
{%- if nfs.stand_in %}

nfs-server-ganesha-config-file-managed:
  file.managed:
    - name: {{ nfs.ganesha.config_file }}
    - source: salt://nfs/files/ganesha.conf.jinja
    - template: jinja
    - context:
        nfs: {{ nfs | json }}
        network: {{ platform.network | json }}
    - require:
      - pkg: nfs-server-ganesha-package-installed

{#- Ganesha reads its exports at start: a changed config (or package) restarts it. #}
nfs-server-ganesha-service-running:
  service.running:
    - name: {{ nfs.ganesha.service }}
    - enable: true
    - require:
      - file: nfs-db-dir-managed
    - watch:
      - pkg: nfs-server-ganesha-package-installed
      - file: nfs-server-ganesha-config-file-managed
{%- else %}

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
{%- endif %}
