# Every node sees the whole topology: states derive peers (ZooKeeper ensemble, Consul
# retry_join, NFS server, upstream hosts) from it, and runners validate it before acting.
base:
  '*':
    - platform
    - components
