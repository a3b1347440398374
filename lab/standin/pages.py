"""The pages at / on :5050 and :8080: read-only HTML of what Mesos' and Marathon's web UIs show first.

Server-rendered, no script, marked as the lab's stand-in: Mesos' agents with their attributes and
resources, its frameworks and running tasks; Marathon's apps with instances, health, version and
deployments. They refresh every 5 s.
"""

from __future__ import annotations

import html

HTML = "text/html; charset=utf-8"
STYLE = """
body { font-family: sans-serif; margin: 1.5em; color: #222; }
h1 { font-size: 1.4em; } h2 { font-size: 1.1em; margin-top: 1.5em; }
.standin { background: #fff3cd; border: 1px solid #e0c36a; padding: .4em .8em; display: inline-block; }
table { border-collapse: collapse; margin-top: .5em; }
th, td { border: 1px solid #ccc; padding: .3em .7em; text-align: left; font-size: .9em; }
th { background: #f0f0f0; } .ok { color: #17702d; } .bad { color: #a4161a; }
"""


def _cell(value: object) -> str:
    return f"<td>{html.escape(str(value))}</td>"


def _table(table_id: str, headers: list[str], rows: list[list[object]], empty: str) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(_cell(v) for v in row) + "</tr>" for row in rows)
    if not rows:
        body = f'<tr><td colspan="{len(headers)}">{html.escape(empty)}</td></tr>'
    return f'<table id="{table_id}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _page(title: str, sections: list[str]) -> str:
    return (
        f'<!DOCTYPE html><html><head><meta charset="utf-8"><meta http-equiv="refresh" content="5">'
        f"<title>{html.escape(title)}</title><style>{STYLE}</style></head><body>"
        f"<h1>{html.escape(title)}</h1>"
        '<p class="standin">Lab stand-in: not the vendor\'s web UI. Read-only; the same data as its API.</p>'
        + "".join(sections)
        + "</body></html>"
    )


def _resources(resources: dict) -> str:
    return ", ".join(f"{name} {value}" for name, value in sorted(resources.items()))


def mesos(state: dict) -> str:
    """Mesos' page from /master/state."""
    tasks = [t for f in state["frameworks"] if f["active"] for t in f.get("tasks", [])]
    agents = [
        [
            agent["hostname"],
            ", ".join(f"{k}:{v}" for k, v in sorted(agent["attributes"].items())),
            _resources(agent["resources"]),
            _resources(agent["used_resources"]),
            sum(1 for t in tasks if t["slave_id"] == agent["id"] and t["state"] == "TASK_RUNNING"),
            "active" if agent["active"] else "inactive",
        ]
        for agent in sorted(state["slaves"], key=lambda a: a["hostname"])
    ]
    frameworks = [
        [f["name"], f["id"], f.get("hostname", ""), "active" if f["active"] else "inactive", len(f.get("tasks", []))]
        for f in state["frameworks"]
    ]
    hosts = {agent["id"]: agent["hostname"] for agent in state["slaves"]}
    running = [[t["name"], t["id"], hosts.get(t["slave_id"], t["slave_id"]), t["state"]] for t in tasks]
    leader = state["leader_info"]
    return _page(
        f"Mesos {state['version']} on {state.get('cluster') or 'the platform'}",
        [
            f"<p>Leader: {html.escape(leader['hostname'])}:{leader['port']}</p>",
            f"<h2>Agents ({len(agents)})</h2>",
            _table("agents", ["host", "attributes", "resources", "used", "tasks running", "state"], agents, "none"),
            f"<h2>Frameworks ({len(frameworks)})</h2>",
            _table("frameworks", ["name", "id", "host", "state", "tasks"], frameworks, "none registered"),
            f"<h2>Tasks ({len(running)})</h2>",
            _table("tasks", ["name", "id", "agent", "state"], sorted(running), "none"),
        ],
    )


def marathon(apps: list[dict], deployments: list[dict], leader: str | None) -> str:
    """Marathon's page from /v2/apps (counts embedded) and /v2/deployments."""
    rows = [
        [
            app["id"],
            f"{app['tasksRunning']} / {app['instances']}",
            f"{app['tasksHealthy']} healthy, {app['tasksUnhealthy']} unhealthy",
            (app.get("container") or {}).get("docker", {}).get("image", app.get("cmd") or ""),
            app["version"],
            ", ".join(d["id"] for d in app["deployments"]) or "-",
        ]
        for app in sorted(apps, key=lambda a: a["id"])
    ]
    running = [
        [d["id"], ", ".join(d["affectedApps"]), f"{d['currentStep']} of {d['totalSteps']}"]
        + [", ".join(f"{a['action']} {a['app']}" for a in d["currentActions"])]
        for d in deployments
    ]
    return _page(
        "Marathon",
        [
            f"<p>Leader: {html.escape(leader or 'none')}</p>",
            f"<h2>Applications ({len(rows)})</h2>",
            _table("apps", ["id", "running / instances", "health", "image", "version", "deployments"], rows, "none"),
            f"<h2>Deployments ({len(running)})</h2>",
            _table("deployments", ["id", "apps", "step", "actions"], running, "none running"),
        ],
    )
