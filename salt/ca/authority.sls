{%- from "ca/map.jinja" import ca with context %}

ca-private-key-managed:
  x509.private_key_managed:
    - name: {{ ca.key }}
    - algo: rsa
    - keysize: {{ ca.key_size }}
    - mode: "0600"
    - makedirs: true
    - dir_mode: "0700"

ca-certificate-managed:
  x509.certificate_managed:
    - name: {{ ca.cert }}
    - signing_private_key: {{ ca.key }}
    - CN: {{ ca.common_name | json }}
    - basicConstraints: "critical, CA:true"
    - keyUsage: "critical, cRLSign, keyCertSign"
    - subjectKeyIdentifier: hash
    - days_valid: {{ ca.days_valid }}
    - days_remaining: {{ ca.days_remaining }}
    - mode: "0644"
    - require:
      - x509: ca-private-key-managed
