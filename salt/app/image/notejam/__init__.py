"""Notejam: a note-taking web app (pads and notes per user), configured from NOTEJAM_* environment variables."""

from __future__ import annotations

import os
import socket
import sqlite3
from collections.abc import Mapping
from typing import Any

from flask import Flask, Response, jsonify, render_template
from werkzeug.exceptions import HTTPException

from . import auth, csrf, db, notes

# Read from the environment; create_app's overrides win (tests pass them instead of setting variables).
ENVIRONMENT_SETTINGS = (
    "NOTEJAM_ENV",
    "NOTEJAM_DB",
    "NOTEJAM_SECRET_KEY",
    "NOTEJAM_SECRET_KEY_FILE",
    "NOTEJAM_VERSION",
)


def create_app(overrides: Mapping[str, Any] | None = None) -> Flask:
    """The app, configured from NOTEJAM_* variables; `overrides` holds config values that win over them."""
    config: dict[str, Any] = {name: os.environ[name] for name in ENVIRONMENT_SETTINGS if os.environ.get(name)}
    config.update(overrides or {})
    config.setdefault("NOTEJAM_ENV", "dev")
    config.setdefault("NOTEJAM_DB", f"/data/db/notejam-{config['NOTEJAM_ENV']}.db")
    config.setdefault("NOTEJAM_VERSION", "dev")
    if config.get("NOTEJAM_SECRET_KEY_FILE"):
        # The platform hands the key over as a file, which no API lists the way it lists a
        # task's environment.
        with open(config["NOTEJAM_SECRET_KEY_FILE"], encoding="utf-8") as secret:
            config["NOTEJAM_SECRET_KEY"] = secret.read().strip()
    if not config.get("NOTEJAM_SECRET_KEY"):
        # Sessions live only in the signed cookie; every instance must sign with the same key.
        raise RuntimeError(
            "no session key: set NOTEJAM_SECRET_KEY_FILE (or NOTEJAM_SECRET_KEY) to the same secret on every instance"
        )

    app = Flask(__name__)
    # The session cookie travels over HTTPS only (the load balancers serve nothing else), is
    # not readable by scripts (Flask's default) and is not sent on cross-site posts.
    app.config.update(SESSION_COOKIE_SECURE=True, SESSION_COOKIE_SAMESITE="Lax")
    app.config.update(config, SECRET_KEY=config["NOTEJAM_SECRET_KEY"])
    app.config["NOTEJAM_DB"] = str(app.config["NOTEJAM_DB"])
    hostname = socket.gethostname()

    db.init_app(app)
    csrf.init_app(app)  # before the blueprints' hooks: a forged POST is refused before it touches the database
    app.register_blueprint(auth.bp)
    app.register_blueprint(notes.bp)

    @app.context_processor
    def footer() -> dict[str, str]:
        return {"hostname": hostname}

    @app.after_request
    def version_header(response: Response) -> Response:
        # The deploy runner asks through the load balancer which version answers.
        response.headers["X-Notejam-Version"] = app.config["NOTEJAM_VERSION"]
        return response

    @app.errorhandler(HTTPException)
    def error_page(error: HTTPException) -> tuple[str, int]:
        return render_template("error.html", error=error), error.code or 500

    @app.get("/health")
    def health() -> tuple[Response, int]:
        identity = {"env": app.config["NOTEJAM_ENV"], "version": app.config["NOTEJAM_VERSION"], "host": hostname}
        try:
            db.get_db().execute("SELECT count(*) FROM users").fetchone()
        except (sqlite3.Error, OSError) as error:
            reason = f"database {app.config['NOTEJAM_DB']}: {type(error).__name__}: {error}"
            return jsonify(status="unavailable", reason=reason, **identity), 503
        return jsonify(status="ok", **identity), 200

    return app
