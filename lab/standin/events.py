"""Marathon's event bus and its server-sent event stream, GET /v2/events.

The leader publishes what Marathon 1.11 publishes (deployment_info, deployment_success,
deployment_failed, status_update_event, health_status_changed_event, api_post_event) and each
subscriber gets every event from when it attached, first `event_stream_attached`. Clients filter
with ?event_type=<type> (repeatable), as Marathon's. Since 1.8 Marathon sends only "light" events
(a deployment's plan without its original and target groups), and a non-leader redirects the
stream to the leader (marathon_server.py). Callback subscriptions (/v2/eventSubscriptions) were
removed in Marathon 1.5; the stream is what marathon-lb and Traefik follow.
"""

from __future__ import annotations

import datetime
import json
import queue
import threading
from collections.abc import Iterator

from . import web

# Events waiting for a slow subscriber: past this it is dropped (Marathon drops slow consumers too).
BACKLOG = 1000
# A comment line this often: a closed client is noticed (the write fails) and proxies keep the line open.
HEARTBEAT_SECONDS = 10.0


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


class EventBus:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._subscribers: set[queue.Queue] = set()
        self.closed = threading.Event()

    def publish(self, event_type: str, **fields) -> dict:
        event = {"eventType": event_type, "timestamp": _now(), **fields}
        with self._lock:
            for subscriber in list(self._subscribers):
                try:
                    subscriber.put_nowait(event)
                except queue.Full:
                    self._subscribers.discard(subscriber)
                    subscriber.put(None)  # ends that stream; the client reconnects
        return event

    def subscribe(self) -> queue.Queue:
        subscriber: queue.Queue = queue.Queue(maxsize=BACKLOG)
        with self._lock:
            self._subscribers.add(subscriber)
        return subscriber

    def unsubscribe(self, subscriber: queue.Queue) -> None:
        with self._lock:
            self._subscribers.discard(subscriber)

    def close(self) -> None:
        """Stopping: every open stream ends."""
        self.closed.set()
        with self._lock:
            for subscriber in self._subscribers:
                subscriber.put(None)
            self._subscribers.clear()

    def stream(self, request: web.Request) -> web.Response:
        """GET /v2/events: text/event-stream, and 405 for a client that does not ask for it."""
        if "text/event-stream" not in request.headers.get("accept", ""):
            return web.Response(405, {"message": "GET /v2/events needs Accept: text/event-stream"})
        wanted = set(request.query.get("event_type", []))
        subscriber = self.subscribe()
        attached = {"remoteAddress": request.remote, "eventType": "event_stream_attached", "timestamp": _now()}
        headers = {"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}
        return web.Response(200, headers=headers, stream=self._events(subscriber, attached, wanted))

    def _events(self, subscriber: queue.Queue, attached: dict, wanted: set[str]) -> Iterator[bytes]:
        try:
            if wanted and attached["eventType"] not in wanted:
                yield b":\n\n"  # the headers go out now, not with the first event asked for
            event: dict | None = attached
            while event is not None and not self.closed.is_set():
                if not wanted or event["eventType"] in wanted:
                    yield f"event: {event['eventType']}\ndata: {json.dumps(event)}\n\n".encode()
                event = yield from self._next(subscriber)
        finally:
            self.unsubscribe(subscriber)

    def _next(self, subscriber: queue.Queue) -> Iterator[bytes]:
        """The next event (None: the stream ends), with a heartbeat comment while there is none."""
        while not self.closed.is_set():
            try:
                return subscriber.get(timeout=HEARTBEAT_SECONDS)
            except queue.Empty:
                yield b":\n\n"
        return None
