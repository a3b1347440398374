"""SQLite storage: a connection per request, and migrations that several instances may run at once."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

from flask import Flask, current_app, g

# Each migration is a list of single statements (executescript() would commit our transaction early).
# PRAGMA user_version holds how many of them the database has; append new migrations, never edit old ones.
MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (
        """CREATE TABLE users (
            id INTEGER PRIMARY KEY,
            email TEXT NOT NULL UNIQUE,
            password_hash TEXT NOT NULL
        )""",
        """CREATE TABLE pads (
            id INTEGER PRIMARY KEY,
            user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
            name TEXT NOT NULL
        )""",
        """CREATE TABLE notes (
            id INTEGER PRIMARY KEY,
            user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
            pad_id INTEGER REFERENCES pads (id) ON DELETE CASCADE,
            name TEXT NOT NULL,
            text TEXT NOT NULL,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        )""",
    ),
    (
        "CREATE INDEX pads_by_user ON pads (user_id)",
        "CREATE INDEX notes_by_user ON notes (user_id, updated_at)",
        "CREATE INDEX notes_by_pad ON notes (pad_id)",
    ),
)
SCHEMA_VERSION = len(MIGRATIONS)

# How long a connection waits for another instance's lock (e.g. one applying migrations) before failing.
BUSY_TIMEOUT_SECONDS = 10.0


@dataclass
class SchemaState:
    """Whether this process has brought the schema up to date, and what it applied doing so."""

    ready: bool = False
    applied: list[int] = field(default_factory=list)


def connect(path: str) -> sqlite3.Connection:
    """A connection with foreign keys on, in autocommit mode (each statement is its own transaction)."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    # The journal stays SQLite's default rollback journal, never WAL: WAL keeps its index in shared memory,
    # which only works for processes on one host, and our instances share this file over NFS from several hosts.
    connection = sqlite3.connect(path, timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None)
    connection.row_factory = sqlite3.Row
    connection.execute("PRAGMA foreign_keys = ON")
    return connection


def migrate(path: str) -> list[int]:
    """Bring the database to SCHEMA_VERSION; returns the numbers of the migrations this call applied."""
    connection = connect(path)
    try:
        if connection.execute("PRAGMA user_version").fetchone()[0] >= SCHEMA_VERSION:
            return []
        # BEGIN IMMEDIATE takes the write lock before the version is read again: of several instances starting
        # together one applies the migrations, the others wait (busy timeout) and then find nothing left to do.
        connection.execute("BEGIN IMMEDIATE")
        current = connection.execute("PRAGMA user_version").fetchone()[0]
        applied = []
        for number in range(current + 1, SCHEMA_VERSION + 1):
            for statement in MIGRATIONS[number - 1]:
                connection.execute(statement)
            applied.append(number)
        if applied:
            connection.execute(f"PRAGMA user_version = {applied[-1]}")
        connection.execute("COMMIT")
        return applied
    finally:
        # Closing without COMMIT (after an error) rolls the whole migration back.
        connection.close()


def ensure_schema(app: Flask) -> None:
    """Migrate once per process; after a failure the next call tries again."""
    state: SchemaState = app.extensions["notejam_schema"]
    if not state.ready:
        state.applied = migrate(app.config["NOTEJAM_DB"])
        state.ready = True


def get_db() -> sqlite3.Connection:
    """This request's connection, opened on first use."""
    if "db" not in g:
        ensure_schema(current_app)
        g.db = connect(current_app.config["NOTEJAM_DB"])
    return g.db


def close_db(_error: BaseException | None = None) -> None:
    connection = g.pop("db", None)
    if connection is not None:
        connection.close()


def init_app(app: Flask) -> None:
    app.extensions["notejam_schema"] = SchemaState()
    app.teardown_appcontext(close_db)
    try:
        ensure_schema(app)
    except (sqlite3.Error, OSError) as error:
        # Start anyway: /health answers 503 with the reason, which is how a bad deployment shows up.
        app.logger.warning("database %s not ready at startup: %s", app.config["NOTEJAM_DB"], error)
