"""A master stand-in: Marathon's and Mesos' HTTP ports, leader election, the leader's scheduler.

Three of them run on mm1-mm3 with one ZooKeeper path; the lowest ephemeral sequential node
leads. Only the leader schedules; the others proxy API calls to it, as Marathon's
LeaderProxyFilter and Mesos' non-leading masters do.
"""

from __future__ import annotations

import logging
import threading
import urllib.parse
import uuid

import requests

from . import web
from .marathon import MarathonApi, info, ping
from .mesos import MesosApi
from .scheduler import Scheduler
from .store import Store

log = logging.getLogger(__name__)

LEADERSHIP_POLL_SECONDS = 0.5
# Answered by every master itself; everything else is the leader's business.
LOCAL_MARATHON_PATHS = ("/ping", "/v2/leader", "/v2/info")
PROXIED_HEADERS = ("content-type", "accept")
RETURNED_HEADERS = ("Content-Type", "Location", "Marathon-Deployment-Id")


class Master:
    """One master stand-in."""

    def __init__(
        self,
        store: Store,
        hostname: str,
        ip: str,
        marathon_port: int = 8080,
        mesos_port: int = 5050,
        bind_ip: str | None = None,
        zk: str | None = None,
    ) -> None:
        self.store = store
        self.hostname = hostname
        self.ip = ip
        self.bind_ip = bind_ip or ip
        self.marathon_port = marathon_port
        self.mesos_port = mesos_port
        self.zk = zk
        self.scheduler: Scheduler | None = None
        self.framework_id = ""
        self._stop = threading.Event()
        self._leader_lock = threading.Lock()
        self._servers: list[web.Server] = []
        self.marathon_api = MarathonApi(self)
        self.mesos_api = MesosApi(self)
        self.http = requests.Session()

    # ----------------------------------------------------------------- lifecycle
    def start(self) -> Master:
        marathon = web.Server(self.bind_ip, self.marathon_port, self.handle_marathon).start()
        mesos = web.Server(self.bind_ip, self.mesos_port, self.handle_mesos).start()
        self.marathon_port, self.mesos_port = marathon.port, mesos.port
        self._servers = [marathon, mesos]
        self.store.join_election(self.member())
        self._update_leadership()
        threading.Thread(target=self._leadership_loop, name="standin-leadership", daemon=True).start()
        return self

    def stop(self) -> None:
        """Stop serving and scheduling; the containers keep running, the store keeps the state."""
        self._stop.set()
        for server in self._servers:
            server.stop()
        with self._leader_lock:
            if self.scheduler is not None:
                self.scheduler.stop()
                self.scheduler = None
        self.store.close()

    def member(self) -> dict:
        return {
            "hostname": self.hostname,
            "ip": self.ip,
            "marathon": f"{self.ip}:{self.marathon_port}",
            "marathon_host": f"{self.hostname}:{self.marathon_port}",
            "mesos": f"{self.ip}:{self.mesos_port}",
        }

    def _leadership_loop(self) -> None:
        while not self._stop.wait(LEADERSHIP_POLL_SECONDS):
            try:
                self._update_leadership()
            except Exception:
                log.exception("leadership check failed")

    def _update_leadership(self) -> None:
        """Start the scheduler on winning the election, stop it on losing it."""
        leading = self.store.is_leader()
        with self._leader_lock:
            if leading and self.scheduler is None and not self._stop.is_set():
                log.info("%s is the leader now", self.hostname)
                framework = self.store.get("framework", "id") or {"id": f"{uuid.uuid4()}-0000"}
                self.store.put("framework", "id", framework)
                self.framework_id = framework["id"]
                scheduler = Scheduler(self.store)
                scheduler.start()
                self.scheduler = scheduler
            elif not leading and self.scheduler is not None:
                log.warning("%s lost the leadership", self.hostname)
                self.scheduler.stop()
                self.scheduler = None

    def is_leader(self) -> bool:
        return self.scheduler is not None

    def leader_marathon(self) -> str | None:
        """host:port of the leading Marathon, as /v2/leader names it."""
        if self.is_leader():
            return f"{self.hostname}:{self.marathon_port}"
        leader = self.store.leader()
        return leader["marathon_host"] if leader else None

    def mesos_url(self) -> str:
        return f"zk://{self.zk.split('://', 1)[1]}" if self.zk else f"{self.ip}:{self.mesos_port}"

    # ----------------------------------------------------------------- HTTP
    def handle_marathon(self, request: web.Request) -> web.Response:
        path = request.path.rstrip("/") or "/"
        if path == "/ping":
            response = ping(request)
        elif path == "/v2/leader" and request.method == "GET":
            leader = self.leader_marathon()
            if leader:
                response = web.Response(200, {"leader": leader})
            else:
                response = web.Response(404, {"message": "There is no leader"})
        elif path == "/v2/info" and request.method == "GET":
            response = web.Response(200, info(self))
        elif self.is_leader():
            response = self.marathon_api.handle(request)
        else:
            response = self._proxy(request, "marathon")
        leader = self.leader_marathon()
        if leader:
            response.headers.setdefault("X-Marathon-Leader", f"http://{leader}")
        return response

    def handle_mesos(self, request: web.Request) -> web.Response:
        if self.is_leader():
            return self.mesos_api.handle(request)
        return self._proxy(request, "mesos")

    def _proxy(self, request: web.Request, port_kind: str) -> web.Response:
        """Forward a request to the leader and hand back its answer."""
        leader = self.store.leader()
        if not leader or leader.get("ip") == self.ip and leader.get(port_kind) == self.member()[port_kind]:
            return web.Response(503, {"message": "Could not determine the current leader"})
        query = urllib.parse.urlencode(request.query, doseq=True)
        url = f"http://{leader[port_kind]}{request.path}" + (f"?{query}" if query else "")
        headers = {k: v for k, v in request.headers.items() if k in PROXIED_HEADERS}
        headers["X-Marathon-Via"] = f"1.1 {self.hostname}:{self.marathon_port}"
        try:
            answer = self.http.request(request.method, url, data=request.body, headers=headers, timeout=60)
        except requests.RequestException as ex:
            return web.Response(503, {"message": f"Could not reach the current leader: {ex}"})
        kept = {k: answer.headers[k] for k in RETURNED_HEADERS if k in answer.headers}
        kept["X-Marathon-Via"] = headers["X-Marathon-Via"]
        return web.Response(answer.status_code, raw=answer.content, headers=kept)
