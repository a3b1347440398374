{#- What cluster.drift must notice: a managed file on every node and, on the one node
    pillar integration:drift:node names, a sysvinit service and a Debian package. The
    minions share this host's /etc/init.d and dpkg, so only that node manages them. #}
{%- set log_dir = pillar['integration']['log_dir'] %}
{%- set drift = pillar['integration']['drift'] %}

drift-probe-config:
  file.managed:
    - name: {{ log_dir }}/drift-{{ grains['id'] }}.conf
    - mode: "0644"
    - contents: |
        # managed by the integration state tree
        node = {{ grains['id'] }}
{%- if grains['id'] == drift['node'] %}

drift-probe-init-script:
  file.managed:
    - name: /etc/init.d/{{ drift['service'] }}
    - source: salt://drift_probe/init-script
    - template: jinja
    - mode: "0755"
    - defaults:
        service: {{ drift['service'] }}

{#- No enable: a running process is what is managed, not a boot link (and this host has
    no init that would read one). #}
drift-probe-service:
  service.running:
    - name: {{ drift['service'] }}
    - require:
      - file: drift-probe-init-script

drift-probe-package:
  pkg.installed:
    - name: {{ drift['package'] }}
    {#- No apt-get update: the index the host already has is enough for one package. #}
    - refresh: false
{%- endif %}
