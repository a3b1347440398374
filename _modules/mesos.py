"""
Read the Mesos master's state (the lab's stand-in serves the same endpoint): the agents, their
attributes and resources. Runners call it on the master through ``salt.cmd``.

The masters ask HTTP Basic of a principal in their --credentials: the runners use the operator
principal (pillar ``mesos:operator_principal``, its secret at ``mesos:credentials``).
"""

from __future__ import annotations

from typing import Any

import requests
from salt.exceptions import CommandExecutionError

TIMEOUT = 5
# A master that is down takes no connection: pass it over after this, not after TIMEOUT.
CONNECT_TIMEOUT = 1


def agents(pillar: dict | None = None) -> list[dict[str, Any]]:
    """
    Active agents known to the leading Mesos master: ``[{"hostname", "attributes",
    "resources"}]`` with resources as ``{"cpus", "mem"}``.

    CLI Example:

    .. code-block:: bash

        salt-call mesos.agents
    """
    pillar = pillar if pillar is not None else __pillar__
    settings = __salt__["topology.settings"]("mesos", pillar)
    port = settings["master"]["port"]
    principal = settings["operator_principal"]
    secret = (settings.get("credentials") or {}).get(principal)
    if not secret:
        raise CommandExecutionError(
            f"no secret for the Mesos principal {principal} in pillar (mesos:credentials:{principal}): "
            "run `salt-run site.secrets`"
        )
    masters = __salt__["topology.nodes"]("mesos-master", pillar.get("platform", {}))
    tried = []
    for name in __salt__["endpoints.in_answer_order"]("mesos-master", sorted(masters)):
        node = masters[name]
        try:
            reply = requests.get(
                f"http://{node['ip']}:{port}/master/state", auth=(principal, secret), timeout=(CONNECT_TIMEOUT, TIMEOUT)
            )
            reply.raise_for_status()
            state = reply.json()
        except (requests.RequestException, ValueError) as exc:
            tried.append(f"{name} ({type(exc).__name__})")
            continue
        if not state.get("leader"):
            tried.append(f"{name} (no leader)")
            continue
        __salt__["endpoints.answered"]("mesos-master", name)
        return [
            {
                "hostname": agent.get("hostname"),
                "attributes": agent.get("attributes", {}),
                "resources": {key: agent.get("resources", {}).get(key, 0) for key in ("cpus", "mem")},
            }
            for agent in state.get("slaves", [])
            if agent.get("active", True)
        ]
    raise CommandExecutionError(
        f"no Mesos master answered with a leader: {', '.join(tried) or 'none in the topology'}. "
        "Check the masters with `salt-run cluster.status`."
    )
