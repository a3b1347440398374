{%- from "ca/map.jinja" import ca with context %}
{#- What this CA signs for other nodes (topology.signing_policies): x509_v2 reads its
    policies from pillar or the minion's configuration, grains included, so Salt keeps them
    here as a grain of the CA node, computed from the topology on every run. #}
include:
  - .authority

ca-signing-policies-present:
  grains.present:
    - name: x509_signing_policies
    - value: {{ salt['topology.signing_policies']() | json }}
    - force: true
    - require:
      - x509: ca-certificate-managed
