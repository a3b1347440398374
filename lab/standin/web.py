"""HTTP for the stand-in's daemons: cheroot serves, Werkzeug parses; handlers see Request and return Response.

Both are Debian packages on the lab nodes (python3-cheroot, python3-werkzeug), maintained HTTP
code instead of the standard library's http.server: HTTP/1.1 keep-alive, chunked request bodies,
and streamed responses (Marathon's /v2/events) come from them.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from cheroot import wsgi
from werkzeug.wrappers import Request as WsgiRequest
from werkzeug.wrappers import Response as WsgiResponse

log = logging.getLogger(__name__)

# Worker threads per server: each open event stream holds one.
THREADS = 32


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    # The client's address, as Marathon's api_post_event and event_stream_attached report it.
    remote: str = ""

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
    # Sent as it is produced, without a length (server-sent events); Content-Type in headers.
    stream: Iterable[bytes] | None = None


Handler = Callable[[Request], Response]


def _wsgi_app(app: Handler) -> Callable:
    def application(environ: dict, start_response: Callable) -> Iterable[bytes]:
        incoming = WsgiRequest(environ)
        request = Request(
            method=incoming.method,
            path=incoming.path,
            query={key: incoming.args.getlist(key) for key in incoming.args},
            headers={key.lower(): value for key, value in incoming.headers.items()},
            body=incoming.get_data(),
            remote=incoming.remote_addr or "",
        )
        try:
            response = app(request)
        except Exception:
            log.exception("%s %s failed", request.method, incoming.full_path)
            response = Response(500, {"message": "internal error in the stand-in"})
        headers = dict(response.headers)
        if response.stream is not None:
            outgoing = WsgiResponse(response.stream, status=response.status, headers=headers, direct_passthrough=True)
        else:
            if response.raw is not None:
                payload, ctype = response.raw, headers.pop("Content-Type", "application/json")
            elif response.body is None:
                payload, ctype = b"", None
            elif isinstance(response.body, str):
                payload, ctype = response.body.encode(), "text/plain; charset=utf-8"
            else:
                payload, ctype = json.dumps(response.body).encode(), "application/json"
            outgoing = WsgiResponse(payload, status=response.status, headers=headers)
            if ctype:
                outgoing.headers["Content-Type"] = ctype
            else:
                outgoing.headers.pop("Content-Type", None)
        return outgoing(environ, start_response)

    return application


class Server:
    """A cheroot server on (host, port) running `app` in a background thread."""

    def __init__(self, host: str, port: int, app: Handler) -> None:
        self.httpd = wsgi.Server((host, port), _wsgi_app(app), numthreads=THREADS, server_name="standin")
        self.httpd.prepare()  # binds now: port 0 becomes the port chosen
        self.port = self.httpd.bind_addr[1]
        self.thread = threading.Thread(target=self.httpd.serve, name=f"http-{self.port}", daemon=True)

    def start(self) -> Server:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.stop()


def parse_json(request: Request) -> Any:
    """The request body as JSON; ValueError with the parser's message when it is not."""
    return json.loads(request.body.decode() or "null")
