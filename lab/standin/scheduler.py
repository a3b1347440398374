"""The leader's scheduler: apps, versions, deployments, task placement, health checks.

Everything it knows lives in the store (apps, app versions, deployments, tasks, agents), so a
restarted or newly elected leader carries on where the last one stopped; only health results
are in memory, rebuilt by the next checks, as in Marathon. Agents are driven over their private
JSON API (agent.py), with the launch token each one's offer carries; tokens are kept in memory only,
never in the store, and a new leader has them again with its first offers. A task runs as its app's
`user`, else --mesos_user, and is launched with the offer's token for that user; for a user the
master refuses (--acls), Marathon hears TASK_ERROR from the master with its message, and so does
this scheduler, for every task it places. One lock guards the state; agent and health-check I/O
runs in a thread pool outside it.
"""

from __future__ import annotations

import copy
import datetime
import logging
import math
import random
import re
import socket
import threading
import time
import urllib.parse
import uuid
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import requests

from . import groups, shapes, validation
from .agent import described
from .events import EventBus
from .mesos_master import TASK_ID_PLACEHOLDER
from .store import Store

log = logging.getLogger(__name__)

TICK_SECONDS = 0.5
AGENT_TIMEOUT = 3.0
# Missed polls before an agent is inactive (Mesos: max_agent_ping_timeouts).
MAX_AGENT_MISSES = 5
# Marathon's --kill_retry_timeout default.
KILL_RETRY_SECONDS = 10.0
# Tasks go only to agents the leading mesos-master offered this recently: a Marathon that is
# not registered with Mesos (bound to loopback, no master reachable) starts nothing.
OFFER_SECONDS = 5.0
NOT_CONFIG = ("version", "versionInfo", "instances")


class ApiError(Exception):
    """An HTTP error answer: status and JSON body, as Marathon sends them."""

    def __init__(self, status: int, body: dict | None) -> None:
        super().__init__(status, body)
        self.status = status
        self.body = body


def now_iso(ts: float | None = None) -> str:
    """Marathon's timestamp format: 2017-03-01T12:00:00.123Z."""
    moment = datetime.datetime.fromtimestamp(time.time() if ts is None else ts, datetime.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def app_not_found(app_id: str) -> ApiError:
    return ApiError(404, {"message": f"App '{app_id}' does not exist"})


def _config(app: dict) -> dict:
    return {k: v for k, v in app.items() if k not in NOT_CONFIG}


def _public(doc: dict) -> dict:
    """A document without the scheduler's private (underscore) keys."""
    return {k: v for k, v in doc.items() if not k.startswith("_")}


def _range_ports(spec: str) -> list[int]:
    """ "[31000-32000, 33000-33001]" -> every port in those ranges."""
    ports: list[int] = []
    for low, high in re.findall(r"(\d+)-(\d+)", spec):
        ports.extend(range(int(low), int(high) + 1))
    return ports


class Scheduler:
    """Marathon's app and deployment logic over a set of stand-in agents."""

    def __init__(
        self,
        store: Store,
        user: str = "root",
        clock: Callable[[], float] = time.time,
        events: EventBus | None = None,
        draining_seconds: float | None = 0,
    ) -> None:
        self.store = store
        # Where Marathon's events go: the leader's /v2/events subscribers.
        self.events = events or EventBus()
        # --mesos_user: agents run a task of an app without a user as this one, and fail tasks of a user
        # they lack.
        self.user = user
        self.clock = clock
        # Marathon's maintenance mode: --draining_seconds, or None when disabled.
        self.draining_seconds = draining_seconds
        self.lock = threading.RLock()
        self.pool = ThreadPoolExecutor(max_workers=32, thread_name_prefix="standin-io")
        self.http = requests.Session()
        self.apps: dict[str, dict] = {}
        self.tasks: dict[str, dict] = {}
        self.deployments: dict[str, dict] = {}
        # Groups created through /v2/groups: their dependencies, and existence while empty.
        self.groups: dict[str, dict] = {}
        self.agents: dict[str, dict] = {}
        # agent id -> the launch token of its latest offer (agent.py), and its tokens to launch tasks per user.
        self.launch_tokens: dict[str, str] = {}
        self.user_tokens: dict[str, dict[str, str]] = {}
        # user -> the master's TASK_ERROR message for a task as that user (TASK_ID_PLACEHOLDER for its id).
        self.refused_users: dict[str, str] = {}
        self.health: dict[str, list[dict | None]] = {}
        self.next_check: dict[tuple[str, int], float] = {}
        self.checking: set[tuple[str, int]] = set()
        self.backoff: dict[str, dict] = {}
        self.last_failure: dict[str, dict] = {}
        self.polling: set[str] = set()
        self._last_version = ""
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # ----------------------------------------------------------------- lifecycle
    def load(self) -> None:
        """Read every document the last leader left in the store."""
        with self.lock:
            self.apps = self.store.items("apps")
            self.tasks = self.store.items("tasks")
            self.deployments = self.store.items("deployments")
            self.agents = self.store.items("agents")
            self.last_failure = self.store.items("failures")
            self.groups = self.store.items("groups")
            self.health.clear()
            self.next_check.clear()
            for agent in self.agents.values():
                agent["_misses"] = 0
            versions = [a["version"] for a in self.apps.values()] + [d["version"] for d in self.deployments.values()]
            self._last_version = max(versions, default="")

    def start(self) -> None:
        self.load()
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="standin-scheduler", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=5)
        self.pool.shutdown(wait=False, cancel_futures=True)

    def _run(self) -> None:
        while not self._stop.wait(TICK_SECONDS):
            try:
                self.tick()
            except Exception:
                log.exception("scheduler tick failed")

    def tick(self) -> None:
        """One round: poll agents, run due health checks, move every app toward its target."""
        self.poll_agents()
        self.run_health_checks()
        with self.lock:
            self.retry_kills()
            self.advance_deployments()
            locked = {app_id for d in self.deployments.values() for app_id in d["affectedApps"]}
            for app_id, app in list(self.apps.items()):
                if app_id not in locked:
                    self.converge(app, replace_old=False)

    # ----------------------------------------------------------------- persistence
    def _save_app(self, app: dict) -> None:
        self.apps[app["id"]] = app
        self.store.put("apps", app["id"], app)
        self.store.put(self._versions_kind(app["id"]), app["version"], app)

    @staticmethod
    def _versions_kind(app_id: str) -> str:
        return "versions/" + urllib.parse.quote(app_id, safe="")

    def _save_task(self, task: dict) -> None:
        self.tasks[task["id"]] = task
        self.store.put("tasks", task["id"], task)

    def _drop_task(self, task_id: str) -> None:
        task = self.tasks.pop(task_id, None)
        self.health.pop(task_id, None)
        self.store.delete("tasks", task_id)
        if task is not None and task.get("_killing"):
            self._status_event(task, "TASK_KILLED")

    def _status_event(self, task: dict, state: str, message: str = "") -> None:
        self.events.publish(
            "status_update_event",
            slaveId=task["slaveId"],
            taskId=task["id"],
            taskStatus=state,
            message=message,
            appId=task["appId"],
            host=task["host"],
            ipAddresses=task.get("ipAddresses", []),
            ports=task["ports"],
            version=task["version"],
        )

    def _deployment_event(self, event_type: str, dep: dict, step: int | None = None) -> None:
        """deployment_info and deployment_step_success (with their step), deployment_success and _failed.

        The plan is Marathon's light format, the only one since 1.8: no original and target groups.
        """
        fields: dict[str, Any] = {"plan": {"id": dep["id"], "version": dep["version"], "steps": dep["steps"]}}
        if step is not None:
            fields["currentStep"] = dep["steps"][step - 1]
        else:
            fields["id"] = dep["id"]
        self.events.publish(event_type, **fields)

    def _save_deployment(self, dep: dict) -> None:
        self.deployments[dep["id"]] = dep
        self.store.put("deployments", dep["id"], dep)

    def _drop_deployment(self, dep_id: str) -> None:
        self.deployments.pop(dep_id, None)
        self.store.delete("deployments", dep_id)

    def _new_version(self) -> str:
        """A timestamp later than every version handed out so far (one per millisecond at most)."""
        version = now_iso(self.clock())
        while version <= self._last_version:
            time.sleep(0.001)
            version = now_iso(self.clock())
        self._last_version = version
        return version

    # ----------------------------------------------------------------- agents
    def register_agent(self, info: dict) -> dict:
        """The leading mesos-master offers an agent: known again, active, its description refreshed."""
        with self.lock:
            known = self.agents.get(info["id"], {})
            agent = described(info) | {
                "active": True,
                "registered_time": known.get("registered_time", self.clock()),
                "reregistered_time": self.clock() if known else None,
                "_misses": 0,
                "_offeredAt": self.clock(),
                "_unavailability": info.get("unavailability"),
            }
            # Offers come every second: write to the store only when what it keeps changed.
            if not known or described(known) != described(agent) or not known.get("active"):
                self.store.put("agents", agent["id"], agent)
            self.agents[agent["id"]] = agent
            if info.get("launch_token"):
                self.launch_tokens[agent["id"]] = info["launch_token"]
                self.user_tokens[agent["id"]] = dict(info.get("user_tokens") or {})
            return {"id": agent["id"], "registered": True}

    def task_users(self) -> list[str]:
        """The users this scheduler's tasks run as, for which it asks the master with each registration."""
        with self.lock:
            return sorted({self.user} | {app.get("user") or self.user for app in self.apps.values()})

    def refuse_users(self, refusals: dict[str, str]) -> None:
        """The master's answer: user -> its message for tasks as that user (run_tasks refuses them)."""
        with self.lock:
            self.refused_users = dict(refusals)

    def _agent_url(self, agent: dict, path: str) -> str:
        return f"http://{agent['ip']}:{agent['port']}{path}"

    def _agent_headers(self, agent: dict) -> dict[str, str]:
        token = self.launch_tokens.get(agent["id"])
        return {"Authorization": f"Bearer {token}"} if token else {}

    def poll_agents(self) -> None:
        """Ask every agent for its containers: the ping, and the source of task states."""
        with self.lock:
            agents = [a for a in self.agents.values() if a["id"] not in self.polling]
            self.polling.update(a["id"] for a in agents)
        futures = [(a, self.clock(), self.pool.submit(self._get_agent_tasks, a)) for a in agents]
        for agent, asked_at, future in futures:
            try:
                reported = future.result()
            except Exception as ex:
                reported = None
                log.debug("agent %s missed a poll: %s", agent["hostname"], ex)
            with self.lock:
                self.polling.discard(agent["id"])
                self._apply_agent_report(agent["id"], asked_at, reported)

    def _get_agent_tasks(self, agent: dict) -> list[dict]:
        answer = self.http.get(
            self._agent_url(agent, "/standin/tasks"), headers=self._agent_headers(agent), timeout=AGENT_TIMEOUT
        )
        answer.raise_for_status()
        return answer.json()["tasks"]

    def _apply_agent_report(self, agent_id: str, asked_at: float, reported: list[dict] | None) -> None:
        agent = self.agents.get(agent_id)
        if agent is None:
            return
        if reported is None:
            agent["_misses"] = agent.get("_misses", 0) + 1
            if agent["_misses"] >= MAX_AGENT_MISSES and agent["active"]:
                log.warning("agent %s missed %d polls: inactive", agent["hostname"], agent["_misses"])
                agent["active"] = False
                self.store.put("agents", agent_id, agent)
                for task in [t for t in self.tasks.values() if t["slaveId"] == agent_id]:
                    self._task_ended(task, "TASK_LOST", "agent is inactive")
            return
        agent["_misses"] = 0
        if not agent["active"]:
            agent["active"] = True
            self.store.put("agents", agent_id, agent)
        by_id = {r["taskId"]: r for r in reported}
        for task in [t for t in self.tasks.values() if t["slaveId"] == agent_id]:
            report = by_id.pop(task["id"], None)
            if report is None:
                if task.get("_killing"):
                    self._drop_task(task["id"])
                elif task.get("_launchedAt") and task["_launchedAt"] < asked_at:
                    self._task_ended(task, "TASK_LOST", "container is gone")
                continue
            if report["state"] == "TASK_RUNNING" and task["state"] in ("TASK_STAGING", "TASK_STARTING"):
                task["state"] = "TASK_RUNNING"
                task["startedAt"] = report.get("startedAt") or now_iso(self.clock())
                task["ipAddresses"] = report.get("ipAddresses", [])
                self._save_task(task)
                self._status_event(task, "TASK_RUNNING")
            elif report["state"] in ("TASK_FAILED", "TASK_FINISHED") and not task.get("_killing"):
                self._task_ended(task, report["state"], report.get("message", ""))
        for orphan in by_id:
            # A container no task accounts for (killed while the agent was away): stop it.
            self.pool.submit(self._kill_on_agent, agent, orphan)

    # ----------------------------------------------------------------- tasks
    def mesos_tasks(self, framework_id: str) -> list[dict]:
        """The tasks as the Mesos master lists them under this framework."""
        with self.lock:
            return [
                {
                    "id": t["id"],
                    "name": t["appId"].strip("/").replace("/", "."),
                    "framework_id": framework_id,
                    "executor_id": "",
                    "slave_id": t["slaveId"],
                    "state": t["state"],
                    "resources": {"cpus": t.get("_cpus", 0), "mem": t.get("_mem", 0), "disk": 0.0},
                    "statuses": [{"state": t["state"], "timestamp": _parse_iso(t.get("startedAt") or t["stagedAt"])}],
                }
                for t in self.tasks.values()
            ]

    def app_tasks(self, app_id: str) -> list[dict]:
        return [t for t in self.tasks.values() if t["appId"] == app_id]

    def _task_ended(self, task: dict, state: str, message: str, on_agent: bool = True) -> None:
        """A task failed or vanished: forget it, remember the failure, back off relaunches. Not on_agent:
        it never reached its agent, so there is nothing to kill there."""
        app = self.apps.get(task["appId"])
        self.last_failure[task["appId"]] = {
            "appId": task["appId"],
            "host": task["host"],
            "message": message,
            "state": state,
            "taskId": task["id"],
            "timestamp": now_iso(self.clock()),
            "version": task["version"],
            "slaveId": task["slaveId"],
        }
        self.store.put("failures", task["appId"], self.last_failure[task["appId"]])
        if app is not None:
            self._back_off(app)
        agent = self.agents.get(task["slaveId"])
        if on_agent and agent and agent["active"]:
            self.pool.submit(self._kill_on_agent, agent, task["id"])
        self._status_event(task, state, message)
        task.pop("_killing", None)  # ended as `state`, not as killed
        self._drop_task(task["id"])

    def _back_off(self, app: dict) -> None:
        state = self.backoff.setdefault(app["id"], {"failures": 0, "until": 0.0})
        state["failures"] += 1
        delay = app["backoffSeconds"] * app["backoffFactor"] ** (state["failures"] - 1)
        state["until"] = self.clock() + min(delay, app["maxLaunchDelaySeconds"])

    def kill_task(self, task: dict) -> None:
        """Ask the task's agent to stop it; the task stays listed as TASK_KILLING until it is gone."""
        task["_killing"] = True
        task["state"] = "TASK_KILLING"
        task["_killRequestedAt"] = self.clock()
        self._save_task(task)
        agent = self.agents.get(task["slaveId"])
        if agent is None or not agent["active"]:
            self._drop_task(task["id"])
            return
        self.pool.submit(self._kill_and_forget, agent, task["id"])

    def _kill_and_forget(self, agent: dict, task_id: str) -> None:
        if self._kill_on_agent(agent, task_id):
            with self.lock:
                self._drop_task(task_id)

    def _kill_on_agent(self, agent: dict, task_id: str) -> bool:
        try:
            answer = self.http.delete(
                self._agent_url(agent, f"/standin/tasks/{task_id}"), headers=self._agent_headers(agent), timeout=60
            )
        except requests.RequestException as ex:
            log.warning("kill %s on %s failed: %s", task_id, agent["hostname"], ex)
            return False
        return answer.status_code in (200, 404)

    def retry_kills(self) -> None:
        for task in list(self.tasks.values()):
            if task.get("_killing") and self.clock() - task["_killRequestedAt"] > KILL_RETRY_SECONDS:
                self.kill_task(task)

    def _ports_in_use(self, agent_id: str) -> set[int]:
        return {p for t in self.tasks.values() if t["slaveId"] == agent_id for p in t["ports"]}

    def _attribute(self, agent: dict, field: str) -> str | None:
        if field == "hostname":
            return agent["hostname"]
        value = agent["attributes"].get(field)
        return None if value is None else str(value)

    def _meets_constraints(self, app: dict, agent: dict, siblings: list[dict]) -> bool:
        """Marathon's constraint operators, over agent attributes and the hostname."""
        for constraint in app["constraints"]:
            field, op = constraint[0], constraint[1]
            value = constraint[2] if len(constraint) > 2 else None
            mine = self._attribute(agent, field)
            placed = [self._attribute(self.agents[t["slaveId"]], field) for t in siblings]
            if op == "UNLIKE":
                if mine is not None and re.fullmatch(value, mine):
                    return False
                continue
            if mine is None:
                return False
            if op == "CLUSTER" and (mine != value if value else placed and mine != placed[0]):
                return False
            if op == "LIKE" and not re.fullmatch(value, mine):
                return False
            if op == "UNIQUE" and mine in placed:
                return False
            if op == "MAX_PER" and placed.count(mine) >= int(value):
                return False
            if op == "GROUP_BY":
                # Marathon (Constraints.scala): over the values its placed tasks have, a new value
                # is always welcome; a known one only when there are at least `value` groups and
                # it is among the smallest.
                counts = Counter(placed)
                if mine in counts and (len(counts) < int(value or 0) or counts[mine] != min(counts.values())):
                    return False
        return True

    def _fits(self, app: dict, agent: dict) -> bool:
        used = [t for t in self.tasks.values() if t["slaveId"] == agent["id"]]
        resources = agent["resources"]
        cpus = float(resources.get("cpus", 0)) - sum(t.get("_cpus", 0) for t in used)
        mem = float(resources.get("mem", 0)) - sum(t.get("_mem", 0) for t in used)
        return cpus + 1e-9 >= app["cpus"] and mem + 1e-9 >= app["mem"]

    def _pick_ports(self, app: dict, agent: dict) -> list[int] | None:
        """Host ports for the task: fixed ones must be free, 0 gets a random free one from the range."""
        offered = set(_range_ports(str(agent["resources"].get("ports", ""))))
        free = offered - self._ports_in_use(agent["id"])
        chosen: list[int] = []
        for spec in validation.host_port_specs(app):
            if spec["hostPort"]:
                if spec["hostPort"] not in free:
                    return None
                port = spec["hostPort"]
            else:
                if not free:
                    return None
                port = random.choice(sorted(free))
            free.discard(port)
            chosen.append(port)
        return chosen

    def place(self, app: dict) -> tuple[dict, list[int]] | None:
        """An active agent that satisfies resources, ports and constraints (least loaded first)."""
        siblings = [t for t in self.app_tasks(app["id"]) if not t.get("_killing")]
        offered_since = self.clock() - OFFER_SECONDS
        candidates = [
            a
            for a in self.agents.values()
            if a["active"] and a.get("_offeredAt", 0) > offered_since and self._offer_available(a)
        ]
        random.shuffle(candidates)
        candidates.sort(key=lambda a: sum(1 for t in siblings if t["slaveId"] == a["id"]))
        for agent in candidates:
            if not self._fits(app, agent) or not self._meets_constraints(app, agent, siblings):
                continue
            ports = self._pick_ports(app, agent)
            if ports is not None:
                return agent, ports
        return None

    def _offer_available(self, agent: dict) -> bool:
        """Marathon's Availability.offerAvailable: no launch from a window's start (less draining_seconds)
        until its end; a window without a duration never ends."""
        window = agent.get("_unavailability")
        if self.draining_seconds is None or not window or "start" not in window:
            return True
        now = self.clock()
        start = window["start"].get("nanoseconds", 0) / 1e9
        if now <= start - self.draining_seconds:
            return True
        return "duration" in window and now > start + window["duration"].get("nanoseconds", 0) / 1e9

    def launch(self, app: dict) -> bool:
        """Start one task of the app's current version; False when no agent can take it, or the master
        refuses it."""
        placement = self.place(app)
        if placement is None:
            return False
        agent, ports = placement
        # Marathon sets the app's user on the task's CommandInfo; Mesos falls back to the framework's.
        user = app.get("user") or self.user
        refusal = self.refused_users.get(user)
        if refusal is None and user not in self.user_tokens.get(agent["id"], {}):
            return False  # asked for with the next registration: the master's next offer answers
        task_id = f"{app['id'].strip('/').replace('/', '_')}.{uuid.uuid4()}"
        task = {
            "id": task_id,
            "appId": app["id"],
            "host": agent["hostname"],
            "slaveId": agent["id"],
            "state": "TASK_STAGING",
            "ports": ports,
            "servicePorts": [],
            "ipAddresses": [],
            "stagedAt": now_iso(self.clock()),
            "startedAt": None,
            "version": app["version"],
            "localVolumes": [],
            "_configVersion": app["versionInfo"]["lastConfigChangeAt"],
            "_cpus": app["cpus"],
            "_mem": app["mem"],
            "_agentIp": agent["ip"],
            "_user": user,
        }
        if refusal is not None:
            # The master's answer to the launch (Mesos: TASK_ERROR, REASON_TASK_UNAUTHORIZED); backed off.
            self._task_ended(task, "TASK_ERROR", refusal.replace(TASK_ID_PLACEHOLDER, task_id), on_agent=False)
            return False
        # Recorded before the agent hears of it, so its container is never an orphan.
        self._save_task(task)
        self._status_event(task, "TASK_STAGING")
        self.pool.submit(self._launch_on_agent, agent, task_id, self._launch_spec(app, agent, task))
        return True

    def _launch_spec(self, app: dict, agent: dict, task: dict) -> dict:
        """What the agent needs for `docker run`, with the environment Marathon and Mesos set."""
        container = app.get("container") or {}
        docker = container.get("docker") or {}
        specs = validation.host_port_specs(app)
        ports = task["ports"]
        env: dict[str, str] = {
            "HOST": agent["hostname"],
            "MESOS_TASK_ID": task["id"],
            "MARATHON_APP_ID": app["id"],
            "MARATHON_APP_VERSION": app["version"],
            "MARATHON_APP_DOCKER_IMAGE": docker.get("image", ""),
            "MARATHON_APP_RESOURCE_CPUS": str(app["cpus"]),
            "MARATHON_APP_RESOURCE_MEM": str(app["mem"]),
            "MARATHON_APP_RESOURCE_DISK": str(app["disk"]),
            "MARATHON_APP_LABELS": " ".join(sorted(app["labels"])),
        }
        for name, value in app["labels"].items():
            if re.fullmatch(r"[A-Za-z0-9_]+", name):
                env[f"MARATHON_APP_LABEL_{name.upper()}"] = value
        if ports:
            env["PORTS"] = ",".join(str(p) for p in ports)
            env["PORT"] = str(ports[0])
        bindings = []
        for index, (spec, port) in enumerate(zip(specs, ports, strict=True)):
            env[f"PORT{index}"] = str(port)
            container_port = spec["containerPort"] or port
            env[f"PORT_{container_port}"] = str(port)
            if spec["name"]:
                env[f"PORT_{spec['name'].upper()}"] = str(port)
            bindings.append({"hostPort": port, "containerPort": container_port, "protocol": spec["protocol"]})
        # The app's own env wins, as in Marathon; secret references have no value here.
        env.update({k: v for k, v in app["env"].items() if isinstance(v, str)})
        bridge = any(n.get("mode") == "container/bridge" for n in app["networks"])
        return {
            "taskId": task["id"],
            "appId": app["id"],
            "version": app["version"],
            "image": docker.get("image"),
            "forcePullImage": docker.get("forcePullImage", False),
            "cmd": app.get("cmd"),
            "args": app.get("args"),
            "env": env,
            "labels": dict(app["labels"]),
            "network": "bridge" if bridge else "host",
            "portBindings": bindings if bridge else [],
            "volumes": [v for v in container.get("volumes", []) if v.get("hostPath")],
            "parameters": docker.get("parameters", []),
            "cpus": app["cpus"],
            "mem": app["mem"],
            "killGracePeriodSeconds": app.get("taskKillGracePeriodSeconds") or 3,
            "user": task["_user"],
        }

    def _launch_on_agent(self, agent: dict, task_id: str, spec: dict) -> None:
        try:
            token = self.user_tokens.get(agent["id"], {}).get(spec["user"], "")
            headers = {"Authorization": f"Bearer {token}"}
            answer = self.http.post(self._agent_url(agent, "/standin/tasks"), json=spec, headers=headers, timeout=300)
            message = "" if answer.ok else answer.text
        except requests.RequestException as ex:
            answer, message = None, str(ex)
        with self.lock:
            task = self.tasks.get(task_id)
            if task is None:
                return
            if answer is not None and answer.ok:
                task["_launchedAt"] = self.clock()
                self._save_task(task)
            elif not task.get("_killing"):
                self._task_ended(task, "TASK_FAILED", f"launch failed: {message}"[:500])

    # ----------------------------------------------------------------- health
    def run_health_checks(self) -> None:
        """Start every check that is due; results arrive in _record_health from the pool."""
        with self.lock:
            due = []
            for task in self.tasks.values():
                app = self.apps.get(task["appId"])
                if app is None or task["state"] != "TASK_RUNNING" or task.get("_killing"):
                    continue
                checks = [c for c in self._task_checks(app, task) if c["protocol"] in ("HTTP", "HTTPS", "TCP")]
                for index, check in enumerate(checks):
                    key = (task["id"], index)
                    if key in self.checking or self.clock() < self.next_check.get(key, 0):
                        continue
                    self.checking.add(key)
                    self.next_check[key] = self.clock() + max(check["intervalSeconds"], 1)
                    due.append((task, index, check))
        for task, index, check in due:
            self.pool.submit(self._check_and_record, dict(task), index, check)

    def _task_checks(self, app: dict, task: dict) -> list[dict]:
        """The health checks of the app version the task runs (its config may be older)."""
        if task["_configVersion"] == app["versionInfo"]["lastConfigChangeAt"]:
            return app["healthChecks"]
        old = self.store.get(self._versions_kind(app["id"]), task["version"])
        return (old or app)["healthChecks"]

    def _check_and_record(self, task: dict, index: int, check: dict) -> None:
        try:
            ok, cause = self._probe(task, check)
        except Exception as ex:
            ok, cause = False, str(ex)
        with self.lock:
            self.checking.discard((task["id"], index))
            live = self.tasks.get(task["id"])
            if live is not None and not live.get("_killing"):
                self._record_health(live, index, check, ok, cause)

    def _probe(self, task: dict, check: dict) -> tuple[bool, str | None]:
        port = check.get("port") or task["ports"][check.get("portIndex", 0)]
        host = task["_agentIp"]
        timeout = max(check["timeoutSeconds"], 1)
        if check["protocol"] == "TCP":
            try:
                with socket.create_connection((host, port), timeout=timeout):
                    return True, None
            except OSError as ex:
                return False, str(ex)
        scheme = "https" if check["protocol"] == "HTTPS" else "http"
        try:
            answer = requests.get(f"{scheme}://{host}:{port}{check.get('path', '/')}", timeout=timeout, verify=False)
        except requests.RequestException as ex:
            return False, ex.__class__.__name__
        if 200 <= answer.status_code < 400 or (answer.status_code < 200 and check.get("ignoreHttp1xx")):
            return True, None
        return False, f"HTTP {answer.status_code}"

    def _record_health(self, task: dict, index: int, check: dict, ok: bool, cause: str | None) -> None:
        results = self.health.setdefault(task["id"], [])
        while len(results) <= index:
            results.append(None)
        result = results[index]
        was_alive = None if result is None else result.get("alive")
        stamp = now_iso(self.clock())
        if ok:
            result = result or {"firstSuccess": stamp, "lastFailure": None, "consecutiveFailures": 0}
            result.update(alive=True, consecutiveFailures=0, lastSuccess=stamp, lastFailureCause=None)
        else:
            started = _parse_iso(task["startedAt"])
            in_grace = self.clock() - started < check["gracePeriodSeconds"]
            if (result is None or not result.get("firstSuccess")) and in_grace:
                return  # failures before the first success are ignored during the grace period
            result = result or {"firstSuccess": None, "lastSuccess": None, "consecutiveFailures": 0}
            result.update(alive=False, lastFailure=stamp, lastFailureCause=cause)
            result["consecutiveFailures"] += 1
        result["instanceId"] = task["id"]
        results[index] = result
        if was_alive is not result["alive"]:
            self.events.publish(
                "health_status_changed_event",
                appId=task["appId"],
                instanceId=task["id"],
                taskId=task["id"],
                version=task["version"],
                alive=result["alive"],
            )
        limit = check["maxConsecutiveFailures"]
        if not ok:
            self.events.publish("failed_health_check_event", appId=task["appId"], taskId=task["id"],
                                instanceId=task["id"], healthCheck=check)  # fmt: skip
        if not ok and limit > 0 and result["consecutiveFailures"] >= limit:
            log.info("task %s failed %d health checks: killing it", task["id"], result["consecutiveFailures"])
            self.events.publish(
                "unhealthy_instance_kill_event",
                appId=task["appId"],
                taskId=task["id"],
                instanceId=task["id"],
                version=task["version"],
                reason=f"{result['consecutiveFailures']} consecutive health check failures: {cause}",
                host=task["host"],
                slaveId=task["slaveId"],
            )
            app = self.apps.get(task["appId"])
            if app is not None:
                self._back_off(app)
            self.last_failure[task["appId"]] = {
                "appId": task["appId"],
                "host": task["host"],
                "message": f"unhealthy: {cause}",
                "state": "TASK_KILLED",
                "taskId": task["id"],
                "timestamp": stamp,
                "version": task["version"],
                "slaveId": task["slaveId"],
            }
            self.kill_task(task)

    def health_state(self, task: dict) -> str | None:
        """'healthy' (≥1 result, all alive), 'unhealthy' (any result not alive) or None (no result)."""
        results = [r for r in self.health.get(task["id"], []) if r is not None]
        if not results:
            return None
        return "healthy" if all(r["alive"] for r in results) else "unhealthy"

    def is_ready(self, task: dict, app: dict) -> bool:
        """Counts toward a deployment: running, and alive in every health check it has."""
        if task["state"] != "TASK_RUNNING" or task.get("_killing"):
            return False
        checks = [c for c in self._task_checks(app, task) if c["protocol"] in ("HTTP", "HTTPS", "TCP")]
        if not checks:
            return True
        results = self.health.get(task["id"], [])
        return len(results) >= len(checks) and all(r is not None and r["alive"] for r in results[: len(checks)])

    # ----------------------------------------------------------------- convergence
    def converge(self, app: dict, replace_old: bool) -> bool:
        """Kill and launch toward the app's target; True once every task is new and ready.

        replace_old is a rolling upgrade: old-config tasks are killed only while the ready ones
        stay ≥ ceil(instances × minimumHealthCapacity), and no more than
        instances × (1 + maximumOverCapacity) tasks run at once (Marathon's TaskReplaceActor).
        """
        target = app["instances"]
        config = app["versionInfo"]["lastConfigChangeAt"]
        alive = [t for t in self.app_tasks(app["id"]) if not t.get("_killing")]
        old = [t for t in alive if replace_old and t["_configVersion"] != config]
        new = [t for t in alive if t not in old]
        ready = [t for t in new if self.is_ready(t, app)]
        youngest_first = app["killSelection"] == "YOUNGEST_FIRST"

        if len(new) > target:
            # Scale down: unready tasks first, then by killSelection.
            order = sorted(new, key=lambda t: t["stagedAt"], reverse=youngest_first)
            order.sort(key=lambda t: self.is_ready(t, app))
            for task in order[: len(new) - target]:
                self.kill_task(task)
                new.remove(task)
        strategy = app["upgradeStrategy"]
        min_healthy = math.ceil(target * strategy["minimumHealthCapacity"] - 1e-9)
        max_capacity = math.floor(target * (1 + strategy["maximumOverCapacity"]) + 1e-9)
        if old:
            can_kill = len(old) + len(ready) - min_healthy
            if can_kill <= 0 and len(old) + len(new) >= max_capacity and len(new) == len(ready):
                can_kill = 1  # no headroom at all: Marathon makes room by killing one old task
            old.sort(key=lambda t: t["stagedAt"], reverse=youngest_first)
            for task in old[: max(0, can_kill)]:
                self.kill_task(task)
            old = old[max(0, can_kill) :]
        room = target - len(new)
        if replace_old:
            room = min(room, max_capacity - len(old) - len(new))
        delay = self.backoff.get(app["id"])
        if room > 0 and not (delay and self.clock() < delay["until"]):
            for _ in range(room):
                if not self.launch(app):
                    break
        killing = any(t.get("_killing") for t in self.app_tasks(app["id"]))
        return not old and not killing and len(new) == target and len(ready) == target

    def advance_deployments(self) -> None:
        """Run each deployment's current step; a finished deployment disappears, like Marathon's."""
        for dep in sorted(self.deployments.values(), key=lambda d: d["version"]):
            while dep["currentStep"] <= dep["totalSteps"]:
                # Every action of the step runs each tick (a list, not all(): no short cut).
                done = [self._step_done(action) for action in dep["steps"][dep["currentStep"] - 1]["actions"]]
                if not all(done):
                    break
                self._deployment_event("deployment_step_success", dep, dep["currentStep"])
                dep["currentStep"] += 1
                if dep["currentStep"] <= dep["totalSteps"]:
                    dep["currentActions"] = self._current_actions(dep)
                    self._save_deployment(dep)
                    self._deployment_event("deployment_info", dep, dep["currentStep"])
            if dep["currentStep"] > dep["totalSteps"]:
                log.info("deployment %s finished", dep["id"])
                self._drop_deployment(dep["id"])
                self._deployment_event("deployment_success", dep)

    def _step_done(self, action: dict) -> bool:
        app_id = action["app"]
        if action["action"] == "StopApplication":
            for task in self.app_tasks(app_id):
                if not task.get("_killing"):
                    self.kill_task(task)
            return not self.app_tasks(app_id)
        app = self.apps.get(app_id)
        if app is None:
            return True
        if action["action"] == "StartApplication":
            return True
        return self.converge(app, replace_old=action["action"] == "RestartApplication")

    def _current_actions(self, dep: dict) -> list[dict]:
        step = dep["steps"][dep["currentStep"] - 1] if dep["currentStep"] <= dep["totalSteps"] else {"actions": []}
        return [dict(a, readinessCheckResults=[]) for a in step["actions"]]

    # ----------------------------------------------------------------- API operations
    def deployments_for(self, app_id: str) -> list[dict]:
        return [d for d in self.deployments.values() if app_id in d["affectedApps"]]

    def _check_lock(self, app_id: str, force: bool) -> None:
        """409 while a deployment holds the app; with force, cancel those deployments instead."""
        holding = self.deployments_for(app_id)
        if holding and not force:
            raise ApiError(
                409,
                {
                    "message": "App is locked by one or more deployments. Override with the option '?force=true'. "
                    f"View details at '/v2/deployments/{holding[0]['id']}'.",
                    "deployments": [{"id": d["id"]} for d in holding],
                },
            )
        for dep in holding:
            self._drop_deployment(dep["id"])
            self._deployment_event("deployment_failed", dep)

    def _start_deployment(self, app_id: str, actions: list[str], original: dict | None, version: str) -> dict:
        """A deployment of one app: its actions one step each."""
        return self._start_plan([[(action, app_id)] for action in actions], {app_id: original}, version)

    def _start_plan(self, steps: list[list[tuple[str, str]]], originals: dict[str, dict | None], version: str) -> dict:
        """A deployment: steps of (action, app id), run in order; originals: each app before it (None: new)."""
        dep = {
            "id": str(uuid.uuid4()),
            "version": version,
            "affectedApps": list(originals),
            "affectedPods": [],
            "steps": [{"actions": [{"action": a, "app": app} for a, app in step]} for step in steps],
            "currentStep": 1,
            "totalSteps": len(steps),
            "_originals": originals,
        }
        dep["currentActions"] = self._current_actions(dep)
        self._save_deployment(dep)
        if steps:  # a plan that changes nothing just succeeds (at the next tick)
            self._deployment_event("deployment_info", dep, 1)
        for app_id in originals:
            # A new deployment launches at once, like a new app version.
            self.backoff.pop(app_id, None)
        return dep

    def _store_new_version(self, app: dict, previous: dict | None, version: str, scaling_only: bool) -> dict:
        app = copy.deepcopy(app)
        app["version"] = version
        config_change = previous is None or not scaling_only
        app["versionInfo"] = {
            "lastScalingAt": version,
            "lastConfigChangeAt": version if config_change else previous["versionInfo"]["lastConfigChangeAt"],
        }
        self._save_app(app)
        return app

    def _api_post_event(self, client: dict | None, app: dict) -> None:
        """What Marathon publishes for an app the API created or changed, before its deployment."""
        if client is not None:
            self.events.publish("api_post_event", **client, appDefinition=self.app_info(app, embed_tasks=False))

    def create_app(self, body: Any, force: bool, client: dict | None = None) -> tuple[dict, dict]:
        """POST /v2/apps: the new app (as AppInfo) and its deployment; client: clientIp and uri of the request."""
        body = validation.validate(body)
        app = validation.with_defaults(validation.normalize(body))
        app.pop("version", None)
        app.pop("versionInfo", None)
        with self.lock:
            if app["id"] in self.apps:
                raise ApiError(409, {"message": f"An app with id [{app['id']}] already exists."})
            self._check_lock(app["id"], force)
            version = self._new_version()
            app = self._store_new_version(app, None, version, scaling_only=False)
            self._api_post_event(client, app)
            dep = self._start_deployment(app["id"], ["StartApplication", "ScaleApplication"], None, version)
            return self.app_info(app, embed_tasks=True), dep

    def update_app(
        self, app_id: str, body: Any, force: bool, partial: bool, client: dict | None = None
    ) -> tuple[int, dict]:
        """PUT /v2/apps/{id}: update, create (201) or roll back to a stored version."""
        app_id = validation.normalize_id(app_id)
        body = validation.validate(body, update=True)
        with self.lock:
            current = self.apps.get(app_id)
            if "version" in body:
                stored = self.store.get(self._versions_kind(app_id), body["version"])
                if stored is None:
                    raise ApiError(404, {"message": f"App '{app_id}' does not exist in version {body['version']}"})
                target = {k: v for k, v in stored.items() if k not in ("version", "versionInfo")}
            else:
                changes = validation.normalize({**body, "id": app_id})
                if current is not None and partial:
                    target = {**_config(current), "instances": current["instances"], **changes}
                else:
                    target = validation.with_defaults(changes)
                target.pop("version", None)
                target.pop("versionInfo", None)
                errors = validation.semantic_errors(target, update=False)
                if errors:
                    raise validation.Invalid(422, validation._details(errors))
            self._check_lock(app_id, force)
            version = self._new_version()
            if current is None:
                self._api_post_event(client, self._store_new_version(target, None, version, scaling_only=False))
                dep = self._start_deployment(app_id, ["StartApplication", "ScaleApplication"], None, version)
                return 201, {"version": version, "deploymentId": dep["id"]}
            scaling_only = _config(target) == _config(current)
            self._api_post_event(client, self._store_new_version(target, current, version, scaling_only))
            action = "ScaleApplication" if scaling_only else "RestartApplication"
            dep = self._start_deployment(app_id, [action], current, version)
            return 200, {"version": version, "deploymentId": dep["id"]}

    def _unlocked_app(self, app_id: str, force: bool) -> dict:
        """The app, when it exists and no deployment holds it (or ``force``); 404 / 409 otherwise."""
        current = self.apps.get(app_id)
        if current is None:
            raise app_not_found(app_id)
        self._check_lock(app_id, force)
        return current

    def delete_app(self, app_id: str, force: bool) -> dict:
        """DELETE /v2/apps/{id}: the app disappears at once; a deployment stops its tasks."""
        app_id = validation.normalize_id(app_id)
        with self.lock:
            current = self._unlocked_app(app_id, force)
            self._forget_app(app_id)
            version = self._new_version()
            dep = self._start_deployment(app_id, ["StopApplication"], current, version)
            return {"version": version, "deploymentId": dep["id"]}

    def _forget_app(self, app_id: str) -> None:
        """The app and its versions leave the store (its tasks go with the StopApplication step)."""
        self.apps.pop(app_id)
        self.store.delete("apps", app_id)
        for version in self.store.items(self._versions_kind(app_id)):
            self.store.delete(self._versions_kind(app_id), version)
        self.events.publish("app_terminated_event", appId=app_id)

    # ----------------------------------------------------------------- groups
    def group_exists(self, group_id: str) -> bool:
        return group_id == "/" or group_id in self.groups or any(groups.contains(group_id, a) for a in self.apps)

    def deploy_group(self, group_id: str, body: Any, force: bool, create: bool) -> dict:
        """POST (create) and PUT /v2/groups[/{id}]: the group becomes what the body says, in one deployment.

        A body with scaleBy scales every app in the group instead. The apps the body leaves out
        stop first, the new ones start, then each changed app scales or restarts in its own
        step, an app only once every app it depends on is ready (Marathon's DeploymentPlan).
        """
        if isinstance(body, dict) and "version" in body and set(body) <= {"id", "version"}:
            raise ApiError(422, {"message": "The lab stand-in keeps no group versions: roll back each app instead."})
        with self.lock:
            if create and self.group_exists(group_id):
                raise ApiError(409, {"message": f"Group {group_id} is already created. Use PUT to change this group."})
            if isinstance(body, dict) and "scaleBy" in body:
                return self._scale_group(group_id, body["scaleBy"], force)
            definition = groups.flatten(body, group_id)
            targets = {}
            for app_id, app in definition.apps.items():
                target = validation.with_defaults(validation.normalize(app))
                target.pop("version", None)
                target.pop("versionInfo", None)
                errors = validation.semantic_errors(target, update=False)
                if errors:
                    raise validation.Invalid(422, validation._details(errors))
                targets[app_id] = target
            removed = sorted(a for a in self.apps if groups.contains(group_id, a) and definition.removes(a, True))
            dropped = [g for g in self.groups if groups.contains(group_id, g) and definition.removes(g, False)]
            dependencies = {g: doc["dependencies"] for g, doc in self.groups.items() if g not in dropped}
            dependencies |= definition.groups
            dep = self._deploy(targets, removed, dependencies, force)
            for group in dropped:
                self.groups.pop(group)
                self.store.delete("groups", group)
            for group, needs in definition.groups.items():
                self.groups[group] = {"id": group, "dependencies": needs, "version": dep["version"]}
                self.store.put("groups", group, self.groups[group])
            return {"version": dep["version"], "deploymentId": dep["id"]}

    def _scale_group(self, group_id: str, factor: Any, force: bool) -> dict:
        if isinstance(factor, bool) or not isinstance(factor, int | float) or factor < 0:
            raise validation.Invalid(422, [{"path": "/scaleBy", "errors": ["must be a number of 0 or more"]}])
        if not self.group_exists(group_id):
            raise ApiError(404, {"message": f"Group '{group_id}' does not exist"})
        targets = {
            app_id: _config(app) | {"instances": math.ceil(app["instances"] * factor - 1e-9)}
            for app_id, app in self.apps.items()
            if groups.contains(group_id, app_id)
        }
        dep = self._deploy(targets, [], {g: doc["dependencies"] for g, doc in self.groups.items()}, force)
        return {"version": dep["version"], "deploymentId": dep["id"]}

    def delete_group(self, group_id: str, force: bool) -> dict:
        """DELETE /v2/groups[/{id}]: every app in the group stops in one deployment; the group goes."""
        with self.lock:
            if not self.group_exists(group_id):
                raise ApiError(404, {"message": f"Group '{group_id}' does not exist"})
            removed = sorted(a for a in self.apps if groups.contains(group_id, a))
            dep = self._deploy({}, removed, {}, force)
            for group in [g for g in self.groups if groups.contains(group_id, g)]:
                self.groups.pop(group)
                self.store.delete("groups", group)
            return {"version": dep["version"], "deploymentId": dep["id"]}

    def _deploy(
        self, targets: dict[str, dict], removed: list[str], dependencies: dict[str, list[str]], force: bool
    ) -> dict:
        """One deployment that stops ``removed`` and brings each app to its target, dependencies first."""
        after = {a: app for a, app in self.apps.items() if a not in removed} | targets
        depth = groups.depths(after, dependencies)
        actions = {}
        for app_id, target in targets.items():
            current = self.apps.get(app_id)
            if current is None or _config(target) != _config(current):
                actions[app_id] = "ScaleApplication" if current is None else "RestartApplication"
            elif target["instances"] != current["instances"]:
                actions[app_id] = "ScaleApplication"
        for app_id in [*removed, *actions]:
            self._check_lock(app_id, force)
        steps = [[("StopApplication", a) for a in removed]]
        steps.append([("StartApplication", a) for a in sorted(actions) if a not in self.apps])
        for level in sorted({depth[a] for a in actions}):
            steps.append([(actions[a], a) for a in sorted(actions) if depth[a] == level])
        originals = {a: self.apps.get(a) for a in [*removed, *actions]}
        version = self._new_version()
        for app_id in removed:
            self._forget_app(app_id)
        for app_id, action in actions.items():
            current = originals[app_id]
            self._store_new_version(
                targets[app_id], current, version, current is not None and action == "ScaleApplication"
            )
        return self._start_plan([step for step in steps if step], originals, version)

    def restart_app(self, app_id: str, force: bool) -> dict:
        """POST /v2/apps/{id}/restart: a new config version, so every task is replaced (rolling)."""
        app_id = validation.normalize_id(app_id)
        with self.lock:
            current = self._unlocked_app(app_id, force)
            version = self._new_version()
            self._store_new_version(_config(current) | {"instances": current["instances"]}, current, version, False)
            dep = self._start_deployment(app_id, ["RestartApplication"], current, version)
            return {"version": version, "deploymentId": dep["id"]}

    def cancel_deployment(self, dep_id: str, force: bool) -> dict | None:
        """DELETE /v2/deployments/{id}: revert (a new deployment back to the original), or with force just stop."""
        with self.lock:
            dep = self.deployments.get(dep_id)
            if dep is None:
                raise ApiError(404, {"message": f"DeploymentPlan {dep_id} does not exist"})
            self._drop_deployment(dep_id)
            self._deployment_event("deployment_failed", dep)
            if force:
                return None
            version = self._new_version()
            actions, originals = [], {}
            # ("_original": a deployment stored before deployments could span several apps.)
            originals_before = dep.get("_originals") or {dep["affectedApps"][0]: dep.get("_original")}
            for app_id, original in originals_before.items():
                if original is None:
                    # The deployment created the app: reverting removes it again.
                    self.apps.pop(app_id, None)
                    self.store.delete("apps", app_id)
                    actions.append(("StopApplication", app_id))
                    originals[app_id] = None
                else:
                    # The original version comes back as it was, so its tasks count as current again.
                    self._save_app(original)
                    actions.append(("RestartApplication", app_id))
                    originals[app_id] = original
            revert = self._start_plan([actions], originals, version)
            return {"version": version, "deploymentId": revert["id"]}

    def kill_app_task(self, app_id: str, task_id: str, scale: bool) -> dict:
        """DELETE /v2/apps/{id}/tasks/{taskId}[?scale=true]."""
        app_id = validation.normalize_id(app_id)
        with self.lock:
            app = self.apps.get(app_id)
            if app is None:
                raise app_not_found(app_id)
            task = self.tasks.get(task_id)
            if task is None or task["appId"] != app_id:
                raise ApiError(404, {"message": f"Task '{task_id}' does not exist"})
            info = self.task_info(task)
            self.kill_task(task)
            if not scale:
                return {"task": info}
            version = self._new_version()
            target = _config(app) | {"instances": max(0, app["instances"] - 1)}
            self._store_new_version(target, app, version, scaling_only=True)
            dep = self._start_deployment(app_id, ["ScaleApplication"], app, version)
            return {"version": version, "deploymentId": dep["id"]}

    def kill_tasks(self, task_ids: list[str], scale: bool, wipe: bool, force: bool) -> dict:
        """Kill tasks (DELETE /v2/apps/{id}/tasks, POST /v2/tasks/delete); with scale, lower their apps' instances.

        Unknown ids are skipped, as Marathon's. Scaling is one deployment for all the apps
        concerned; wipe (forget a resident task's reservation) is a plain kill here, since the
        stand-in has no persistent volumes.
        """
        if scale and wipe:
            raise ApiError(400, {"message": "You cannot use scale and wipe at the same time."})
        with self.lock:
            tasks = [self.tasks[task_id] for task_id in dict.fromkeys(task_ids) if task_id in self.tasks]
            infos = [self.task_info(task) for task in tasks]
            if not scale:
                for task in tasks:
                    self.kill_task(task)
                return {"tasks": infos}
            by_app: dict[str, list[dict]] = {}
            for task in tasks:
                by_app.setdefault(task["appId"], []).append(task)
            for app_id in by_app:
                self._check_lock(app_id, force)
            version = self._new_version()
            originals = {}
            for app_id, killed in by_app.items():
                app = self.apps[app_id]
                for task in killed:
                    self.kill_task(task)
                target = _config(app) | {"instances": max(0, app["instances"] - len(killed))}
                self._store_new_version(target, app, version, scaling_only=True)
                originals[app_id] = app
            dep = self._start_plan([[("ScaleApplication", app_id) for app_id in originals]], originals, version)
            return {"version": version, "deploymentId": dep["id"]}

    def queue(self) -> list[dict]:
        """GET /v2/queue: each app with instances still to launch, and its launch delay (backoff)."""
        now = self.clock()
        entries = []
        for app_id, app in sorted(self.apps.items()):
            waiting = app["instances"] - sum(1 for t in self.app_tasks(app_id) if not t.get("_killing"))
            if waiting <= 0:
                continue
            delay = self.backoff.get(app_id, {"until": 0.0})
            left = max(0.0, delay["until"] - now)
            entries.append(
                {
                    "count": waiting,
                    "delay": {"timeLeftSeconds": round(left), "overdue": left == 0},
                    "since": app["versionInfo"]["lastScalingAt"],
                    "app": shapes.app_definition(_public(app)),
                    "processedOffersSummary": {"processedOffersCount": 0, "unusedOffersCount": 0},
                }
            )
        return entries

    def reset_delay(self, app_id: str) -> bool:
        """DELETE /v2/queue/{id}/delay: the next launch is now. False when the app waits for nothing."""
        app_id = validation.normalize_id(app_id)
        if not any(entry["app"]["id"] == app_id for entry in self.queue()):
            return False
        self.backoff.pop(app_id, None)
        return True

    # ----------------------------------------------------------------- views
    def task_info(self, task: dict) -> dict:
        info = _public(task)
        results = [r for r in self.health.get(task["id"], []) if r is not None]
        if results:
            info["healthCheckResults"] = [dict(r) for r in results]
        return info

    def counts(self, app_id: str) -> dict:
        """tasksStaged/Running/Healthy/Unhealthy exactly as Marathon defines them."""
        tasks = self.app_tasks(app_id)
        # A task being killed has had SIGTERM: it no longer counts as serving, whatever its last check said.
        health = [self.health_state(t) for t in tasks if not t.get("_killing")]
        return {
            "tasksStaged": sum(1 for t in tasks if t["state"] in ("TASK_STAGING", "TASK_STARTING")),
            "tasksRunning": sum(1 for t in tasks if t["state"] == "TASK_RUNNING"),
            "tasksHealthy": health.count("healthy"),
            "tasksUnhealthy": health.count("unhealthy"),
        }

    def app_info(self, app: dict, embed_tasks: bool) -> dict:
        info = shapes.app_definition(copy.deepcopy(app)) | self.counts(app["id"])
        info["deployments"] = [{"id": d["id"]} for d in self.deployments_for(app["id"])]
        if embed_tasks:
            info["tasks"] = [self.task_info(t) for t in self.app_tasks(app["id"])]
        if app["id"] in self.last_failure:
            info["lastTaskFailure"] = self.last_failure[app["id"]]
        return info

    def deployment_info(self, dep: dict) -> dict:
        return _public(dep)

    def app_versions(self, app_id: str) -> list[str]:
        return sorted(self.store.items(self._versions_kind(app_id)), reverse=True)

    def app_version(self, app_id: str, version: str) -> dict | None:
        app = self.store.get(self._versions_kind(app_id), version)
        return None if app is None else shapes.app_definition(app)


def _parse_iso(stamp: str | None) -> float:
    if not stamp:
        return time.time()
    return datetime.datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=datetime.UTC).timestamp()
