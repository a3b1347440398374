# Every node sees the whole topology: states derive peers (ZooKeeper ensemble, Consul
# retry_join, NFS server, upstream hosts) from it, and runners validate it before acting.
# `site` is this site's own pillar (.salt/pillar/site.sls, outside git), merged last: the
# lab installs lab/pillar/site.sls there (its repository, versions, NFS mount); a production
# site keeps its own data there. `secrets` is the catalog only: each node's values come from
# the site_secrets ext_pillar (master.conf), by its roles.
base:
  '*':
    - platform
    - components
    - app
    - secrets
    - site
    - ignore_missing: True
