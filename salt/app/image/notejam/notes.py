"""Pads and notes. Every query is scoped to the signed-in user: someone else's pad or note is a 404."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from .auth import REQUIRED, login_required
from .db import get_db

bp = Blueprint("notes", __name__)

# ?order= values and their ORDER BY (anything else gets the default); the id breaks ties so the order is stable.
NOTE_ORDERS = {
    "name": "notes.name COLLATE NOCASE ASC, notes.id ASC",
    "-name": "notes.name COLLATE NOCASE DESC, notes.id DESC",
    "updated_at": "notes.updated_at ASC, notes.id ASC",
    "-updated_at": "notes.updated_at DESC, notes.id DESC",
}
DEFAULT_NOTE_ORDER = "-updated_at"
# The signed-in user's notes with their pad's name; callers append conditions and parameters after user_id.
NOTES_QUERY = (
    "SELECT notes.*, pads.name AS pad_name FROM notes LEFT JOIN pads ON pads.id = notes.pad_id WHERE notes.user_id = ?"
)


def now() -> str:
    # Microseconds, so that notes saved one after another still sort by date.
    return datetime.now(UTC).isoformat(timespec="microseconds")


@bp.app_context_processor
def sidebar() -> dict[str, Any]:
    def user_pads() -> list[sqlite3.Row]:
        query = "SELECT id, name FROM pads WHERE user_id = ? ORDER BY name COLLATE NOCASE, id"
        return get_db().execute(query, (g.user["id"],)).fetchall()

    return {"user_pads": user_pads}


def find_pad(pad_id: int) -> sqlite3.Row | None:
    query = "SELECT id, name FROM pads WHERE id = ? AND user_id = ?"
    return get_db().execute(query, (pad_id, g.user["id"])).fetchone()


def owned_pad(pad_id: int) -> sqlite3.Row:
    pad = find_pad(pad_id)
    if pad is None:
        abort(404)
    return pad


def owned_note(note_id: int) -> sqlite3.Row:
    note = get_db().execute(f"{NOTES_QUERY} AND notes.id = ?", (g.user["id"], note_id)).fetchone()
    if note is None:
        abort(404)
    return note


def list_notes(pad_id: int | None = None) -> list[sqlite3.Row]:
    """The user's notes (or one pad's) in the order ?order= asks for."""
    order = NOTE_ORDERS.get(request.args.get("order", ""), NOTE_ORDERS[DEFAULT_NOTE_ORDER])
    if pad_id is None:
        query, parameters = NOTES_QUERY, (g.user["id"],)
    else:
        query, parameters = f"{NOTES_QUERY} AND notes.pad_id = ?", (g.user["id"], pad_id)
    return get_db().execute(f"{query} ORDER BY {order}", parameters).fetchall()


@bp.get("/")
@login_required
def all_notes() -> str:
    return render_template("notes.html", notes=list_notes(), pad=None)


@bp.route("/pads/create", methods=["GET", "POST"])
@login_required
def create_pad() -> str | Response:
    name = request.form.get("name", "").strip()
    if request.method == "POST" and name:
        cursor = get_db().execute("INSERT INTO pads (user_id, name) VALUES (?, ?)", (g.user["id"], name))
        flash("Pad created.")
        return redirect(url_for("notes.pad_notes", pad_id=cursor.lastrowid))
    errors = {"name": REQUIRED} if request.method == "POST" else {}
    return render_template("pad_form.html", pad=None, name=name, errors=errors)


@bp.get("/pads/<int:pad_id>")
@login_required
def pad_notes(pad_id: int) -> str:
    pad = owned_pad(pad_id)
    return render_template("notes.html", notes=list_notes(pad_id), pad=pad)


@bp.route("/pads/<int:pad_id>/edit", methods=["GET", "POST"])
@login_required
def edit_pad(pad_id: int) -> str | Response:
    pad = owned_pad(pad_id)
    name = request.form.get("name", "").strip() if request.method == "POST" else pad["name"]
    if request.method == "POST" and name:
        get_db().execute("UPDATE pads SET name = ? WHERE id = ?", (name, pad_id))
        flash("Pad renamed.")
        return redirect(url_for("notes.pad_notes", pad_id=pad_id))
    errors = {"name": REQUIRED} if request.method == "POST" else {}
    return render_template("pad_form.html", pad=pad, name=name, errors=errors)


@bp.route("/pads/<int:pad_id>/delete", methods=["GET", "POST"])
@login_required
def delete_pad(pad_id: int) -> str | Response:
    pad = owned_pad(pad_id)
    if request.method == "POST":
        get_db().execute("DELETE FROM pads WHERE id = ?", (pad_id,))  # its notes go too (ON DELETE CASCADE)
        flash("Pad and its notes deleted.")
        return redirect(url_for("notes.all_notes"))
    question = f"Delete the pad “{pad['name']}” and all its notes?"
    return render_template("confirm_delete.html", question=question, cancel=url_for("notes.pad_notes", pad_id=pad_id))


def note_form_errors(form: dict[str, str]) -> dict[str, str]:
    errors = {field: REQUIRED for field in ("name", "text") if not form[field].strip()}
    if form["pad_id"] and not (form["pad_id"].isdecimal() and find_pad(int(form["pad_id"]))):
        errors["pad_id"] = "Choose one of your pads."
    return errors


def chosen_pad_id(form: dict[str, str]) -> int | None:
    """The pad of a validated note form; no pad is allowed."""
    return int(form["pad_id"]) if form["pad_id"] else None


def submitted_note() -> dict[str, str]:
    return {
        "name": request.form.get("name", "").strip(),
        "text": request.form.get("text", ""),
        "pad_id": request.form.get("pad_id", ""),
    }


@bp.route("/notes/create", methods=["GET", "POST"])
@login_required
def create_note() -> str | Response:
    form = {"name": "", "text": "", "pad_id": request.args.get("pad", "")}
    errors: dict[str, str] = {}
    if request.method == "POST":
        form = submitted_note()
        errors = note_form_errors(form)
        if not errors:
            created = now()
            cursor = get_db().execute(
                "INSERT INTO notes (user_id, pad_id, name, text, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)",
                (g.user["id"], chosen_pad_id(form), form["name"], form["text"], created, created),
            )
            flash("Note created.")
            return redirect(url_for("notes.view_note", note_id=cursor.lastrowid))
    return render_template("note_form.html", note=None, form=form, errors=errors)


@bp.get("/notes/<int:note_id>")
@login_required
def view_note(note_id: int) -> str:
    return render_template("note.html", note=owned_note(note_id))


@bp.route("/notes/<int:note_id>/edit", methods=["GET", "POST"])
@login_required
def edit_note(note_id: int) -> str | Response:
    note = owned_note(note_id)
    form = {"name": note["name"], "text": note["text"], "pad_id": str(note["pad_id"] or "")}
    errors: dict[str, str] = {}
    if request.method == "POST":
        form = submitted_note()
        errors = note_form_errors(form)
        if not errors:
            get_db().execute(
                "UPDATE notes SET pad_id = ?, name = ?, text = ?, updated_at = ? WHERE id = ?",
                (chosen_pad_id(form), form["name"], form["text"], now(), note_id),
            )
            flash("Note saved.")
            return redirect(url_for("notes.view_note", note_id=note_id))
    return render_template("note_form.html", note=note, form=form, errors=errors)


@bp.route("/notes/<int:note_id>/delete", methods=["GET", "POST"])
@login_required
def delete_note(note_id: int) -> str | Response:
    note = owned_note(note_id)
    if request.method == "POST":
        get_db().execute("DELETE FROM notes WHERE id = ?", (note_id,))
        flash("Note deleted.")
        if note["pad_id"]:
            return redirect(url_for("notes.pad_notes", pad_id=note["pad_id"]))
        return redirect(url_for("notes.all_notes"))
    question = f"Delete the note “{note['name']}”?"
    return render_template("confirm_delete.html", question=question, cancel=url_for("notes.view_note", note_id=note_id))
