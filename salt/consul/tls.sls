{%- from "consul/map.jinja" import consul with context %}
{%- from "ca/map.jinja" import ca with context %}
{#- This agent's TLS identity: the key is made here and never leaves the node; the cluster CA
    signs under its policy for this node (topology.signing_policies), which fixes the names
    (a server's includes server.<datacenter>.<tls.domain>). Readable by the agent only. #}
include:
  - .package

consul-tls-dir-managed:
  file.directory:
    - name: {{ consul.tls.dir }}
    - user: root
    - group: {{ consul.user }}
    - mode: "0750"
    - require:
      - pkg: consul-package-installed

consul-tls-key-managed:
  x509.private_key_managed:
    - name: {{ consul.tls.dir }}/agent.key
    - algo: rsa
    - keysize: {{ consul.tls.key_size }}
    - user: root
    - group: {{ consul.user }}
    - mode: "0640"
    - require:
      - file: consul-tls-dir-managed

consul-tls-certificate-managed:
  x509.certificate_managed:
    - name: {{ consul.tls.dir }}/agent.crt
    - ca_server: {{ ca.node }}
    - signing_policy: {{ consul.tls.policy_prefix }}-{{ grains.id }}
    - private_key: {{ consul.tls.dir }}/agent.key
    - days_remaining: {{ consul.tls.days_remaining }}
    - mode: "0644"
    - require:
      - x509: consul-tls-key-managed
