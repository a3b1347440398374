"""The per-agent daemon: Mesos agent's /state, and a private JSON API that runs tasks in Docker.

Marathon's scheduler (scheduler.py) launches, kills and lists tasks here, at /standin/tasks*, where
a real agent would take them from the master over libprocess; each task is one container on the
local Docker engine, named after the task id and labelled with it and with this agent's id, so
that several agents may share one engine (in tests) and each sees only its own containers.

That private API is the stand-in's internal wire, and not open to the network: each agent draws a
random launch token at start, registers with it, and the master hands it only to registered
frameworks, in their offers. /standin/tasks* answers 401 to any request without
`Authorization: Bearer <token>`, whatever the flags. A launch wants, instead, the token the master
derives from it for the task's user (auth.user_token), given only to frameworks --acls lets run
tasks as that user: the master decides, as in Mesos, and the agent runs only what it authorized.

Mesos' authentication flags: --credential (a principal and secret) goes with every registration,
and a refusal is logged once and retried. --http_credentials with --authenticate_http_readonly /
--authenticate_http_readwrite put HTTP Basic on the endpoints of each realm, as the master does.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import pathlib
import pwd
import re
import secrets
import threading
import time
import uuid
from typing import Any

import requests

from . import MESOS_VERSION, auth, web
from .flags import flag_texts
from .store import MesosMasters

log = logging.getLogger(__name__)

LABEL_TASK = "standin.task-id"
LABEL_AGENT = "standin.agent-id"
LABEL_APP = "standin.app-id"
LABEL_VERSION = "standin.app-version"
LABEL_GRACE = "standin.kill-grace-seconds"
REGISTER_SECONDS = 2.0
# The realms of the agent's endpoints (src/slave/slave.cpp routes; /metrics/snapshot is libprocess').
READONLY_ENDPOINTS = {"/state", "/state.json", "/flags", "/monitor/statistics", "/containers", "/containerizer/debug",
                      "/metrics/snapshot"}  # fmt: skip
READWRITE_ENDPOINTS = {"/api/v1"}


def parse_resources(text: str) -> dict[str, Any]:
    """Mesos --resources 'cpus:2;mem:1536;ports:[31000-32000]' -> {"cpus": 2.0, ...}."""
    resources: dict[str, Any] = {"cpus": float(os.cpu_count() or 1), "mem": _memory_mb(), "disk": 10000.0}
    resources["ports"] = "[31000-32000]"
    for item in filter(None, (part.strip() for part in text.split(";"))):
        name, _, value = item.partition(":")
        resources[name.strip()] = value.strip() if value.strip().startswith("[") else float(value)
    return resources


def parse_attributes(text: str) -> dict[str, str]:
    """Mesos --attributes 'env:test;rack:a' -> {"env": "test", "rack": "a"}."""
    return {k.strip(): v.strip() for k, _, v in (p.partition(":") for p in text.split(";") if p.strip())}


def described(info: dict) -> dict:
    """An agent as the masters record it, from what it registers with (Agent.info)."""
    return {
        "id": info["id"],
        "hostname": info["hostname"],
        "ip": info["ip"],
        "port": int(info["port"]),
        "attributes": info.get("attributes", {}),
        "resources": info.get("resources", {}),
    }


def _memory_mb() -> float:
    """Memory to offer, as mesos-agent estimates it: all but 1 GB, or half below 2 GB.

    A lab node is a container standing for a VM: its memory limit (the lowest of its cgroup
    and their parents) is that VM's RAM, where /proc/meminfo shows the host's.
    """
    try:
        with open("/proc/meminfo") as meminfo:
            total = int(meminfo.readline().split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return 1024.0
    for limit_file in _memory_limit_files():
        try:
            limit = limit_file.read_text().strip()
        except OSError:
            continue
        if limit.isdigit():
            total = min(total, int(limit))
    total_mb = total // 2**20
    return float(total_mb - 1024 if total_mb >= 2048 else total_mb // 2)


def _memory_limit_files() -> list[pathlib.Path]:
    """The memory limits of this process' cgroup and its parents: cgroup v2 and v1 hierarchies."""
    files = []
    try:
        with open("/proc/self/cgroup") as cgroup:
            lines = cgroup.read().splitlines()
    except OSError:
        return files
    for line in lines:
        _, controllers, path = line.split(":", 2)
        if controllers == "":
            root, name = pathlib.Path("/sys/fs/cgroup"), "memory.max"
        elif "memory" in controllers.split(","):
            root, name = pathlib.Path("/sys/fs/cgroup/memory"), "memory.limit_in_bytes"
        else:
            continue
        cgroup_path = pathlib.PurePosixPath(path)
        files += [root / parent.relative_to("/") / name for parent in (cgroup_path, *cgroup_path.parents)]
    return files


def _marathon_time(docker_time: str) -> str | None:
    """Docker's 2024-01-02T03:04:05.123456789Z -> 2024-01-02T03:04:05.123Z."""
    match = re.match(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?Z", docker_time or "")
    if not match or match.group(1).startswith("0001"):
        return None
    millis = (match.group(2) or ".000")[1:4].ljust(3, "0")
    return f"{match.group(1)}.{millis}Z"


class Agent:
    """One stand-in agent: its description, its Docker engine and its registration loop."""

    def __init__(
        self,
        ip: str,
        hostname: str,
        port: int,
        attributes: dict[str, str],
        resources: dict[str, Any],
        masters: list[str] | None = None,
        zk: str | None = None,
        docker_client: Any = None,
        bind_ip: str | None = None,
        switch_user: bool = True,
        flags: dict[str, Any] | None = None,
        credential: tuple[str, str] | None = None,
        http_credentials: dict[str, str] | None = None,
    ) -> None:
        self.ip = ip
        self.hostname = hostname
        self.port = port
        self.bind_ip = bind_ip or ip
        self.attributes = attributes
        self.resources = resources
        self.masters = masters or []
        self.zk = zk
        self.switch_user = switch_user
        self.flags = flags or {}
        # Stable across restarts, so a re-registering agent is recognised with its tasks.
        self.id = f"{uuid.uuid5(uuid.NAMESPACE_DNS, hostname)}-S0"
        self._docker = docker_client
        self._masters = MesosMasters(zk or ",".join(self.masters))
        self._stop = threading.Event()
        self.master: str | None = None
        self.server: web.Server | None = None
        # Set while the master says this machine is down for maintenance: it runs nothing.
        self.machine_down = False
        # --credential: (principal, secret) sent with every registration.
        self.credential = credential
        self.launch_token = secrets.token_urlsafe(32)
        self.http_auth = auth.HttpAuthentication(
            "mesos-agent",
            self.flags,
            http_credentials,
            {"readonly": READONLY_ENDPOINTS, "readwrite": READWRITE_ENDPOINTS},
        )
        self._refusals = auth.RefusalLog(log)
        self.started_at = time.monotonic()

    @property
    def docker(self) -> Any:
        if self._docker is None:
            import docker  # imported late: the master never needs the Docker SDK

            self._docker = docker.from_env(timeout=120)
        return self._docker

    # ----------------------------------------------------------------- lifecycle
    def start(self) -> Agent:
        self.server = web.Server(self.bind_ip, self.port, self.handle).start()
        self.port = self.server.port
        threading.Thread(target=self._register_loop, name="standin-register", daemon=True).start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self.server:
            self.server.stop()
        self._masters.close()

    def info(self) -> dict:
        return {
            "id": self.id,
            "hostname": self.hostname,
            "ip": self.ip,
            "port": self.port,
            "attributes": self.attributes,
            "resources": self.resources,
        }

    def _register_loop(self) -> None:
        # Re-registering every few seconds is what makes a restarted or newly elected master
        # know this agent at once; the master's polls are the pings.
        headers = auth.basic(*self.credential) if self.credential else {}
        registration = {**self.info(), "launch_token": self.launch_token}
        while not self._stop.is_set():
            try:
                for address in self._masters.addresses():
                    try:
                        answer = requests.post(
                            f"http://{address}/standin/agents", json=registration, headers=headers, timeout=5
                        )
                    except requests.RequestException:
                        continue
                    if answer.status_code == 401:
                        # Mesos' agent exits on a refused authentication (its unit restarts it); this one retries.
                        self.master = None
                        self._refusals.refused(
                            f"master {address} refused the registration: {auth.refusal_message(answer)}"
                        )
                        break
                    if answer.ok and answer.json().get("shutdown"):
                        # Its machine is down for maintenance: Mesos shuts the agent and its tasks down.
                        self.machine_down = True
                        self._shut_down_tasks()
                        self.master = address
                        break
                    if answer.ok:
                        self.machine_down = False
                        self._refusals.accepted()
                        if self.master != address:
                            log.info("registered with master %s as %s", address, self.id)
                        self.master = address
                        break
            except Exception:
                log.exception("registration failed")
            self._stop.wait(REGISTER_SECONDS)

    def _shut_down_tasks(self) -> None:
        for task in self.list_tasks():
            if task["taskId"] and task["state"] in ("TASK_RUNNING", "TASK_STAGING"):
                log.warning("machine down for maintenance: killing task %s", task["taskId"])
                self.kill(task["taskId"])

    # ----------------------------------------------------------------- HTTP
    def handle(self, request: web.Request) -> web.Response:
        path = request.path.rstrip("/") or "/"
        launch: dict | None = None
        if request.method == "POST" and path == "/standin/tasks":
            try:
                launch = web.parse_json(request)
            except ValueError:
                launch = {}
            user = str(launch.get("user") or "") if isinstance(launch, dict) else ""
            if not auth.bearer_matches(request, auth.user_token(self.launch_token, user)):
                message = f"a launch token for tasks as user '{user}' is required"
                return web.Response(401, {"message": message}, {"WWW-Authenticate": "Bearer"})
        elif path == "/standin/tasks" or path.startswith("/standin/tasks/"):
            if not auth.bearer_matches(request, self.launch_token):
                return web.Response(
                    401, {"message": "the agent's launch token is required"}, {"WWW-Authenticate": "Bearer"}
                )
        else:
            endpoint = path[len("/slave(1)") :] if path.startswith("/slave(1)/") else path
            refused = self.http_auth.refusal(request, endpoint)
            if refused:
                return refused
        if request.method == "GET" and path in ("/state", "/state.json", "/slave(1)/state"):
            return web.Response(200, self.state())
        if path == "/standin/tasks":
            if request.method == "GET":
                return web.Response(200, {"tasks": self.list_tasks()})
            if launch is not None:
                return self.launch(launch)
        if path.startswith("/standin/tasks/") and request.method == "DELETE":
            found = self.kill(path.rsplit("/", 1)[1])
            return web.Response(200 if found else 404, {"killed": found})
        if path == "/health":
            return web.Response(200, None)
        if path == "/version":
            return web.Response(200, {"version": MESOS_VERSION, "build_user": "lab stand-in"})
        if path == "/flags":
            return web.Response(200, {"flags": self.state()["flags"]})
        if path == "/metrics/snapshot":
            return web.Response(
                200,
                {
                    "slave/registered": 1.0 if self.master else 0.0,
                    "slave/uptime_secs": round(time.monotonic() - self.started_at, 3),
                },
            )
        return web.Response(404, {"message": f"no such endpoint {request.method} {path}"})

    def state(self) -> dict:
        """The fields of Mesos' agent /state that our tools read."""
        flags = {
            "hostname": self.hostname,
            "ip": self.ip,
            "port": str(self.port),
            "attributes": ";".join(f"{k}:{v}" for k, v in self.attributes.items()),
            "resources": ";".join(f"{k}:{v}" for k, v in self.resources.items()),
            "containerizers": "docker,mesos",
            "master": ",".join(self.masters) or (self.zk or ""),
            **flag_texts(self.flags),
        }
        return {
            "id": self.id,
            "pid": f"slave(1)@{self.ip}:{self.port}",
            "hostname": self.hostname,
            "version": MESOS_VERSION,
            "attributes": self.attributes,
            "resources": self.resources,
            "flags": flags,
            "master_hostname": (self.master or "").split(":")[0],
        }

    # ----------------------------------------------------------------- Docker
    def _containers(self, **filters: str) -> list[Any]:
        labels = [f"{LABEL_AGENT}={self.id}"] + [f"{k}={v}" for k, v in filters.items()]
        return self.docker.containers.list(all=True, filters={"label": labels})

    def list_tasks(self) -> list[dict]:
        tasks = []
        for container in self._containers():
            state = container.attrs.get("State", {})
            status = state.get("Status", container.status)
            if status == "running":
                task_state = "TASK_RUNNING"
            elif status in ("created", "restarting"):
                task_state = "TASK_STAGING"
            else:
                task_state = "TASK_FINISHED" if state.get("ExitCode") == 0 else "TASK_FAILED"
            address = (container.attrs.get("NetworkSettings") or {}).get("IPAddress")
            tasks.append(
                {
                    "taskId": container.labels.get(LABEL_TASK),
                    "state": task_state,
                    "startedAt": _marathon_time(state.get("StartedAt", "")),
                    "message": f"exit code {state.get('ExitCode')}: {state.get('Error') or ''}".strip(": "),
                    "ipAddresses": [{"ipAddress": address, "protocol": "IPv4"}] if address else [],
                }
            )
        return tasks

    def _pull_login(self, image: str) -> dict[str, str] | None:
        """The login --docker_config holds for the image's registry (Mesos hands it to `docker pull`)."""
        try:
            auths = json.loads(self.flags.get("docker_config") or "{}").get("auths") or {}
            encoded = (auths.get(image.split("/", 1)[0]) or {}).get("auth")
            username, _, password = base64.b64decode(encoded).decode().partition(":") if encoded else ("", "", "")
        except (ValueError, AttributeError):
            log.error("--docker_config is not a Docker config (JSON with auths): pulling without a login")
            return None
        return {"username": username, "password": password} if username else None

    def _ensure_image(self, image: str, force_pull: bool) -> None:
        import docker.errors

        if not force_pull:
            try:
                self.docker.images.get(image)
                return
            except docker.errors.ImageNotFound:
                pass
        try:
            self.docker.images.pull(image, auth_config=self._pull_login(image))
        except docker.errors.APIError:
            # Like the docker containerizer with a cached image: a failed forced pull still runs it.
            self.docker.images.get(image)

    def launch(self, spec: dict) -> web.Response:
        """docker run the task: labels, env, port bindings, volumes, bridge networking."""
        import docker.errors

        if self.machine_down:
            return web.Response(503, {"message": "the agent's machine is down for maintenance"})

        user = spec.get("user")
        if self.switch_user and user:
            try:
                pwd.getpwnam(user)
            except KeyError:
                # What the agent answers when it cannot give the sandbox to the framework's user.
                message = (
                    "Failed to create executor directory: Failed to chown directory: "
                    f"Failed to get user information for '{user}'"
                )
                log.warning("task %s: %s", spec["taskId"], message)
                return web.Response(500, {"message": message})
        labels = {
            **spec.get("labels", {}),
            LABEL_TASK: spec["taskId"],
            LABEL_AGENT: self.id,
            LABEL_APP: spec["appId"],
            LABEL_VERSION: spec["version"],
            LABEL_GRACE: str(spec.get("killGracePeriodSeconds", 3)),
        }
        env = dict(spec.get("env", {}))
        kwargs: dict[str, Any] = {
            "name": spec["taskId"],
            "detach": True,
            "labels": labels,
            "environment": env,
            "network_mode": spec.get("network", "bridge"),
            "mem_limit": f"{max(int(spec.get('mem', 128)), 6)}m",
            "cpu_shares": max(int(float(spec.get("cpus", 1)) * 1024), 2),
        }
        if spec.get("cmd"):
            # Mesos' docker containerizer runs cmd through the shell, replacing the entrypoint.
            kwargs["entrypoint"] = ["/bin/sh", "-c"]
            kwargs["command"] = [spec["cmd"]]
        elif spec.get("args"):
            kwargs["command"] = spec["args"]
        if kwargs["network_mode"] == "bridge":
            ports: dict[str, int] = {}
            for binding in spec.get("portBindings", []):
                for protocol in binding.get("protocol", "tcp").split(","):
                    ports[f"{binding['containerPort']}/{protocol}"] = binding["hostPort"]
            kwargs["ports"] = ports
        volumes = {
            v["hostPath"]: {"bind": v["containerPath"], "mode": v.get("mode", "RW").lower()}
            for v in spec.get("volumes", [])
        }
        if volumes:
            kwargs["volumes"] = volumes
        self._apply_parameters(kwargs, spec.get("parameters", []))
        try:
            self._ensure_image(spec["image"], spec.get("forcePullImage", False))
            self.docker.containers.run(spec["image"], **kwargs)
        except docker.errors.DockerException as ex:
            log.warning("launch of %s failed: %s", spec["taskId"], ex)
            self.kill(spec["taskId"])
            return web.Response(500, {"message": str(ex)})
        return web.Response(201, {"taskId": spec["taskId"], "state": "TASK_STAGING"})

    @staticmethod
    def _apply_parameters(kwargs: dict[str, Any], parameters: list[dict]) -> None:
        """The docker run options of container.docker.parameters that the SDK maps directly."""
        for parameter in parameters:
            key, value = parameter["key"], parameter["value"]
            if key == "label":
                name, _, label_value = value.partition("=")
                kwargs["labels"][name] = label_value
            elif key == "env":
                name, _, env_value = value.partition("=")
                kwargs["environment"][name] = env_value
            elif key == "add-host":
                name, _, address = value.partition(":")
                kwargs.setdefault("extra_hosts", {})[name] = address
            elif key == "hostname":
                kwargs["hostname"] = value
            elif key == "log-driver":
                kwargs.setdefault("log_config", {"type": value, "config": {}})["type"] = value
            elif key == "log-opt":
                name, _, opt = value.partition("=")
                kwargs.setdefault("log_config", {"type": "json-file", "config": {}})["config"][name] = opt
            elif key == "user":
                kwargs["user"] = value
            elif key == "workdir":
                kwargs["working_dir"] = value
            elif key in ("cap-drop", "cap-add", "security-opt"):
                kwargs.setdefault(key.replace("-", "_"), []).append(value)
            elif key == "read-only":
                kwargs["read_only"] = value.lower() in ("true", "1", "")
            elif key == "tmpfs":
                path, _, options = value.partition(":")
                kwargs.setdefault("tmpfs", {})[path] = options
            else:
                log.warning("docker parameter %s is not supported by the stand-in; ignored", key)

    def kill(self, task_id: str) -> bool:
        """Stop (SIGTERM, then SIGKILL after the grace period) and remove the task's container."""
        import docker.errors

        containers = self._containers(**{LABEL_TASK: task_id})
        for container in containers:
            try:
                grace = int(container.labels.get(LABEL_GRACE, "3"))
                if container.status == "running":
                    container.stop(timeout=grace)
                container.remove(force=True)
            except docker.errors.NotFound:
                pass
        return bool(containers)
