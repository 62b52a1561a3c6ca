"""ChangeWatcher: live refresh hears other connections' commits, and only commits."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from peewee import Database

from desk.core.errors import DatabaseFault
from desk.data.changes import ChangeWatcher
from desk.data.database import is_postgres, open_database, sqlite_path
from desk.data.migrations import LATEST, MIGRATIONS, current_version, dialect_of, migrate
from desk.data.models import Patient
from desk.services import patients
from desk.services.context import Ctx

NOTIFYING_TABLES = ("appointment", "txn", "account", "hold", "lot", "patient",
                    "practitioner", "service", "token_kind", "setting", "membership",
                    "household")    # household: migration 4


@pytest.fixture
def watcher(db_url: str) -> Iterator[ChangeWatcher]:
    with ChangeWatcher.open(db_url) as opened:
        yield opened


def _notify_triggers(db: Database) -> set[tuple[str, str]]:
    if not is_postgres(db):
        rows = db.execute_sql("SELECT tbl_name, name FROM sqlite_master "
                              "WHERE type = 'trigger' AND name LIKE '%notify%'").fetchall()
    else:
        rows = db.execute_sql(
            "SELECT c.relname, t.tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
            "JOIN pg_proc p ON p.oid = t.tgfoid WHERE p.proname = 'desk_notify_change'"
        ).fetchall()
    return {(table, name) for table, name in rows}


# -- migration 3 ---------------------------------------------------------------------------

def test_migration_3_is_applied_once(db: Database) -> None:
    assert current_version(db) == LATEST >= 3
    expected = ({(t, f"{t}_notify_change") for t in NOTIFYING_TABLES}
                if is_postgres(db) else set())
    assert _notify_triggers(db) == expected
    assert migrate(db) == []
    assert _notify_triggers(db) == expected


def test_migrations_3_and_4_upgrade_a_version_2_database(empty_db_url: str) -> None:
    db = open_database(empty_db_url)
    try:
        dialect = dialect_of(db)
        with db.atomic():   # a database made by a desk of migration 2's time
            db.execute_sql("CREATE TABLE schema_version (version INTEGER PRIMARY KEY, "
                           "name TEXT NOT NULL, applied_at TIMESTAMP NOT NULL)")
            for migration in MIGRATIONS[:2]:
                for statement in migration.statements(dialect):
                    db.execute_sql(statement)
                db.execute_sql("INSERT INTO schema_version VALUES "
                               f"({migration.version}, 'old', '2026-01-01 00:00:00')")
        assert current_version(db) == 2
        assert _notify_triggers(db) == set()
        assert migrate(db) == list(range(3, LATEST + 1))
        assert len(_notify_triggers(db)) == (len(NOTIFYING_TABLES) if is_postgres(db) else 0)
        assert "shared_wallet" in {c.name for c in db.get_columns("household")}
    finally:
        db.close()


# -- what wakes a watcher ------------------------------------------------------------------

def test_a_commit_on_another_connection_wakes_a_blocked_wait(
        watcher: ChangeWatcher, ctx: Ctx, db: Database) -> None:
    committed_at: list[float] = []

    def write_later() -> None:
        time.sleep(0.3)
        try:
            patients.add_patient(ctx, "Ana Silva")  # this thread's own peewee connection
            committed_at.append(time.monotonic())
        finally:
            db.close()

    writer = threading.Thread(target=write_later)
    writer.start()
    woke = watcher.wait(5.0)
    woke_at = time.monotonic()
    writer.join()
    assert woke
    assert committed_at, "the writer thread failed"
    assert woke_at - committed_at[0] < 1.0
    assert not watcher.wait(0.0)


def test_a_write_by_another_process_wakes_the_watcher(watcher: ChangeWatcher,
                                                       db_url: str) -> None:
    started = time.monotonic()
    proc = subprocess.Popen(
        [sys.executable, "-m", "desk", "--db", db_url, "--json", "patient", "add",
         "--name", "Ben Okafor"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "DESK_DATABASE": ""})
    woke = watcher.wait(20.0)  # returns while the process may still be closing down
    woke_after_s = time.monotonic() - started
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert woke, f"not woken within {woke_after_s:.1f} s"
    assert json.loads(out)["name"] == "Ben Okafor"
    assert not watcher.wait(0.3)


def test_nothing_changed_times_out(watcher: ChangeWatcher, db: Database) -> None:
    Patient.select().count()  # reads are not changes
    assert not watcher.wait(0.0)
    started = time.monotonic()
    assert not watcher.wait(0.3)
    assert 0.3 <= time.monotonic() - started < 1.0


def test_a_rolled_back_transaction_does_not_wake(watcher: ChangeWatcher, ctx: Ctx,
                                                 db: Database) -> None:
    with db.atomic() as tx:
        patients.add_patient(ctx, "Never Was")
        tx.rollback()
    assert Patient.select().count() == 0
    assert not watcher.wait(0.3)


def test_several_commits_wake_once(watcher: ChangeWatcher, ctx: Ctx) -> None:
    for name in ("Cy One", "Di Two", "Ed Three"):
        patients.add_patient(ctx, name)
    assert watcher.wait(1.0)
    assert not watcher.wait(0.3)


@pytest.mark.parametrize("backend", ["postgres"])  # SQLite polls: a burst may straddle two
def test_a_burst_of_commits_during_a_wait_wakes_once(watcher: ChangeWatcher, db: Database,
                                                     ctx: Ctx) -> None:
    def burst() -> None:
        try:
            time.sleep(0.2)
            for name in ("Gil One", "Hal Two", "Ivy Three"):
                patients.add_patient(ctx, name)  # one notification each, arriving apart
                time.sleep(0.005)
        finally:
            db.close()

    writer = threading.Thread(target=burst)
    writer.start()
    assert watcher.wait(5.0)
    writer.join()
    assert Patient.select().count() == 3
    assert not watcher.wait(0.3)


# -- lifecycle and faults ------------------------------------------------------------------

def test_close_is_idempotent(db_url: str) -> None:
    with ChangeWatcher.open(db_url) as watcher:
        assert not watcher.closed
    assert watcher.closed
    watcher.close()
    watcher.close()
    with pytest.raises(ValueError, match="closed"):
        watcher.wait(0.0)


def test_a_lost_database_raises_one_fault_then_reopens(watcher: ChangeWatcher, db_url: str,
                                                       db: Database, ctx: Ctx) -> None:
    if is_postgres(db):
        db.execute_sql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                       "WHERE datname = current_database() AND pid <> pg_backend_pid()")
    else:
        path = sqlite_path(db_url)
        db.close()
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    with pytest.raises(DatabaseFault) as fault:
        watcher.wait(2.0)
    assert fault.value.kind == "unreachable"
    assert watcher.closed
    with pytest.raises(ValueError, match="closed"):
        watcher.wait(0.0)

    if not is_postgres(db):
        with pytest.raises(DatabaseFault, match="cannot be opened"):
            ChangeWatcher.open(db_url)
        assert not sqlite_path(db_url).exists()  # no empty database created in its place
        return
    with ChangeWatcher.open(db_url) as again:
        patients.add_patient(ctx, "Fay Back")
        assert again.wait(2.0)
