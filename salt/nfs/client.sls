{%- from "nfs/map.jinja" import nfs with context %}
{%- set server = salt['topology.nodes']('nfs-server').values() | first %}

nfs-client-package-installed:
  pkg.installed:
    - name: {{ nfs.client_package }}
    - version: {{ nfs.version | json }}

{#- persist writes /etc/fstab, so the share comes back after a reboot, with exactly the options
    pillar names: for a bind mount Salt would otherwise add the source's active options to the
    entry, and find it changed on every run. #}
nfs-export-mounted:
  mount.mounted:
    - name: {{ nfs.export }}
    - device: {{ nfs.mount.device or server.ip ~ ':' ~ nfs.export }}
    - fstype: {{ nfs.mount.fstype }}
    - opts: {{ nfs.mount.opts | json }}
    - mkmnt: true
    - persist: true
    - bind_mount_copy_active_opts: false
    - require:
      - pkg: nfs-client-package-installed
