"""Marathon's v2 REST API (apps, tasks, deployments, queue) with Marathon's status codes and bodies.

See ../shared/reference/marathon/rest-semantics.md; every answer here follows it. The leader
answers; a non-leader proxies to it (marathon_server.py), as Marathon's LeaderProxyFilter does.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from . import VERSION, groups, pages, validation, web
from .scheduler import ApiError, app_not_found
from .store import redacted

if TYPE_CHECKING:
    from .marathon_server import MarathonServer
    from .scheduler import Scheduler

APP_ROUTES = [
    (re.compile(r"^(?P<id>/.+)/versions/(?P<version>[^/]+)$"), "version"),
    (re.compile(r"^(?P<id>/.+)/versions$"), "versions"),
    (re.compile(r"^(?P<id>/.+)/restart$"), "restart"),
    (re.compile(r"^(?P<id>/.+)/tasks/(?P<task>[^/]+)$"), "task"),
    (re.compile(r"^(?P<id>/.+)/tasks$"), "tasks"),
    (re.compile(r"^(?P<id>/.+)$"), "app"),
]
EMBED_TASKS = {"apps.tasks", "app.tasks", "group.apps.tasks"}


def _deployment_created(status: int, body: dict, deployment_id: str) -> web.Response:
    return web.Response(status, body, {"Marathon-Deployment-Id": deployment_id})


class MarathonApi:
    """Request handler for the leader's Marathon port."""

    def __init__(self, server: MarathonServer) -> None:
        self.master = server

    @property
    def scheduler(self) -> Scheduler:
        """The leader's scheduler (the master only calls this API while it leads)."""
        return self.master.scheduler

    def handle(self, request: web.Request) -> web.Response:
        try:
            return self._route(request)
        except ApiError as ex:
            return web.Response(ex.status, ex.body)
        except validation.Invalid as ex:
            return web.Response(ex.status, ex.body())
        except ValueError as ex:
            return web.Response(400, {"message": "Invalid JSON", "details": str(ex)})

    def _route(self, request: web.Request) -> web.Response:
        path, method = request.path.rstrip("/") or "/", request.method
        if path in ("/", "/ui") and method == "GET":
            scheduler = self.scheduler
            with scheduler.lock:
                apps = [scheduler.app_info(app, embed_tasks=False) for app in scheduler.apps.values()]
                deployments = [scheduler.deployment_info(d) for d in scheduler.deployments.values()]
            page = pages.marathon(apps, deployments, self.master.leader_marathon())
            return web.Response(200, raw=page.encode(), headers={"Content-Type": pages.HTML})
        if path == "/v2/apps":
            if method == "GET":
                return self.list_apps(request)
            if method == "POST":
                info, dep = self.scheduler.create_app(
                    web.parse_json(request), request.flag("force", False), _client(request)
                )
                response = _deployment_created(201, info, dep["id"])
                response.headers["Location"] = info["id"]
                return response
        elif path.startswith("/v2/apps/"):
            return self._app_route(request, path[len("/v2/apps") :])
        elif path == "/v2/deployments" and method == "GET":
            with self.scheduler.lock:
                deployments = [self.scheduler.deployment_info(d) for d in self.scheduler.deployments.values()]
            return web.Response(200, deployments)
        elif path.startswith("/v2/deployments/") and method == "DELETE":
            result = self.scheduler.cancel_deployment(path.rsplit("/", 1)[1], request.flag("force", False))
            if result is None:
                return web.Response(202, None)
            return _deployment_created(200, result, result["deploymentId"])
        elif path == "/v2/tasks" and method == "GET":
            with self.scheduler.lock:
                tasks = [self.scheduler.task_info(t) for t in self.scheduler.tasks.values()]
            return web.Response(200, {"tasks": tasks})
        elif path == "/v2/tasks/delete" and method == "POST":
            body = web.parse_json(request)
            if not isinstance(body, dict) or not isinstance(body.get("ids"), list):
                return web.Response(
                    400, {"message": "Invalid JSON", "details": [{"path": "/ids", "errors": ["error.path.missing"]}]}
                )
            return self._killed(self.scheduler.kill_tasks([str(i) for i in body["ids"]], *self._kill_flags(request)))
        elif path == "/v2/groups" or path.startswith("/v2/groups/"):
            return self._group_route(request, path[len("/v2/groups") :] or "/")
        elif path == "/metrics" and method == "GET":
            with self.scheduler.lock:
                return web.Response(200, metrics(self.master, self.scheduler))
        elif path == "/v2/queue" and method == "GET":
            with self.scheduler.lock:
                return web.Response(200, {"queue": self.scheduler.queue()})
        elif path.startswith("/v2/queue/") and path.endswith("/delay") and method == "DELETE":
            app_id = path[len("/v2/queue") : -len("/delay")]
            with self.scheduler.lock:
                if self.scheduler.reset_delay(app_id):
                    return web.Response(204, None)
            return web.Response(
                404, {"message": f"Application {validation.normalize_id(app_id)} not found in tasks queue."}
            )
        return web.Response(404, {"message": f"No endpoint {method} {path}"})

    def _app_route(self, request: web.Request, rest: str) -> web.Response:
        method = request.method
        kind, match = next((k, m) for p, k in APP_ROUTES if (m := p.match(rest)))
        app_id = validation.normalize_id(match["id"])
        scheduler = self.scheduler
        force = request.flag("force", False)
        if kind == "app" and method == "GET":
            with scheduler.lock:
                app = scheduler.apps.get(app_id)
                if app is None:
                    raise app_not_found(app_id)
                return web.Response(200, {"app": scheduler.app_info(app, embed_tasks=True)})
        if kind == "app" and method in ("PUT", "PATCH"):
            if method == "PATCH" and app_id not in scheduler.apps:
                raise app_not_found(app_id)
            partial = True if method == "PATCH" else request.flag("partialUpdate", True)
            status, body = scheduler.update_app(app_id, web.parse_json(request), force, partial, _client(request))
            return _deployment_created(status, body, body["deploymentId"])
        if kind == "app" and method == "DELETE":
            body = scheduler.delete_app(app_id, request.flag("force", True))
            return _deployment_created(200, body, body["deploymentId"])
        if kind == "restart" and method == "POST":
            body = scheduler.restart_app(app_id, force)
            return _deployment_created(200, body, body["deploymentId"])
        if kind == "versions" and method == "GET":
            if app_id not in scheduler.apps:
                raise app_not_found(app_id)
            return web.Response(200, {"versions": scheduler.app_versions(app_id)})
        if kind == "version" and method == "GET":
            app = scheduler.app_version(app_id, match["version"])
            if app is None:
                raise ApiError(404, {"message": f"App '{app_id}' does not exist in version {match['version']}"})
            return web.Response(200, app)
        if kind == "tasks" and method == "GET":
            with scheduler.lock:
                if app_id not in scheduler.apps:
                    raise app_not_found(app_id)
                return web.Response(200, {"tasks": [scheduler.task_info(t) for t in scheduler.app_tasks(app_id)]})
        if kind == "tasks" and method == "DELETE":
            with scheduler.lock:
                if app_id not in scheduler.apps:
                    raise app_not_found(app_id)
                host = (request.query.get("host") or ["*"])[-1]
                ids = [t["id"] for t in scheduler.app_tasks(app_id) if host in ("*", t["host"])]
                return self._killed(scheduler.kill_tasks(ids, *self._kill_flags(request)))
        if kind == "task" and method == "DELETE":
            body = scheduler.kill_app_task(app_id, match["task"], request.flag("scale", False))
            if "deploymentId" in body:
                return _deployment_created(200, body, body["deploymentId"])
            return web.Response(200, body)
        return web.Response(405, {"message": f"Method {method} not allowed here"})

    @staticmethod
    def _kill_flags(request: web.Request) -> tuple[bool, bool, bool]:
        return request.flag("scale", False), request.flag("wipe", False), request.flag("force", False)

    @staticmethod
    def _killed(body: dict) -> web.Response:
        """The killed tasks, or with scale the deployment that lowers the instances."""
        if "deploymentId" in body:
            return _deployment_created(200, body, body["deploymentId"])
        return web.Response(200, body)

    def _group_route(self, request: web.Request, group_id: str) -> web.Response:
        """GET, POST (create), PUT (change) and DELETE /v2/groups[/{id}]."""
        group_id = validation.normalize_id(group_id) if group_id != "/" else "/"
        method, force = request.method, request.flag("force", False)
        if method == "GET":
            return self.get_group(request, group_id)
        if method == "DELETE":
            body = self.scheduler.delete_group(group_id, force)
            return _deployment_created(200, body, body["deploymentId"])
        if method not in ("POST", "PUT"):
            return web.Response(405, {"message": f"Method {method} not allowed here"})
        body = web.parse_json(request)
        if isinstance(body, dict) and isinstance(body.get("id"), str):
            # POST /v2/groups/{id} creates the body's group inside {id}; PUT names the group itself.
            group_id = groups.resolve(body["id"], group_id if method == "POST" else groups.parent(group_id))
        elif method == "POST" and group_id == "/":
            raise validation.Invalid(400, [{"path": "/id", "errors": ["error.path.missing"]}])
        result = self.scheduler.deploy_group(group_id, body, force, create=method == "POST")
        response = _deployment_created(201 if method == "POST" else 200, result, result["deploymentId"])
        if method == "POST":
            response.headers["Location"] = group_id
        return response

    def get_group(self, request: web.Request, group_id: str) -> web.Response:
        """GET /v2/groups[/{id}]: the group tree of the app ids and the groups created through the API.

        Embeds as Marathon's: apps and subgroups by default, tasks with group.apps.tasks.
        """
        embed = set(request.query.get("embed", [])) or {"group.groups", "group.apps"}
        scheduler = self.scheduler
        with scheduler.lock:
            if not scheduler.group_exists(group_id):
                return web.Response(404, {"message": f"Group '{group_id}' does not exist"})
            apps = {
                app_id: scheduler.app_info(app, embed_tasks="group.apps.tasks" in embed)
                for app_id, app in scheduler.apps.items()
                if groups.contains(group_id, app_id)
            }
            stored = {g: doc for g, doc in scheduler.groups.items() if groups.contains(group_id, g)}
        return web.Response(200, groups.tree(group_id, apps, stored, embed))

    def list_apps(self, request: web.Request) -> web.Response:
        """GET /v2/apps[?id=<substring>][&embed=apps.tasks]."""
        embed = bool(EMBED_TASKS & set(request.query.get("embed", [])))
        wanted = (request.query.get("id") or [""])[-1]
        with self.scheduler.lock:
            apps = [
                self.scheduler.app_info(app, embed_tasks=embed)
                for app_id, app in sorted(self.scheduler.apps.items())
                if wanted in app_id
            ]
        return web.Response(200, {"apps": apps})


def metrics(master: MarathonServer, scheduler: Scheduler) -> dict:
    """GET /metrics: Marathon 1.11's Dropwizard JSON, with the gauges operators graph."""
    tasks = list(scheduler.tasks.values())

    def gauge(value: float) -> dict:
        return {"value": value}

    return {
        "version": "4.0.0",
        "gauges": {
            "marathon.apps.active.gauge": gauge(len(scheduler.apps)),
            "marathon.deployments.active.gauge": gauge(len(scheduler.deployments)),
            "marathon.instances.running.gauge": gauge(sum(t["state"] == "TASK_RUNNING" for t in tasks)),
            "marathon.instances.staged.gauge": gauge(sum(t["state"] == "TASK_STAGING" for t in tasks)),
            "marathon.instances.launch-overdue.gauge": gauge(sum(e["count"] for e in scheduler.queue())),
            "marathon.leadership.duration.gauge.seconds": gauge(round(master.leadership_seconds())),
            "marathon.uptime.gauge.seconds": gauge(round(master.uptime_seconds())),
        },
        "counters": {},
        "histograms": {},
        "meters": {},
        "timers": {},
    }


def _client(request: web.Request) -> dict:
    """Who asked, as Marathon's api_post_event names them."""
    return {"clientIp": request.remote, "uri": request.path}


def ping(request: web.Request) -> web.Response:
    """GET /ping: "pong" as text, or as JSON when asked for, or 204 when neither is acceptable."""
    accept = request.headers.get("accept", "*/*")
    if "text/plain" in accept or "*/*" in accept or "text/*" in accept:
        return web.Response(200, "pong")
    if "application/json" in accept:
        return web.Response(200, raw=b'"pong"', headers={"Content-Type": "application/json"})
    return web.Response(204, None)


def info(master: MarathonServer) -> dict:
    """GET /v2/info."""
    leader = master.leader_marathon()
    return {
        "name": "marathon",
        "version": VERSION,
        "buildref": "standin",
        "elected": master.is_leader(),
        "leader": leader,
        "frameworkId": master.framework_id,
        "marathon_config": {
            "hostname": master.hostname,
            "master": redacted(master.mesos_url()),
            "mesos_role": None,
            "mesos_user": master.mesos_user,
            "task_launch_timeout": 300000,
        },
        # Marathon's InfoResource shows both URLs redacted: zk://xxxxxxxx:xxxxxxxx@hosts/path.
        "zookeeper_config": {"zk": redacted(master.zk or ""), "zk_timeout": 10000},
        "http_config": {"http_port": master.port, "https_port": 8443},
    }
