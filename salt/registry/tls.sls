{%- from "registry/map.jinja" import registry with context %}
{%- from "ca/map.jinja" import ca with context %}
{%- set node = salt['topology.node']() %}
{#- The registry's server certificate, signed by the cluster CA on this same node, for every
    name clients use: the fqdn (image names), the short name and the IP. #}
include:
  - ca.authority
  - .package

registry-tls-key-managed:
  x509.private_key_managed:
    - name: {{ registry.tls_key }}
    - algo: rsa
    - keysize: {{ registry.tls_key_size }}
    - user: root
    - group: {{ registry.group }}
    - mode: "0640"
    - makedirs: true
    - require:
      - pkg: registry-package-installed

registry-tls-certificate-managed:
  x509.certificate_managed:
    - name: {{ registry.tls_cert }}
    - signing_private_key: {{ ca.key }}
    - signing_cert: {{ ca.cert }}
    - private_key: {{ registry.tls_key }}
    - CN: {{ node.fqdn }}
    - subjectAltName: "DNS:{{ node.fqdn }}, DNS:{{ node.id }}, IP:{{ node.ip }}"
    - basicConstraints: "critical, CA:false"
    - keyUsage: "critical, digitalSignature, keyEncipherment"
    - extendedKeyUsage: serverAuth
    - subjectKeyIdentifier: hash
    - authorityKeyIdentifier: keyid:always
    - days_valid: {{ registry.tls_days_valid }}
    - days_remaining: {{ registry.tls_days_remaining }}
    - mode: "0644"
    - require:
      - x509: ca-certificate-managed
      - x509: registry-tls-key-managed
