"""mesos-master: leader election in ZooKeeper, the agents' registrations, /master/state.

Three run on mm1-mm3 under the vendor's unit; the lowest ephemeral sequential node under the
--zk path leads, and agents and Marathon find it there, as they find a real Mesos leader. A
non-leader answers /health, /version and /flags itself and forwards the rest to the leader.
Agents re-register every few seconds (agent.py); one silent for AGENT_TIMEOUT_SECONDS is
inactive. Marathon registers as a framework and reports its tasks (marathon_server.py), and in
return gets the active agents: the stand-in's resource offers.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from . import MESOS_VERSION, web
from .agent import described
from .flags import flag_texts
from .leadership import Elected
from .store import Store

log = logging.getLogger(__name__)

# Mesos: agent_ping_timeout (15 s) x max_agent_ping_timeouts (5) is far longer; the lab wants
# a lost agent noticed within seconds.
AGENT_TIMEOUT_SECONDS = 10.0
# A framework that stops re-registering (every second) is inactive after this, and forgotten
# after FRAMEWORK_FORGET_SECONDS.
FRAMEWORK_TIMEOUT_SECONDS = 5.0
FRAMEWORK_FORGET_SECONDS = 120.0
STATE_PATHS = ("/master/state", "/master/state.json", "/state", "/state.json")


class MesosMaster(Elected):
    """One mesos-master."""

    port_kind = "mesos"

    def __init__(
        self,
        store: Store,
        hostname: str,
        ip: str,
        port: int = 5050,
        bind_ip: str | None = None,
        flags: dict[str, Any] | None = None,
        clock=time.time,
    ) -> None:
        super().__init__(store, hostname, ip, port, bind_ip)
        self.flags = flags or {}
        self.clock = clock
        self.lock = threading.Lock()
        self.agents: dict[str, dict] = {}
        self.frameworks: dict[str, dict] = {}

    def on_elected(self) -> None:
        with self.lock:
            self.agents.clear()  # they re-register with the new leader within seconds
            self.frameworks.clear()

    def handle(self, request: web.Request) -> web.Response:
        path = request.path.rstrip("/") or "/"
        if path in ("/health", "/master/health"):
            return web.Response(200, None)
        if path in ("/version", "/master/version"):
            return web.Response(200, {"version": MESOS_VERSION, "build_user": "lab stand-in"})
        if path in ("/flags", "/master/flags"):
            return web.Response(200, {"flags": flag_texts(self.flags)})
        if not self.is_leader():
            return self.proxy(request)
        if request.method == "GET" and path in STATE_PATHS:
            return web.Response(200, self.state())
        if request.method == "GET" and path in ("/master/slaves", "/slaves"):
            return web.Response(200, {"slaves": self.state()["slaves"]})
        try:
            if request.method == "POST" and path == "/standin/agents":
                return web.Response(200, self.register_agent(web.parse_json(request)))
            if request.method == "POST" and path == "/standin/frameworks":
                return web.Response(200, self.register_framework(web.parse_json(request)))
        except (ValueError, KeyError, TypeError) as ex:
            return web.Response(400, {"message": f"bad registration: {ex}"})
        return web.Response(404, {"message": f"no such endpoint {request.method} {path}"})

    def register_agent(self, info: dict) -> dict:
        with self.lock:
            known = self.agents.get(info["id"])
            self.agents[info["id"]] = described(info) | {
                "registered_time": known["registered_time"] if known else self.clock(),
                "last_seen": self.clock(),
            }
        if known is None:
            log.info("agent %s at %s:%s registered", info["hostname"], info["ip"], info["port"])
        return {"id": info["id"], "registered": True}

    def register_framework(self, info: dict) -> dict:
        """A scheduler (re-)registers and reports its tasks; the answer is its offer: the active agents."""
        with self.lock:
            if info["id"] not in self.frameworks:
                log.info("framework %s (%s) registered from %s", info["id"], info["name"], info.get("hostname"))
            self.frameworks[info["id"]] = {**info, "last_seen": self.clock()}
        return {"framework_id": info["id"], "slaves": [s for s in self.state()["slaves"] if s["active"]]}

    def state(self) -> dict:
        """The fields of Mesos' /master/state that our tools read."""
        now = self.clock()
        with self.lock:
            agents = [dict(a) for a in self.agents.values()]
            frameworks = [
                {k: v for k, v in f.items() if k != "last_seen"}
                | {"active": now - f["last_seen"] < FRAMEWORK_TIMEOUT_SECONDS}
                for f in self.frameworks.values()
                if now - f["last_seen"] < FRAMEWORK_FORGET_SECONDS
            ]
        tasks = [task for framework in frameworks if framework["active"] for task in framework.get("tasks", [])]
        slaves = []
        for agent in agents:
            mine = [t for t in tasks if t["slave_id"] == agent["id"]]
            slaves.append(
                {
                    "id": agent["id"],
                    "pid": f"slave(1)@{agent['ip']}:{agent['port']}",
                    "hostname": agent["hostname"],
                    "port": agent["port"],
                    "attributes": agent["attributes"],
                    "resources": agent["resources"],
                    "used_resources": {
                        "cpus": sum(t["resources"]["cpus"] for t in mine),
                        "mem": sum(t["resources"]["mem"] for t in mine),
                    },
                    "active": now - agent["last_seen"] < AGENT_TIMEOUT_SECONDS,
                    "registered_time": agent["registered_time"],
                    "version": MESOS_VERSION,
                }
            )
        pid = f"master@{self.ip}:{self.port}"
        return {
            "version": MESOS_VERSION,
            "pid": pid,
            "hostname": self.hostname,
            "cluster": self.flags.get("cluster"),
            "leader": pid,
            "leader_info": {"hostname": self.hostname, "ip": self.ip, "port": self.port},
            "flags": flag_texts(self.flags),
            "activated_slaves": sum(1 for s in slaves if s["active"]),
            "deactivated_slaves": sum(1 for s in slaves if not s["active"]),
            "slaves": slaves,
            "frameworks": frameworks,
        }
