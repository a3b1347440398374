{%- from "nfs/map.jinja" import nfs with context %}
{#- Undoes nfs.server and nfs.client, the kernel server's and the lab's userspace server's
    (NFS-Ganesha) alike. The shared data itself is never deleted. #}

{#- Ganesha keeps the export open: stopped first, or the unmount finds it busy. #}
nfs-server-ganesha-service-dead:
  service.dead:
    - name: {{ nfs.ganesha.service }}
    - enable: false

nfs-export-unmounted:
  mount.unmounted:
    - name: {{ nfs.export }}
    - persist: true
    - require:
      - service: nfs-server-ganesha-service-dead

nfs-server-service-dead:
  service.dead:
    - name: {{ nfs.server_service }}
    - enable: false

{#- Purging also removes the config file (ganesha.conf), a conffile of nfs-ganesha. #}
nfs-server-ganesha-packages-removed:
  pkg.purged:
    - pkgs: {{ nfs.ganesha.packages | json }}
    - require:
      - service: nfs-server-ganesha-service-dead

nfs-server-ganesha-units-unmasked:
  service.unmasked:
    - names: {{ nfs.ganesha.masked_units | json }}
    - require:
      - pkg: nfs-server-ganesha-packages-removed

{#- Purging also removes /etc/exports, a conffile of nfs-kernel-server. #}
nfs-packages-removed:
  pkg.purged:
    - pkgs:
      - {{ nfs.server_package }}
      - {{ nfs.client_package }}
    - require:
      - mount: nfs-export-unmounted
      - service: nfs-server-service-dead
      # nfs-ganesha depends on the client package: it goes first.
      - pkg: nfs-server-ganesha-packages-removed
