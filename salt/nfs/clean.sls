{%- from "nfs/map.jinja" import nfs with context %}
{%- set env = salt['topology.node']().get('env') %}
{#- Undoes nfs.server and nfs.client. The shared data itself is never deleted. #}
{%- if env %}

nfs-env-share-unmounted:
  mount.unmounted:
    - name: {{ nfs.export }}/{{ env }}
    - persist: true
    - require_in:
      - mount: nfs-export-unmounted
{%- endif %}

nfs-export-unmounted:
  mount.unmounted:
    - name: {{ nfs.export }}
    - persist: true

nfs-server-service-dead:
  service.dead:
    - name: {{ nfs.server_service }}
    - enable: false

{#- Purging also removes /etc/exports, a conffile of nfs-kernel-server. #}
nfs-packages-removed:
  pkg.purged:
    - pkgs:
      - {{ nfs.server_package }}
      - {{ nfs.client_package }}
    - require:
      - mount: nfs-export-unmounted
      - service: nfs-server-service-dead
