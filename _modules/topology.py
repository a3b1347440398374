"""
Read and validate the platform topology kept in pillar (``platform`` and the component keys).

States use it to find their peers (``salt['topology.nodes']('zookeeper')``); runners call
:func:`errors` through ``salt.cmd`` on the master before touching any node.
"""

from __future__ import annotations

import ipaddress
from collections import Counter, defaultdict
from typing import Any

import salt.utils.yaml
from salt.exceptions import CommandExecutionError

# Quorum systems: an even member count adds no fault tolerance, fewer than three has none.
QUORUM_ROLES = ("zookeeper", "consul-server")
MIN_QUORUM_MEMBERS = 3


def _pillar() -> dict[str, Any]:
    return __pillar__


def _platform(platform: dict | None) -> dict[str, Any]:
    return platform if platform is not None else _pillar().get("platform", {})


def nodes(role: str | None = None, platform: dict | None = None) -> dict[str, dict]:
    """
    Nodes of the topology, optionally only those with ``role``, sorted by id. Each node dict
    gains ``id`` and ``fqdn``.

    CLI Example:

    .. code-block:: bash

        salt-call topology.nodes zookeeper
    """
    platform = _platform(platform)
    domain = platform.get("domain", "")
    selected = {}
    for node_id in sorted(platform.get("nodes", {})):
        node = dict(platform["nodes"][node_id])
        if role is None or role in node.get("roles", []):
            node["id"] = node_id
            node["fqdn"] = f"{node_id}.{domain}" if domain else node_id
            selected[node_id] = node
    return selected


def node(node_id: str | None = None, platform: dict | None = None) -> dict:
    """
    This minion's node entry (or ``node_id``'s).

    CLI Example:

    .. code-block:: bash

        salt-call topology.node
    """
    node_id = node_id or __grains__["id"]
    return nodes(platform=platform).get(node_id, {})


def nfs_clients(platform: dict | None = None) -> dict[str, list[str]]:
    """
    The nfs-client agents' addresses by environment: to whom each environment's directory of
    the share is exported (an environment without one is exported to no one).

    CLI Example:

    .. code-block:: bash

        salt-call topology.nfs_clients
    """
    clients: dict[str, list[str]] = {}
    for client in nodes("nfs-client", platform).values():
        clients.setdefault(client.get("env"), []).append(client["ip"])
    return clients


def states(node_id: str | None = None, platform: dict | None = None) -> list[str]:
    """
    The formulas a node gets from its roles, in role order, without repeats. ``top.sls``
    renders from this.

    CLI Example:

    .. code-block:: bash

        salt-call topology.states
    """
    platform = _platform(platform)
    role_map = platform.get("roles", {})
    result = ["common"]
    for role in node(node_id, platform).get("roles", []):
        for sls in role_map.get(role, {}).get("states", []):
            if sls not in result:
                result.append(sls)
    return result


def ca_node(platform: dict | None = None) -> str | None:
    """
    The node that holds the cluster CA: the first, by id, whose roles bring the ``ca``
    formula. Other nodes trust the CA certificate from this node's mine entry only, and ask
    it to sign theirs.

    CLI Example:

    .. code-block:: bash

        salt-call topology.ca_node
    """
    platform = _platform(platform)
    return next((node_id for node_id in nodes(platform=platform) if "ca" in states(node_id, platform)), None)


def app_hostnames(platform: dict | None = None) -> list[str]:
    """
    The names the load balancers serve the app under, on the VIP: ``app-<env>`` and
    ``app-<env>.<domain>`` for each environment.

    CLI Example:

    .. code-block:: bash

        salt-call topology.app_hostnames
    """
    platform = _platform(platform)
    domain = platform.get("domain", "")
    names = []
    for env in platform.get("environments") or []:
        names += [f"app-{env}", f"app-{env}.{domain}"] if domain else [f"app-{env}"]
    return names


def signing_policies(pillar: dict | None = None) -> dict[str, dict]:
    """
    The cluster CA's signing policies (x509_v2's ``x509_signing_policies``), one per node it
    signs for: the node alone may ask (``minions``), and the policy fixes every name and use
    of the certificate, so a node cannot obtain one for another's names: each load
    balancer's certificate for the app's names, each Consul agent's for its own.

    CLI Example:

    .. code-block:: bash

        salt-call topology.signing_policies
    """
    pillar = pillar if pillar is not None else _pillar()
    platform = pillar.get("platform", {})
    ca = settings("ca", pillar)

    def policy(node_id: str, names: list[str], usage: str, days_valid: int) -> dict:
        return {
            "minions": node_id,
            "signing_private_key": ca["key"],
            "signing_cert": ca["cert"],
            "CN": names[0].split(":", 1)[1],
            "subjectAltName": ", ".join(names),
            "basicConstraints": "critical, CA:false",
            "keyUsage": "critical, digitalSignature, keyEncipherment",
            "extendedKeyUsage": usage,
            "subjectKeyIdentifier": "hash",
            "authorityKeyIdentifier": "keyid:always",
            "days_valid": int(days_valid),
        }

    policies: dict[str, dict] = {}
    app_names = [f"DNS:{name}" for name in app_hostnames(platform)]
    for node_id in nodes("lb", platform) if app_names else ():
        prefix, days = ca["app_tls"]["policy_prefix"], ca["app_tls"]["days_valid"]
        policies[f"{prefix}-{node_id}"] = policy(node_id, app_names, "serverAuth", days)
    # Every Consul agent serves and calls RPC (both usages); a server's certificate also
    # names server.<datacenter>.<domain>, which agents check (verify_server_hostname).
    consul = settings("consul", pillar)
    tls = consul["tls"]
    for node_id, node in nodes(platform=platform).items():
        if "consul" not in states(node_id, platform):
            continue
        names = [f"DNS:{node['fqdn']}", "DNS:localhost", f"IP:{node['ip']}", "IP:127.0.0.1"]
        if consul["server_role"] in node.get("roles", []):
            names.append(f"DNS:server.{consul['datacenter']}.{tls['domain']}")
        policies[f"{tls['policy_prefix']}-{node_id}"] = policy(
            node_id, names, "serverAuth, clientAuth", tls["days_valid"]
        )
    return policies


def component(name: str, pillar: dict | None = None) -> dict:
    """
    A component's pillar (version, source, settings): pillar/components.sls with this
    site's pillar (site.sls) merged over it by the pillar top file.

    CLI Example:

    .. code-block:: bash

        salt-call topology.component consul
    """
    pillar = pillar if pillar is not None else _pillar()
    return dict(pillar.get(name) or {})


def settings(name: str, pillar: dict | None = None) -> dict:
    """
    A formula's settings as its map.jinja computes them: ``salt://<name>/defaults.yaml``
    merged with the component's pillar (:func:`component`). Lets modules and runners read
    a port or a path from the one place the formula keeps it.

    CLI Example:

    .. code-block:: bash

        salt-call topology.settings marathon
    """
    defaults = salt.utils.yaml.safe_load(__salt__["cp.get_file_str"](f"salt://{name}/defaults.yaml") or "{}") or {}
    return __salt__["slsutil.merge"](defaults.get(name, {}), component(name, pillar), strategy="recurse")


def registry(pillar: dict | None = None, access: str = "pull") -> str:
    """
    ``host:port`` of the private registry, the prefix of every image the platform runs.
    ``access="pull"`` (default) names the read-only listener every node pulls from;
    ``access="push"`` the one the image builder pushes to. Both serve one storage, so an
    image pushed to the second is found under the first's name by the same digest.

    CLI Example:

    .. code-block:: bash

        salt-call topology.registry
        salt-call topology.registry access=push
    """
    if access not in ("pull", "push"):
        raise CommandExecutionError(f"registry access must be pull or push, not {access!r}")
    pillar = pillar if pillar is not None else _pillar()
    hosts = nodes("registry", pillar.get("platform", {}))
    if not hosts:
        raise CommandExecutionError("no node has the registry role in pillar platform:nodes")
    port = component("registry", pillar).get("listeners", {}).get(access, {}).get("port")
    if not port:
        raise CommandExecutionError(f"no registry:listeners:{access}:port in pillar (components.sls)")
    return f"{next(iter(hosts.values()))['fqdn']}:{port}"


FIREWALL_SOURCES = ("platform", "peers", "anywhere")


def _as_list(value: Any) -> list:
    return list(value) if isinstance(value, (list, tuple)) else [value]


FIREWALL_PROTOCOLS = {"vrrp": 112}


def _setting(reference: Any, pillar: dict | None) -> int | str:
    """A port: a number, a range ``"<first>-<last>"``, or ``"<formula>:<key>[:<key>...]"`` read
    from that formula's settings (which holds a number or a range)."""
    if isinstance(reference, int):
        return reference
    value: Any = reference
    if ":" in str(reference):
        formula, *keys = str(reference).split(":")
        value = settings(formula, pillar)
        for key in keys:
            value = value.get(key) if isinstance(value, dict) else None
    if isinstance(value, int):
        return value
    first, _, last = str(value).partition("-")
    if first.isdigit() and last.isdigit() and int(first) < int(last) <= 65535:
        return f"{int(first)}-{int(last)}"
    raise CommandExecutionError(
        f"{reference!r} is no port: not a number or a range first-last, nor a formula setting holding one"
    )


def firewall_rules(node_id: str | None = None, pillar: dict | None = None) -> list[dict]:
    """
    What may reach ``node_id`` (this minion by default): one rule per service of pillar
    ``firewall:services`` that one of the node's roles serves, with its ports resolved and
    its sources as addresses (an empty list: from anywhere). Raises, naming the service, on
    a source, port or protocol it cannot resolve. The firewall formula renders these.

    CLI Example:

    .. code-block:: bash

        salt-call topology.firewall_rules
    """
    pillar = pillar if pillar is not None else _pillar()
    platform = pillar.get("platform", {})
    node_id = node_id or __grains__["id"]
    roles = set(node(node_id, platform).get("roles", []))
    everything = nodes(platform=platform)
    rules = []
    for name, service in sorted((settings("firewall", pillar).get("services") or {}).items()):
        service = service or {}
        served_by = set(service.get("roles") or [])
        if not ("all" in served_by or served_by & roles):
            continue
        origin = service.get("from")
        known_roles = platform.get("roles") or {}
        if origin == "platform":
            sources = [str(platform.get("network"))]
        elif origin == "anywhere":
            sources = []
        elif origin == "peers" or (origin and set(_as_list(origin)) <= set(known_roles)):
            wanted = served_by if origin == "peers" else set(_as_list(origin))
            sources = [n["ip"] for n in everything.values() if "all" in wanted or wanted & set(n.get("roles", []))]
        else:
            raise CommandExecutionError(
                f"firewall:services:{name}:from is {origin!r}: use one of {', '.join(FIREWALL_SOURCES)}, "
                "a role or a list of roles"
            )
        protocol = service.get("protocol")
        if protocol is not None and protocol not in FIREWALL_PROTOCOLS:
            raise CommandExecutionError(
                f"firewall:services:{name}:protocol is {protocol!r}: one of {', '.join(FIREWALL_PROTOCOLS)}"
            )
        try:
            tcp = [_setting(port, pillar) for port in service.get("tcp") or []]
            udp = [_setting(port, pillar) for port in service.get("udp") or []]
        except CommandExecutionError as exc:
            raise CommandExecutionError(f"firewall:services:{name}: {exc}") from exc
        rule = {"service": name, "sources": sorted(set(sources)), "tcp": tcp, "udp": udp}
        rule["icmp"] = list(service.get("icmp") or [])
        rule["protocol"] = FIREWALL_PROTOCOLS.get(protocol) if protocol else None
        # Docker's published ports (a task's host port, DNAT'ed to its container): forwarded, not input.
        rule["forwarded"] = bool(service.get("forwarded"))
        if origin != "anywhere" and not rule["sources"]:
            continue  # no node may reach it (e.g. no NFS client yet): nothing to open
        rules.append(rule)
    return rules


def errors(platform: dict | None = None, components: dict | None = None) -> list[str]:
    """
    Every problem of the topology, each naming the field and the nodes involved; empty when
    the topology is sound. ``components`` maps component names to their pillar.

    CLI Example:

    .. code-block:: bash

        salt-run salt.cmd topology.errors
    """
    if platform is None:
        pillar = _pillar()
        platform = pillar.get("platform", {})
        components = pillar
    components = components or {}
    problems: list[str] = []

    all_nodes = platform.get("nodes") or {}
    if not all_nodes:
        return ["platform:nodes: no nodes defined"]
    role_map = platform.get("roles") or {}

    network = _parse_network(platform.get("network"), problems)
    problems += _address_problems(all_nodes, network)
    problems += _hostname_problems(all_nodes, platform.get("domain", ""))
    problems += _role_problems(all_nodes, role_map)
    problems += _quorum_problems(all_nodes)
    problems += _environment_problems(all_nodes, platform.get("environments") or [])
    problems += _nfs_problems(all_nodes)
    problems += _vip_problems(platform.get("vip"), network, all_nodes)
    problems += _keepalived_problems(all_nodes)
    problems += _version_problems(all_nodes, role_map, components)
    problems += _repository_problems(all_nodes, role_map, components)
    if "app" in components:
        problems += _app_problems(components["app"], platform.get("environments") or [])
    if not problems:  # the firewall's sources and ports rest on a sound topology
        problems += _firewall_problems({**components, "platform": platform})
    return problems


def _firewall_problems(pillar: dict) -> list[str]:
    found = set()
    for node_id in pillar["platform"].get("nodes") or {}:
        try:
            firewall_rules(node_id, pillar)
        except CommandExecutionError as exc:
            found.add(str(exc))
    return sorted(found)


def _parse_network(value, problems):
    try:
        return ipaddress.ip_network(str(value))
    except ValueError:
        problems.append(f"platform:network: {value!r} is not a network such as 192.168.33.0/24")
        return None


def _duplicates(values_by_node: dict[str, Any]) -> dict[Any, list[str]]:
    owners = defaultdict(list)
    for node_id, value in values_by_node.items():
        owners[value].append(node_id)
    return {value: sorted(ids) for value, ids in owners.items() if len(ids) > 1}


def _address_problems(all_nodes, network):
    problems = []
    addresses = {}
    for node_id, spec in sorted(all_nodes.items()):
        try:
            addresses[node_id] = ipaddress.ip_address(str(spec.get("ip")))
        except ValueError:
            problems.append(f"platform:nodes:{node_id}:ip: {spec.get('ip')!r} is not an IP address")
            continue
        if network is not None and addresses[node_id] not in network:
            problems.append(f"platform:nodes:{node_id}:ip: {addresses[node_id]} is outside platform:network {network}")
    for address, ids in sorted(_duplicates(addresses).items()):
        problems.append(f"platform:nodes: duplicate ip {address} on nodes {', '.join(ids)}")
    return problems


def _hostname_problems(all_nodes, domain):
    fqdns = {node_id: spec.get("hostname") or f"{node_id}.{domain}".lower() for node_id, spec in all_nodes.items()}
    return [
        f"platform:nodes: duplicate hostname {name} on nodes {', '.join(ids)}"
        for name, ids in sorted(_duplicates(fqdns).items())
    ]


def _role_problems(all_nodes, role_map):
    problems = []
    for node_id, spec in sorted(all_nodes.items()):
        roles = spec.get("roles") or []
        if not roles:
            problems.append(f"platform:nodes:{node_id}:roles: node has no roles")
        unknown = [role for role in roles if role not in role_map]
        if unknown:
            problems.append(
                f"platform:nodes:{node_id}:roles: unknown role(s) {', '.join(unknown)}; "
                f"known roles: {', '.join(sorted(role_map))}"
            )
    return problems


def _with_role(all_nodes, role):
    return sorted(node_id for node_id, spec in all_nodes.items() if role in (spec.get("roles") or []))


def _quorum_problems(all_nodes):
    problems = []
    for role in QUORUM_ROLES:
        members = _with_role(all_nodes, role)
        if len(members) < MIN_QUORUM_MEMBERS or len(members) % 2 == 0:
            problems.append(
                f"platform:nodes: role {role} needs an odd number of at least {MIN_QUORUM_MEMBERS} "
                f"nodes for a quorum, found {len(members)} ({', '.join(members) or 'none'})"
            )
    ids = {node_id: all_nodes[node_id].get("zookeeper_id") for node_id in _with_role(all_nodes, "zookeeper")}
    for node_id, myid in sorted(ids.items()):
        if not isinstance(myid, int) or not 1 <= myid <= 255:
            problems.append(f"platform:nodes:{node_id}:zookeeper_id: {myid!r} must be an integer 1-255")
    for myid, owners in sorted(_duplicates(ids).items(), key=str):
        problems.append(f"platform:nodes: duplicate zookeeper_id {myid} on nodes {', '.join(owners)}")
    return problems


def _environment_problems(all_nodes, environments):
    problems = []
    if not environments:
        problems.append("platform:environments: no environment defined")
    agents = _with_role(all_nodes, "mesos-agent")
    agents_per_env = Counter(all_nodes[a].get("env") for a in agents)
    for env in environments:
        if not agents_per_env.get(env):
            problems.append(
                f"platform:environments: environment {env} has no agents (give a mesos-agent node env: {env})"
            )
    for agent in agents:
        env = all_nodes[agent].get("env")
        if env not in environments:
            problems.append(
                f"platform:nodes:{agent}:env: {env!r} is not one of platform:environments ({', '.join(environments)})"
            )
    return problems


def _nfs_problems(all_nodes):
    problems = []
    servers = _with_role(all_nodes, "nfs-server")
    clients = _with_role(all_nodes, "nfs-client")
    for server in servers:
        if "mesos-agent" not in all_nodes[server].get("roles", []):
            problems.append(
                f"platform:nodes:{server}:roles: nfs-server must also be a mesos-agent "
                "(the app's data lives on an agent)"
            )
    if clients and len(servers) != 1:
        problems.append(
            f"platform:nodes: nfs-client nodes ({', '.join(clients)}) need exactly one nfs-server, "
            f"found {len(servers)} ({', '.join(servers) or 'none'})"
        )
    for client in clients:
        if "mesos-agent" not in all_nodes[client].get("roles", []):
            problems.append(
                f"platform:nodes:{client}:roles: nfs-client must also be a mesos-agent "
                "(it mounts the data directory of its agent's env)"
            )
    for node_id in sorted(set(servers) & set(clients)):
        problems.append(f"platform:nodes:{node_id}:roles: a node cannot be both nfs-server and nfs-client")
    return problems


def _vip_problems(vip, network, all_nodes):
    try:
        address = ipaddress.ip_address(str(vip))
    except ValueError:
        return [f"platform:vip: {vip!r} is not an IP address"]
    problems = []
    if network is not None and address not in network:
        problems.append(f"platform:vip: {address} is not on the load balancers' network {network}")
    taken = [n for n, spec in sorted(all_nodes.items()) if str(spec.get("ip")) == str(address)]
    if taken:
        problems.append(f"platform:vip: {address} is also the ip of node(s) {', '.join(taken)}")
    return problems


def _keepalived_problems(all_nodes):
    problems = []
    members = _with_role(all_nodes, "keepalived")
    priorities = {node_id: all_nodes[node_id].get("vrrp_priority") for node_id in members}
    for node_id, priority in sorted(priorities.items()):
        if not isinstance(priority, int) or not 1 <= priority <= 254:
            problems.append(f"platform:nodes:{node_id}:vrrp_priority: {priority!r} must be an integer 1-254")
    for priority, owners in sorted(_duplicates(priorities).items(), key=str):
        problems.append(
            f"platform:nodes: keepalived nodes {', '.join(owners)} share vrrp_priority {priority}; "
            "give each a distinct one"
        )
    return problems


def _version_problems(all_nodes, role_map, components):
    needed = defaultdict(set)
    for node_id, spec in all_nodes.items():
        for role in spec.get("roles") or []:
            for name in role_map.get(role, {}).get("components", []):
                needed[name].add(node_id)
    return [
        f"{name}:version: missing (needed by {', '.join(sorted(owners))}); pin it in pillar/components.sls"
        for name, owners in sorted(needed.items())
        if not str((components.get(name) or {}).get("version") or "").strip()
    ]


def _repository_problems(all_nodes, role_map, components):
    """Mesos and Marathon are in no Debian release: their nodes need the site's vendor repository."""
    users = sorted(
        node_id
        for node_id, spec in all_nodes.items()
        if {"mesos", "marathon"}
        & {name for role in spec.get("roles") or [] for name in role_map.get(role, {}).get("components", [])}
    )
    if not users or str((components.get("mesos") or {}).get("repo") or "").strip():
        return []
    return [
        f"mesos:repo: empty (needed by {', '.join(users)}); set it in this site's pillar to the apt line of "
        "the repository that carries Mesos and Marathon, with mesos:repo_key_url for its signing key"
    ]


# What `app.deploy` reads from pillar `app`, with the type each must have.
APP_FIELDS = {
    "version": (str,),
    "service": (str,),
    "container_port": (int,),
    "cpus": (int, float),
    "mem": (int, float),
    "deploy_timeout": (int,),
    "drain_seconds": (int,),
    "kill_grace_period_seconds": (int,),
    "consul_check_interval": (str,),
}
APP_HEALTH_FIELDS = ("path", "grace_period_seconds", "interval_seconds", "timeout_seconds", "max_consecutive_failures")


def _app_problems(app, environments):
    if not isinstance(app, dict):
        return ["app: must be a mapping (pillar/app.sls)"]
    problems = []
    for field, types in APP_FIELDS.items():
        value = app.get(field)
        if value is None or value == "":
            problems.append(f"app:{field} is missing")
        elif not isinstance(value, types) or isinstance(value, bool):
            hint = " (quote it in YAML)" if types == (str,) else ""
            problems.append(f"app:{field} is {value!r}; it must be a {' or '.join(t.__name__ for t in types)}{hint}")
    drain, grace = app.get("drain_seconds"), app.get("kill_grace_period_seconds")
    if isinstance(drain, int) and isinstance(grace, int) and drain >= grace:
        problems.append(
            f"app:drain_seconds is {drain}; it must be less than app:kill_grace_period_seconds ({grace}), "
            "or SIGKILL cuts the drain and the requests in flight"
        )
    health = app.get("health") if isinstance(app.get("health"), dict) else {}
    problems += [f"app:health:{field} is missing" for field in APP_HEALTH_FIELDS if health.get(field) in (None, "")]
    for env, settings in (app.get("environments") or {}).items():
        if env not in environments:
            problems.append(f"app:environments:{env} is not an environment of platform:environments")
            continue
        instances = (settings or {}).get("instances", 1)
        if not isinstance(instances, int) or isinstance(instances, bool) or instances < 1:
            problems.append(f"app:environments:{env}:instances is {instances!r}; it must be a whole number >= 1")
    return problems
