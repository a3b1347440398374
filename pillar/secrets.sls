# Every secret of a site: what it is, the pillar key it fills, and the roles that receive it.
# No value is ever committed. `salt-run site.secrets` (cluster.up runs it first) generates each
# one with Python's `secrets` into the master's .salt/secrets.yaml (mode 0600, outside git);
# the site_secrets ext_pillar (_pillar/site_secrets.py) then gives a node only those its roles
# name, and refuses any of these keys set in SLS pillar. `per: environment` makes one value per
# platform:environments entry, at {env} in the key; a node receives its own environment's.
# `per: node` makes one value per node with one of its roles, at {node}; a node receives its
# own, and the roles in `all_copies_to` every node's.
# No roles: no node receives it, only the master's runners read it. `applied_by` is how
# `salt-run site.secrets rotate=<name>` gets a new value to its users (default: a highstate of
# the nodes that receive it, one at a time; those of the roles in `applied_first_on` first).
secrets:
  consul_gossip_key:
    pillar: consul:encrypt
    kind: gossip_key
    roles: [consul-server, consul-agent]
    # Running agents ignore a new `encrypt`: the first server's highstate puts the new key in
    # every member's keyring and removes the old one (consul.keyring); the others then
    # only rewrite their key file, for their next first start.
    applied_first_on: [consul-server]
  vrrp_password:
    pillar: keepalived:auth_pass
    kind: password
    # keepalived reads at most 8 characters of a PASS authentication.
    length: 8
    roles: [keepalived]
  app_secret_key:
    # Signs the app's session cookies: one per environment, so a session from test is not
    # valid on production. The environment's agents hold it as a file (app formula), which
    # its instances read.
    pillar: app:environments:{env}:secret_key
    kind: token
    per: environment
    roles: [mesos-agent]
    # A highstate of the environment's agents, then app.redeploy: the version it runs,
    # restarted onto the new file.
    applied_by: app.deploy
  # Mesos principals (CRAM-MD5 for frameworks and agents, HTTP Basic on the endpoints): the
  # masters list them all in --credentials; each daemon holds only its own.
  mesos_marathon_secret:
    # Marathon registers as a framework with it.
    pillar: mesos:credentials:marathon
    kind: password
    roles: [mesos-master, marathon]
  mesos_agent_secret:
    # Agents register with it, and their own endpoints accept it (the nodes' health checks).
    pillar: mesos:credentials:agent
    kind: password
    roles: [mesos-master, mesos-agent]
  mesos_operator_secret:
    # The runners' and the masters' health checks' HTTP principal on the masters' endpoints.
    pillar: mesos:credentials:operator
    kind: password
    roles: [mesos-master]
  marathon_http_password:
    # HTTP Basic on every Marathon endpoint, /ping included: the runners and health checks.
    pillar: marathon:http_password
    kind: password
    roles: [marathon]
  # ZooKeeper digests: the masters' and the Marathons' znodes are theirs alone (Mesos leaves
  # its election world-readable, so agents find the leader without a credential).
  # Each znode's ACL names the digest that created it. The ZooKeeper servers receive only the
  # digest ids (user:base64(sha1(user:password))), to create /mesos and /marathon for them.
  zookeeper_mesos_password:
    pillar: mesos:zk_password
    kind: password
    roles: [mesos-master]
    applied_by: zookeeper-acl
    hash:
      pillar: mesos:zk_digest
      kind: zookeeper_digest
      user: mesos  # mesos:zk_user
      roles: [zookeeper]
  zookeeper_marathon_password:
    pillar: marathon:zk_password
    kind: password
    roles: [marathon]
    applied_by: zookeeper-acl
    hash:
      pillar: marathon:zk_digest
      kind: zookeeper_digest
      user: marathon  # marathon:zk_user
      roles: [zookeeper]
  zookeeper_admin_password:
    # The ZooKeeper formula's own digest: the only one that may create a znode under the root,
    # which anyone else may only read.
    pillar: zookeeper:admin_password
    kind: password
    roles: [zookeeper]
    applied_by: zookeeper-acl
    hash:
      pillar: zookeeper:admin_digest
      kind: zookeeper_digest
      user: platform-admin
      roles: [zookeeper]
  # Registry users (HTTP Basic over TLS): the registry holds only their bcrypt hashes
  # (htpasswd -B), each client only its own password.
  registry_builder_password:
    # The image builder pushes and reads tags.
    pillar: registry:clients:builder
    kind: password
    roles: [image-builder]
    hash:
      pillar: registry:htpasswd:builder
      kind: bcrypt
      roles: [registry]
  registry_pull_password:
    # Every node whose Docker engine pulls the platform's images: app tasks, nginx, registrator.
    pillar: registry:clients:pull
    kind: password
    roles: [mesos-agent, lb, registrator]
    hash:
      pillar: registry:htpasswd:pull
      kind: bcrypt
      roles: [registry]
  # Consul ACL tokens (default policy deny). The servers create every token from these values
  # with the master token (consul.acl), so a token is known before its holder first starts.
  consul_master_token:
    pillar: consul:acl:master_token
    kind: uuid
    roles: [consul-server]
    # Consul keeps the management token it created; a new value needs it replaced through the API.
    applied_by: consul-acl
  consul_agent_token:
    # Each node's own agent token, bound to its node name (a Consul node identity): it
    # registers that node and its checks and no other, so no node can pose as another.
    pillar: consul:acl:agent_tokens:{node}
    kind: uuid
    per: node
    roles: [consul-server, consul-agent]
    # The servers create every node's token (consul.acl); holding the master token, they
    # could make any token anyway.
    all_copies_to: [consul-server]
    # Rotated: the servers first (the new token made, the old one deleted), then the node.
    applied_first_on: [consul-server]
  consul_registrator_token:
    # Registers and removes the app's services. The servers create it (consul.acl).
    pillar: consul:acl:registrator_token
    kind: uuid
    roles: [registrator, consul-server]
    applied_first_on: [consul-server]
  consul_reader_token:
    # Reads nodes and services: the master's runners (app.deploy waits for passing instances)
    # and an operator's UI session. The servers create it; no other node holds it.
    pillar: consul:acl:reader_token
    kind: uuid
    roles: [consul-server]
  consul_template_token:
    # consul-template reads the services the load balancers route to.
    pillar: consul:acl:template_token
    kind: uuid
    roles: [lb, consul-server]
    applied_first_on: [consul-server]
