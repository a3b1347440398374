"""
Ask the private registry what it holds, over TLS with the cluster CA Docker trusts on this
node, as this node's registry user (pillar ``registry:clients``: the image builder's, on the
push listener, else the pull user's, on the read-only one). Runners call it on the
image-builder node, which has that CA and that user.
"""

from __future__ import annotations

import requests
from salt.exceptions import CommandExecutionError

TIMEOUT = 10
# The registry answers HEAD on a manifest for any of these; Docker pushes the first.
MANIFEST_TYPES = (
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.oci.image.manifest.v1+json",
)


# Each user is known to one listener only (topology.registry).
LISTENER_OF = {"builder": "push", "pull": "pull"}


def _auth() -> tuple[str, str]:
    clients = __salt__["topology.settings"]("registry").get("clients") or {}
    for user in LISTENER_OF:
        if clients.get(user):
            return user, clients[user]
    raise CommandExecutionError(
        "this node has no registry user (pillar registry:clients, given to the image-builder, "
        "mesos-agent, lb and registrator roles): run `salt-run site.secrets`"
    )


def _address() -> str:
    """host:port of the listener this node's user belongs to."""
    return __salt__["topology.registry"](access=LISTENER_OF[_auth()[0]])


def _ca() -> str:
    docker = __salt__["topology.settings"]("docker")
    return f"{docker['certs_dir']}/{_address()}/ca.crt"


def tags(repository: str) -> list[str]:
    """
    Tags of ``repository`` (e.g. ``platform/app``) in the registry, sorted; empty when the
    repository does not exist yet.

    CLI Example:

    .. code-block:: bash

        salt registry registry.tags platform/app
    """
    url = f"https://{_address()}/v2/{repository}/tags/list"
    try:
        reply = requests.get(url, verify=_ca(), auth=_auth(), timeout=TIMEOUT)
    except requests.RequestException as exc:
        raise CommandExecutionError(f"registry unreachable at {url}: {exc}") from exc
    if reply.status_code == 404:
        return []
    if reply.status_code != 200:
        raise CommandExecutionError(f"registry answered {reply.status_code} for {url}: {reply.text[:200]}")
    return sorted(reply.json().get("tags") or [])


def digest(repository: str, tag: str) -> str | None:
    """
    The content digest (``sha256:…``) of ``repository:tag``'s manifest, as the registry
    serves it (HEAD, Docker-Content-Digest); None when the registry does not hold the tag. A
    deploy names the image by this digest, so a tag pushed over later changes nothing that runs.

    CLI Example:

    .. code-block:: bash

        salt registry registry.digest platform/app 1.0.0
    """
    url = f"https://{_address()}/v2/{repository}/manifests/{tag}"
    try:
        reply = requests.head(
            url, verify=_ca(), auth=_auth(), headers={"Accept": ", ".join(MANIFEST_TYPES)}, timeout=TIMEOUT
        )
    except requests.RequestException as exc:
        raise CommandExecutionError(f"registry unreachable at {url}: {exc}") from exc
    if reply.status_code == 401:
        raise CommandExecutionError(f"the registry refused this node's user ({_auth()[0]}) at {url}")
    if reply.status_code == 404:
        return None
    found = reply.headers.get("Docker-Content-Digest", "")
    if reply.status_code != 200 or not found.startswith("sha256:"):
        raise CommandExecutionError(f"registry answered {reply.status_code} without a digest for {url}")
    return found


def has_tag(repository: str, tag: str) -> bool:
    """
    Whether the registry holds ``repository:tag`` (HEAD on its manifest).

    CLI Example:

    .. code-block:: bash

        salt registry registry.has_tag platform/app 1.0.0
    """
    return digest(repository, tag) is not None
