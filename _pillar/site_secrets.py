"""
ext_pillar: each minion receives the site's secrets its roles use, and no other, and the
site's pins (the cluster CA's key), which every node receives.

The node's roles and the catalog come from the master's own SLS pillar (``platform:nodes``,
keyed by the minion id its accepted key proves), rendered here again without the requester's
pillar overrides: the ``pillar`` argument already holds any ``pillar=...`` a minion sent with
its request, and grains are set by the minion itself. Values come from the store the ``site``
runner writes (master option ``site_secrets_file``). Configured in master.conf::

    ext_pillar:
      - site_secrets: {}
"""

from __future__ import annotations

from typing import Any

import salt.pillar


def _trusted_pillar(minion_id: str) -> dict[str, Any]:
    # From nothing: the loader's opts can carry the pillar compiled so far, override included.
    opts = {**__opts__, "pillar": {}}
    saltenv = opts.get("pillarenv") or opts.get("saltenv") or "base"
    compiler = salt.pillar.Pillar(opts, {"id": minion_id}, minion_id, saltenv, functions=__salt__)
    try:
        return compiler.compile_pillar(ext=False)
    finally:
        compiler.destroy()


def ext_pillar(minion_id: str, pillar: dict[str, Any], *args: Any, **kwargs: Any) -> dict[str, Any]:
    path = __opts__["site_secrets_file"]
    store, pins = __utils__["site_secrets.load"](path), __utils__["site_secrets.load_pins"](path)
    return __utils__["site_secrets.for_node"](minion_id, _trusted_pillar(minion_id), store, pins)
