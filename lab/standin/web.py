"""A small threaded JSON HTTP server shared by the master's and the agent's endpoints."""

from __future__ import annotations

import contextlib
import json
import logging
import socket
import threading
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

log = logging.getLogger(__name__)


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    def flag(self, name: str, default: bool) -> bool:
        """A boolean query parameter (?force=true); absent means `default`."""
        values = self.query.get(name)
        return default if not values else values[-1].lower() in ("true", "1", "")


@dataclass
class Response:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    # A str body is sent as text/plain; anything else but None as JSON.
    raw: bytes | None = None


Handler = Callable[[Request], Response]


class _RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "standin"
    app: Handler

    def _handle(self) -> None:
        parsed = urllib.parse.urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        request = Request(
            method=self.command,
            path=urllib.parse.unquote(parsed.path),
            query=urllib.parse.parse_qs(parsed.query, keep_blank_values=True),
            headers={k.lower(): v for k, v in self.headers.items()},
            body=body,
        )
        try:
            response = self.app(request)
        except Exception:
            log.exception("%s %s failed", self.command, self.path)
            response = Response(500, {"message": "internal error in the stand-in"})
        if response.raw is not None:
            payload, ctype = response.raw, response.headers.pop("Content-Type", "application/json")
        elif response.body is None:
            payload, ctype = b"", None
        elif isinstance(response.body, str):
            payload, ctype = response.body.encode(), "text/plain; charset=utf-8"
        else:
            payload, ctype = json.dumps(response.body).encode(), "application/json"
        self.send_response(response.status)
        for name, value in response.headers.items():
            self.send_header(name, value)
        if ctype:
            self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    def setup(self) -> None:
        super().setup()
        self.server.connections.add(self.connection)

    def finish(self) -> None:
        self.server.connections.discard(self.connection)
        super().finish()

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = _handle

    def log_message(self, fmt: str, *args: Any) -> None:
        log.debug("%s - " + fmt, self.address_string(), *args)


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, *args: Any) -> None:
        # Open keep-alive connections: closed on stop, or a stopped server's threads keep answering.
        self.connections: set[socket.socket] = set()
        super().__init__(*args)


class Server:
    """A ThreadingHTTPServer on (host, port) running `app` in a background thread."""

    def __init__(self, host: str, port: int, app: Handler) -> None:
        handler = type("BoundHandler", (_RequestHandler,), {"app": staticmethod(app)})
        self.httpd = _HTTPServer((host, port), handler)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, name=f"http-{port}", daemon=True)

    def start(self) -> Server:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        for connection in list(self.httpd.connections):
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)


def parse_json(request: Request) -> Any:
    """The request body as JSON; ValueError with the parser's message when it is not."""
    return json.loads(request.body.decode() or "null")
