"""
Print ``salt-run cluster.status`` as an aligned table: one row per node, its services one per
line. ``--out=json`` bypasses it and gives the rows as data.
"""

from __future__ import annotations

from typing import Any

HEADER = ("NODE", "ROLES", "UP", "LAST HIGHSTATE", "SERVICES")


def output(data: dict[str, Any], **kwargs: Any) -> str:
    if data.get("comment") and not data.get("rows"):
        return data["comment"]
    lines = []
    for row in data["rows"]:
        services = [f"{name}: {detail}" for name, detail in row["services"].items()] or ["-"]
        lines.append(
            (row["node"], row["roles"], "yes" if row["reachable"] else "NO", row["last_highstate"], services[0])
        )
        lines.extend(("", "", "", "", extra) for extra in services[1:])
    widths = [max(len(str(line[i])) for line in [HEADER, *lines]) for i in range(len(HEADER) - 1)]
    table = [
        "  ".join(str(cell).ljust(width) for cell, width in zip(line[:-1], widths, strict=True)) + "  " + str(line[-1])
        for line in [HEADER, *lines]
    ]
    unhealthy = [row["node"] for row in data["rows"] if not row["healthy"]]
    table.append("")
    table.append(f"unhealthy: {', '.join(unhealthy)}" if unhealthy else f"all {len(data['rows'])} nodes healthy")
    return "\n".join(table)
