# The lab's site pillar: lab/lab.py installs it as this master's .salt/pillar/site.sls, where
# a production site keeps its own. It is data only: the formulas are production's.
mesos:
  # The lab's signed apt repository, built by lab/lab.py from lab/packages and served from the
  # master's address on the lab network (platform:master_ip): vendor-layout packages with the
  # Mesos/Marathon stand-in (lab/standin) behind them, at these versions.
  repo: deb [signed-by=/etc/apt/keyrings/platform-lab.gpg] http://192.168.33.1:8089 bookworm main
  repo_key_url: http://192.168.33.1:8089/platform-lab.gpg
  version: 1.11.0-0.10.0.debian12~lab1

marathon:
  version: 1.11.24-1.debian9~lab1

registrator:
  # The lab's registrator is the stand-in image of lab/salt/registrator-standin, built on the
  # image builder (images:builds:registrator below) and pushed under the name production pulls
  # into the registry, platform/registrator:<version>; every node then runs it from there with
  # salt/registrator/container.sls, the production definition.
  image_source: build
  version: v7

nfs:
  # The lab's kernel has no NFS, server or client. The nfs-server node installs the repository's
  # nfs-kernel-server (the repository above: nfs-server nodes are Mesos agents, whose highstate
  # adds it first), Debian's layout with NFS-Ganesha, a userspace server, behind it. The
  # clients bind-mount the export instead of mounting it over NFS: lab/lab.py attaches the
  # export's Docker volume to every nfs-client at /lab/nfs-export. nfs-common is Debian's.
  server_version: 1:2.6.2-4+deb12u1+lab1
  mount:
    device: /lab/nfs-export
    fstype: none
    opts:
      - bind

images:
  # No container registry is reachable from the lab: the base image is debootstrapped.
  base_source: debootstrap
  builds:
    registrator:
      # On the lab's second file root (lab/salt), which lab/lab.py adds to the master's.
      context: salt://registrator-standin/image
      binary: null
