# Version and source of every component. A formula reads its own key here, merged over its
# defaults.yaml; a site's pillar (site.sls) overrides any of it.
# Debian package versions are the bookworm ones; pin them so every node runs the same build.

docker:
  version: 20.10.24+dfsg1-1+deb12u1+b6
  package: docker.io

registry:
  version: 2.8.2+ds1-1
  package: docker-registry
  # Pushes (the image builder) and pulls (every other node) have a listener each; images are
  # named after the pull listener (topology.registry).
  listeners:
    push: {port: 5000}
    pull: {port: 5001}

zookeeper:
  version: 3.8.0-11+deb12u2
  package: zookeeperd

consul:
  # Bookworm dropped consul; bullseye's build runs on bookworm (needs only libc). It is
  # taken from the pool of the Debian mirror the node already uses (read from its apt
  # sources), verified by sha256. Production may point `deb_url` at another source.
  version: 1.8.7+dfsg1-2+b3
  deb_pool_path: pool/main/c/consul/consul_1.8.7+dfsg1-2+b3_amd64.deb
  deb_sha256: e4e888bba104daba1d9161f49bfc52649a7e4efd45b1a7ead5bc54f2cb9c89d9

mesos:
  # Apache Mesos is retired; AVENTER's maintained fork publishes .debs for bookworm as
  # aventer-mesos (layout in salt/mesos/defaults.yaml). Each site sets `repo` (and
  # `repo_key_url`) in its site pillar to the apt line of that repository or its mirror:
  # the formula refuses to run without one.
  package: aventer-mesos
  version: 1.11.0-0.10.0.debian12

marathon:
  # Installed from the repository of mesos:repo, which must carry it (see README, known gaps).
  version: 1.11.24-1.debian9

registrator:
  # Production runs the pinned upstream image, pulled once by the images formula and pushed
  # to the private registry; every master and agent runs it from there.
  version: v7
  image: gliderlabs/registrator:v7

consul_template:
  # Built from its Go module on the salt master (the Go checksum database pins its
  # content) and baked into the load balancer image.
  version: v0.41.1
  go_module: github.com/hashicorp/consul-template

nginx:
  version: 1.22.1-9+deb12u12

keepalived:
  version: 1:2.2.7-1+b2
  virtual_router_id: 51

firewall:
  # Debian's nftables: every node's input filter (salt/firewall).
  version: 1.0.6-2+deb12u2

nfs:
  # Debian's nfs-utils: the server's (nfs-kernel-server) and the clients' (nfs-common) packages.
  version: 1:2.6.2-4+deb12u1
  export: /data

images:
  # Base of the platform's images (registrator, load balancer, app): a minimal bookworm,
  # pushed to the private registry as platform/base:<version>: pulled from `base`, or
  # debootstrapped on the image builder where no container registry is reachable
  # (base_source: debootstrap, as the lab's site pillar sets).
  version: bookworm
  base: debian:bookworm-slim
  base_source: pull
  # Image tags: bump one when its build context changes; an existing tag is never rebuilt.
  lb_tag: "2"

drift:
  # Every node checks its own highstate (test=True) on a schedule and returns the result to
  # the master: `salt-run cluster.drift last=True` shows the latest per node, with its age.
  schedule:
    enabled: true
    minutes: 30
    splay: 300
