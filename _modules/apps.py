"""
The demo app (pillar ``app``) as the platform runs it: its image, its Marathon app per
environment, and what the load balancers serve for it.

Runners call these on the master through ``salt.cmd`` with the pillar they hold; the
definition is plain data built from pillar, so it is checked against Marathon's own schema
in the tests (../shared/reference/marathon/validate_app.py).
"""

from __future__ import annotations

from typing import Any

import requests
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


def image(version: str, pillar: dict | None = None) -> str:
    """
    ``<registry>/<namespace>/app:<version>``, as the images formula tags it.

    CLI Example:

    .. code-block:: bash

        salt-call apps.image 1.0.0
    """
    pillar = _pillar(pillar)
    namespace = __salt__["topology.settings"]("images", pillar)["namespace"]
    return f"{__salt__['topology.registry'](pillar)}/{namespace}/app:{version}"


def repository(pillar: dict | None = None) -> str:
    """
    The app's repository in the registry (``<namespace>/app``).

    CLI Example:

    .. code-block:: bash

        salt-call apps.repository
    """
    return f"{__salt__['topology.settings']('images', _pillar(pillar))['namespace']}/app"


def version_of(definition: dict) -> str | None:
    """The image tag a Marathon app definition runs (None if it runs no app image)."""
    ref = ((definition.get("container") or {}).get("docker") or {}).get("image") or ""
    return ref.rsplit(":", 1)[1] if ":" in ref.rsplit("/", 1)[-1] else None


TASK_HARDENING = (
    ("cap-drop", "ALL"),
    ("read-only", "true"),
    ("security-opt", "no-new-privileges"),
    ("tmpfs", "/tmp"),
)


def definition(env: str, version: str, instances: int, pillar: dict | None = None) -> dict[str, Any]:
    """
    The Marathon app of ``env`` running image tag ``version``: confined to the env's agents,
    bridged with a random host port, registered in Consul as service ``app:service`` tagged
    ``env`` (registrator reads the SERVICE_* env), gated by health checks, and upgraded
    without ever dropping below full capacity. Its database lives on the shared storage.

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
    db_dir = f"{nfs['export']}/{nfs['db_dir']}"
    return {
        "id": app_id(env),
        "instances": int(instances),
        "cpus": float(app["cpus"]),
        "mem": float(app["mem"]),
        "networks": [{"mode": "container/bridge"}],
        "container": {
            "type": "DOCKER",
            "docker": {
                "image": image(version, pillar),
                "forcePullImage": False,
                # `docker run` options: no capability, a read-only root with a private /tmp
                # (gunicorn's heartbeat files), and no gaining privileges through setuid.
                "parameters": [{"key": key, "value": value} for key, value in TASK_HARDENING],
            },
            "portMappings": [
                {"containerPort": int(app["container_port"]), "hostPort": 0, "protocol": "tcp", "name": "http"}
            ],
            "volumes": [{"containerPath": db_dir, "hostPath": db_dir, "mode": "RW"}],
        },
        "env": {
            "NOTEJAM_ENV": env,
            "NOTEJAM_DB": f"{db_dir}/notejam-{env}.db",
            "NOTEJAM_SECRET_KEY": str(secret_key),
            "PORT": str(app["container_port"]),
            "NOTEJAM_DRAIN_SECONDS": str(app["drain_seconds"]),
            "SERVICE_NAME": app["service"],
            "SERVICE_TAGS": env,
            "SERVICE_CHECK_HTTP": health["path"],
            "SERVICE_CHECK_INTERVAL": str(app["consul_check_interval"]),
        },
        "labels": {"environment": env, "app_version": str(version)},
        "constraints": [["env", "CLUSTER", env]],
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


def served(env: str, samples: int = 10, pillar: dict | None = None) -> list[dict[str, Any]]:
    """
    Ask the load balancers, through the VIP, ``samples`` times for the app's health page of
    ``env``: what answered (HTTP status, app version, container hostname) each time.

    CLI Example:

    .. code-block:: bash

        salt-call apps.served test
    """
    pillar = _pillar(pillar)
    platform = pillar["platform"]
    path = settings(pillar)["health"]["path"]
    answers = []
    for _ in range(int(samples)):
        try:
            reply = requests.get(f"http://{platform['vip']}{path}", headers={"Host": f"app-{env}"}, timeout=LB_TIMEOUT)
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
