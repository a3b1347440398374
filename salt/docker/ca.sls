{%- from "docker/map.jinja" import registry_cas with context %}
{%- from "ca/map.jinja" import ca_pem with context %}
{#- dockerd pulls from the private registry over TLS, trusting the cluster CA that the `ca`
    formula publishes in the mine. dockerd reads certs.d on each connection: no restart. #}
{%- if 'ca' in salt['topology.states']() %}
{#- The CA node puts its own CA there in the `ca` formula. #}
{%- elif ca_pem %}
{%-   for access, registry_ca in registry_cas | dictsort %}

docker-registry-ca-{{ access }}-managed:
  file.managed:
    - name: {{ registry_ca }}
    - contents: {{ ca_pem | json }}
    - mode: "0644"
    - makedirs: true
{%-   endfor %}
{%- else %}

docker-registry-ca-not-published-yet:
  test.show_notification:
    - text: The cluster CA is not trusted yet; the CA node publishes it on its first highstate and cluster.up pins its key (salt-run site.pin_ca).
{%- endif %}
