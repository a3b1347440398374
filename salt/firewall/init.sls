{#- Every node takes in only what its roles serve (firewall:services, rendered per node by
    topology.firewall_rules): anything else is refused to the platform network and dropped
    from elsewhere. Input only: Docker's forwarded ports and outbound traffic are left to
    Docker and the node. #}
{%- from "firewall/map.jinja" import firewall with context %}
{%- set digest = '{ sha256sum < ' ~ firewall.config_file ~ '; nft list table inet ' ~ firewall.table ~ ' 2>/dev/null | sha256sum; }' %}

firewall-package-installed:
  pkg.installed:
    - name: {{ firewall.package }}
    - version: {{ firewall.version | json }}

firewall-unit-dropin-managed:
  file.managed:
    - name: {{ firewall.unit_dropin }}
    - makedirs: true
    - contents: |
        # Managed by Salt (firewall formula). The package's unit flushes the whole ruleset
        # when it stops, Docker's NAT with it: stopping it removes only the platform's table.
        [Service]
        ExecStop=
        ExecStop=-/usr/sbin/nft delete table inet {{ firewall.table }}

firewall-units-reloaded:
  cmd.run:
    - name: systemctl daemon-reload
    - onchanges:
      - file: firewall-unit-dropin-managed

firewall-config-file-managed:
  file.managed:
    - name: {{ firewall.config_file }}
    - source: salt://firewall/files/nftables.conf.jinja
    - template: jinja
    - context:
        firewall: {{ firewall | json }}
        network: {{ salt['pillar.get']('platform:network') | json }}
    - mode: "0755"
    - check_cmd: nft --check --file
    - require:
      - pkg: firewall-package-installed

{#- Loads the table at boot, before the network comes up. #}
firewall-service-running:
  service.running:
    - name: {{ firewall.service }}
    - enable: true
    - require:
      - file: firewall-config-file-managed
      - cmd: firewall-units-reloaded

firewall-digest-directory-managed:
  file.directory:
    - name: {{ salt['file.dirname'](firewall.applied_digest) }}
    - mode: "0700"

{#- Loads the file when it changed, or when the live table no longer is what was loaded (a
    rule added by hand is drift, and the highstate removes it). #}
firewall-rules-loaded:
  cmd.run:
    - name: {{ ('nft --file ' ~ firewall.config_file ~ ' && ' ~ digest ~ ' > ' ~ firewall.applied_digest) | json }}
    - unless: {{ (digest ~ ' | cmp --silent - ' ~ firewall.applied_digest) | json }}
    - require:
      - service: firewall-service-running
      - file: firewall-digest-directory-managed
