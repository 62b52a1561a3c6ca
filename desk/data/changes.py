"""Hear that another connection committed a change, for the schedule's live refresh.

A ``ChangeWatcher`` holds its own connection, never the peewee one, so it can block
on a worker thread while the application reads and writes. SQLite: ``PRAGMA
data_version``, which moves when any other connection commits, polled every
``SQLITE_POLL_S``. PostgreSQL: ``LISTEN desk_changes``, fed by the triggers of
migration 3 at commit.
"""

from __future__ import annotations

import os
import sqlite3
import time
from types import TracebackType
from typing import Any, Protocol, Self

from desk.core.errors import DatabaseFault
from desk.data.database import backend_of, postgres_params, sqlite_path
from desk.data.faults import translate

CHANNEL = "desk_changes"  # the NOTIFY channel of migration 3
SQLITE_POLL_S = 0.25
# A burst of commits (a CLI import, another desk's check-in) should wake a caller once.
_QUIET_S = 0.05
_COALESCE_MAX_S = 0.25
# A lost network path is only noticed through TCP keepalives: give up after ~25 s.
_KEEPALIVES = {"keepalives": 1, "keepalives_idle": 10, "keepalives_interval": 5,
               "keepalives_count": 3}


class _Source(Protocol):
    def wait(self, timeout_s: float) -> bool: ...
    def close(self) -> None: ...


class _SqliteSource:
    def __init__(self, url: str) -> None:
        self._path = sqlite_path(url).resolve()
        # mode=rw: a missing file is a fault, not a new empty database.
        self._conn = sqlite3.connect(f"{self._path.as_uri()}?mode=rw", uri=True,
                                     isolation_level=None, timeout=1.0,
                                     check_same_thread=False)
        try:
            self._identity = self._file_identity()
            self._version = self._data_version()
        except BaseException:
            self._conn.close()
            raise

    def _file_identity(self) -> tuple[int, int]:
        try:
            st = os.stat(self._path)
        except OSError:
            raise DatabaseFault(
                "unreachable", f"The database file {self._path} is gone (moved, deleted or "
                "its drive disconnected). Put it back, then try again.") from None
        return st.st_dev, st.st_ino

    def _data_version(self) -> int:
        return int(self._conn.execute("PRAGMA data_version").fetchone()[0])

    def wait(self, timeout_s: float) -> bool:
        deadline = time.monotonic() + timeout_s
        while True:
            # An open connection keeps reading a deleted or replaced file: check the name.
            if self._file_identity() != self._identity:
                raise DatabaseFault(
                    "unreachable", f"The database file {self._path} was replaced by another "
                    "file. Reopen the database.")
            try:
                version = self._data_version()
            except sqlite3.OperationalError as exc:
                fault = translate(exc)
                if fault is None or fault.kind != "locked":
                    raise
                version = self._version  # busy for over a second: ask again next poll
            if version != self._version:
                self._version = version
                return True
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            time.sleep(min(SQLITE_POLL_S, remaining))

    def close(self) -> None:
        self._conn.close()


class _PostgresSource:
    def __init__(self, url: str) -> None:
        # Imported here: an SQLite desk never loads the PostgreSQL driver (start-up time).
        import psycopg
        from psycopg import sql

        self._errors = (psycopg.OperationalError,)
        name, params = postgres_params(url)
        try:
            self._conn: Any = psycopg.connect(
                dbname=name, autocommit=True, **{**_KEEPALIVES, **params})
        except psycopg.OperationalError as exc:
            raise _fault(exc) from exc
        try:
            self._conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(CHANNEL)))
        except BaseException as exc:
            self._conn.close()
            if isinstance(exc, psycopg.OperationalError):
                raise _fault(exc) from exc
            raise

    def wait(self, timeout_s: float) -> bool:
        try:
            if not list(self._conn.notifies(timeout=timeout_s, stop_after=1)):
                return False
            deadline = time.monotonic() + _COALESCE_MAX_S
            while time.monotonic() < deadline and list(self._conn.notifies(timeout=_QUIET_S)):
                pass
        except self._errors as exc:
            raise _fault(exc) from exc
        return True

    def close(self) -> None:
        try:
            self._conn.close()
        except Exception:  # the connection is already gone: nothing to release
            pass


class ChangeWatcher:
    """Tells a caller that the database may have changed since it last asked.

    Sees every commit made through any other connection, including this process's
    own peewee connection; never a rolled-back transaction. One thread at a time
    (it may be opened on one thread and used on another). A True may be spurious
    (an SQLite checkpoint, a PostgreSQL statement that matched no rows): reload.
    """

    def __init__(self, source: _Source) -> None:
        self._source: _Source | None = source

    @classmethod
    def open(cls, url: str) -> ChangeWatcher:
        """Open a watcher on the database at ``url`` (the same URLs as ``open_database``).

        Changes committed after this returns are reported. Raises ``DatabaseFault``
        when the database cannot be reached, ``BadInput`` for a bad URL.
        """
        try:
            if backend_of(url) == "postgres":
                return cls(_PostgresSource(url))
            return cls(_SqliteSource(url))
        except sqlite3.OperationalError as exc:
            raise _fault(exc) from exc

    @property
    def closed(self) -> bool:
        return self._source is None

    def wait(self, timeout_s: float) -> bool:
        """Block up to ``timeout_s`` seconds; True once a change is seen, else False.

        Reports each batch of changes once: several commits since the last call give
        one True, and the next call waits for a newer commit. True comes within
        ~0.3 s of another connection's commit on SQLite, within a few ms (plus 50 ms
        to gather a burst) on PostgreSQL. ``timeout_s=0`` only checks (gathering a
        burst may still take up to 0.25 s before a True).

        A lost PostgreSQL connection or a vanished SQLite file raises
        ``DatabaseFault`` once and closes the watcher; open a new one to retry.
        Raises ``ValueError`` on a closed watcher.
        """
        if self._source is None:
            raise ValueError("wait() on a closed ChangeWatcher; open a new one")
        try:
            return self._source.wait(max(0.0, timeout_s))
        except DatabaseFault:
            self.close()
            raise
        except sqlite3.OperationalError as exc:
            self.close()
            raise _fault(exc) from exc

    def close(self) -> None:
        """Release the connection. Safe to call more than once."""
        source, self._source = self._source, None
        if source is not None:
            try:
                source.close()
            except sqlite3.Error:
                pass  # the connection is already gone: nothing left to release

    def __enter__(self) -> Self:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


def _fault(exc: BaseException) -> DatabaseFault:
    # The watcher's connection only reads a counter or listens: any operational
    # error means the database went away, even one faults.py does not name.
    return translate(exc) or DatabaseFault(
        "unreachable", "Lost the connection that listens for other workstations' changes. "
        f"Check the database, then try again. ({_first_line(exc)})")


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]
