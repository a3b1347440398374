{%- from "zookeeper/map.jinja" import zookeeper with context %}
{%- from "mesos/map.jinja" import mesos, zk_hosts with context %}
{%- from "marathon/map.jinja" import marathon with context %}
{#- The first server makes the znodes of ZooKeeper's clients, each with the ACL its owner would
    give it (Mesos: world-readable, so agents find the leading master; Marathon: its own), then
    closes the root, which ZooKeeper leaves open to anyone: only the admin digest creates there.
    A site whose daemons once ran without a credential has open znodes under them: closed too. #}
{%- set servers = salt['topology.nodes']('zookeeper') | dictsort | map('first') | list %}
{%- if servers and grains.id == servers[0] %}
{%- set missing = [] %}
{%- for key, value in [('zookeeper:admin_password', zookeeper.get('admin_password')),
                       ('zookeeper:admin_digest', zookeeper.get('admin_digest')),
                       ('mesos:zk_digest', mesos.get('zk_digest')),
                       ('marathon:zk_digest', marathon.get('zk_digest'))] if not value %}
{%-   do missing.append(key) %}
{%- endfor %}
{%- if missing %}
{{ raise('zookeeper ' ~ grains.id ~ ': no ' ~ missing | join(', ') ~ ' in pillar: run `salt-run site.secrets`') }}
{%- endif %}
{%- set admin_user = zookeeper.admin_digest.split(':') | first %}
{%- set owners = [
      (mesos.zk_path, mesos.zk_user, mesos.zk_digest, ['world:anyone:r']),
      (marathon.zk_path, marathon.zk_user, marathon.zk_digest, []),
    ] %}
include:
  - .service
{%- for path, owner, digest, others in owners %}
{%-   if not digest.startswith(owner ~ ':') %}
{{ raise('zookeeper: the digest for ' ~ path ~ ' names ' ~ digest.split(':') | first ~ ', not ' ~ owner ~ ' (a zk_user other than the catalog hash user in pillar/secrets.sls)') }}
{%-   endif %}

zookeeper-znode-{{ path }}-owned:
  zookeeper_acl.owned:
    - name: {{ path }}
    - acl: {{ (others + ['digest:' ~ digest ~ ':cdrwa']) | json }}
    - hosts: {{ zk_hosts }}
    - user: {{ admin_user }}
    - password: {{ zookeeper.admin_password | json }}
    - reclaim: true
    - timeout: {{ zookeeper.quorum_timeout }}
    - require:
      - service: zookeeper-service-running
    - require_in:
      - zookeeper_acl: zookeeper-root-closed
{%- endfor %}

zookeeper-root-closed:
  zookeeper_acl.owned:
    - name: /
    - acl: ['world:anyone:r', 'digest:{{ zookeeper.admin_digest }}:cdrwa']
    - hosts: {{ zk_hosts }}
    - user: {{ admin_user }}
    - password: {{ zookeeper.admin_password | json }}
    - timeout: {{ zookeeper.quorum_timeout }}
    - require:
      - service: zookeeper-service-running
{%- endif %}
