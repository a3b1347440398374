"""
Print ``salt-run app.status`` as an aligned table: one row per environment. ``--out=json``
bypasses it and gives the rows as data.
"""

from __future__ import annotations

from typing import Any

HEADER = ("ENV", "VERSION", "INSTANCES", "HEALTHY", "CONSUL", "LB SERVES", "DEPLOYING", "SERVED FROM")


def _cells(row: dict[str, Any]) -> tuple[str, ...]:
    if "problem" in row:
        return (row["env"], "?", "?", "?", "?", "?", "?", row["problem"])
    lb = ", ".join(row["lb_versions"]) or "nothing"
    if row["lb_failed"]:
        lb += f" ({row['lb_failed']} failed)"
    return (
        row["env"],
        row["version"] or "not deployed",
        str(row["instances"]),
        f"{row['tasks_healthy']}/{row['tasks_running']} running"
        + (f", {row['tasks_staged']} staged" if row["tasks_staged"] else ""),
        f"{row['consul_passing']} passing",
        lb,
        ", ".join(row["deployments"]) or "-",
        ", ".join(row["lb_hosts"]) or "-",
    )


def output(data: dict[str, Any], **kwargs: Any) -> str:
    if data.get("comment") and not data.get("rows"):
        return data["comment"]
    lines = [HEADER, *(_cells(row) for row in data["rows"])]
    widths = [max(len(line[i]) for line in lines) for i in range(len(HEADER) - 1)]
    table = [
        "  ".join(cell.ljust(width) for cell, width in zip(line[:-1], widths, strict=True)) + "  " + line[-1]
        for line in lines
    ]
    unhealthy = [row["env"] for row in data["rows"] if not row["healthy"]]
    table.append("")
    table.append(f"not fully served: {', '.join(unhealthy)}" if unhealthy else "every environment is served")
    return "\n".join(table)
