"""Accounts: sign up, sign in, sign out, change password; the signed-in user lives in the signed session cookie."""

from __future__ import annotations

import functools
import re
import sqlite3
from collections.abc import Callable
from typing import Any

from flask import Blueprint, flash, g, redirect, render_template, request, session, url_for
from werkzeug.security import check_password_hash, generate_password_hash
from werkzeug.wrappers import Response

from .db import get_db

bp = Blueprint("auth", __name__)

# pbkdf2 exists in every Werkzeug from 2.2 (Debian bookworm) on; newer ones still verify these hashes.
PASSWORD_HASH_METHOD = "pbkdf2:sha256"
EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
REQUIRED = "This field is required."


@bp.before_app_request
def load_user() -> None:
    g.user = None
    user_id = session.get("user_id")
    if user_id is not None:
        g.user = get_db().execute("SELECT id, email, password_hash FROM users WHERE id = ?", (user_id,)).fetchone()


def login_required(view: Callable[..., Any]) -> Callable[..., Any]:
    """Anonymous visitors go to the sign-in page, which sends them back here afterwards."""

    @functools.wraps(view)
    def wrapped(**kwargs: Any) -> Any:
        if g.user is None:
            return redirect(url_for("auth.signin", next=request.full_path.rstrip("?")))
        return view(**kwargs)

    return wrapped


def local_target(target: str | None) -> str:
    """`target` when it is a path on this site, else the home page (no redirects to other sites)."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return url_for("notes.all_notes")


def new_password_errors(field: str, password: str, confirmation: str) -> dict[str, str]:
    """What is wrong with a new password (form field ``field``) and its confirmation, by field."""
    errors = {}
    if not password:
        errors[field] = REQUIRED
    if not confirmation:
        errors["confirm_password"] = REQUIRED
    elif password and confirmation != password:
        errors["confirm_password"] = "Passwords do not match."
    return errors


def hash_password(password: str) -> str:
    return generate_password_hash(password, method=PASSWORD_HASH_METHOD)


@bp.route("/signup", methods=["GET", "POST"])
def signup() -> str | Response:
    errors: dict[str, str] = {}
    email = request.form.get("email", "").strip().lower()
    if request.method == "POST":
        password = request.form.get("password", "")
        confirmation = request.form.get("confirm_password", "")
        if not email:
            errors["email"] = REQUIRED
        elif not EMAIL_PATTERN.match(email):
            errors["email"] = "Enter a valid email address."
        errors.update(new_password_errors("password", password, confirmation))
        if not errors:
            try:
                get_db().execute(
                    "INSERT INTO users (email, password_hash) VALUES (?, ?)", (email, hash_password(password))
                )
            except sqlite3.IntegrityError:
                errors["email"] = "A user with this email already exists."
            else:
                flash("Your account is ready. Sign in.")
                return redirect(url_for("auth.signin"))
    return render_template("signup.html", email=email, errors=errors)


@bp.route("/signin", methods=["GET", "POST"])
def signin() -> str | Response:
    errors: dict[str, str] = {}
    email = request.form.get("email", "").strip().lower()
    if request.method == "POST":
        password = request.form.get("password", "")
        user = get_db().execute("SELECT id, password_hash FROM users WHERE email = ?", (email,)).fetchone()
        if user is not None and check_password_hash(user["password_hash"], password):
            session.clear()  # a fresh session (and CSRF token) for the signed-in user
            session["user_id"] = user["id"]
            return redirect(local_target(request.args.get("next")))
        # One message for both cases, so the form does not tell who has an account.
        errors["form"] = "Wrong email or password."
    return render_template("signin.html", email=email, errors=errors)


@bp.post("/signout")
def signout() -> Response:
    session.clear()
    flash("You are signed out.")
    return redirect(url_for("auth.signin"))


@bp.route("/settings", methods=["GET", "POST"])
@login_required
def settings() -> str | Response:
    errors: dict[str, str] = {}
    if request.method == "POST":
        current = request.form.get("current_password", "")
        new = request.form.get("new_password", "")
        confirmation = request.form.get("confirm_password", "")
        if not current:
            errors["current_password"] = REQUIRED
        elif not check_password_hash(g.user["password_hash"], current):
            errors["current_password"] = "The current password is wrong."
        errors.update(new_password_errors("new_password", new, confirmation))
        if not errors:
            get_db().execute("UPDATE users SET password_hash = ? WHERE id = ?", (hash_password(new), g.user["id"]))
            flash("Your password is changed.")
            return redirect(url_for("notes.all_notes"))
    return render_template("settings.html", errors=errors)
