"""
Ask the private registry what it holds, over TLS with the cluster CA Docker trusts on this
node. Runners call it on the image-builder node, which has that CA.
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


def _ca() -> str:
    docker = __salt__["topology.settings"]("docker")
    return f"{docker['certs_dir']}/{__salt__['topology.registry']()}/ca.crt"


def tags(repository: str) -> list[str]:
    """
    Tags of ``repository`` (e.g. ``platform/app``) in the registry, sorted; empty when the
    repository does not exist yet.

    CLI Example:

    .. code-block:: bash

        salt registry registry.tags platform/app
    """
    url = f"https://{__salt__['topology.registry']()}/v2/{repository}/tags/list"
    try:
        reply = requests.get(url, verify=_ca(), timeout=TIMEOUT)
    except requests.RequestException as exc:
        raise CommandExecutionError(f"registry unreachable at {url}: {exc}") from exc
    if reply.status_code == 404:
        return []
    if reply.status_code != 200:
        raise CommandExecutionError(f"registry answered {reply.status_code} for {url}: {reply.text[:200]}")
    return sorted(reply.json().get("tags") or [])


def has_tag(repository: str, tag: str) -> bool:
    """
    Whether the registry holds ``repository:tag`` (HEAD on its manifest).

    CLI Example:

    .. code-block:: bash

        salt registry registry.has_tag platform/app 1.0.0
    """
    url = f"https://{__salt__['topology.registry']()}/v2/{repository}/manifests/{tag}"
    try:
        reply = requests.head(url, verify=_ca(), headers={"Accept": ", ".join(MANIFEST_TYPES)}, timeout=TIMEOUT)
    except requests.RequestException as exc:
        raise CommandExecutionError(f"registry unreachable at {url}: {exc}") from exc
    return reply.status_code == 200
