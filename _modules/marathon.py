"""
Talk to Marathon's v2 REST API (the lab's stand-in speaks the same API).

Every node with the ``marathon`` role in pillar is tried in turn: any Marathon answers for
the leader (it proxies), so one reachable node is enough. The one that answered last is
tried first (``endpoints``), and a node that takes no connection within ``CONNECT_TIMEOUT``
is passed over: with a master down, a deploy's many calls do not each wait on it. Runners
call these functions on the master through ``salt.cmd`` with the pillar they already hold.

Marathon asks HTTP Basic on every endpoint: the user is pillar ``marathon:http_user``, the
password ``marathon:http_password``, which only the marathon nodes receive; the runners add
it from the site's store to the pillar they pass.

Status codes and bodies follow ../shared/reference/marathon/rest-semantics.md. Errors are
raised as ``CommandExecutionError`` whose ``info`` carries ``status`` and Marathon's body, so
a caller can tell a 409 (an app locked by a deployment) from a 422 (an invalid app).

This module hides Salt's built-in ``marathon`` module on purpose: that one reads a single
URL from the minion config, this one the topology from pillar.
"""

from __future__ import annotations

import logging
from typing import Any

import requests
from salt.exceptions import CommandExecutionError

log = logging.getLogger(__name__)

__virtualname__ = "marathon"

TIMEOUT = 10
# A Marathon on the platform network takes a connection in milliseconds; a node that is down
# takes none, and every call would wait the whole TIMEOUT on it.
CONNECT_TIMEOUT = 1


def __virtual__():
    return __virtualname__


def urls(pillar: dict | None = None) -> list[str]:
    """
    Base URL of every Marathon in the topology.

    CLI Example:

    .. code-block:: bash

        salt-call marathon.urls
    """
    pillar = pillar if pillar is not None else __pillar__
    port = __salt__["topology.settings"]("marathon", pillar)["http_port"]
    nodes = __salt__["topology.nodes"]("marathon", pillar.get("platform", {}))
    if not nodes:
        raise CommandExecutionError("no node has the marathon role in pillar platform:nodes")
    return [f"http://{node['ip']}:{port}" for _, node in sorted(nodes.items())]


def credentials(pillar: dict | None = None) -> tuple[str, str]:
    """(user, password) for Marathon's HTTP Basic, from pillar; a clear error without them."""
    pillar = pillar if pillar is not None else __pillar__
    settings = __salt__["topology.settings"]("marathon", pillar)
    if not settings.get("http_password"):
        raise CommandExecutionError(
            "no Marathon HTTP password in pillar (marathon:http_password): run `salt-run site.secrets`; "
            "only the marathon nodes and the master's runners hold it",
            info={"status": None, "body": None},
        )
    return settings["http_user"], settings["http_password"]


def _describe(status: int, body: Any) -> str:
    if not isinstance(body, dict):
        return f"HTTP {status}: {body}"
    message = body.get("message", "")
    details = body.get("details")
    if isinstance(details, list):
        message += "; " + "; ".join(
            f"{detail.get('path', '/')}: {', '.join(detail.get('errors', []))}"
            for detail in details
            if isinstance(detail, dict)
        )
    elif details:
        message += f"; {details}"
    return f"HTTP {status}: {message}"


def request(
    method: str,
    path: str,
    body: Any = None,
    params: dict | None = None,
    pillar: dict | None = None,
    ok: tuple[int, ...] = (200, 201, 202, 204),
) -> tuple[int, Any]:
    """
    One call to the Marathon API: ``(status, json body)`` for a status in ``ok``. A node that
    refuses the connection or has no leader (503) is skipped for the next one; when none
    answers, the error says which URLs were tried.

    CLI Example:

    .. code-block:: bash

        salt-call marathon.request GET /v2/info
    """
    tried = []
    auth = credentials(pillar)
    for base in __salt__["endpoints.in_answer_order"]("marathon", urls(pillar)):
        try:
            reply = requests.request(
                method, base + path, json=body, params=params, auth=auth, timeout=(CONNECT_TIMEOUT, TIMEOUT)
            )
        except requests.RequestException as exc:
            tried.append(f"{base} ({type(exc).__name__})")
            continue
        if reply.status_code == 503:
            tried.append(f"{base} (503: no leader)")
            continue
        __salt__["endpoints.answered"]("marathon", base)
        try:
            payload = reply.json() if reply.content else None
        except ValueError:
            payload = reply.text
        if reply.status_code in ok:
            return reply.status_code, payload
        raise CommandExecutionError(
            f"Marathon {method} {path}: {_describe(reply.status_code, payload)}",
            info={"status": reply.status_code, "body": payload},
        )
    raise CommandExecutionError(
        f"Marathon is unreachable: tried {', '.join(tried)}. "
        "Check the masters with `salt-run cluster.status` (marathon column).",
        info={"status": None, "body": None},
    )


def app(app_id: str, pillar: dict | None = None) -> dict | None:
    """
    The app with its tasks and counts (GET /v2/apps/{id}), or None when it does not exist.

    CLI Example:

    .. code-block:: bash

        salt-call marathon.app /app-test
    """
    status, body = request("GET", f"/v2/apps/{app_id.strip('/')}", pillar=pillar, ok=(200, 404))
    return body["app"] if status == 200 else None


def put_app(app_id: str, definition: dict, pillar: dict | None = None, force: bool = False) -> dict:
    """
    Create or update an app (PUT /v2/apps/{id}); ``{"version", "deploymentId"}``. A 409
    (locked by a deployment) raises with ``info["body"]["deployments"]``; ``force`` cancels
    the deployment holding the app, so callers use it only on purpose (a rollback).

    CLI Example:

    .. code-block:: bash

        salt-call marathon.put_app /app-test '{"instances": 3}'
    """
    params = {"force": "true"} if force else None
    _, body = request("PUT", f"/v2/apps/{app_id.strip('/')}", body=definition, params=params, pillar=pillar)
    return body


def delete_app(app_id: str, pillar: dict | None = None) -> dict:
    """
    Delete an app and kill its tasks (DELETE /v2/apps/{id}); ``{"version", "deploymentId"}``.

    CLI Example:

    .. code-block:: bash

        salt-call marathon.delete_app /app-test
    """
    _, body = request("DELETE", f"/v2/apps/{app_id.strip('/')}", pillar=pillar)
    return body


def deployments(app_id: str | None = None, pillar: dict | None = None) -> list[dict]:
    """
    Running deployments (GET /v2/deployments), only those affecting ``app_id`` when given.
    A deployment is finished when it is no longer listed.

    CLI Example:

    .. code-block:: bash

        salt-call marathon.deployments /app-test
    """
    _, body = request("GET", "/v2/deployments", pillar=pillar)
    if app_id is None:
        return body
    return [dep for dep in body if app_id in dep.get("affectedApps", [])]


def versions(app_id: str, pillar: dict | None = None) -> list[str]:
    """
    Stored versions of an app, newest first (GET /v2/apps/{id}/versions).

    CLI Example:

    .. code-block:: bash

        salt-call marathon.versions /app-test
    """
    _, body = request("GET", f"/v2/apps/{app_id.strip('/')}/versions", pillar=pillar)
    return sorted(body.get("versions", []), reverse=True)


def version(app_id: str, stamp: str, pillar: dict | None = None) -> dict:
    """
    The app definition stored as ``stamp`` (GET /v2/apps/{id}/versions/{stamp}).

    CLI Example:

    .. code-block:: bash

        salt-call marathon.version /app-test 2026-11-26T17:00:00.000Z
    """
    _, body = request("GET", f"/v2/apps/{app_id.strip('/')}/versions/{stamp}", pillar=pillar)
    return body
