"""CSRF protection: a random token per session, embedded in every form and checked on every POST."""

from __future__ import annotations

import hmac
import secrets

from flask import Flask, abort, request, session

SESSION_KEY = "csrf_token"
FORM_FIELD = "csrf_token"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def csrf_token() -> str:
    """The session's token, created on first use (templates call this for the hidden form field)."""
    if SESSION_KEY not in session:
        session[SESSION_KEY] = secrets.token_urlsafe(32)
    return session[SESSION_KEY]


def check_csrf() -> None:
    if request.method not in UNSAFE_METHODS:
        return
    expected = session.get(SESSION_KEY, "")
    submitted = request.form.get(FORM_FIELD, "")
    if not expected or not hmac.compare_digest(expected.encode(), submitted.encode()):
        abort(400, description="The form's security token is missing or out of date. Reload the page and try again.")


def init_app(app: Flask) -> None:
    app.before_request(check_csrf)
    app.jinja_env.globals["csrf_token"] = csrf_token
