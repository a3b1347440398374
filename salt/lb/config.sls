{%- from "lb/map.jinja" import lb, platform with context %}
{%- from "consul/map.jinja" import consul with context %}
{%- set env_nodes = {} %}
{%- for node_id, node in salt['topology.nodes']() | dictsort if node.get('env') %}
{%-   do env_nodes.setdefault(node.env, []).append(node_id) %}
{%- endfor %}
include:
  - .tls

lb-consul-template-config-file-managed:
  file.managed:
    - name: {{ lb.config_dir }}/consul-template.hcl
    - source: salt://lb/files/consul-template.hcl.jinja
    - template: jinja
    - makedirs: true
    # It holds consul-template's ACL token.
    - mode: "0600"
    - show_changes: false
    - context:
        lb: {{ lb | json }}
        consul_token: {{ consul.acl.template_token | json }}

lb-nginx-template-file-managed:
  file.managed:
    - name: {{ lb.config_dir }}/nginx.conf.ctmpl
    - source: salt://lb/files/nginx.conf.ctmpl.jinja
    - template: jinja
    - makedirs: true
    - context:
        lb: {{ lb | json }}
        environments: {{ platform.environments | json }}
        env_nodes: {{ env_nodes | json }}
        domain: {{ platform.domain | json }}

{#- Bound into the LB container as a whole: nothing but the files above and the TLS key and
    certificate belongs there (clean keeps what file states require; the x509 files by name). #}
{%- set tls_files = [lb.tls_key.split('/')[-1], lb.tls_cert.split('/')[-1]] %}
lb-config-dir-cleaned:
  file.directory:
    - name: {{ lb.config_dir }}
    - clean: true
    - exclude_pat: {{ ('E@^(' ~ (tls_files | map('regex_escape') | join('|')) ~ ')$') | json }}
    - require:
      - file: lb-consul-template-config-file-managed
      - file: lb-nginx-template-file-managed
      - x509: lb-tls-key-managed
      - x509: lb-tls-certificate-managed
