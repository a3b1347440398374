"""
Print ``salt-run cluster.drift`` for people: one block per node that is not clean, with each
state that would change (id, function, name) and its diff or change, then one summary line.
``--out=json`` bypasses it and gives the report as data.
"""

from __future__ import annotations

from typing import Any

INDENT = "    "


def _state_lines(state: dict[str, Any]) -> list[str]:
    lines = [f"  {state['id']} ({state['function']}) {state['name']}"]
    lines.extend(INDENT + line for line in str(state.get("change", "")).splitlines() if line.strip())
    return lines


def output(data: dict[str, Any], **kwargs: Any) -> str:
    if "nodes" not in data:
        return str(data.get("comment", data))
    lines = []
    for node, verdict in sorted(data["nodes"].items()):
        when = f", checked {verdict['checked_at']} ({verdict['age']})" if "age" in verdict else ""
        lines.append(f"{node}: {verdict['status']}{when}")
        for state in verdict.get("states", []):
            lines.extend(_state_lines(state))
        if verdict.get("fixed"):
            lines.append("  fixed by the highstate:")
            for state in verdict["fixed"]:
                lines.extend(INDENT + line for line in _state_lines(state))
        lines.extend(f"  error: {error}" for error in verdict.get("errors", []))
    lines.append("")
    lines.append(data["summary"] + (f" in {data['seconds']}s" if "seconds" in data else ""))
    return "\n".join(lines)
