{%- from "lb/map.jinja" import lb, platform with context %}
{%- from "consul/map.jinja" import consul with context %}

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
        domain: {{ platform.domain | json }}

{#- Bound into the LB container as a whole: nothing but the two files above belongs there. #}
lb-config-dir-cleaned:
  file.directory:
    - name: {{ lb.config_dir }}
    - clean: true
    - require:
      - file: lb-consul-template-config-file-managed
      - file: lb-nginx-template-file-managed
