"""Online backup and restore (SPEC §10: backup is safe while others write; restore
then verify), on SQLite and PostgreSQL.

A child process sells in a loop while the parent takes backups. Every backup must
be a consistent snapshot: it opens, ``verify()`` is ok, and its balances are exactly
what its number of sales implies. Restoring one into the live database gives back
exactly that state. A file that is not a desk backup is refused and changes nothing.
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
import os
import queue
import random
import sqlite3
import time
import traceback
from pathlib import Path
from typing import Any

import pytest
from peewee import Database

from desk.core.errors import BadInput, DatabaseFault
from desk.data.backup import backup, restore
from desk.data.database import is_postgres, open_database
from desk.data.migrations import migrate
from desk.data.models import Counter, Txn, database_proxy
from desk.services import accounts, catalog, patients, sales, wallet
from desk.services.context import Ctx
from desk.services.results import Tender
from desk.services.verify import verify

KIND = "Acupuncture"
MIN_SALES = 200
BACKUP_AT = (20, 80, 140)   # take a backup once the writer has done this many sales


# -- the writer process ----------------------------------------------------------------

def _sale(ctx: Ctx, pid: int, i: int) -> None:
    """Sale number ``i``: even ones buy $1.00 of credit, odd ones a 5-token package."""
    if i % 2 == 0:
        sales.sell(ctx, pid, sales.SaleItem(credit_cents=100), [Tender("cash", 100)],
                   idem_key=f"writer-{i}")
    else:
        sales.sell(ctx, pid, sales.SaleItem(package="Acu 5"), [Tender("card", 5000)],
                   idem_key=f"writer-{i}")


def _writer(db_url: str, pid: int, now: dt.datetime, progress: Any, stop: Any,
            results: Any) -> None:
    """Sell until told to stop, and at least MIN_SALES times; count each commit."""
    try:
        db = open_database(db_url)
        ctx = Ctx(db, staff="writer", workstation="ws-writer", now=lambda: now,
                  today=lambda: now.date())
        i = 0
        while i < MIN_SALES or not stop.is_set():
            if i >= MIN_SALES * 5:
                raise RuntimeError("the parent never asked to stop")
            _sale(ctx, pid, i)
            i += 1
            with progress.get_lock():
                progress.value = i
        db.close()
        results.put(("ok", i))
    except BaseException:
        results.put(("error", traceback.format_exc()))


# -- helpers ---------------------------------------------------------------------------

def _state(pid: int) -> tuple[int, int, int, int]:
    """(transactions, receipt counter, credit, tokens) of the bound database."""
    bal = accounts.balance_of(pid)
    return (Txn.select().count(), int(Counter.get_by_id("receipt").value), bal.credit_cents,
            bal.tokens.get(KIND, 0))


def _expected(sales_done: int) -> tuple[int, int, int, int]:
    """The state after ``sales_done`` of the writer's sales (and nothing else)."""
    credit_sales = (sales_done + 1) // 2
    return (sales_done, sales_done, 100 * credit_sales, 5 * (sales_done // 2))


def _read_backup(file: Path, backend: str, pg_server: Any, pid: int
                 ) -> tuple[tuple[int, int, int, int], list[str]]:
    """Open a backup on its own (SQLite: the file; PostgreSQL: restored into a fresh,
    empty database) and return its state and verify's problems."""
    if backend == "sqlite":
        other = open_database(f"sqlite:///{file}", create=False)
        try:
            return _state(pid), verify().problems
        finally:
            other.close()
    url = pg_server.new_database(empty=True)
    other = open_database(url)
    try:
        restore(other, file)
        return _state(pid), verify().problems
    finally:
        other.close()
        pg_server.drop(url)


def _setup(ctx: Ctx) -> int:
    catalog.add_service(ctx, KIND, 45, 6000)
    catalog.add_package(ctx, "Acu 5", KIND, 5, 5000, expires_days=30)
    return patients.add_patient(ctx, "Backed Up").id


def _integrity_ok(db: Database) -> bool:
    if is_postgres(db):
        return True
    return db.execute_sql("PRAGMA integrity_check").fetchall() == [("ok",)]


# -- tests -----------------------------------------------------------------------------

@pytest.mark.slow
def test_backup_while_another_process_writes(backend: str, db_url: str, db: Database,
                                             ctx: Ctx, clock: Any, tmp_path: Path,
                                             pg_server: Any) -> None:
    pid = _setup(ctx)
    assert _state(pid) == (0, 0, 0, 0)
    mp = multiprocessing.get_context("spawn")
    progress = mp.Value("i", 0)
    stop = mp.Event()
    results = mp.Queue()
    proc = mp.Process(target=_writer, args=(db_url, pid, clock.now(), progress, stop, results),
                      daemon=True)
    proc.start()
    taken: list[tuple[Path, int, int]] = []
    try:
        for n, threshold in enumerate(BACKUP_AT):
            deadline = time.monotonic() + 120
            while progress.value < threshold:
                assert proc.is_alive() or not results.empty(), "the writer died"
                if not results.empty():
                    pytest.fail(f"writer: {results.get()[1]}")
                assert time.monotonic() < deadline, "the writer made no progress"
                time.sleep(0.005)
            target = tmp_path / f"backup-{n}.desk"
            before = progress.value
            assert backup(db, target) == target
            after = progress.value
            taken.append((target, before, after))
    finally:
        stop.set()
        try:
            status, value = results.get(timeout=180 if proc.is_alive() else 5)
        except queue.Empty:
            status, value = "error", "the writer never reported"
        proc.join(timeout=60)
        if proc.is_alive():
            proc.kill()
            proc.join()
    assert status == "ok", value
    total = value
    assert total >= MIN_SALES
    assert proc.exitcode == 0
    # The writer only stops when told to, after the last backup: every backup was
    # taken while it was writing.
    assert all(after <= total for _, _, after in taken)

    snapshots = []
    for target, before, after in taken:
        assert target.is_file()
        assert not target.with_name(target.name + ".partial").exists()
        state, problems = _read_backup(target, backend, pg_server, pid)
        database_proxy.initialize(db)
        assert problems == [], (target, problems)
        done = state[0]
        # A consistent snapshot: somewhere between what was committed when the backup
        # started and when it ended (the writer counts a sale just after its commit).
        assert before <= done <= after + 1, (before, done, after)
        assert state == _expected(done)
        snapshots.append((target, state))
    # Backups taken later hold more.
    assert [s[0] for _, s in snapshots] == sorted(s[0] for _, s in snapshots)
    assert snapshots[0][1][0] < snapshots[-1][1][0]

    # The live database has every sale.
    assert _state(pid) == _expected(total)
    assert verify().ok

    # Restore the middle backup into the live database: exactly its state comes back.
    target, state = snapshots[1]
    restore(db, target)
    database_proxy.initialize(db)
    assert _integrity_ok(db)
    report = verify()
    assert report.ok, report.problems
    assert _state(pid) == state
    assert report.transactions == state[0]
    # The restored ledger carries on: the next receipt follows without a gap, and a key
    # used after the backup was taken is free again, one used before it is a replay.
    done = state[0]
    res = sales.sell(ctx, pid, sales.SaleItem(credit_cents=100), [Tender("cash", 100)],
                     idem_key=f"writer-{done}" if done % 2 == 0 else "after-restore")
    assert not res.replayed and res.receipt_no == done + 1
    again = sales.sell(ctx, pid, sales.SaleItem(credit_cents=100), [Tender("cash", 100)],
                       idem_key="writer-0")
    assert again.replayed
    assert Txn.select().count() == done + 1
    assert verify().ok


def _garbage_files(tmp_path: Path) -> dict[str, Path]:
    rnd = random.Random(20260302)
    files = {
        "random bytes": bytes(rnd.randrange(256) for _ in range(8192)),
        "empty": b"",
        "text": b"not a backup at all\n" * 50,
        "sqlite magic only": b"SQLite format 3\x00",
    }
    out: dict[str, Path] = {}
    for name, data in files.items():
        path = tmp_path / f"{name.replace(' ', '-')}.bin"
        path.write_bytes(data)
        out[name] = path
    out["missing file"] = tmp_path / "no-such-backup.desk"
    folder = tmp_path / "a-folder"
    folder.mkdir()
    out["a folder"] = folder
    # An SQLite database that is not a desk database.
    foreign = tmp_path / "foreign.sqlite3"
    con = sqlite3.connect(foreign)
    con.execute("CREATE TABLE things (id INTEGER PRIMARY KEY, name TEXT)")
    con.execute("INSERT INTO things (name) VALUES ('x')")
    con.commit()
    con.close()
    out["foreign sqlite"] = foreign
    return out


def _live_with_history(ctx: Ctx) -> int:
    pid = _setup(ctx)
    for i in range(30):
        _sale(ctx, pid, i)
    wallet.adjust(ctx, pid, reason="goodwill " + "x" * 300, credit_cents=250)
    return pid


def test_restore_refuses_garbage_and_changes_nothing(backend: str, db: Database, ctx: Ctx,
                                                     tmp_path: Path) -> None:
    pid = _live_with_history(ctx)
    before = _state(pid)
    assert before == (31, 30, 100 * 15 + 250, 5 * 15)
    files = _garbage_files(tmp_path)
    if backend == "postgres":
        # A real SQLite desk backup is not a PostgreSQL backup.
        sqlite_backup = tmp_path / "sqlite-backup.desk"
        src = open_database(f"sqlite:///{tmp_path / 'src.sqlite3'}")
        migrate(src)
        backup(src, sqlite_backup)
        src.close()
        database_proxy.initialize(db)
        files["sqlite desk backup"] = sqlite_backup
    for name, path in files.items():
        with pytest.raises(BadInput) as info:
            restore(db, path)
        assert info.value.field == "FILE", name
        database_proxy.initialize(db)
        assert _state(pid) == before, name
    assert _integrity_ok(db)
    report = verify()
    assert report.ok, report.problems
    # Still a working ledger.
    res = sales.sell(ctx, pid, sales.SaleItem(credit_cents=100), [Tender("cash", 100)])
    assert res.receipt_no == 31
    assert verify().ok


def test_restore_refuses_a_damaged_backup_and_changes_nothing(backend: str, db: Database,
                                                              ctx: Ctx,
                                                              tmp_path: Path) -> None:
    pid = _live_with_history(ctx)
    good = backup(db, tmp_path / "good.desk")
    # The live database moves on after the backup.
    for i in range(30, 40):
        _sale(ctx, pid, i)
    before = _state(pid)
    assert before == (41, 40, 100 * 20 + 250, 5 * 20)
    data = good.read_bytes()
    size = len(data)
    assert size > 16384
    rnd = random.Random(7)
    damaged = bytearray(data)
    middle = size // 2
    for off in range(middle, min(size, middle + 12288)):
        damaged[off] = rnd.randrange(256)
    variants = {"corrupted middle": bytes(damaged), "truncated": data[: size // 2],
                "pg magic, then nothing": b"PGDMP"}
    for name, content in variants.items():
        path = tmp_path / f"{name.replace(' ', '-')}.desk"
        path.write_bytes(content)
        with pytest.raises((BadInput, DatabaseFault)):
            restore(db, path)
        database_proxy.initialize(db)
        assert _integrity_ok(db), f"{name}: the live database is now damaged"
        assert _state(pid) == before, name
        report = verify()
        assert report.ok, (name, report.problems)
    # The intact backup still restores, to exactly its state.
    restore(db, good)
    database_proxy.initialize(db)
    assert _state(pid) == (31, 30, 100 * 15 + 250, 5 * 15)
    assert verify().ok
    assert os.path.getsize(good) == size
