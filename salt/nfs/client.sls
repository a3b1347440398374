{%- from "nfs/map.jinja" import nfs with context %}
{%- set server = salt['topology.nodes']('nfs-server').values() | first %}
{%- if nfs.stand_in %}
{#- LAB ONLY: the lab kernel has no NFS; lab/lab.py mounts the agents' shared volume here. #}

nfs-export-mounted:
  cmd.run:
    - name: echo "{{ nfs.export }} is not mounted; the lab mounts a shared volume there (lab/lab.py)" >&2; exit 1
    - unless: mountpoint -q {{ nfs.export }}
{%- else %}

nfs-client-package-installed:
  pkg.installed:
    - name: {{ nfs.client_package }}
    - version: {{ nfs.version | json }}

{#- persist writes /etc/fstab, so the share comes back after a reboot. #}
nfs-export-mounted:
  mount.mounted:
    - name: {{ nfs.export }}
    - device: {{ server.ip }}:{{ nfs.export }}
    - fstype: nfs
    - opts: {{ nfs.mount_opts | json }}
    - mkmnt: true
    - persist: true
    - require:
      - pkg: nfs-client-package-installed
{%- endif %}
