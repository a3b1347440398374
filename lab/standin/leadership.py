"""What mesos-master and Marathon share: one HTTP port, a ZooKeeper election, forwarding to the leader."""

from __future__ import annotations

import logging
import threading
import urllib.parse

import requests

from . import web
from .store import Store

log = logging.getLogger(__name__)

LEADERSHIP_POLL_SECONDS = 0.5
# The client's credentials go along: the leader checks them again, as Mesos' and Marathon's leaders do.
PROXIED_HEADERS = ("content-type", "accept", "authorization")
RETURNED_HEADERS = ("Content-Type", "Location", "Marathon-Deployment-Id", "WWW-Authenticate")


class Elected:
    """A daemon of which several stand for election in one store; the lowest member leads."""

    port_kind = ""  # the key of this daemon's address in its member document

    def __init__(self, store: Store, hostname: str, ip: str, port: int, bind_ip: str | None) -> None:
        self.store = store
        self.hostname = hostname
        self.ip = ip
        self.port = port
        self.bind_ip = bind_ip or ip
        self.leading = False
        self._stop = threading.Event()
        self._leader_lock = threading.Lock()
        self._server: web.Server | None = None
        self.http = requests.Session()

    # Hooks for the daemons.
    def handle(self, request: web.Request) -> web.Response:
        raise NotImplementedError

    def on_elected(self) -> None:
        """Called once on winning the election."""

    def on_deposed(self) -> None:
        """Called once on losing the leadership, and on stopping while leading."""

    def start(self):
        self._server = web.Server(self.bind_ip, self.port, self.handle).start()
        self.port = self._server.port
        self.store.join_election(self.member())
        self._update_leadership()
        threading.Thread(target=self._leadership_loop, name=f"{self.port_kind}-leadership", daemon=True).start()
        return self

    def stop(self) -> None:
        """Stop serving and leading; the store keeps the state for the next leader."""
        self._stop.set()
        if self._server:
            self._server.stop()
        with self._leader_lock:
            if self.leading:
                self.leading = False
                self.on_deposed()
        self.store.close()

    def member(self) -> dict:
        return {
            "hostname": self.hostname,
            "ip": self.ip,
            self.port_kind: f"{self.ip}:{self.port}",
            f"{self.port_kind}_host": f"{self.hostname}:{self.port}",
        }

    def is_leader(self) -> bool:
        return self.leading

    def abdicate(self) -> None:
        """Give the leadership up (Marathon's DELETE /v2/leader): another candidate takes it over."""
        self.store.abdicate()
        self._update_leadership()

    def _leadership_loop(self) -> None:
        while not self._stop.wait(LEADERSHIP_POLL_SECONDS):
            try:
                self._update_leadership()
            except Exception:
                log.exception("leadership check failed")

    def _update_leadership(self) -> None:
        leading = self.store.is_leader()
        with self._leader_lock:
            if leading and not self.leading and not self._stop.is_set():
                log.info("%s is the leading %s now", self.hostname, self.port_kind)
                self.on_elected()
                self.leading = True
            elif not leading and self.leading:
                log.warning("%s lost the %s leadership", self.hostname, self.port_kind)
                self.leading = False
                self.on_deposed()

    def proxy(self, request: web.Request) -> web.Response:
        """Forward a request to the leader and hand back its answer (the caller has authenticated it)."""
        leader = self.store.leader()
        if not leader or leader.get(self.port_kind) == self.member()[self.port_kind]:
            return web.Response(503, {"message": "Could not determine the current leader"})
        query = urllib.parse.urlencode(request.query, doseq=True)
        url = f"http://{leader[self.port_kind]}{request.path}" + (f"?{query}" if query else "")
        headers = {k: v for k, v in request.headers.items() if k in PROXIED_HEADERS}
        via = f"1.1 {self.hostname}:{self.port}"
        if self.port_kind == "marathon":
            headers["X-Marathon-Via"] = via
        try:
            answer = self.http.request(request.method, url, data=request.body, headers=headers, timeout=60)
        except requests.RequestException as ex:
            return web.Response(503, {"message": f"Could not reach the current leader: {ex}"})
        kept = {k: answer.headers[k] for k in RETURNED_HEADERS if k in answer.headers}
        if self.port_kind == "marathon":
            kept["X-Marathon-Via"] = via
        return web.Response(answer.status_code, raw=answer.content, headers=kept)
