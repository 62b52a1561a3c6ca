"""Known database faults, told apart and given a human message.

Everything not recognised here is a bug and propagates unchanged.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

from desk.core.errors import DatabaseFault

_SQLITE_MESSAGES = [
    ("database is locked", "locked",
     "The database is busy with another workstation's change. Try again in a moment."),
    ("database table is locked", "locked",
     "The database is busy with another workstation's change. Try again in a moment."),
    ("database or disk is full", "disk_full",
     "The disk holding the database is full. Free some space, then try again."),
    ("attempt to write a readonly database", "read_only",
     "The database file is read-only. Check its permissions, then try again."),
    ("unable to open database file", "unreachable",
     "The database file cannot be opened. Check that its folder exists and is writable."),
    ("disk i/o error", "io_error",
     "The disk holding the database reported an error. Check the disk, then try again."),
]

_PG_SQLSTATES = {
    "53100": ("disk_full", "The database server's disk is full. Ask your administrator."),
    "25006": ("read_only", "The database server is read-only right now. Try again later."),
    "55P03": ("locked", "The record is locked by another workstation. Try again."),
    "57P01": ("unreachable", "The database server shut down. Try again in a moment."),
    "57P03": ("unreachable", "The database server is starting up. Try again in a moment."),
    "28P01": ("unreachable", "The database server refused the user name or password."),
    "3D000": ("unreachable", "The database does not exist on the server."),
}


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """The exception, then its causes and contexts, then wrapped DB-API errors.

    peewee wraps the driver's exception and passes it as the first argument;
    SQLITE_FULL hides the real error in ``__context__`` behind a failed ROLLBACK.
    """
    seen: set[int] = set()
    todo = [exc]
    while todo:
        item = todo.pop(0)
        if id(item) in seen:
            continue
        seen.add(id(item))
        yield item
        for nxt in (item.__cause__, item.__context__):
            if nxt is not None:
                todo.append(nxt)
        todo.extend(arg for arg in item.args if isinstance(arg, BaseException))


def translate(exc: BaseException) -> DatabaseFault | None:
    """A ``DatabaseFault`` for a known fault anywhere in ``exc``'s chain, else None."""
    for item in _chain(exc):
        if isinstance(item, DatabaseFault):
            return item
        if isinstance(item, sqlite3.Error):
            text = str(item).lower()
            for needle, kind, message in _SQLITE_MESSAGES:
                if needle in text:
                    return DatabaseFault(kind, message)
        sqlstate = getattr(item, "sqlstate", None)
        if isinstance(sqlstate, str) and sqlstate in _PG_SQLSTATES:
            kind, message = _PG_SQLSTATES[sqlstate]
            return DatabaseFault(kind, message)
        if type(item).__module__.startswith("psycopg") and type(item).__name__ in (
                "OperationalError", "ConnectionTimeout") and sqlstate is None:
            return DatabaseFault(
                "unreachable",
                "The database server cannot be reached. Check the network and that the "
                f"server is running, then try again. ({str(item).strip().splitlines()[0]})")
    return None
