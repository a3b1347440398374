{%- from "consul/map.jinja" import consul with context %}
{#- Purging the package also removes its data dir and user (its postrm does). #}

consul-service-dead:
  service.dead:
    - name: {{ consul.service }}
    - enable: false

consul-package-removed:
  pkg.purged:
    - name: {{ consul.package }}
    - require:
      - service: consul-service-dead

consul-files-absent:
  file.absent:
    - names:
      - {{ consul.config_file }}
      - {{ consul.cache_dir }}
      - {{ consul.tls.dir }}
    - require:
      - pkg: consul-package-removed
