"""A client of Marathon's /v2/events (server-sent events), as marathon-lb and SSE libraries read it."""

from __future__ import annotations

import base64
import contextlib
import http.client
import json
import queue
import socket
import threading
import time
import urllib.parse

STREAM_SECONDS = 60


class EventStream:
    """
    A client of /v2/events reading in the background, as an SSE client library does. Like
    marathon-lb it follows one redirect (a non-leader's, to the leader), reaching the host it
    names through ``resolve`` (fqdn -> address; the tests' hosts have no DNS for the nodes).
    """

    def __init__(
        self, base: str, query: str = "", resolve: dict[str, str] | None = None, auth: tuple[str, str] | None = None
    ) -> None:
        self.redirects: list[str] = []
        self.auth = auth
        self._open(base, f"/v2/events{query}")
        if self.status in (301, 302, 307, 308):
            location = urllib.parse.urlsplit(self.headers["Location"])
            self.redirects.append(self.headers["Location"])
            self.connection.close()
            host = (resolve or {}).get(location.hostname, location.hostname)
            self._open(
                f"http://{host}:{location.port or 80}", location.path + (f"?{location.query}" * bool(location.query))
            )
        self.events: queue.Queue = queue.Queue()
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _open(self, base: str, target: str) -> None:
        host, port = base.removeprefix("http://").split(":")
        self.connection = http.client.HTTPConnection(host, int(port), timeout=30)
        headers = {"Accept": "text/event-stream", "Cache-Control": "no-cache"}
        if self.auth:
            headers["Authorization"] = "Basic " + base64.b64encode(":".join(self.auth).encode()).decode()
        self.connection.request("GET", target, headers=headers)
        self.response = self.connection.getresponse()
        self.status, self.headers = self.response.status, self.response.headers

    def _read(self) -> None:
        event_type, data = None, []
        try:
            for raw in self.response:
                line = raw.decode().rstrip("\r\n")
                if line.startswith("event: "):
                    event_type = line[len("event: ") :]
                elif line.startswith("data: "):
                    data.append(line[len("data: ") :])
                elif line == "" and data:
                    self.events.put((event_type, json.loads("\n".join(data))))
                    event_type, data = None, []
        except (OSError, ValueError, AttributeError, http.client.HTTPException):
            pass  # closed by the test

    def until(self, done, timeout: float = STREAM_SECONDS) -> list[tuple[str, dict]]:
        """Events read until ``done(type, event)`` holds for one; fails after ``timeout`` seconds."""
        seen: list[tuple[str, dict]] = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                event_type, event = self.events.get(timeout=max(0.1, deadline - time.monotonic()))
            except queue.Empty:
                break
            seen.append((event_type, event))
            if done(event_type, event):
                return seen
        raise AssertionError(f"not seen within {timeout} s; saw {[t for t, _ in seen]}")

    def close(self) -> None:
        # Shut the socket: a chunked response's close() would read on to the next heartbeat.
        with contextlib.suppress(OSError, AttributeError):
            self.connection.sock.shutdown(socket.SHUT_RDWR)
        self.thread.join(timeout=5)
        self.connection.close()
