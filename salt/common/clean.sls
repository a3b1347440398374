{%- from "common/map.jinja" import common, platform with context %}
{%- for node in salt['topology.nodes']().values() %}

common-host-{{ node.id }}-absent:
  host.absent:
    - ip: {{ node.ip }}
    - names:
      - {{ node.fqdn }}
      - {{ node.id }}
{%- endfor %}

common-host-vip-absent:
  host.absent:
    - ip: {{ platform.vip }}
    - names:
{%- for env in platform.environments %}
      - app-{{ env }}
      - app-{{ env }}.{{ platform.domain }}
{%- endfor %}

common-ca-untrusted:
  file.absent:
    - name: {{ common.ca_trust_path }}

common-ca-store-refreshed:
  cmd.run:
    - name: update-ca-certificates --fresh
    - onchanges:
      - file: common-ca-untrusted
