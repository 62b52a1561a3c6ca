"""Schema: migrations, append-only triggers (SPEC §2.1), models matching the tables,
and ``verify`` catching what the triggers could not stop."""

from __future__ import annotations

import multiprocessing
import queue
from collections.abc import Iterator
from typing import Any

import peewee
import pytest
from peewee import Database

from desk.data.database import is_postgres, open_database
from desk.data.migrations import LATEST, MIGRATIONS, current_version, migrate
from desk.data.models import ALL_MODELS, Lot, Txn
from desk.services import catalog, patients
from desk.services.results import Tender
from desk.services.sales import SaleItem, sell
from desk.services.verify import verify
from desk.services.wallet import adjust


@pytest.fixture
def fresh(empty_db_url: str) -> Iterator[Database]:
    db = open_database(empty_db_url)
    yield db
    db.close()


def _versions(db: Database) -> list[int]:
    return [int(v) for (v,) in db.execute_sql(
        "SELECT version FROM schema_version ORDER BY version").fetchall()]


def _model_tables() -> list[str]:
    return sorted(model._meta.table_name for model in ALL_MODELS)


def _user_tables(db: Database) -> list[str]:
    return sorted(t for t in db.get_tables() if not t.startswith("sqlite_"))


# -- migrations ----------------------------------------------------------------------------

def test_migrate_builds_an_empty_database_once(fresh: Database) -> None:
    assert current_version(fresh) == 0
    assert _user_tables(fresh) == []

    every = [m.version for m in MIGRATIONS]
    assert migrate(fresh) == every == list(range(1, LATEST + 1))
    assert current_version(fresh) == LATEST
    assert _user_tables(fresh) == _model_tables()
    assert _versions(fresh) == list(range(1, LATEST + 1))

    assert migrate(fresh) == []
    assert _versions(fresh) == list(range(1, LATEST + 1))
    # the receipt counter is seeded exactly once
    assert fresh.execute_sql("SELECT name, value FROM counter").fetchall() == [("receipt", 0)]


def _migrate_in_child(url: str, barrier: Any, results: Any) -> None:
    """Runs in a spawned process: open the same empty database and migrate it."""
    try:
        barrier.wait(timeout=60)
        db = open_database(url)
        try:
            results.put(("ok", migrate(db)))
        finally:
            db.close()
    except BaseException as exc:  # reported to the parent
        results.put(("error", f"{type(exc).__name__}: {exc}"))


def test_two_processes_migrating_at_once_both_succeed(empty_db_url: str) -> None:
    mp = multiprocessing.get_context("spawn")
    barrier = mp.Barrier(2)
    results = mp.Queue()
    procs = [mp.Process(target=_migrate_in_child, args=(empty_db_url, barrier, results))
             for _ in range(2)]
    for proc in procs:
        proc.start()
    try:
        outcomes = [results.get(timeout=90) for _ in procs]
    except queue.Empty:
        outcomes = []
    for proc in procs:
        proc.join(timeout=30)
        if proc.is_alive():
            proc.terminate()
            proc.join()
    results.close()
    results.join_thread()

    assert [status for status, _ in outcomes] == ["ok", "ok"], outcomes
    assert sorted(applied for _, applied in outcomes) == [[], list(range(1, LATEST + 1))]
    assert [proc.exitcode for proc in procs] == [0, 0]
    db = open_database(empty_db_url)
    try:
        assert _versions(db) == list(range(1, LATEST + 1))
        assert db.execute_sql("SELECT COUNT(*) FROM counter").fetchone()[0] == 1
        assert migrate(db) == []
    finally:
        db.close()


# -- append-only triggers ------------------------------------------------------------------

@pytest.fixture
def ledger(ctx: Any) -> Any:
    """A sale and a token removal, so txn, line, lot and lot_move all have rows."""
    catalog.add_service(ctx, "Acupuncture 30", 30, 8000, token_kind="Acupuncture")
    catalog.add_package(ctx, "Five", "Acupuncture", 5, 35000, expires_days=90)
    zoe = patients.add_patient(ctx, "Zoë Adams").id
    sell(ctx, zoe, SaleItem(package="Five"), [Tender("cash", 30000)])
    adjust(ctx, zoe, reason="used at a home visit", tokens=-1, token_kind="Acupuncture")
    return ctx


def _table_rows(db: Database) -> dict[str, list[tuple[Any, ...]]]:
    return {table: db.execute_sql(f"SELECT * FROM {table} ORDER BY id").fetchall()
            for table in ("txn", "line", "lot", "lot_move")}


LEDGER_EDITS = [
    "UPDATE txn SET memo = 'edited'",
    "UPDATE txn SET receipt_no = NULL",
    "DELETE FROM txn",
    "UPDATE line SET amount = amount * 2",
    "UPDATE line SET memo = 'edited'",
    "DELETE FROM line",
    "UPDATE lot_move SET quantity = quantity - 1",
    "DELETE FROM lot_move",
    "UPDATE lot SET quantity = quantity + 1",
    "UPDATE lot SET unit_value_cents = 0",
    "UPDATE lot SET expires_on = NULL",
    "DELETE FROM lot",
]


def test_the_database_refuses_ledger_edits(ledger: Any, db: Database) -> None:
    before = _table_rows(db)
    assert all(before.values())
    edits = list(LEDGER_EDITS)
    if is_postgres(db):
        edits += ["TRUNCATE line", "TRUNCATE lot_move"]
    wrong = []
    for sql in edits:
        try:
            with db.atomic():
                db.execute_sql(sql)
        except peewee.DatabaseError as exc:
            # the trigger, not some other constraint, must be what refused it
            if not isinstance(exc, peewee.IntegrityError) or "append-only" not in str(exc):
                wrong.append(f"{sql}: {type(exc).__name__}: {exc}")
        else:
            wrong.append(f"{sql}: accepted")
    assert wrong == []
    assert _table_rows(db) == before
    assert verify().problems == []


def test_only_a_lots_remaining_count_may_change(ledger: Any, db: Database) -> None:
    lot = Lot.select().order_by(Lot.id).first()
    assert (lot.quantity, lot.remaining) == (5, 4)
    p = db.param
    with db.atomic() as tx:
        db.execute_sql(f"UPDATE lot SET remaining = remaining - 1 WHERE id = {p}", (lot.id,))
        assert Lot.get_by_id(lot.id).remaining == 3
        tx.rollback()
    assert Lot.get_by_id(lot.id).remaining == 4
    with pytest.raises(peewee.IntegrityError, match="append-only"), db.atomic():
        db.execute_sql(f"UPDATE lot SET quantity = 6 WHERE id = {p}", (lot.id,))
    assert Lot.get_by_id(lot.id).quantity == 5


# -- models mirror the migrated schema -----------------------------------------------------

def test_models_match_the_migrated_tables(db: Database) -> None:
    assert _user_tables(db) == _model_tables()
    problems = []
    for model in ALL_MODELS:
        table = model._meta.table_name
        columns = {c.name: c for c in db.get_columns(table)}
        fields = {f.column_name: f for f in model._meta.sorted_fields}
        if set(columns) != set(fields):
            problems.append(f"{table}: table has {sorted(set(columns) - set(fields))}, "
                            f"model has {sorted(set(fields) - set(columns))}")
            continue
        if db.get_primary_keys(table) != [model._meta.primary_key.column_name]:
            problems.append(f"{table}: primary key {db.get_primary_keys(table)}")
        for name, fld in fields.items():
            if not fld.primary_key and columns[name].null != fld.null:
                problems.append(f"{table}.{name}: column null={columns[name].null}, "
                                f"model null={fld.null}")
        db_fks = {(fk.column, fk.dest_table) for fk in db.get_foreign_keys(table)}
        model_fks = {(f.column_name, f.rel_model._meta.table_name)
                     for f in model._meta.sorted_fields
                     if isinstance(f, peewee.ForeignKeyField)}
        if db_fks != model_fks:
            problems.append(f"{table}: foreign keys {sorted(db_fks)} vs {sorted(model_fks)}")
        db_unique = {i.columns[0] for i in db.get_indexes(table)
                     if i.unique and len(i.columns) == 1} - set(db.get_primary_keys(table))
        model_unique = {n for n, f in fields.items() if f.unique and not f.primary_key}
        if db_unique != model_unique:
            problems.append(f"{table}: unique {sorted(db_unique)} vs {sorted(model_unique)}")
        # (peewee flags every foreign key as indexed; only explicit indexes are compared)
        indexed = {i.columns[0] for i in db.get_indexes(table)}
        for name, fld in fields.items():
            explicit = fld.index and not isinstance(fld, peewee.ForeignKeyField)
            if explicit and not fld.primary_key and name not in indexed:
                problems.append(f"{table}.{name}: the model says indexed, the table is not")
    assert problems == []


# -- verify finds what the triggers could not stop -----------------------------------------

def test_verify_detects_a_tampered_line(ledger: Any, db: Database) -> None:
    assert verify().problems == []
    sale = Txn.get(Txn.kind == "sale")
    line_id = db.execute_sql(
        f"SELECT MIN(id) FROM line WHERE txn_id = {db.param}", (sale.id,)).fetchone()[0]
    if is_postgres(db):
        db.execute_sql("ALTER TABLE line DISABLE TRIGGER line_append_only")
    else:
        db.execute_sql("DROP TRIGGER line_no_update")
    db.execute_sql(f"UPDATE line SET amount = amount + 1 WHERE id = {db.param}", (line_id,))

    report = verify()
    assert not report.ok
    assert any(f"transaction {sale.id}:" in p and "not zero" in p for p in report.problems)
    assert any("cached balance" in p for p in report.problems)


@pytest.mark.parametrize("sql, expected", [
    ("UPDATE account SET balance = balance + 1 WHERE code = 'prepaid'", "cached balance"),
    ("UPDATE lot SET remaining = remaining - 1", "lot "),
    ("UPDATE counter SET value = value + 1", "receipt counter"),
], ids=["account balance", "lot remaining", "receipt counter"])
def test_verify_detects_projection_drift(ledger: Any, db: Database, sql: str,
                                         expected: str) -> None:
    assert verify().problems == []
    with db.atomic() as tx:
        db.execute_sql(sql)
        report = verify()
        tx.rollback()
    assert not report.ok
    assert any(expected in p for p in report.problems), report.problems
    assert verify().problems == []
