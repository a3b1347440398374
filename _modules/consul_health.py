"""
Ask Consul which instances of a service pass their health checks: what the load balancers'
consul-template sees. Runners call it on the master; any Consul server of the topology
answers for the whole datacenter.
"""

from __future__ import annotations

import warnings
from typing import Any

from salt.exceptions import CommandExecutionError

TIMEOUT = 5
# A server that is down takes no connection: pass it over after this, not after TIMEOUT.
CONNECT_TIMEOUT = 1


def passing(service: str, tag: str, pillar: dict | None = None, ca: str | None = None) -> list[dict[str, Any]]:
    """
    Every instance of ``service`` tagged ``tag`` whose checks all pass:
    ``[{"node", "address", "port", "id"}]``, sorted by address and port. Asked of the
    servers' HTTPS API with the reader token (pillar consul:acl:reader_token, which the runners'
    pillar holds), checked against the cluster CA: ``ca``, a file (by default the copy this node
    trusts, common:ca_trust_path).

    CLI Example:

    .. code-block:: bash

        salt-call consul_health.passing app test
    """
    with warnings.catch_warnings():  # python-consul2 warns on import and construction
        warnings.simplefilter("ignore", DeprecationWarning)
        import consul  # noqa: PLC0415

        pillar = pillar if pillar is not None else __pillar__
        settings = __salt__["topology.settings"]("consul", pillar)
        port, token = settings["tls"]["https_port"], settings["acl"].get("reader_token")
        ca = ca or __salt__["topology.settings"]("common", pillar)["ca_trust_path"]
        servers = __salt__["topology.nodes"]("consul-server", pillar.get("platform", {}))
        errors = []
        for name in __salt__["endpoints.in_answer_order"]("consul-server", sorted(servers)):
            node = servers[name]
            client = consul.Consul(
                host=node["ip"], port=port, token=token, scheme="https", verify=ca, timeout=(CONNECT_TIMEOUT, TIMEOUT)
            )
            try:
                _, entries = client.health.service(service, tag=tag, passing=True)
            except Exception as exc:  # python-consul2 raises its own and requests' errors
                errors.append(f"{name} ({type(exc).__name__})")
                continue
            __salt__["endpoints.answered"]("consul-server", name)
            return sorted(
                (
                    {
                        "node": entry["Node"]["Node"],
                        "address": entry["Service"]["Address"] or entry["Node"]["Address"],
                        "port": entry["Service"]["Port"],
                        "id": entry["Service"]["ID"],
                    }
                    for entry in entries
                ),
                key=lambda item: (item["address"], item["port"]),
            )
    raise CommandExecutionError(f"no Consul server answered: {', '.join(errors) or 'none in the topology'}")
