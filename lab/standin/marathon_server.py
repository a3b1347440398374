"""Marathon: the v2 REST API, leader election in ZooKeeper, and the leader's scheduler.

Three run on mm1-mm3 under the vendor's unit with Marathon's flags (flags.py). The lowest
member under the --zk path leads; the others answer /ping, /v2/leader and /v2/info themselves
and forward the rest to the leader, as Marathon's LeaderProxyFilter does. The leader registers
with the leading mesos-master found through --master, as a framework, and schedules onto the
agents that master offers.

Where real Marathon fails, this fails too: a scheduler whose libprocess address is loopback
never registers with a remote master (libmesos refuses), so no task ever starts.

Authentication as Marathon's flags have it (auth.py): --http_credentials user:password puts HTTP
Basic on every path of every instance, /ping included, a non-leader checking before it forwards;
a value not of that form is only logged, and Marathon runs open, as 1.11 does. With
--mesos_authentication the registration carries the principal and secret; a master's refusal is
logged once and retried, and without its offers nothing is launched. So is a refusal of --acls
(register_frameworks). The registration names the users the tasks run as; the master's answer holds
a launch token per agent for each user it allows, and its TASK_ERROR message for each it refuses.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
import threading
import time
import urllib.parse
import uuid

import requests

from . import auth, web
from .events import EventBus
from .leadership import Elected
from .marathon import MarathonApi, info, ping
from .scheduler import Scheduler
from .store import MesosMasters, Store

log = logging.getLogger(__name__)

REGISTER_SECONDS = 1.0
LOOPBACK_REFUSAL = (
    "Scheduler driver bound to loopback interface! Cannot communicate with remote master(s). "
    "You might want to set 'LIBPROCESS_IP' environment variable to use a routable IP address."
)


def libprocess_ip(hostname: str, environ: dict[str, str]) -> str:
    """The address libprocess binds a scheduler to: LIBPROCESS_IP, else what the hostname resolves to."""
    if environ.get("LIBPROCESS_IP"):
        return environ["LIBPROCESS_IP"]
    try:
        return socket.gethostbyname(hostname)
    except OSError:
        return "127.0.0.1"


class MarathonServer(Elected):
    """One Marathon instance."""

    port_kind = "marathon"

    def __init__(
        self,
        store: Store,
        hostname: str,
        ip: str,
        master: str,
        port: int = 8080,
        bind_ip: str | None = None,
        mesos_user: str = "root",
        zk: str | None = None,
        framework_name: str = "marathon",
        draining_seconds: float | None = 0,
        http_credentials: str | None = None,
        mesos_credential: tuple[str, str] | None = None,
        principal: str | None = None,
    ) -> None:
        super().__init__(store, hostname, ip, port, bind_ip)
        self.master = master  # --master: zk://.../mesos or host:port[,host:port]
        self.mesos_user = mesos_user
        self.zk = zk
        self.framework_name = framework_name
        # --draining_seconds; None: --disable_maintenance_mode.
        self.draining_seconds = draining_seconds
        self.scheduler: Scheduler | None = None
        # Outlives leaderships: a stream attached to this Marathon hears every scheduler it runs.
        self.events = EventBus()
        self.framework_id = ""
        self.started_at = time.monotonic()
        self.elected_at: float | None = None
        self.marathon_api = MarathonApi(self)
        self._masters = MesosMasters(master)
        self._refused_logged = False
        try:
            # --http_credentials: (user, password), or None: open.
            self.http_credentials = auth.marathon_http_credentials(http_credentials)
        except ValueError as ex:
            log.error(ex)  # and Marathon 1.11 serves without authentication
            self.http_credentials = None
        # --mesos_authentication's (principal, secret), sent with every registration; None: not authenticating.
        self.mesos_credential = mesos_credential
        # --mesos_authentication_principal: the FrameworkInfo's principal, authenticating or not.
        self.principal = principal
        self._refusals = auth.RefusalLog(log)

    def start(self) -> MarathonServer:
        super().start()
        threading.Thread(target=self._register_loop, name="marathon-framework", daemon=True).start()
        return self

    def stop(self) -> None:
        self.events.close()
        super().stop()
        self._masters.close()

    def on_elected(self) -> None:
        framework = self.store.get("framework", "id") or {"id": f"{uuid.uuid4()}-0000"}
        self.store.put("framework", "id", framework)
        self.framework_id = framework["id"]
        self.elected_at = time.monotonic()
        self.scheduler = Scheduler(
            self.store, user=self.mesos_user, events=self.events, draining_seconds=self.draining_seconds
        )
        self.scheduler.start()

    def uptime_seconds(self) -> float:
        return time.monotonic() - self.started_at

    def leadership_seconds(self) -> float:
        return time.monotonic() - self.elected_at if self.leading and self.elected_at else 0.0

    def on_deposed(self) -> None:
        if self.scheduler is not None:
            self.scheduler.stop()
            self.scheduler = None

    def leader_marathon(self) -> str | None:
        """host:port of the leading Marathon, as /v2/leader names it."""
        if self.is_leader():
            return f"{self.hostname}:{self.port}"
        leader = self.store.leader()
        return leader["marathon_host"] if leader else None

    def _redirect_to_leader(self, request: web.Request) -> web.Response:
        """Marathon ≥ 1.7 sends an event stream's client to the leader instead of relaying it."""
        leader = self.leader_marathon()
        if not leader:
            return web.Response(503, {"message": "Could not determine the current leader"})
        query = urllib.parse.urlencode(request.query, doseq=True)
        location = f"http://{leader}{request.path}" + (f"?{query}" if query else "")
        return web.Response(307, None, {"Location": location})

    def mesos_url(self) -> str:
        return self.master

    # ----------------------------------------------------------------- Mesos
    def _register_loop(self) -> None:
        while not self._stop.wait(REGISTER_SECONDS):
            scheduler = self.scheduler
            if scheduler is None:
                continue
            try:
                self._register(scheduler)
            except Exception:
                log.exception("framework registration failed")

    def _register(self, scheduler: Scheduler) -> None:
        """Register with the leading master (again), report the tasks, take the agents it offers."""
        for address in self._masters.addresses():
            if _loopback(self.ip) and not _loopback(address.rsplit(":", 1)[0]):
                if not self._refused_logged:
                    log.error(LOOPBACK_REFUSAL)
                    self._refused_logged = True
                return
            body = {
                "id": self.framework_id,
                "name": self.framework_name,
                "user": self.mesos_user,
                "hostname": self.hostname,
                "webui_url": f"http://{self.hostname}:{self.port}",
                "tasks": scheduler.mesos_tasks(self.framework_id),
                "users": scheduler.task_users(),
                **({"principal": self.principal} if self.principal else {}),
            }
            headers = auth.basic(*self.mesos_credential) if self.mesos_credential else {}
            try:
                answer = self.http.post(f"http://{address}/standin/frameworks", json=body, headers=headers, timeout=5)
                if answer.status_code in (401, 403):
                    # Marathon's driver aborts (a refused authentication, or the master's error for a registration
                    # it does not authorize) and Marathon restarts; this retries.
                    self._refusals.refused(
                        f"mesos-master {address} refused the registration: {auth.refusal_message(answer)}"
                    )
                    return
                answer.raise_for_status()
            except requests.RequestException as ex:
                log.debug("mesos-master %s: %s", address, ex)
                continue
            if self._refusals.accepted():
                log.info("registered with mesos-master %s again", address)
            offer = answer.json()
            for slave in offer["slaves"]:
                scheduler.register_agent(
                    {
                        "id": slave["id"],
                        "hostname": slave["hostname"],
                        "ip": slave["pid"].rsplit("@", 1)[1].rsplit(":", 1)[0],
                        "port": slave["port"],
                        "attributes": slave["attributes"],
                        "resources": slave["resources"],
                        "unavailability": slave.get("unavailability"),
                        "launch_token": slave.get("launch_token"),
                        "user_tokens": slave.get("user_tokens"),
                    }
                )
            scheduler.refuse_users(offer.get("refused_users", {}))
            return

    # ----------------------------------------------------------------- HTTP
    def handle(self, request: web.Request) -> web.Response:
        if self.http_credentials and not auth.marathon_authenticated(request, *self.http_credentials):
            # Jetty's security handler answers before any of Marathon's filters: no leader header.
            return auth.marathon_unauthorized(request)
        path = request.path.rstrip("/") or "/"
        if path == "/ping":
            response = ping(request)
        elif path == "/v2/leader" and request.method == "DELETE" and self.is_leader():
            # Answered first, as Marathon does; the new leader takes over moments later.
            threading.Timer(0.2, self.abdicate).start()
            response = web.Response(200, {"message": "Leadership abdicated"})
        elif path == "/v2/leader" and request.method == "GET":
            leader = self.leader_marathon()
            if leader:
                response = web.Response(200, {"leader": leader})
            else:
                response = web.Response(404, {"message": "There is no leader"})
        elif path == "/v2/info" and request.method == "GET":
            response = web.Response(200, info(self))
        elif path == "/v2/events" and request.method == "GET":
            response = self.events.stream(request) if self.is_leader() else self._redirect_to_leader(request)
        elif self.is_leader() and self.scheduler is not None:
            response = self.marathon_api.handle(request)
        else:
            response = self.proxy(request)
        leader = self.leader_marathon()
        if leader:
            response.headers.setdefault("X-Marathon-Leader", f"http://{leader}")
        return response


def _loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"
