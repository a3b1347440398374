# The platform's topology: the single source of truth for nodes, addresses and roles.
# The Vagrantfile and the lab read this file as plain YAML, so keep it free of Jinja.
platform:
  domain: localdomain
  network: 192.168.33.0/24
  master_ip: 192.168.33.1
  # Held by keepalived on exactly one load balancer; app-<env> names resolve to it.
  vip: 192.168.33.20
  environments:
    - test
    - production

  # Which formulas each role brings (top.sls assigns them) and which components it needs
  # pinned (validation rejects a missing version or an unknown role). The image-builder
  # role has no highstate: cluster.up applies images.* on it as separate steps.
  roles:
    registry:      {states: [ca, docker, registry], components: [docker, registry]}
    image-builder: {states: [], components: [images, registrator, consul_template]}
    zookeeper:     {states: [zookeeper], components: [zookeeper]}
    consul-server: {states: [consul], components: [consul]}
    consul-agent:  {states: [consul], components: [consul]}
    mesos-master:  {states: [mesos.master], components: [mesos]}
    marathon:      {states: [marathon], components: [marathon]}
    mesos-agent:   {states: [docker, mesos.agent, app], components: [docker, mesos]}
    registrator:   {states: [docker, registrator], components: [docker, registrator]}
    nfs-server:    {states: [nfs.server], components: [nfs]}
    nfs-client:    {states: [nfs.client], components: [nfs]}
    lb:            {states: [docker, lb], components: [docker, nginx, consul_template]}
    keepalived:    {states: [keepalived], components: [keepalived]}

  nodes:
    mm1:
      ip: 192.168.33.11
      # Marathon and ZooKeeper are two JVMs beside the Mesos master and Consul server.
      memory: 2048
      zookeeper_id: 1
      roles: [zookeeper, consul-server, mesos-master, marathon, registrator]
    mm2:
      ip: 192.168.33.12
      memory: 2048
      zookeeper_id: 2
      roles: [zookeeper, consul-server, mesos-master, marathon, registrator]
    mm3:
      ip: 192.168.33.13
      memory: 2048
      zookeeper_id: 3
      roles: [zookeeper, consul-server, mesos-master, marathon, registrator]
    ms1:
      ip: 192.168.33.14
      memory: 1536
      env: test
      roles: [mesos-agent, nfs-server, consul-agent, registrator]
    ms2:
      ip: 192.168.33.15
      memory: 1536
      env: test
      roles: [mesos-agent, nfs-client, consul-agent, registrator]
    ms3:
      ip: 192.168.33.16
      memory: 1536
      env: production
      roles: [mesos-agent, nfs-client, consul-agent, registrator]
    ms4:
      ip: 192.168.33.21
      memory: 1536
      env: production
      roles: [mesos-agent, nfs-client, consul-agent, registrator]
    lb1:
      ip: 192.168.33.17
      memory: 512
      vrrp_priority: 150
      roles: [lb, keepalived, consul-agent]
    lb2:
      ip: 192.168.33.18
      memory: 512
      vrrp_priority: 100
      roles: [lb, keepalived, consul-agent]
    registry:
      ip: 192.168.33.19
      memory: 1024
      roles: [registry, image-builder, consul-agent]
