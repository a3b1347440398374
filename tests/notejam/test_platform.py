"""What the platform relies on: footer, version header, /health, env configuration, sessions across instances."""

from __future__ import annotations

import socket

import pytest
from notejam import create_app

from .conftest import CSRF_FIELD, PASSWORD, VERSION, Browser

FOOTER = f"<footer>Environment: test, Served from: {socket.gethostname()}</footer>"


def session_cookie(response) -> str:
    """The value of the session cookie a response sets."""
    for header in response.headers.getlist("Set-Cookie"):
        name, _, rest = header.partition("=")
        if name == "session":
            return rest.split(";", 1)[0]
    raise AssertionError("the response sets no session cookie")


@pytest.mark.parametrize("url", ["/signin", "/signup", "/no-such-page"])
def test_every_page_has_the_footer_for_anonymous_visitors(browser, url):
    assert FOOTER in browser.get(url).get_data(as_text=True)


def test_every_page_has_the_footer_for_signed_in_users(alice):
    pad_id = alice.create_pad("Work")
    note_id = alice.create_note("Note", pad_id=pad_id)

    for url in ["/", f"/pads/{pad_id}", f"/pads/{pad_id}/edit", f"/notes/{note_id}", "/notes/create", "/settings"]:
        assert FOOTER in alice.page(url), url
    assert FOOTER in alice.get("/notes/999").get_data(as_text=True)
    assert FOOTER in alice.client.post("/pads/create").get_data(as_text=True)  # the 400 page


@pytest.mark.parametrize(
    ("method", "url"), [("GET", "/signin"), ("GET", "/"), ("GET", "/nowhere"), ("POST", "/signin")]
)
def test_every_response_names_the_version(browser, method, url):
    assert browser.client.open(url, method=method).headers["X-Notejam-Version"] == VERSION


def test_health_reports_ok_with_env_version_and_host(browser):
    response = browser.get("/health")

    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "env": "test", "version": VERSION, "host": socket.gethostname()}
    assert response.headers["X-Notejam-Version"] == VERSION


def test_health_is_unavailable_when_the_database_directory_cannot_be_created(make_app, tmp_path):
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a file where the database directory should be")

    app = make_app(NOTEJAM_DB=str(blocker / "notejam.db"))  # starts anyway
    response = app.test_client().get("/health")

    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "unavailable"
    assert "not-a-directory" in body["reason"]
    assert body["version"] == VERSION
    assert response.headers["X-Notejam-Version"] == VERSION


def test_health_is_unavailable_when_the_file_is_not_a_database(make_app, db_path):
    db_path.parent.mkdir()
    db_path.write_bytes(b"this is not an sqlite database" * 100)

    response = make_app().test_client().get("/health")

    assert response.status_code == 503
    assert "not a database" in response.get_json()["reason"]


def test_health_recovers_once_the_database_is_reachable(make_app, tmp_path):
    blocker = tmp_path / "storage"
    blocker.write_text("the share is not mounted yet")
    client = make_app(NOTEJAM_DB=str(blocker / "notejam.db")).test_client()
    assert client.get("/health").status_code == 503

    blocker.unlink()

    assert client.get("/health").status_code == 200


def test_configuration_comes_from_the_environment(monkeypatch, db_path):
    monkeypatch.setenv("NOTEJAM_ENV", "staging")
    monkeypatch.setenv("NOTEJAM_DB", str(db_path))
    monkeypatch.setenv("NOTEJAM_SECRET_KEY", "from-the-environment")
    monkeypatch.setenv("NOTEJAM_VERSION", "9.9.9")

    response = create_app().test_client().get("/health")

    assert response.get_json()["env"] == "staging"
    assert response.headers["X-Notejam-Version"] == "9.9.9"
    assert db_path.exists()


def test_the_app_refuses_to_start_without_a_secret_key(monkeypatch, db_path):
    monkeypatch.delenv("NOTEJAM_SECRET_KEY", raising=False)

    with pytest.raises(RuntimeError, match="NOTEJAM_SECRET_KEY"):
        create_app({"NOTEJAM_DB": str(db_path)})


def test_the_secret_key_is_read_from_the_file_the_platform_mounts(monkeypatch, db_path, tmp_path):
    secret = tmp_path / "secret_key"
    secret.write_text("from-a-file\n")
    monkeypatch.delenv("NOTEJAM_SECRET_KEY", raising=False)
    monkeypatch.setenv("NOTEJAM_SECRET_KEY_FILE", str(secret))

    app = create_app({"NOTEJAM_DB": str(db_path)})

    assert app.config["SECRET_KEY"] == "from-a-file"


def test_a_session_from_one_instance_is_valid_on_another(make_app):
    first, second = make_app(), make_app()
    user = Browser(first.test_client())
    user.sign_up("alice@example.com")
    user.sign_in("alice@example.com")
    cookie = {"Cookie": f"session={session_cookie(user.get('/'))}"}  # the cookie now also holds the CSRF token
    other_instance = second.test_client(use_cookies=False)

    page = other_instance.get("/", headers=cookie).get_data(as_text=True)
    form = {"name": "Made on the second", "csrf_token": CSRF_FIELD.search(page).group(1)}
    response = other_instance.post("/pads/create", data=form, headers=cookie)

    assert "alice@example.com" in page
    assert response.status_code == 302
    assert "Made on the second" in user.page("/")


def test_a_session_signed_with_another_secret_is_ignored(make_app):
    user = Browser(make_app().test_client())
    user.sign_up("alice@example.com")
    cookie = {"Cookie": f"session={session_cookie(user.sign_in('alice@example.com', PASSWORD))}"}
    foreign = make_app(NOTEJAM_SECRET_KEY="another secret").test_client(use_cookies=False)

    response = foreign.get("/", headers=cookie)

    assert response.status_code == 302
    assert "/signin" in response.headers["Location"]


def test_the_session_cookie_is_secure_httponly_and_samesite_by_default(monkeypatch, db_path):
    monkeypatch.setenv("NOTEJAM_DB", str(db_path))
    monkeypatch.setenv("NOTEJAM_SECRET_KEY", "from-the-environment")
    client = create_app().test_client()
    response = client.get("/signin")  # the form's CSRF token starts a session
    cookie = response.headers["Set-Cookie"]
    assert "session=" in cookie
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
