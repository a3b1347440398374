"""The image's command (salt/app/image/serve): on SIGTERM it serves on for the drain, then stops gunicorn."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time

from .conftest import IMAGE_DIR

# Stands in for gunicorn on PATH: accepts connections on PORT until SIGTERM, then exits 0.
FAKE_GUNICORN = """#!{python}
import os, signal, socket, sys
server = socket.create_server(("127.0.0.1", int(os.environ["PORT"])))
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
while True:
    server.accept()[0].close()
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def accepts(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False


def test_sigterm_keeps_serving_for_the_drain_then_stops_gunicorn(tmp_path):
    fake = tmp_path / "gunicorn"
    fake.write_text(FAKE_GUNICORN.format(python=sys.executable))
    fake.chmod(0o755)
    port = free_port()
    env = dict(os.environ, PATH=f"{tmp_path}:{os.environ['PATH']}", PORT=str(port), NOTEJAM_DRAIN_SECONDS="2")
    serve = subprocess.Popen([str(IMAGE_DIR / "serve")], env=env)
    try:
        deadline = time.monotonic() + 10
        while not accepts(port):
            assert time.monotonic() < deadline, "the server never listened"
            time.sleep(0.1)
        serve.send_signal(signal.SIGTERM)
        signalled = time.monotonic()
        time.sleep(1)
        assert accepts(port), "stopped serving during the drain"
        serve.send_signal(signal.SIGTERM)  # a retried kill: the drain goes on, it does not restart
        assert serve.wait(timeout=10) == 0
        assert 2 <= time.monotonic() - signalled < 2.8
        assert not accepts(port)
    finally:
        serve.kill()
