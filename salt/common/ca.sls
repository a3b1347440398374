{%- from "common/map.jinja" import common with context %}
{%- from "ca/map.jinja" import ca_pem with context %}
{#- The cluster CA (made by the `ca` formula on the registry node, published in the mine)
    is trusted system-wide, so curl and Python reach the registry over TLS without flags. #}
{%- if 'ca' in salt['topology.states']() %}
{#- The CA node trusts its own CA in the `ca` formula. #}
{%- elif ca_pem %}

common-ca-trusted:
  file.managed:
    - name: {{ common.ca_trust_path }}
    - contents: {{ ca_pem | json }}
    - mode: "0644"

common-ca-store-updated:
  cmd.run:
    - name: update-ca-certificates
    - onchanges:
      - file: common-ca-trusted
{%- else %}

common-ca-not-published-yet:
  test.show_notification:
    - text: The cluster CA is not trusted yet; the CA node publishes it on its first highstate and cluster.up pins its key (salt-run site.pin_ca).
{%- endif %}
