"""
Users of the app through the VIP, for the lab tests and benchmarks that change or break the
platform under load: a browser, a health poller and note writers. Every loop is bounded in
requests and in time, and sends traffic only to the lab's VIP.
"""

from __future__ import annotations

import re
import threading
import time
import uuid

import requests

from .conftest import app_client

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


class Browser:
    """A user of one environment through the VIP, over HTTPS: cookies kept, CSRF tokens taken from each form.

    ``fresh_connections``: a new connection per request, as a browser would retry a request whose
    kept-alive connection nginx closed on a reload (this client would count it as failed)."""

    def __init__(self, env: str, fresh_connections: bool = False):
        self.session = app_client()
        if fresh_connections:
            self.session.headers["Connection"] = "close"
        self.site = f"https://app-{env}"

    def get(self, path: str, timeout: float = 5) -> requests.Response:
        return self.session.get(self.site + path, timeout=timeout)

    def submit(self, path: str, timeout: float = 5, **fields: str) -> requests.Response:
        token = CSRF.search(self.get(path, timeout=timeout).text).group(1)
        return self.session.post(self.site + path, data={"csrf_token": token, **fields}, timeout=timeout)


class SteadyLoad:
    """GET /health through the VIP in a loop until stopped: every answer that was not a 200."""

    def __init__(self, env: str, max_requests: int = 20000):
        self.env, self.failures, self.versions, self.count = env, [], set(), 0
        self.max_requests = max_requests
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self) -> None:
        while not self.stopped.is_set() and self.count < self.max_requests:
            # A connection per request (see Browser).
            try:
                with app_client() as client:
                    answer = client.get(f"https://app-{self.env}/health", timeout=5)
                if answer.status_code != 200:
                    self.failures.append(answer.status_code)
                self.versions.add(answer.headers.get("X-Notejam-Version"))
            except requests.RequestException as exc:
                self.failures.append(type(exc).__name__)
            self.count += 1
            time.sleep(0.02)

    def __enter__(self) -> SteadyLoad:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stopped.set()
        self.thread.join()


class NoteWriters:
    """
    One user per environment, signed up at the start, writing a note and reading its notes page in
    a loop until stopped (at most ``max_requests`` requests or ``max_seconds`` each): every
    request that failed, when, and the notes the app acknowledged. ``lost()`` afterwards names
    the acknowledged notes the app no longer lists.
    """

    def __init__(self, envs: list[str], max_requests: int = 5000, max_seconds: float = 900, pause: float = 0.05):
        self.envs, self.max_requests, self.max_seconds, self.pause = envs, max_requests, max_seconds, pause
        self.password = f"pw-{uuid.uuid4().hex[:12]}"
        self.emails = {env: f"load-{uuid.uuid4().hex[:10]}@example.org" for env in envs}
        self.browsers: dict[str, Browser] = {}
        self.failures: list[tuple[float, str, str]] = []  # (time.monotonic(), env, what)
        self.written: dict[str, list[str]] = {env: [] for env in envs}
        self.count = 0
        self.stopped = threading.Event()
        self.threads = [threading.Thread(target=self._write, args=(env,), daemon=True) for env in envs]

    def _sign_up(self, env: str) -> Browser:
        browser = Browser(env, fresh_connections=True)
        email = self.emails[env]
        browser.submit("/signup", email=email, password=self.password, confirm_password=self.password)
        answer = browser.submit("/signin", email=email, password=self.password)
        if answer.status_code != 200 or "Sign out" not in answer.text:
            raise RuntimeError(f"app-{env}: could not sign in a new user (HTTP {answer.status_code})")
        return browser

    def _write(self, env: str) -> None:
        browser, started, done = self.browsers[env], time.monotonic(), 0
        while not self.stopped.is_set() and done < self.max_requests and time.monotonic() - started < self.max_seconds:
            note = f"note {len(self.written[env])} {uuid.uuid4().hex[:8]}"
            try:
                answer = browser.submit("/notes/create", name=note, text="written under load", pad_id="")
                done += 2  # the form, then the post
                if answer.ok and note in answer.text:  # redirected to the list, which shows it
                    self.written[env].append(note)
                else:
                    self.failures.append((time.monotonic(), env, f"create: HTTP {answer.status_code}"))
            except (requests.RequestException, AttributeError) as exc:  # AttributeError: a form without a token
                done += 1
                self.failures.append((time.monotonic(), env, f"create: {type(exc).__name__}"))
            self.count += 1
            time.sleep(self.pause)

    def failed_between(self, start: float, end: float) -> int:
        return sum(1 for when, _, _ in self.failures if start <= when <= end)

    def lost(self) -> dict[str, list[str]]:
        """The acknowledged notes each environment's user no longer sees (read after stopping)."""
        missing = {}
        for env, browser in self.browsers.items():
            listed = browser.get("/", timeout=10).text
            missing[env] = [note for note in self.written[env] if note not in listed]
        return missing

    def __enter__(self) -> NoteWriters:
        self.browsers = {env: self._sign_up(env) for env in self.envs}
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stopped.set()
        for thread in self.threads:
            thread.join()
