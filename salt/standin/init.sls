{%- from "standin/map.jinja" import standin with context %}
{#- The stand-in's code, shared by its master and agent services. #}

standin-packages-installed:
  pkg.installed:
    - pkgs: {{ standin.packages | json }}

standin-code-managed:
  file.recurse:
    - name: {{ standin.install_dir }}/standin
    - source: salt://standin/files/standin
    - include_pat: '*.py'
    - clean: true
    - makedirs: true
