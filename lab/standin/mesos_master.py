"""mesos-master: leader election in ZooKeeper, the agents' registrations, /master/state.

Three run on mm1-mm3 under the vendor's unit; the lowest ephemeral sequential node under the
--zk path leads, and agents and Marathon find it there, as they find a real Mesos leader. A
non-leader answers /health, /version and /flags itself and forwards the rest to the leader.
Agents re-register every few seconds (agent.py); one silent for AGENT_TIMEOUT_SECONDS is
inactive. Marathon registers as a framework and reports its tasks (marathon_server.py), and in
return gets the active agents: the stand-in's resource offers.

Maintenance as Mesos has it (/maintenance/schedule, /maintenance/status, /machine/down,
/machine/up): a machine in the schedule is draining: still offered, each offer carrying the
window's unavailability (Marathon launches nothing on an agent whose unavailability has begun),
and every framework with tasks there gets an inverse offer, listed in /maintenance/status until
it answers (Marathon never does, as the real one: its status stays UNKNOWN). A machine that is
down has its agent shut down (every task killed) and refused, so it runs nothing and gets no
offers, until /machine/up takes it out of the schedule. The schedule is kept in the store, so a
new leader has it.

Authentication as Mesos' flags have it (auth.py): --credentials holds the principals and secrets.
--authenticate_frameworks and --authenticate_agents refuse (401) a registration without them; one
that offers wrong ones is refused whatever the flags, as a failed CRAM-MD5 handshake is. A
framework's principal shows in /master/frameworks and /master/state. --authenticate_http_readonly
and --authenticate_http_readwrite put HTTP Basic on the endpoints of each realm (READONLY_ENDPOINTS,
READWRITE_ENDPOINTS), with libprocess' 401. A non-leader checks before it forwards.

Each agent registers with a launch token of its own; the master keeps it in memory and hands it
to registered frameworks only, in their offers, never in an operator view (agent.py).

Authorization as --acls has it (acls.py), where Mesos' master decides: a framework whose principal
register_frameworks refuses for its roles is refused (Mesos' FrameworkErrorMessage; 403 on the
stand-in's wire). Launches: a framework names the users its tasks run as when it registers, and
gets, with each offer, a token per agent for each user run_tasks allows its principal
(auth.user_token); for a user it refuses it gets Mesos' TASK_ERROR message instead, which its
scheduler reports for every task it places (TASK_ID_PLACEHOLDER stands for the task's id). The
agent runs a task only with the token of its user, and so only what the master authorized.
POST /teardown removes a framework (its tasks killed, its re-registration refused) when
teardown_frameworks allows the request's principal, and answers libprocess' 403 otherwise.
"""

from __future__ import annotations

import logging
import threading
import time
import urllib.parse
from typing import Any

import requests

from . import MESOS_VERSION, auth, pages, web
from .acls import Acls
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
# The realms of the master's endpoints (src/master/master.cpp routes; libprocess puts /metrics/snapshot
# in the readonly one). At / Mesos serves its web UI's static files, unprotected; the stand-in's page
# shows the state itself, so it is protected as /state is.
READONLY_ENDPOINTS = {"/", "/state", "/state.json", "/state-summary", "/slaves", "/frameworks", "/tasks", "/flags",
                      "/roles", "/maintenance/status", "/metrics/snapshot"}  # fmt: skip
READWRITE_ENDPOINTS = {"/api/v1", "/maintenance/schedule", "/machine/down", "/machine/up", "/teardown", "/reserve",
                       "/unreserve", "/create-volumes", "/destroy-volumes", "/weights", "/quota"}  # fmt: skip
# The stand-in's registrations (libprocess messages in Mesos) and the flag that requires credentials.
REGISTRATIONS = {"/standin/frameworks": "authenticate_frameworks", "/standin/agents": "authenticate_agents"}
# Stands for the task's id in the TASK_ERROR message a framework is given for a user it may not run tasks as.
TASK_ID_PLACEHOLDER = "{task_id}"
MAINTENANCE_PATHS = {
    f"{prefix}{path}"
    for prefix in ("", "/master")
    for path in ("/maintenance/schedule", "/maintenance/status", "/machine/down", "/machine/up")
}


class MaintenanceError(ValueError):
    """A maintenance call Mesos refuses (400, with its message as text)."""


class RegistrationRefused(Exception):
    """A framework the master will not subscribe: the message is the FrameworkErrorMessage Mesos sends."""


def _machine(machine_id: dict) -> tuple[str, str]:
    """A MachineID's key; Mesos requires a hostname or an ip, and matches agents on both."""
    if not isinstance(machine_id, dict) or not (machine_id.get("hostname") or machine_id.get("ip")):
        raise MaintenanceError("A MachineID must have at least one of 'hostname' or 'ip'")
    return (str(machine_id.get("hostname") or "").lower(), str(machine_id.get("ip") or ""))


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
        credentials: dict[str, str] | None = None,
        acls: Acls | None = None,
    ) -> None:
        super().__init__(store, hostname, ip, port, bind_ip)
        self.flags = flags or {}
        self.clock = clock
        # --credentials: principal -> secret, for registrations and HTTP Basic alike; None without the flag.
        self.credentials = credentials
        # --acls; None without the flag: Mesos then authorizes nothing (everything is allowed).
        self.acls = acls
        self.http_auth = auth.HttpAuthentication(
            "mesos-master", self.flags, credentials, {"readonly": READONLY_ENDPOINTS, "readwrite": READWRITE_ENDPOINTS}
        )
        # The last refusal logged per client, so that one retrying every second is logged once.
        self._refusals: dict[str, str] = {}
        self.lock = threading.Lock()
        self.agents: dict[str, dict] = {}
        self.frameworks: dict[str, dict] = {}
        # Torn down: their re-registration is refused. In memory, as Mesos keeps completed frameworks.
        self.removed_frameworks: set[str] = set()
        self.started_at = clock()

    def on_elected(self) -> None:
        with self.lock:
            self.agents.clear()  # they re-register with the new leader within seconds
            self.frameworks.clear()
            self.removed_frameworks.clear()

    def handle(self, request: web.Request) -> web.Response:
        path = request.path.rstrip("/") or "/"
        endpoint = (path[len("/master") :] or "/") if path == "/master" or path.startswith("/master/") else path
        refused = self.http_auth.refusal(request, endpoint)
        if refused:
            return refused
        principal = None
        if request.method == "POST" and endpoint in REGISTRATIONS:
            principal, refused = self._authenticate(request, endpoint)
            if refused:
                return refused
        if path in ("/health", "/master/health"):
            return web.Response(200, None)
        if path in ("/version", "/master/version"):
            return web.Response(200, {"version": MESOS_VERSION, "build_user": "lab stand-in"})
        if path in ("/flags", "/master/flags"):
            return web.Response(200, {"flags": flag_texts(self.flags)})
        if path in ("/redirect", "/master/redirect"):
            return self.redirect()
        if path == "/metrics/snapshot":
            return web.Response(200, self.metrics())
        if not self.is_leader():
            return self.proxy(request)
        path = path.removeprefix("/master") if path.startswith("/master/") else path
        if request.method == "GET" and path in ("/state", "/state.json"):
            return web.Response(200, self.state())
        if request.method == "GET" and path in ("/state-summary", "/slaves", "/frameworks", "/tasks"):
            return web.Response(200, self.view(path.lstrip("/")))
        if request.method == "GET" and path == "/":
            return web.Response(200, raw=pages.mesos(self.state()).encode(), headers={"Content-Type": pages.HTML})
        if path in MAINTENANCE_PATHS:
            return self.maintenance(request, path)
        if path == "/teardown":
            return self.teardown(request, self.http_auth.principal(request, endpoint))
        try:
            if request.method == "POST" and path == "/standin/agents":
                return web.Response(200, self.register_agent(web.parse_json(request)))
            if request.method == "POST" and path == "/standin/frameworks":
                return web.Response(200, self.register_framework(web.parse_json(request), principal))
        except RegistrationRefused as ex:
            return web.Response(403, {"message": str(ex)})
        except (ValueError, KeyError, TypeError) as ex:
            return web.Response(400, {"message": f"bad registration: {ex}"})
        return web.Response(404, {"message": f"no such endpoint {request.method} {path}"})

    # ------------------------------------------------------------- authentication
    def _authenticate(self, request: web.Request, endpoint: str) -> tuple[str | None, web.Response | None]:
        """The principal a registration authenticated as (None: none offered, and none required),
        or the 401 refusing it (Master::authenticate and its checks of the registration)."""
        kind = "framework" if endpoint == "/standin/frameworks" else "agent"
        client = f"{kind} at {request.remote}"
        if "authorization" not in request.headers:
            if not self.flags.get(REGISTRATIONS[endpoint]):
                return None, None
            if kind == "framework":
                return None, self._refuse(client, f"Framework at {request.remote} is not authenticated")
            return None, self._refuse(
                client, f"Refusing registration of agent at {request.remote} because it is not authenticated"
            )
        if self.credentials is None:
            # Mesos' CRAM-MD5 authenticator is not initialised without --credentials.
            return None, self._refuse(client, "No authenticator available")
        offered = auth.registration_pair(request)
        if offered is None or not auth.matches(self.credentials, *offered):
            return None, self._refuse(client, f"Authentication of {client} was unsuccessful: Invalid credentials")
        if self._refusals.pop(client, None):
            log.info("Successfully authenticated principal '%s' at %s", offered[0], request.remote)
        return offered[0], None

    def _refuse(self, client: str, message: str) -> web.Response:
        if self._refusals.get(client) != message:
            log.warning(message)
            self._refusals[client] = message
        return web.Response(401, {"message": message})

    # ------------------------------------------------------------- operator views
    def redirect(self) -> web.Response:
        """/master/redirect: Mesos' 307 to the leading master (its own address when it leads)."""
        leader = self.member() if self.is_leader() else self.store.leader()
        if not leader:
            return web.Response(503, "No leader elected")
        return web.Response(307, None, {"Location": f"//{leader['mesos_host']}"})

    def view(self, name: str) -> dict:
        """/master/state-summary, /master/slaves, /master/frameworks, /master/tasks: parts of the state."""
        state = self.state()
        tasks = [
            task for framework in state["frameworks"] if framework["active"] for task in framework.get("tasks", [])
        ]
        if name == "slaves":
            return {"slaves": state["slaves"], "recovered_slaves": []}
        if name == "frameworks":
            return {
                "frameworks": state["frameworks"],
                "completed_frameworks": [],
                "unregistered_frameworks": [],
            }
        if name == "tasks":
            return {"tasks": tasks}

        def running(owner: str, key: str) -> int:
            return sum(1 for task in tasks if task[key] == owner and task["state"] == "TASK_RUNNING")

        summary = {k: state[k] for k in ("hostname", "cluster")}
        summary["slaves"] = [{**slave, "TASK_RUNNING": running(slave["id"], "slave_id")} for slave in state["slaves"]]
        summary["frameworks"] = [
            {k: f.get(k) for k in ("id", "name", "hostname", "webui_url", "active")}
            | {"TASK_RUNNING": running(f["id"], "framework_id"), "slave_ids": sorted({t["slave_id"] for t in tasks})}
            for f in state["frameworks"]
        ]
        return summary

    def metrics(self) -> dict:
        """/metrics/snapshot: the gauges operators read (each master answers for itself)."""
        state = self.state() if self.is_leader() else {"slaves": [], "frameworks": []}
        tasks = [
            task for framework in state["frameworks"] if framework["active"] for task in framework.get("tasks", [])
        ]
        return {
            "master/elected": 1.0 if self.is_leader() else 0.0,
            "master/uptime_secs": round(self.clock() - self.started_at, 3),
            "master/slaves_active": float(sum(1 for s in state["slaves"] if s["active"])),
            "master/slaves_inactive": float(sum(1 for s in state["slaves"] if not s["active"])),
            "master/frameworks_active": float(sum(1 for f in state["frameworks"] if f["active"])),
            "master/tasks_running": float(sum(1 for t in tasks if t["state"] == "TASK_RUNNING")),
            "master/tasks_staging": float(sum(1 for t in tasks if t["state"] == "TASK_STAGING")),
        }

    # ------------------------------------------------------------- maintenance
    def _maintenance(self) -> dict:
        return self.store.get("maintenance", "state") or {"schedule": {"windows": []}, "down": []}

    def _is_down(self, hostname: str, ip: str, state: dict | None = None) -> bool:
        down = (state or self._maintenance())["down"]
        return any(_matches(machine, hostname, ip) for machine in down)

    def maintenance(self, request: web.Request, path: str) -> web.Response:
        path = path.removeprefix("/master")
        state = self._maintenance()
        try:
            if path == "/maintenance/schedule" and request.method == "GET":
                return web.Response(200, state["schedule"])
            if path == "/maintenance/status" and request.method == "GET":
                return web.Response(200, self._status(state))
            if request.method != "POST":
                return web.Response(405, "Expecting 'GET' or 'POST'")
            body = web.parse_json(request)
            if path == "/maintenance/schedule":
                state = self._schedule(state, body)
            elif path == "/machine/down":
                state = self._down(state, body)
            else:
                state = self._up(state, body)
        except (MaintenanceError, ValueError, TypeError, KeyError) as ex:
            return web.Response(400, str(ex))
        self.store.put("maintenance", "state", state)
        return web.Response(200, None)

    @staticmethod
    def _scheduled(state: dict) -> list[dict]:
        return [machine for window in state["schedule"]["windows"] for machine in window["machine_ids"]]

    def _schedule(self, state: dict, body: dict) -> dict:
        windows = body.get("windows", []) if isinstance(body, dict) else None
        if not isinstance(windows, list):
            raise MaintenanceError('Expecting a maintenance schedule: {"windows": [...]}')
        for index, window in enumerate(windows):
            if not isinstance(window, dict) or not isinstance((window.get("unavailability") or {}).get("start"), dict):
                raise MaintenanceError(
                    "Failed to convert JSON into Schedule protobuf: "
                    f"Missing required fields: windows[{index}].unavailability.start"
                )
        keys = [_machine(machine) for window in windows for machine in window.get("machine_ids", [])]
        if len(keys) != len(set(keys)):
            raise MaintenanceError("Machines may not appear in more than one maintenance window")
        for machine in state["down"]:
            if _machine(machine) not in keys:
                raise MaintenanceError(f"Machine '{_machine(machine)}' is down and cannot leave the schedule")
        return {"schedule": {"windows": windows}, "down": state["down"], "scheduled_at": self.clock()}

    def _machines(self, state: dict, body: list) -> list[dict]:
        if not isinstance(body, list) or not body:
            raise MaintenanceError("Expecting a list of MachineIDs")
        scheduled = {_machine(machine) for machine in self._scheduled(state)}
        for machine in body:
            if _machine(machine) not in scheduled:
                raise MaintenanceError(f"Machine '{_machine(machine)}' is not part of a maintenance schedule")
        return body

    def _down(self, state: dict, body: list) -> dict:
        down = {_machine(machine) for machine in state["down"]}
        for machine in self._machines(state, body):
            if _machine(machine) in down:
                raise MaintenanceError(f"Machine '{_machine(machine)}' is already down")
        with self.lock:
            for agent_id, agent in list(self.agents.items()):
                if any(_matches(machine, agent["hostname"], agent["ip"]) for machine in body):
                    log.info("machine of agent %s is down: the agent shuts down", agent["hostname"])
                    del self.agents[agent_id]
        return {**state, "down": state["down"] + body}

    def _up(self, state: dict, body: list) -> dict:
        down = {_machine(machine) for machine in state["down"]}
        for machine in self._machines(state, body):
            if _machine(machine) not in down:
                raise MaintenanceError(f"Machine '{_machine(machine)}' is not down")
        keys = {_machine(machine) for machine in body}
        windows = [
            {**window, "machine_ids": [m for m in window["machine_ids"] if _machine(m) not in keys]}
            for window in state["schedule"]["windows"]
        ]
        return {
            **state,
            "schedule": {"windows": [window for window in windows if window["machine_ids"]]},
            "down": [machine for machine in state["down"] if _machine(machine) not in keys],
        }

    def _status(self, state: dict) -> dict:
        """Draining machines with the inverse offers their frameworks have not answered; down machines."""
        down = {_machine(machine) for machine in state["down"]}
        draining = [machine for machine in self._scheduled(state) if _machine(machine) not in down]
        current = self.state()
        agents = {slave["id"]: slave for slave in current["slaves"]}

        # The inverse offers went out when the schedule was posted.
        sent = {"nanoseconds": int(state.get("scheduled_at", 0) * 1e9)}

        def statuses(machine: dict) -> list[dict]:
            on_machine = {
                agent_id
                for agent_id, slave in agents.items()
                if _matches(machine, slave["hostname"], slave["pid"].rsplit("@", 1)[1].rsplit(":", 1)[0])
            }
            return [
                {"framework_id": {"value": f["id"]}, "status": "UNKNOWN", "timestamp": sent}
                for f in current["frameworks"]
                if any(task["slave_id"] in on_machine for task in f.get("tasks", []))
            ]

        return {
            "draining_machines": [{"id": machine, "statuses": statuses(machine)} for machine in draining],
            "down_machines": state["down"],
        }

    # ------------------------------------------------------------- registrations
    def register_agent(self, info: dict) -> dict:
        if self._is_down(info["hostname"], info["ip"]):
            # Mesos shuts an agent of a down machine down, and refuses it until the machine is up.
            with self.lock:
                self.agents.pop(info["id"], None)
            return {"id": info["id"], "registered": False, "shutdown": True}
        with self.lock:
            known = self.agents.get(info["id"])
            self.agents[info["id"]] = described(info) | {
                "registered_time": known["registered_time"] if known else self.clock(),
                "last_seen": self.clock(),
                # Kept in memory only (the store is world-readable), and left out of state().
                "launch_token": info.get("launch_token"),
            }
        if known is None:
            log.info("agent %s at %s:%s registered", info["hostname"], info["ip"], info["port"])
        return {"id": info["id"], "registered": True}

    def register_framework(self, info: dict, principal: str | None = None) -> dict:
        """A scheduler (re-)registers and reports its tasks; the answer is its offer: the active agents,
        with the launch token of each (the one place a token leaves the master), and for each user its
        tasks run as, a token to launch them on each agent, or the master's refusal (--acls)."""
        # The users its tasks run as are asked for, not shown: Mesos' FrameworkInfo has its user only.
        framework = {k: v for k, v in info.items() if k != "users"} | {"last_seen": self.clock()}
        if principal is not None:
            if info.get("principal") not in (None, principal):
                raise ValueError(
                    f"Framework principal '{info['principal']}' does not match authenticated principal '{principal}'"
                )
            framework["principal"] = principal
        elif not info.get("principal"):
            framework.pop("principal", None)  # Mesos shows FrameworkInfo.principal only when set
        if info["id"] in self.removed_frameworks:
            raise RegistrationRefused("Framework has been removed")
        # Mesos authorizes against FrameworkInfo.principal, authenticated or not; without one, as ANY.
        framework_principal = framework.get("principal")
        roles = sorted(info.get("roles") or [info.get("role") or "*"])
        if self.acls and not all(self.acls.allows("register_frameworks", framework_principal, r) for r in roles):
            # Master::_subscribe, with ActionObject's wording and stout's stringify of a set.
            raise RegistrationRefused(
                f"Not authorized to register framework {info['id']} with roles {{ {', '.join(roles)} }}"
            )
        users = {user for user in [*info.get("users", []), info.get("user")] if user}
        refused_users = {
            # Master::accept's refusal of a LAUNCH, sent as TASK_ERROR (REASON_TASK_UNAUTHORIZED).
            user: f"Principal '{framework_principal or ''}' no authorized to launch task {TASK_ID_PLACEHOLDER}"
            f" of framework {info['id']} under user '{user}'"
            for user in sorted(users)
            if self.acls and not self.acls.allows("run_tasks", framework_principal, user)
        }
        with self.lock:
            if info["id"] not in self.frameworks:
                log.info("framework %s (%s) registered from %s", info["id"], info["name"], info.get("hostname"))
            self.frameworks[info["id"]] = framework
            tokens = {agent_id: agent.get("launch_token") for agent_id, agent in self.agents.items()}
        windows = self._maintenance()["schedule"]["windows"]
        slaves = []
        for slave in self.state()["slaves"]:
            if not slave["active"]:
                continue
            token = tokens.get(slave["id"])
            user_tokens = {user: auth.user_token(token, user) for user in users - set(refused_users)} if token else {}
            slaves.append(
                slave
                | _unavailability(windows, slave["hostname"], slave["pid"].rsplit("@", 1)[1].rsplit(":", 1)[0])
                | ({"launch_token": token, "user_tokens": user_tokens} if token else {})
            )
        return {"framework_id": info["id"], "slaves": slaves, "refused_users": refused_users}

    # ------------------------------------------------------------- teardown
    def teardown(self, request: web.Request, principal: str | None) -> web.Response:
        """POST /teardown frameworkId=<id>: Master::Http::teardown, its checks and answers in order."""
        if request.method != "POST":
            return web.Response(
                405,
                f"405 Method Not Allowed. Expecting one of {{ 'POST' }}, but received '{request.method}'.",
                {"Allow": "POST"},
            )
        values = urllib.parse.parse_qs(request.body.decode(errors="replace"), keep_blank_values=True)
        if "frameworkId" not in values:
            return web.Response(400, "Missing 'frameworkId' query parameter in the request body")
        framework_id = values["frameworkId"][-1]
        with self.lock:
            framework = self.frameworks.get(framework_id)
        if framework is None:
            return web.Response(400, "No framework found with specified ID")
        # The object is the framework's principal; a framework without one is ANY.
        if self.acls and not self.acls.allows("teardown_frameworks", principal, framework.get("principal")):
            return web.Response(403, "403 Forbidden.")
        with self.lock:
            self.frameworks.pop(framework_id, None)
            self.removed_frameworks.add(framework_id)
            agents = {agent_id: dict(agent) for agent_id, agent in self.agents.items()}
        log.info("framework %s torn down by %s", framework_id, principal or "an unauthenticated request")
        # Mesos shuts the framework's executors down on its agents; the answer does not wait for them.
        threading.Thread(target=_kill_tasks, args=(framework.get("tasks", []), agents), daemon=True).start()
        return web.Response(200, None)

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
                        "disk": 0.0,
                    },
                    # Offers are answered at once and nothing is reserved for a role.
                    "offered_resources": {"cpus": 0.0, "mem": 0.0, "disk": 0.0},
                    "reserved_resources": {},
                    "unreserved_resources": agent["resources"],
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


def _kill_tasks(tasks: list[dict], agents: dict[str, dict]) -> None:
    """Kill a removed framework's tasks on their agents, with each agent's launch token."""
    for task in tasks:
        agent = agents.get(task["slave_id"])
        if agent is None or not agent.get("launch_token"):
            continue
        try:
            requests.delete(
                f"http://{agent['ip']}:{agent['port']}/standin/tasks/{task['id']}",
                headers={"Authorization": f"Bearer {agent['launch_token']}"},
                timeout=60,
            )
        except requests.RequestException as ex:
            log.warning("killing task %s of a removed framework on %s failed: %s", task["id"], agent["hostname"], ex)


def _unavailability(windows: list[dict], hostname: str, ip: str) -> dict:
    """{"unavailability": ...} of the window the agent's machine is in, as Mesos puts it in offers; or {}."""
    for window in windows:
        if any(_matches(machine, hostname, ip) for machine in window["machine_ids"]):
            return {"unavailability": window["unavailability"]}
    return {}


def _matches(machine: dict, hostname: str, ip: str) -> bool:
    """Whether a MachineID names the agent at hostname/ip (each field given must match)."""
    wanted_host, wanted_ip = _machine(machine)
    return (not wanted_host or wanted_host == hostname.lower()) and (not wanted_ip or wanted_ip == ip)
