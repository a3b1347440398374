"""Schema migrations: applied exactly once, atomically, even when several instances start together."""

from __future__ import annotations

import multiprocessing
import sqlite3

import pytest
from notejam import create_app, db
from notejam.db import SCHEMA_VERSION

from .conftest import app_config

INSTANCES = 8


def start_instance(db_path: str, barrier, results) -> None:
    """One container starting: create the app (which migrates), then ask its health endpoint."""
    barrier.wait()  # every process reaches create_app at the same moment
    app = create_app(app_config(db_path))
    schema = app.extensions["notejam_schema"]
    results.put((schema.ready, schema.applied, app.test_client().get("/health").status_code))


def user_version(path) -> int:
    connection = sqlite3.connect(path)
    try:
        return connection.execute("PRAGMA user_version").fetchone()[0]
    finally:
        connection.close()


def test_instances_starting_together_apply_each_migration_once(db_path):
    # Forked before anything opened this database: each process has its own connections, like separate containers.
    context = multiprocessing.get_context("fork")
    barrier, results = context.Barrier(INSTANCES), context.Queue()
    processes = [
        context.Process(target=start_instance, args=(str(db_path), barrier, results)) for _ in range(INSTANCES)
    ]
    for process in processes:
        process.start()
    outcomes = [results.get(timeout=60) for _ in processes]
    for process in processes:
        process.join(timeout=60)

    assert [process.exitcode for process in processes] == [0] * INSTANCES
    assert all(ready and health == 200 for ready, _, health in outcomes), outcomes
    applied = sorted(number for _, numbers, _ in outcomes for number in numbers)
    assert applied == list(range(1, SCHEMA_VERSION + 1))
    assert user_version(db_path) == SCHEMA_VERSION


def test_a_fresh_database_gets_every_migration_in_a_created_directory(app, db_path):
    assert db_path.parent.is_dir()
    assert app.extensions["notejam_schema"].applied == list(range(1, SCHEMA_VERSION + 1))
    assert user_version(db_path) == SCHEMA_VERSION


def test_a_restart_applies_nothing_and_keeps_the_data(make_app, alice):
    alice.create_note("Survives restarts")

    restarted = make_app()

    assert restarted.extensions["notejam_schema"].applied == []
    assert alice.note_names("/") == ["Survives restarts"]


def test_an_older_schema_gets_only_the_newer_migrations(monkeypatch, db_path):
    with monkeypatch.context() as older_release:
        older_release.setattr(db, "MIGRATIONS", db.MIGRATIONS[:1])
        older_release.setattr(db, "SCHEMA_VERSION", 1)
        assert db.migrate(str(db_path)) == [1]

    assert db.migrate(str(db_path)) == list(range(2, SCHEMA_VERSION + 1))
    assert user_version(db_path) == SCHEMA_VERSION


def test_a_failing_migration_leaves_the_database_untouched(monkeypatch, db_path):
    monkeypatch.setattr(db, "MIGRATIONS", (*db.MIGRATIONS, ("CREATE TABLE broken (",)))
    monkeypatch.setattr(db, "SCHEMA_VERSION", len(db.MIGRATIONS))

    with pytest.raises(sqlite3.OperationalError):
        db.migrate(str(db_path))

    connection = sqlite3.connect(db_path)
    try:
        assert connection.execute("PRAGMA user_version").fetchone()[0] == 0
        assert connection.execute("SELECT name FROM sqlite_master").fetchall() == []
    finally:
        connection.close()


def test_the_database_uses_the_rollback_journal_not_wal(app, db_path):
    connection = sqlite3.connect(db_path)
    try:
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    finally:
        connection.close()
