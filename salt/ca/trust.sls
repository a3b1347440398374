{%- from "common/map.jinja" import common with context %}
{%- from "docker/map.jinja" import registry_cas with context %}
{%- from "ca/map.jinja" import ca with context %}
{#- The CA node trusts its own CA like every other node does (common.ca and docker.ca skip it
    here): system-wide for curl and Python, and in dockerd's certs.d for the registry. #}
include:
  - .authority

ca-certificate-system-trusted:
  file.managed:
    - name: {{ common.ca_trust_path }}
    - source: {{ ca.cert }}
    - mode: "0644"
    - require:
      - x509: ca-certificate-managed

ca-system-store-updated:
  cmd.run:
    - name: update-ca-certificates
    - onchanges:
      - file: ca-certificate-system-trusted

{%- for access, registry_ca in registry_cas | dictsort %}

ca-certificate-docker-trusted-{{ access }}:
  file.managed:
    - name: {{ registry_ca }}
    - source: {{ ca.cert }}
    - mode: "0644"
    - makedirs: true
    - require:
      - x509: ca-certificate-managed
{%- endfor %}
