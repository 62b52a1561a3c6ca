"""Known database faults come out as one exception type with a human message."""

from __future__ import annotations

import socket
import sqlite3
from pathlib import Path

import pytest

from desk.cli.main import run
from desk.core.errors import DatabaseFault
from desk.data.database import open_database
from desk.data.migrations import migrate
from desk.data.models import Txn
from desk.services import catalog, patients, sales
from desk.services.context import Ctx
from desk.services.results import Tender


def _clinic(url: str) -> tuple[Ctx, int]:
    db = open_database(url)
    migrate(db)
    ctx = Ctx(db, staff="t")
    catalog.add_service(ctx, "Acupuncture 60", 60, 9500, "Acupuncture")
    return ctx, patients.add_patient(ctx, "Ana Costa").id


def test_read_only_sqlite_connection_is_a_clear_fault(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/ro.sqlite3"
    ctx, pid = _clinic(url)
    ctx.db.execute_sql("PRAGMA query_only = 1")
    with pytest.raises(DatabaseFault) as info:
        sales.sell(ctx, pid, sales.SaleItem(credit_cents=100), [Tender("cash", 100)])
    assert info.value.kind == "read_only"
    assert "read-only" in info.value.message
    ctx.db.execute_sql("PRAGMA query_only = 0")
    assert Txn.select().count() == 0


def test_disk_full_is_a_clear_fault_and_writes_nothing(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/full.sqlite3"
    ctx, pid = _clinic(url)
    pages = ctx.db.execute_sql("PRAGMA page_count").fetchone()[0]
    ctx.db.execute_sql(f"PRAGMA max_page_count = {pages}")  # no room to grow: SQLITE_FULL
    before = Txn.select().count()
    with pytest.raises(DatabaseFault) as info:
        for _ in range(200):
            sales.sell(ctx, pid, sales.SaleItem(credit_cents=100), [Tender("cash", 100)],
                       memo="n" * 500)
    assert info.value.kind == "disk_full"
    assert "full" in info.value.message
    ctx.db.execute_sql(f"PRAGMA max_page_count = {pages * 100}")
    from desk.services.verify import verify

    assert verify().ok
    assert Txn.select().count() >= before


def test_locked_sqlite_is_a_clear_fault(tmp_path: Path) -> None:
    path = tmp_path / "locked.sqlite3"
    ctx, pid = _clinic(f"sqlite:///{path}")
    ctx.db.close()
    blocker = sqlite3.connect(path, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    try:
        db = open_database(f"sqlite:///{path}")
        db.execute_sql("PRAGMA busy_timeout = 50")
        with pytest.raises(DatabaseFault) as info:
            sales.sell(Ctx(db), pid, sales.SaleItem(credit_cents=100), [Tender("cash", 100)])
        assert info.value.kind == "locked"
        assert "busy" in info.value.message
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_unreachable_postgres_is_a_clear_fault() -> None:
    with pytest.raises(DatabaseFault) as info:
        open_database(f"postgresql://desk@127.0.0.1:{_closed_port()}/desk")
    assert info.value.kind == "unreachable"
    assert "cannot be reached" in info.value.message


def test_cli_reports_unreachable_server_without_traceback(
        capsys: pytest.CaptureFixture[str]) -> None:
    code = run(["--db", f"postgresql://desk@127.0.0.1:{_closed_port()}/desk", "db", "verify"])
    err = capsys.readouterr().err
    assert code == 1
    assert "cannot be reached" in err
    assert "Traceback" not in err
