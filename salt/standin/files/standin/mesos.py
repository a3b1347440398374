"""Mesos master's state API (/master/state) and the agents' registration endpoint."""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import MESOS_VERSION, web
from .scheduler import _public

if TYPE_CHECKING:
    from .master import Master

STATE_PATHS = ("/master/state", "/master/state.json", "/state", "/state.json")


class MesosApi:
    """Request handler for the leader's Mesos port."""

    def __init__(self, master: Master) -> None:
        self.master = master

    def handle(self, request: web.Request) -> web.Response:
        path = request.path.rstrip("/") or "/"
        scheduler = self.master.scheduler
        if request.method == "GET" and path in STATE_PATHS:
            return web.Response(200, self.state())
        if request.method == "GET" and path in ("/master/slaves", "/slaves"):
            return web.Response(200, {"slaves": self.state()["slaves"]})
        if request.method == "POST" and path == "/standin/agents":
            try:
                body = web.parse_json(request)
                return web.Response(200, scheduler.register_agent(body))
            except (ValueError, KeyError, TypeError) as ex:
                return web.Response(400, {"message": f"bad registration: {ex}"})
        return web.Response(404, {"message": f"no such endpoint {request.method} {path}"})

    def state(self) -> dict:
        """The fields of Mesos' /master/state that our tools read (agents and their attributes)."""
        master = self.master
        scheduler = master.scheduler
        with scheduler.lock:
            agents = [_public(a) for a in scheduler.agents.values()]
            tasks = [dict(t) for t in scheduler.tasks.values()]
        slaves = []
        for agent in agents:
            mine = [t for t in tasks if t["slaveId"] == agent["id"]]
            used = {
                "cpus": sum(t.get("_cpus", 0) for t in mine),
                "mem": sum(t.get("_mem", 0) for t in mine),
                "ports": ",".join(str(p) for t in mine for p in t["ports"]),
            }
            slaves.append(
                {
                    "id": agent["id"],
                    "pid": f"slave(1)@{agent['ip']}:{agent['port']}",
                    "hostname": agent["hostname"],
                    "port": agent["port"],
                    "attributes": agent["attributes"],
                    "resources": agent["resources"],
                    "used_resources": used,
                    "active": agent["active"],
                    "registered_time": agent["registered_time"],
                    "version": MESOS_VERSION,
                }
            )
        framework_tasks = [
            {
                "id": t["id"],
                "name": t["appId"].strip("/").replace("/", "."),
                "framework_id": master.framework_id,
                "slave_id": t["slaveId"],
                "state": t["state"],
                "resources": {"cpus": t.get("_cpus", 0), "mem": t.get("_mem", 0)},
            }
            for t in tasks
        ]
        pid = f"master@{master.ip}:{master.mesos_port}"
        return {
            "version": MESOS_VERSION,
            "id": master.framework_id.split("-0000")[0],
            "pid": pid,
            "hostname": master.hostname,
            "cluster": "platform",
            "leader": pid,
            "leader_info": {"hostname": master.hostname, "ip": master.ip, "port": master.mesos_port},
            "activated_slaves": sum(1 for s in slaves if s["active"]),
            "deactivated_slaves": sum(1 for s in slaves if not s["active"]),
            "slaves": slaves,
            "frameworks": [
                {
                    "id": master.framework_id,
                    "name": "marathon",
                    "hostname": master.hostname,
                    "active": True,
                    "webui_url": f"http://{master.hostname}:{master.marathon_port}",
                    "tasks": framework_tasks,
                }
            ],
        }
