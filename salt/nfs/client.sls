{%- from "nfs/map.jinja" import nfs with context %}
{%- set server = salt['topology.nodes']('nfs-server').values() | first %}
{%- set env = salt['topology.node']().env %}
{%- set device = nfs.mount.device or server.ip ~ ':' ~ nfs.export %}

nfs-client-package-installed:
  pkg.installed:
    - name: {{ nfs.client_package }}
    - version: {{ nfs.version | json }}

{#- Before per-environment exports a client mounted the whole share at <export>. The server
    exports it no more, and a mount left there would stand over the environment's own: it
    goes, from the mount table and from fstab. Only that mount: whatever else a site mounts
    at <export> is not touched. #}
nfs-whole-share-unmounted:
  mount.unmounted:
    - name: {{ nfs.export }}
    - device: {{ device }}
    - persist: true
    - onlyif: findmnt -n -M {{ nfs.export }} -S {{ device }} || { ! findmnt -n -M {{ nfs.export }} && findmnt -n -s -M {{ nfs.export }} -S {{ device }}; }

{#- persist writes /etc/fstab, so the share comes back after a reboot, with exactly the options
    pillar names: for a bind mount Salt would otherwise add the source's active options to the
    entry, and find it changed on every run. #}
nfs-export-mounted:
  mount.mounted:
    - name: {{ nfs.export }}/{{ env }}
    - device: {{ device }}/{{ env }}
    - fstype: {{ nfs.mount.fstype }}
    - opts: {{ nfs.mount.opts | json }}
    - mkmnt: true
    - persist: true
    - bind_mount_copy_active_opts: false
    - require:
      - pkg: nfs-client-package-installed
      - mount: nfs-whole-share-unmounted
