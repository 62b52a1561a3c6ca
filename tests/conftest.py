"""Shared fixtures: every database test runs on SQLite and on PostgreSQL.

PostgreSQL comes from ``DESK_TEST_PG_URL`` (a server URL whose user may create
databases, e.g. ``postgresql://postgres@127.0.0.1:55432/postgres``); each test
gets a fresh database cloned from a migrated template. Without that variable
the PostgreSQL half is skipped, unless ``DESK_REQUIRE_PG=1`` (CI), where a
missing server is an error.
"""

from __future__ import annotations

import datetime as dt
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import urlparse, urlunparse

# Qt must never look for a display in tests (set before any QApplication exists).
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest
from peewee import Database

from desk.data.database import open_database
from desk.data.migrations import migrate
from desk.services.context import Ctx

PG_ENV = "DESK_TEST_PG_URL"
BACKENDS = ["sqlite", "postgres"]


def _with_db(url: str, name: str) -> str:
    parts = urlparse(url)
    return urlunparse(parts._replace(path=f"/{name}"))


class PgServer:
    """Creates and drops throwaway databases on the test server."""

    def __init__(self, url: str) -> None:
        import psycopg

        self.url = url
        self._admin = psycopg.connect(url, autocommit=True)
        worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
        self.template = f"desk_tpl_{worker}_{uuid.uuid4().hex[:6]}"
        self._created: list[str] = []
        self._admin.execute(f'CREATE DATABASE "{self.template}"')
        db = open_database(_with_db(url, self.template))
        migrate(db)
        db.close()

    def new_database(self, *, empty: bool = False) -> str:
        name = f"desk_t_{uuid.uuid4().hex[:12]}"
        template = "template0" if empty else self.template
        self._admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        self._created.append(name)
        return _with_db(self.url, name)

    def drop(self, url: str) -> None:
        name = urlparse(url).path.lstrip("/")
        self._admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def close(self) -> None:
        for name in [*self._created, self.template]:
            self._admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self._admin.close()


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer | None]:
    url = os.environ.get(PG_ENV)
    if not url:
        if os.environ.get("DESK_REQUIRE_PG") == "1":
            pytest.fail(f"DESK_REQUIRE_PG=1 but {PG_ENV} is not set", pytrace=False)
        yield None
        return
    server = PgServer(url)
    yield server
    server.close()


def _new_url(backend: str, pg_server: PgServer | None, tmp_path: os.PathLike[str], *,
             empty: bool) -> str:
    if backend == "sqlite":
        return f"sqlite:///{os.fspath(tmp_path)}/desk-{uuid.uuid4().hex[:8]}.sqlite3"
    if pg_server is None:
        pytest.skip(f"PostgreSQL not available (set {PG_ENV})")
    return pg_server.new_database(empty=empty)


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def empty_db_url(backend: str, pg_server: PgServer | None, tmp_path: os.PathLike[str]
                 ) -> Iterator[str]:
    """A URL of a database with no schema at all."""
    url = _new_url(backend, pg_server, tmp_path, empty=True)
    yield url
    if backend == "postgres" and pg_server is not None:
        pg_server.drop(url)


@pytest.fixture
def db_url(backend: str, pg_server: PgServer | None, tmp_path: os.PathLike[str]
           ) -> Iterator[str]:
    """A URL of a migrated, empty desk database (other processes may open it too)."""
    url = _new_url(backend, pg_server, tmp_path, empty=False)
    if backend == "sqlite":
        migrate(open_database(url))
    yield url
    if backend == "postgres" and pg_server is not None:
        pg_server.drop(url)


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    database = open_database(db_url)
    yield database
    database.close()


@dataclass
class Clock:
    """A settable clock for services: ``today`` and ``now`` move together."""

    current: dt.datetime = field(default_factory=lambda: dt.datetime(2026, 3, 2, 15, 0))

    def now(self) -> dt.datetime:
        return self.current

    def today(self) -> dt.date:
        return self.current.date()

    def local_now(self) -> dt.datetime:
        """The clinic's wall clock; tests treat it as the same instant as ``now``."""
        return self.current

    def advance(self, days: int = 0, hours: int = 0) -> None:
        self.current += dt.timedelta(days=days, hours=hours)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def ctx(db: Database, clock: Clock) -> Ctx:
    return Ctx(db, staff="tester", workstation="ws-test", now=clock.now, today=clock.today,
               local_now=clock.local_now)
