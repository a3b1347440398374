{%- from "ca/map.jinja" import ca with context %}
{#- Other nodes read the CA certificate from the mine. Send it when it changes, and also when
    the mine does not hold the current one (first run, flushed master cache). #}
{%- set published = salt['mine.get'](grains.id, ca.mine_key).get(grains.id) %}
{%- set current = salt['file.read'](ca.cert) if salt['file.file_exists'](ca.cert) else none %}
include:
  - .authority

ca-certificate-published:
  module.run:
    - mine.send:
      - {{ ca.mine_key }}
      - mine_function: file.read
      - path: {{ ca.cert }}
{%- if published and published == current %}
    - onchanges:
      - x509: ca-certificate-managed
{%- else %}
    - require:
      - x509: ca-certificate-managed
{%- endif %}
