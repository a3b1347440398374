# Every secret of a site: what it is, the pillar key it fills, and the roles that receive it.
# No value is ever committed. `salt-run site.secrets` (cluster.up runs it first) generates each
# one with Python's `secrets` into the master's .salt/secrets.yaml (mode 0600, outside git);
# the site_secrets ext_pillar (_pillar/site_secrets.py) then gives a node only those its roles
# name, and refuses any of these keys set in SLS pillar. `per: environment` makes one value per
# platform:environments entry, at {env} in the key; a node receives its own environment's.
# No roles: no node receives it, only the master's runners read it. `applied_by` is how
# `salt-run site.secrets rotate=<name>` gets a new value to its users (default: a highstate of
# the nodes that receive it).
secrets:
  consul_gossip_key:
    pillar: consul:encrypt
    kind: gossip_key
    roles: [consul-server, consul-agent]
    # Consul keeps the key in each agent's keyring and ignores a new `encrypt`.
    applied_by: consul-keyring
  vrrp_password:
    pillar: keepalived:auth_pass
    kind: password
    # keepalived reads at most 8 characters of a PASS authentication.
    length: 8
    roles: [keepalived]
  app_secret_key:
    # Signs the app's session cookies: one per environment, so a session from test is not
    # valid on production. app.deploy hands it to the environment's instances.
    pillar: app:environments:{env}:secret_key
    kind: token
    per: environment
    roles: []
    # app.redeploy: the version the environment runs, with the new secret.
    applied_by: app.deploy
