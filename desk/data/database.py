"""One way to open a database: from a URL, with the right settings per backend."""

from __future__ import annotations

import contextlib
import os
import time
from pathlib import Path
from typing import Any, Literal
from urllib.parse import parse_qsl, unquote, urlparse

import platformdirs
from peewee import Database, InterfaceError, PostgresqlDatabase, SqliteDatabase

from desk.core.errors import BadInput, DatabaseFault
from desk.data.faults import translate
from desk.data.models import database_proxy

ENV_VAR = "DESK_DATABASE"

#: Durability first for the ledger (ENVIRONMENT: WAL + synchronous=FULL).
SQLITE_PRAGMAS = {
    "journal_mode": "wal",
    "synchronous": "full",
    "foreign_keys": 1,
    "cache_size": -64000,
}
SQLITE_BUSY_TIMEOUT_S = 15


def default_sqlite_path() -> Path:
    """The embedded database in the platform's per-user data directory."""
    return Path(platformdirs.user_data_dir("desk", appauthor=False)) / "desk.sqlite3"


def default_url() -> str:
    return os.environ.get(ENV_VAR) or f"sqlite:///{default_sqlite_path()}"


def describe(url: str) -> str:
    """The URL with any password hidden, for messages."""
    parsed = urlparse(url)
    if parsed.password:
        netloc = parsed.netloc.replace(f":{parsed.password}@", ":***@")
        return parsed._replace(netloc=netloc).geturl()
    return url


def backend_of(url: str) -> Literal["sqlite", "postgres"]:
    """Which backend a database URL names; ``BadInput`` for any other scheme."""
    scheme = urlparse(url).scheme
    if scheme in ("postgresql", "postgres"):
        return "postgres"
    if scheme in ("sqlite", "") or (len(scheme) == 1 and os.name == "nt"):
        return "sqlite"
    raise BadInput("--db", f"unsupported database URL {describe(url)!r}; "
                   "use sqlite:///path or postgresql://user:pass@host:port/db")


def sqlite_path(url: str) -> Path:
    """The file an SQLite URL (or a plain path) names; ``BadInput`` for ``:memory:``."""
    if url.startswith("sqlite:///"):
        raw = url[len("sqlite:///"):]
    elif url.startswith("sqlite://"):
        raise BadInput("--db", "write sqlite:///relative/path or sqlite:////absolute/path")
    else:
        raw = url
    if not raw or raw == ":memory:":
        raise BadInput("--db", "needs a file path (an in-memory database would lose the ledger)")
    return Path(unquote(raw)).expanduser()


def open_database(url: str | None = None, *, create: bool = True) -> Database:
    """Open (and connect) the database at ``url``, binding the models to it.

    ``sqlite:///path`` (or a plain path) opens an SQLite file, creating its folder
    on first use; ``postgresql://user:pass@host:port/db`` a PostgreSQL server.
    Without a URL: ``$DESK_DATABASE``, else the embedded SQLite file.
    """
    url = url or default_url()
    db: Database
    if backend_of(url) == "postgres":
        name, params = postgres_params(url)
        db = PostgresqlDatabase(name, prefer_psycopg3=True, **params)
    else:
        path = sqlite_path(url)
        if not create and not path.exists():
            raise BadInput("--db", f"no database at {path}")
        path.parent.mkdir(parents=True, exist_ok=True)
        db = SqliteDatabase(str(path), pragmas=SQLITE_PRAGMAS, timeout=SQLITE_BUSY_TIMEOUT_S,
                            check_same_thread=False)
    for attempt in range(40):
        try:
            db.connect(reuse_if_open=True)
            break
        except Exception as exc:
            fault = translate(exc)
            if fault is None:
                raise
            # Two processes creating a new SQLite file at once: switching it to WAL
            # takes an exclusive lock that SQLite's busy handler does not wait for.
            if fault.kind == "locked" and attempt < 39:
                db.close()
                time.sleep(0.05)
                continue
            raise fault from exc
    database_proxy.initialize(db)
    return db


def postgres_params(url: str) -> tuple[str, dict[str, Any]]:
    """The database name and the psycopg connection keywords of a PostgreSQL URL."""
    parsed = urlparse(url)
    name = unquote(parsed.path.lstrip("/"))
    if not name:
        raise BadInput("--db", "the PostgreSQL URL needs a database name: .../DBNAME")
    params: dict[str, Any] = {"connect_timeout": 5, "application_name": "desk"}
    if parsed.username:
        params["user"] = unquote(parsed.username)
    if parsed.password:
        params["password"] = unquote(parsed.password)
    if parsed.hostname:
        params["host"] = parsed.hostname
    if parsed.port:
        params["port"] = parsed.port
    params.update(dict(parse_qsl(parsed.query)))
    return name, params


def is_postgres(db: Database) -> bool:
    return isinstance(db, PostgresqlDatabase)


def recover_connection(db: Database, exc: BaseException) -> BaseException:
    """What to report after a call on this thread failed with ``exc``.

    When the connection itself is gone (the server restarted, the network
    dropped), this thread's connection is closed so the next query opens a new
    one, and a ``DatabaseFault`` says what happened; other known faults are
    translated; anything else is returned unchanged (a bug).
    """
    fault = translate(exc)
    gone = isinstance(exc, InterfaceError) or (fault is not None and fault.kind == "unreachable")
    if gone:
        with contextlib.suppress(Exception):  # closing a dead connection may fail too
            db.close()
        return fault or DatabaseFault(
            "unreachable", "Lost the connection to the database; the next try reconnects.")
    return fault or exc
