"""
Which node of a replicated service (Marathon, the Mesos masters, the Consul servers) answered
last: it is asked first the next time, so a node that is down costs one connect timeout, not
one per call. Remembered in the loader's context and in Salt's cache (on the master for the
runners), so the next ``salt-run`` starts from it too.
"""

from __future__ import annotations

import salt.cache

BANK = "platform/endpoints"


def _cache():
    return salt.cache.factory(__opts__)


def in_answer_order(service: str, candidates: list[str]) -> list[str]:
    """
    ``candidates`` with the one that answered last for ``service`` first, the rest in their order.

    CLI Example:

    .. code-block:: bash

        salt-call endpoints.in_answer_order marathon '[http://10.0.0.1:8080, http://10.0.0.2:8080]'
    """
    key = f"endpoints.{service}"
    if key not in __context__:
        __context__[key] = _cache().fetch(BANK, service) or None
    last = __context__[key]
    return sorted(candidates, key=lambda candidate: candidate != last)


def answered(service: str, candidate: str) -> None:
    """Remember that ``candidate`` answered for ``service``."""
    key = f"endpoints.{service}"
    if __context__.get(key) != candidate:
        __context__[key] = candidate
        _cache().store(BANK, service, candidate)
