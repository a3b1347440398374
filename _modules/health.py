"""
What this node's services answer, one check per role, read by ``cluster.status`` and the
verify step of ``cluster.up``.

Ports and paths come from the same place the formulas read them: each formula's
``defaults.yaml`` merged with its pillar, so a port is written once.
"""

from __future__ import annotations

import socket
import subprocess
from collections.abc import Callable
from typing import Any

import requests

HTTP_TIMEOUT = 3


def _settings(component: str) -> dict[str, Any]:
    """A formula's defaults merged with its pillar, as its map.jinja does (cached per call)."""
    cache = __context__.setdefault("health.settings", {})
    if component not in cache:
        cache[component] = __salt__["topology.settings"](component)
    return cache[component]


def _check(ok: bool, detail: str, **extra: Any) -> dict[str, Any]:
    return {"ok": ok, "detail": detail, **extra}


def _http(url: str, **kwargs: Any) -> requests.Response:
    return requests.get(url, timeout=HTTP_TIMEOUT, **kwargs)


def _systemd_active(unit: str) -> bool:
    return subprocess.run(["systemctl", "is-active", "--quiet", unit], check=False).returncode == 0


def registry(node: dict) -> dict[str, Any]:
    """Each listener serving over TLS and asking HTTP Basic; a user of it this node holds, accepted."""
    settings = _settings("registry")
    ca = _settings("common")["ca_trust_path"]
    clients = settings.get("clients") or {}
    details = []
    for name, listener in sorted(settings["listeners"].items()):
        url = f"https://{node['fqdn']}:{listener['port']}/v2/"
        anonymous = _http(url, verify=ca)
        if anonymous.status_code != 401 or not anonymous.headers.get("WWW-Authenticate", "").startswith("Basic"):
            return _check(False, f"{name} /v2/ without credentials: HTTP {anonymous.status_code}, expected 401 (Basic)")
        user = next((user for user in listener.get("users") or [] if clients.get(user)), None)
        if user is None:
            details.append(f"{name} asks HTTP Basic (401)")
            continue
        answer = _http(url, verify=ca, auth=(user, clients[user]))
        if answer.status_code != 200:
            return _check(False, f"{name} /v2/ as {user}: HTTP {answer.status_code}, expected 200")
        details.append(f"{name} 401 without credentials, 200 as {user}")
    return _check(True, "/v2/ over TLS: " + "; ".join(details))


def zookeeper(node: dict) -> dict[str, Any]:
    with socket.create_connection((node["ip"], _settings("zookeeper")["client_port"]), timeout=HTTP_TIMEOUT) as sock:
        sock.sendall(b"srvr")
        reply = sock.makefile().read()
    mode = next((line.split(":", 1)[1].strip() for line in reply.splitlines() if line.startswith("Mode:")), "")
    return _check(mode in ("leader", "follower"), f"mode {mode or 'unknown'}")


def consul(node: dict) -> dict[str, Any]:
    port = _settings("consul")["http_port"]
    # Neither asks a token: Consul reads nothing of its catalog to anonymous callers.
    leader = _http(f"http://127.0.0.1:{port}/v1/status/leader").json()
    servers = _http(f"http://127.0.0.1:{port}/v1/status/peers").json()
    return _check(bool(leader), f"leader {leader or 'none'}, {len(servers)} servers")


def _mesos_auth(principal: str) -> tuple[str, str]:
    """HTTP Basic of a Mesos principal this node holds (its secret comes with its role)."""
    return principal, _settings("mesos")["credentials"][principal]


def mesos_master(node: dict) -> dict[str, Any]:
    settings = _settings("mesos")
    answer = _http(
        f"http://{node['ip']}:{settings['master']['port']}/master/state",
        auth=_mesos_auth(settings["operator_principal"]),
    )
    answer.raise_for_status()
    state = answer.json()
    agents = [agent for agent in state.get("slaves", []) if agent.get("active", True)]
    # The version says what answers (the lab's stand-in reports its own).
    return _check(
        bool(state.get("leader")),
        f"mesos {state.get('version', '?')}: leader {state.get('leader', 'none')}, {len(agents)} agents",
    )


def mesos_agent(node: dict) -> dict[str, Any]:
    settings = _settings("mesos")
    answer = _http(
        f"http://{node['ip']}:{settings['agent']['flags']['port']}/state",
        auth=_mesos_auth(settings["agent_principal"]),
    )
    answer.raise_for_status()
    state = answer.json()
    env = state.get("attributes", {}).get("env")
    return _check(env == node.get("env"), f"attribute env:{env}")


def marathon(node: dict) -> dict[str, Any]:
    settings = _settings("marathon")
    answer = _http(
        f"http://{node['ip']}:{settings['http_port']}/v2/leader",
        auth=(settings["http_user"], settings["http_password"]),
    )
    leader = answer.json().get("leader") if answer.status_code == 200 else None
    return _check(bool(leader), f"leader {leader or 'none'} (HTTP {answer.status_code})")


def registrator(node: dict) -> dict[str, Any]:
    proc = subprocess.run(
        ["docker", "inspect", "--format", "{{.State.Status}}", _settings("registrator")["container"]],
        capture_output=True,
        text=True,
        check=False,
    )
    status = proc.stdout.strip() or "absent"
    return _check(status == "running", f"container {status}")


def nfs_server(node: dict) -> dict[str, Any]:
    export = _settings("nfs")["export"]
    # Every environment that has nfs-clients gets its directory exported (to them only).
    wanted = [f"{export}/{env}" for env in sorted(__salt__["topology.nfs_clients"]())]
    proc = subprocess.run(["exportfs", "-v"], capture_output=True, text=True, check=False)
    exported = {line.split()[0] for line in proc.stdout.splitlines() if line.strip()}
    missing = [path for path in wanted if path not in exported]
    return _check(not missing, f"not exported: {', '.join(missing)}" if missing else f"exports {', '.join(wanted)}")


def nfs_client(node: dict) -> dict[str, Any]:
    share = f"{_settings('nfs')['export']}/{node.get('env')}"
    # The mount table, not os.path.ismount: a bind mount from the same filesystem is one too.
    with open("/proc/self/mountinfo", encoding="utf-8") as mounts:
        mounted = any(line.split()[4] == share for line in mounts)
    return _check(mounted, f"{share} mounted" if mounted else f"{share} not mounted")


def lb(node: dict) -> dict[str, Any]:
    settings = _settings("lb")
    health = _http(f"http://127.0.0.1:{settings['port']}{settings['health_path']}")
    answers = []
    for env in __pillar__["platform"]["environments"]:
        # Over HTTPS with the name a browser uses: the certificate is checked too.
        reply = __salt__["apps.served"](env, samples=1, address="127.0.0.1")[0]
        answers.append(f"app-{env} {reply['status'] or reply['error']}")
    return _check(health.status_code == 200, f"nginx {health.status_code}; " + ", ".join(answers))


def keepalived(node: dict) -> dict[str, Any]:
    vip = __pillar__["platform"]["vip"]
    holds_vip = vip in __salt__["network.ip_addrs"]()
    active = _systemd_active(_settings("keepalived")["service"])
    state = "MASTER (holds VIP)" if holds_vip else "BACKUP"
    return _check(active, f"{state}" if active else "keepalived not running", holds_vip=holds_vip)


def docker(node: dict) -> dict[str, Any]:
    return _check(_systemd_active(_settings("docker")["service"]), "engine running")


CHECKS: dict[str, Callable[[dict], dict[str, Any]]] = {
    "registry": registry,
    "zookeeper": zookeeper,
    "consul-server": consul,
    "consul-agent": consul,
    "mesos-master": mesos_master,
    "marathon": marathon,
    "mesos-agent": mesos_agent,
    "registrator": registrator,
    "nfs-server": nfs_server,
    "nfs-client": nfs_client,
    "lb": lb,
    "keepalived": keepalived,
}


def services() -> dict[str, dict[str, Any]]:
    """
    Check each service this node runs for its roles: ``{role: {ok, detail}}``. A check
    that cannot connect reports the error instead of raising.

    CLI Example:

    .. code-block:: bash

        salt 'ms1' health.services
    """
    # __context__ outlives this call in the minion process; settings must follow pillar changes.
    __context__.pop("health.settings", None)
    node = __salt__["topology.node"]()
    results = {}
    for role in node.get("roles", []):
        check = CHECKS.get(role)
        if check is None:
            continue
        try:
            results[role] = check(node)
        except (OSError, requests.RequestException, ValueError, KeyError) as exc:
            results[role] = _check(False, f"{type(exc).__name__}: {exc}")
    return results
