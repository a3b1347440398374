{%- from "consul/map.jinja" import consul with context %}
{#- Bookworm has no consul: the pinned .deb comes from `deb_url` when pillar sets one, else
    from the pool of the Debian mirror this node's apt already uses. #}
{%- set deb_url = consul.get('deb_url') or salt['debian.mirror']() ~ '/' ~ consul.deb_pool_path %}
{%- set deb_file = consul.cache_dir ~ '/' ~ deb_url.split('/') | last %}

consul-deb-downloaded:
  file.managed:
    - name: {{ deb_file }}
    - source: {{ deb_url }}
    - source_hash: sha256={{ consul.deb_sha256 }}
    - mode: "0644"
    - makedirs: true

# `version` does not apply to `sources`: the pinned, hash-checked .deb is the pin, and
# pkg.installed compares its version with the installed one.
consul-package-installed:
  pkg.installed:
    - sources:
      - {{ consul.package }}: {{ deb_file }}
    - require:
      - file: consul-deb-downloaded
