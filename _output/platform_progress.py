"""
Print the runners' progress events as one timestamped line each, instead of a nested dict.
"""

from __future__ import annotations

from typing import Any


def output(data: dict[str, Any], **kwargs: Any) -> str:
    event = data.get("event", data)
    stamp = str(event.get("_stamp", ""))[11:19]
    return f"[{stamp}] {event.get('message', event)}"
