{%- from "common/map.jinja" import common with context %}
{%- from "docker/map.jinja" import registry_cas with context %}
{%- from "ca/map.jinja" import ca with context %}
{#- Removes the CA and the node's trust in it; other nodes keep the copy they already have. #}

ca-files-absent:
  file.absent:
    - names:
      - {{ ca.dir }}
      - {{ common.ca_trust_path }}
{%- for registry_ca in registry_cas.values() %}
      - {{ registry_ca }}
{%- endfor %}

ca-system-store-updated:
  cmd.run:
    - name: update-ca-certificates --fresh
    - onchanges:
      - file: ca-files-absent

ca-mine-entry-removed:
  module.run:
    - mine.delete:
      - {{ ca.mine_key }}
    - onchanges:
      - file: ca-files-absent

ca-signing-policies-absent:
  grains.absent:
    - name: x509_signing_policies
    - destructive: true
