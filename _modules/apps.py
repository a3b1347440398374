"""
The demo app (pillar ``app``) as the platform runs it: its image, its Marathon app per
environment, and what the load balancers serve for it.

Runners call these on the master through ``salt.cmd`` with the pillar they hold; the
definition is plain data built from pillar, so it is checked against Marathon's own schema
in the tests (../shared/reference/marathon/validate_app.py).
"""

from __future__ import annotations

import hashlib
import ssl
import urllib.parse
from typing import Any

import requests
import requests.adapters
from salt.exceptions import CommandExecutionError

# Seconds one answer through the VIP may take.
LB_TIMEOUT = 3


def _pillar(pillar: dict | None) -> dict[str, Any]:
    return pillar if pillar is not None else __pillar__


def settings(pillar: dict | None = None) -> dict[str, Any]:
    """
    Pillar ``app``.

    CLI Example:

    .. code-block:: bash

        salt-call apps.settings
    """
    data = __salt__["topology.component"]("app", _pillar(pillar))
    if not data:
        raise CommandExecutionError("pillar has no `app` key (pillar/app.sls)")
    return data


def app_id(env: str) -> str:
    """
    Marathon id of the app in ``env``: ``/app-<env>``, the name the load balancers route.

    CLI Example:

    .. code-block:: bash

        salt-call apps.app_id test
    """
    return f"/app-{env}"


def image(version: str, pillar: dict | None = None, digest: str | None = None) -> str:
    """
    ``<registry>/<namespace>/app:<version>``, as the images formula tags it; with ``digest``
    (``sha256:…``, what the registry holds under that tag) ``…/app@<digest>``, the reference a
    deploy runs, which no later push can change.

    CLI Example:

    .. code-block:: bash

        salt-call apps.image 1.0.0
    """
    pillar = _pillar(pillar)
    namespace = __salt__["topology.settings"]("images", pillar)["namespace"]
    repository = f"{__salt__['topology.registry'](pillar)}/{namespace}/app"
    return f"{repository}@{digest}" if digest else f"{repository}:{version}"


def repository(pillar: dict | None = None) -> str:
    """
    The app's repository in the registry (``<namespace>/app``).

    CLI Example:

    .. code-block:: bash

        salt-call apps.repository
    """
    return f"{__salt__['topology.settings']('images', _pillar(pillar))['namespace']}/app"


def version_of(definition: dict) -> str | None:
    """
    The app version (image tag) a Marathon app definition runs: its ``app_version`` label, or
    the tag of its image reference (None if it runs no app image).
    """
    label = (definition.get("labels") or {}).get("app_version")
    if label:
        return str(label)
    ref = ((definition.get("container") or {}).get("docker") or {}).get("image") or ""
    return ref.rsplit(":", 1)[1] if ":" in ref.rsplit("/", 1)[-1] else None


def digest_of(definition: dict) -> str | None:
    """The image digest a Marathon app definition runs (None if it names its image by tag)."""
    ref = ((definition.get("container") or {}).get("docker") or {}).get("image") or ""
    return ref.rsplit("@", 1)[1] if "@" in ref else None


TASK_HARDENING = (
    ("cap-drop", "ALL"),
    ("read-only", "true"),
    ("security-opt", "no-new-privileges"),
    ("tmpfs", "/tmp"),
)


def definition(
    env: str, version: str, instances: int, pillar: dict | None = None, digest: str | None = None
) -> dict[str, Any]:
    """
    The Marathon app of ``env`` running image tag ``version``: confined to the env's agents,
    bridged with a random host port, registered in Consul as service ``app:service`` tagged
    ``env`` (registrator reads the SERVICE_* env), gated by health checks, and upgraded
    without ever dropping below full capacity. Its database lives on the shared storage; its
    session key is a file on the agent, so Marathon's API never shows it. ``digest`` names the
    image by content (what app.deploy passes), ``version`` stays in the labels.

    CLI Example:

    .. code-block:: bash

        salt-call apps.definition test 1.0.0 2
    """
    pillar = _pillar(pillar)
    app = settings(pillar)
    nfs = __salt__["topology.settings"]("nfs", pillar)
    health = app["health"]
    secret_key = ((app.get("environments") or {}).get(env) or {}).get("secret_key")
    if not secret_key:
        raise CommandExecutionError(
            f"pillar has no app:environments:{env}:secret_key: the app runner reads it from the site's "
            "secrets (salt-run site.secrets)"
        )
    # The environment's own NFS export: no other environment's agents mount it.
    data_dir = f"{nfs['export']}/{env}"
    secret_dir = f"{app['secret_dir']}/{env}"
    return {
        "id": app_id(env),
        "instances": int(instances),
        "cpus": float(app["cpus"]),
        "mem": float(app["mem"]),
        "networks": [{"mode": "container/bridge"}],
        "container": {
            "type": "DOCKER",
            "docker": {
                "image": image(version, pillar, digest),
                "forcePullImage": False,
                # `docker run` options: no capability, a read-only root with a private /tmp
                # (gunicorn's heartbeat files), and no gaining privileges through setuid.
                "parameters": [{"key": key, "value": value} for key, value in TASK_HARDENING],
            },
            "portMappings": [
                {"containerPort": int(app["container_port"]), "hostPort": 0, "protocol": "tcp", "name": "http"}
            ],
            "volumes": [
                {"containerPath": data_dir, "hostPath": data_dir, "mode": "RW"},
                # The environment's session key, written on its agents by the app formula.
                {"containerPath": app["secret_mount"], "hostPath": secret_dir, "mode": "RO"},
            ],
        },
        "env": {
            "NOTEJAM_ENV": env,
            "NOTEJAM_DB": f"{data_dir}/notejam-{env}.db",
            "NOTEJAM_SECRET_KEY_FILE": f"{app['secret_mount']}/secret_key",
            "PORT": str(app["container_port"]),
            "NOTEJAM_DRAIN_SECONDS": str(app["drain_seconds"]),
            "SERVICE_NAME": app["service"],
            "SERVICE_TAGS": env,
            "SERVICE_CHECK_HTTP": health["path"],
            "SERVICE_CHECK_INTERVAL": str(app["consul_check_interval"]),
        },
        # Which key the instances read (not the key): a rotated one changes the definition, so
        # app.redeploy restarts the instances onto it.
        "labels": {"environment": env, "app_version": str(version), "secret_key": _fingerprint(str(secret_key))},
        # On the environment's agents only, spread evenly over them: losing one agent loses
        # only its share of the instances while Marathon replaces them on the others.
        "constraints": [["env", "CLUSTER", env], ["hostname", "GROUP_BY"]],
        "healthChecks": [
            {
                "protocol": "HTTP",
                "path": health["path"],
                "portIndex": 0,
                "gracePeriodSeconds": int(health["grace_period_seconds"]),
                "intervalSeconds": int(health["interval_seconds"]),
                "timeoutSeconds": int(health["timeout_seconds"]),
                "maxConsecutiveFailures": int(health["max_consecutive_failures"]),
            }
        ],
        # Start every new instance before stopping an old one: capacity never drops.
        "upgradeStrategy": {"minimumHealthCapacity": 1.0, "maximumOverCapacity": 1.0},
        "taskKillGracePeriodSeconds": int(app["kill_grace_period_seconds"]),
    }


def confinement_problems(definition: dict, env: str, pillar: dict | None = None) -> list[str]:
    """
    Why ``definition`` (a full Marathon app) may not run as the app of ``env``; empty when it
    is confined as :func:`definition` confines it: not privileged, bridged, every hardening
    option of ``docker run`` and no other, constrained to the env's agents, and host paths
    only the env's data directory (read-write) and its secret directory (read-only). The app
    runner checks every definition it submits, so a changed module or a stored definition
    cannot widen what a task may reach.

    CLI Example:

    .. code-block:: bash

        salt-call apps.confinement_problems "$(salt-call --out=json apps.definition test 1.0.0 2)" test
    """
    pillar = _pillar(pillar)
    app = settings(pillar)
    nfs = __salt__["topology.settings"]("nfs", pillar)
    allowed = {f"{nfs['export']}/{env}": "RW", f"{app['secret_dir']}/{env}": "RO"}
    container = definition.get("container") or {}
    docker = container.get("docker") or {}
    problems = []
    if docker.get("privileged"):
        problems.append("container.docker.privileged is true: app tasks never run privileged")
    modes = [network.get("mode") for network in definition.get("networks") or []]
    if modes != ["container/bridge"]:
        problems.append(f"networks are {modes}: app tasks run on the bridge only ([container/bridge])")
    if docker.get("network") not in (None, "BRIDGE"):
        # The field `networks` replaced; an older client may still send it.
        problems.append(f"container.docker.network is {docker['network']}: app tasks run on the bridge only")
    parameters = [(p.get("key"), p.get("value")) for p in docker.get("parameters") or []]
    extra = [f"--{key}={value}" for key, value in parameters if (key, value) not in TASK_HARDENING]
    missing = [f"--{key}={value}" for key, value in TASK_HARDENING if (key, value) not in parameters]
    if extra:
        problems.append(f"docker parameters {', '.join(extra)} are not allowed (only the hardening options)")
    if missing:
        problems.append(f"docker parameters lack {', '.join(missing)}")
    for volume in container.get("volumes") or []:
        host_path, mode = volume.get("hostPath"), volume.get("mode", "RW")
        if host_path not in allowed:
            problems.append(
                f"volume {volume.get('containerPath')} binds {host_path or 'no host path'}: "
                f"only {' and '.join(sorted(allowed))} may be bound for {env}"
            )
        elif mode != allowed[host_path]:
            problems.append(f"volume {host_path} is {mode}: it must be {allowed[host_path]}")
    if ["env", "CLUSTER", env] not in [list(c) for c in definition.get("constraints") or []]:
        problems.append(f"constraints lack [env, CLUSTER, {env}]: the app runs only on its environment's agents")
    return problems


class _PinnedAddress(requests.adapters.HTTPAdapter):
    """
    Connects to ``address`` whatever host a URL names; that host stays the TLS name (SNI and
    the certificate's check) and the Host header. How a client asks for https://app-<env>/
    where app-<env> resolves to the VIP, without a resolver that knows it.
    """

    def __init__(self, address: str, context: ssl.SSLContext):
        self.address, self.context = address, context
        super().__init__()

    def build_connection_pool_key_attributes(self, request, verify, cert=None):
        host_params, pool_kwargs = super().build_connection_pool_key_attributes(request, verify, cert)
        name = host_params["host"]
        host_params["host"] = self.address
        if host_params["scheme"] == "https":
            # This CA only: not the bundle requests would add.
            for bundle in ("ca_certs", "ca_cert_dir"):
                pool_kwargs.pop(bundle, None)
            pool_kwargs.update(ssl_context=self.context, server_hostname=name, assert_hostname=name)
        return host_params, pool_kwargs

    def send(self, request, **kwargs):
        request.headers.setdefault("Host", urllib.parse.urlsplit(request.url).netloc)
        return super().send(request, **kwargs)


def _session(address: str, ca: str) -> requests.Session:
    """
    A session whose every request goes to ``address``, trusting only the CA ``ca`` (PEM text,
    or the path of a PEM file) for HTTPS.
    """
    if ca.lstrip().startswith("-----BEGIN"):
        context = ssl.create_default_context(cadata=ca)
    else:
        context = ssl.create_default_context(cafile=ca)
    session = requests.Session()
    adapter = _PinnedAddress(address, context)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session


def _fingerprint(secret: str) -> str:
    """A short digest that tells two secrets apart without revealing either."""
    return hashlib.sha256(secret.encode()).hexdigest()[:16]


def served(
    env: str, samples: int = 10, pillar: dict | None = None, address: str | None = None, ca: str | None = None
) -> list[dict[str, Any]]:
    """
    Ask the load balancers ``samples`` times for the app's health page of ``env`` over
    HTTPS, as a browser does: https://app-<env>/ sent to the VIP (or ``address``), the
    certificate checked against the cluster CA. ``ca`` is the CA certificate (PEM text or a
    file); by default the copy this node trusts (common:ca_trust_path). What answered each
    time: HTTP status, app version, container hostname.

    CLI Example:

    .. code-block:: bash

        salt-call apps.served test
        salt-call apps.served test samples=1 address=127.0.0.1
    """
    pillar = _pillar(pillar)
    platform = pillar["platform"]
    path = settings(pillar)["health"]["path"]
    ca = ca or __salt__["topology.settings"]("common", pillar)["ca_trust_path"]
    answers = []
    with _session(address or platform["vip"], ca) as session:
        for _ in range(int(samples)):
            try:
                reply = session.get(f"https://app-{env}{path}", timeout=LB_TIMEOUT, allow_redirects=False)
            except requests.RequestException as exc:
                answers.append({"status": None, "version": None, "host": None, "error": type(exc).__name__})
                continue
            try:
                body = reply.json()
            except ValueError:
                body = {}
            answers.append(
                {
                    "status": reply.status_code,
                    "version": reply.headers.get("X-Notejam-Version"),
                    "host": body.get("host") if isinstance(body, dict) else None,
                }
            )
    return answers
