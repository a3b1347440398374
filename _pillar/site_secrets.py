"""
ext_pillar: each minion receives the site's secrets its roles use, and no other.

The node's roles come from the topology in the master's SLS pillar (``platform:nodes``,
keyed by the minion id its accepted key proves), never from grains, which a minion sets
itself. Values come from the store the ``site`` runner writes (master option
``site_secrets_file``). Configured in master.conf::

    ext_pillar:
      - site_secrets: {}
"""

from __future__ import annotations

from typing import Any


def ext_pillar(minion_id: str, pillar: dict[str, Any], *args: Any, **kwargs: Any) -> dict[str, Any]:
    store = __utils__["site_secrets.load"](__opts__["site_secrets_file"])
    return __utils__["site_secrets.for_node"](minion_id, pillar, store)
