{%- from "common/map.jinja" import platform with context %}
{#- Every node resolves every other by name, and app-<env> resolves to the VIP. #}
{%- for node in salt['topology.nodes']().values() %}

common-host-{{ node.id }}-present:
  host.only:
    - name: {{ node.ip }}
    - hostnames:
      - {{ node.fqdn }}
      - {{ node.id }}
{%- endfor %}

common-host-vip-present:
  host.only:
    - name: {{ platform.vip }}
    - hostnames:
{%- for env in platform.environments %}
      - app-{{ env }}
      - app-{{ env }}.{{ platform.domain }}
{%- endfor %}
