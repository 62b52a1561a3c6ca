"""After the server drops a connection, the next call on that thread reconnects."""

from __future__ import annotations

import psycopg
import pytest
from peewee import Database

from desk.core.errors import DatabaseFault
from desk.data.database import recover_connection
from desk.data.models import Patient
from desk.services import patients
from desk.services.context import Ctx


@pytest.mark.parametrize("backend", ["postgres"])  # a server dropping a connection
def test_a_dropped_postgres_connection_is_reported_then_replaced(
        backend: str, db: Database, ctx: Ctx, db_url: str) -> None:
    patients.add_patient(ctx, "Ana Silva")
    pid = db.execute_sql("SELECT pg_backend_pid()").fetchone()[0]
    with psycopg.connect(db_url, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
    with pytest.raises(Exception) as caught:
        Patient.select().count()
    reported = recover_connection(db, caught.value)
    assert isinstance(reported, DatabaseFault)
    assert reported.kind == "unreachable"
    # The next call opens a new connection by itself.
    assert [p.name for p in patients.find_patients("ana")] == ["Ana Silva"]


def test_other_errors_pass_through_untouched(db: Database) -> None:
    bug = ValueError("a bug, not the database")
    assert recover_connection(db, bug) is bug
    assert not db.is_closed()
