"""Fixtures for the Notejam app: an app on a fresh sqlite file, and browsers that fill in its forms."""

from __future__ import annotations

import re
import sqlite3
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

# The app is a package inside the Docker image's build context, not an installed distribution.
IMAGE_DIR = Path(__file__).resolve().parents[2] / "salt" / "app" / "image"
if str(IMAGE_DIR) not in sys.path:
    sys.path.insert(0, str(IMAGE_DIR))

from flask import Flask  # noqa: E402
from flask.testing import FlaskClient  # noqa: E402
from notejam import auth, create_app  # noqa: E402

SECRET = "test-secret-key"
VERSION = "1.2.3-test"
PASSWORD = "correct horse battery staple"
CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


def app_config(db_path: Path, **overrides: Any) -> dict[str, Any]:
    return {
        "TESTING": True,
        "NOTEJAM_ENV": "test",
        "NOTEJAM_DB": str(db_path),
        "NOTEJAM_SECRET_KEY": SECRET,
        "NOTEJAM_VERSION": VERSION,
        # The test client speaks plain HTTP, which would not carry a Secure cookie back.
        "SESSION_COOKIE_SECURE": False,
        **overrides,
    }


class Browser:
    """A test client used the way a person uses the site: forms are posted with the token their page carries."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client

    def get(self, url: str, **kwargs: Any) -> Any:
        return self.client.get(url, **kwargs)

    def page(self, url: str) -> str:
        response = self.client.get(url)
        assert response.status_code == 200, f"GET {url}: {response.status_code}"
        return response.get_data(as_text=True)

    def csrf_token(self, page_url: str) -> str:
        match = CSRF_FIELD.search(self.page(page_url))
        assert match, f"no CSRF field on {page_url}"
        return match.group(1)

    def submit(self, url: str, data: dict[str, Any] | None = None, *, form_page: str | None = None) -> Any:
        """POST `data` to `url` with the CSRF token of `form_page` (by default the form at `url` itself)."""
        token = self.csrf_token(form_page or url)
        return self.client.post(url, data={**(data or {}), "csrf_token": token})

    def sign_up(self, email: str, password: str = PASSWORD) -> Any:
        data = {"email": email, "password": password, "confirm_password": password}
        return self.submit("/signup", data)

    def sign_in(self, email: str, password: str = PASSWORD) -> Any:
        return self.submit("/signin", {"email": email, "password": password})

    def create_pad(self, name: str) -> int:
        response = self.submit("/pads/create", {"name": name})
        return int(re.search(r"/pads/(\d+)$", response.headers["Location"]).group(1))

    def create_note(self, name: str, text: str = "Some text", pad_id: int | None = None) -> int:
        response = self.submit("/notes/create", {"name": name, "text": text, "pad_id": pad_id or ""})
        return int(re.search(r"/notes/(\d+)$", response.headers["Location"]).group(1))

    def note_names(self, list_url: str) -> list[str]:
        """The note names a list page shows, top to bottom."""
        return re.findall(r'class="note-link"[^>]*>([^<]*)<', self.page(list_url))


@pytest.fixture(autouse=True)
def cheap_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """The same hash method with far fewer rounds: every signed-in test user costs two hashes."""
    monkeypatch.setattr(auth, "PASSWORD_HASH_METHOD", "pbkdf2:sha256:1000")


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "db" / "notejam-test.db"


@pytest.fixture
def make_app(db_path: Path) -> Callable[..., Flask]:
    """Builds app instances on this test's database; keyword arguments override the test config."""

    def make(**overrides: Any) -> Flask:
        return create_app(app_config(db_path, **overrides))

    return make


@pytest.fixture
def app(make_app: Callable[..., Flask]) -> Flask:
    return make_app()


@pytest.fixture
def db(app: Flask) -> Callable[..., list[sqlite3.Row]]:
    """Runs a query straight against the app's database file."""

    def query(sql: str, *parameters: Any) -> list[sqlite3.Row]:
        connection = sqlite3.connect(app.config["NOTEJAM_DB"])
        connection.row_factory = sqlite3.Row
        try:
            return connection.execute(sql, parameters).fetchall()
        finally:
            connection.close()

    return query


@pytest.fixture
def browser(app: Flask) -> Browser:
    """An anonymous visitor."""
    return Browser(app.test_client())


def signed_in_browser(app: Flask, email: str) -> Browser:
    user = Browser(app.test_client())
    assert user.sign_up(email).status_code == 302
    assert user.sign_in(email).status_code == 302
    return user


@pytest.fixture
def alice(app: Flask) -> Browser:
    return signed_in_browser(app, "alice@example.com")


@pytest.fixture
def bob(app: Flask) -> Browser:
    return signed_in_browser(app, "bob@example.com")
