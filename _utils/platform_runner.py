"""
What the platform's runners share, reached as ``__utils__["platform_runner.*"]``: progress
lines on the job's event bus, the failure envelope that makes ``salt-run`` exit non-zero, the
platform's execution modules loaded once per run on the master, a LocalClient, and the
failures read out of one minion's state return.

A runner passes its own dunders (``__opts__``, ``__context__``, its ``__jid_event__``): a
utils module has none of a runner job's.
"""

from __future__ import annotations

import copy
import logging
from typing import Any

import salt.client
import salt.loader

log = logging.getLogger(__name__)


def progress(message: str, jid_event: Any = None) -> None:
    """Log ``message`` and show it on ``salt-run``'s console (outside a runner job, only log it)."""
    log.info(message)
    if jid_event is not None:
        jid_event.fire_event({"message": message, "outputter": "platform_progress"}, "progress")


def fail(context: dict[str, Any], result: dict[str, Any], comment: str) -> dict[str, Any]:
    """``result`` marked failed with ``comment``; ``salt-run`` exits 1 (its ``retcode``)."""
    result.update(result=False, retcode=1, comment=comment)
    context["retcode"] = 1
    return result


def modules(opts: dict[str, Any], context: dict[str, Any]) -> Any:
    """
    The execution modules, loaded here on the master once per run and kept in ``context``:
    ``salt.cmd`` builds a new loader, grains included, on every call (about a second each).
    """
    if "platform_runner.modules" not in context:
        opts = copy.deepcopy(opts)
        opts["grains"] = salt.loader.grains(opts)
        opts["pillar"] = {}
        context["platform_runner.modules"] = salt.loader.minion_mods(opts, context=context)
    return context["platform_runner.modules"]


def local_client(opts: dict[str, Any]) -> Any:
    """The LocalClient of this master (its configuration file, its timeouts)."""
    return salt.client.get_local_client(opts["conf_file"])


def state_failures(node_return: Any) -> list[str]:
    """
    The failing states of one minion's ``state.apply`` return, as ``<id> (<sls>): <comment>``;
    a render error comes back as a list, a missing minion as nothing at all.
    """
    if isinstance(node_return, list):
        return [f"render error: {error}" for error in node_return]
    if not isinstance(node_return, dict):
        return [f"no state return: {node_return or 'no answer'}"]
    return [
        f"{chunk.get('__id__', '?')} ({chunk.get('__sls__', '?')}): {str(chunk.get('comment', '')).strip()}"
        for chunk in node_return.values()
        if isinstance(chunk, dict) and chunk.get("result") is False
    ]
