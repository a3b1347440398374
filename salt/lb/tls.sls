{%- from "lb/map.jinja" import lb with context %}
{%- from "ca/map.jinja" import ca with context %}
{#- The app's HTTPS certificate: the key is made here and never leaves the node; the cluster CA
    signs under its policy for this node (topology.signing_policies), which fixes the names. #}

lb-tls-key-managed:
  x509.private_key_managed:
    - name: {{ lb.tls_key }}
    - algo: rsa
    - keysize: {{ ca.app_tls.key_size }}
    - mode: "0600"
    - makedirs: true

lb-tls-certificate-managed:
  x509.certificate_managed:
    - name: {{ lb.tls_cert }}
    - ca_server: {{ ca.node }}
    - signing_policy: {{ ca.app_tls.policy_prefix }}-{{ grains.id }}
    - private_key: {{ lb.tls_key }}
    - days_remaining: {{ ca.app_tls.days_remaining }}
    - mode: "0644"
    - require:
      - x509: lb-tls-key-managed
