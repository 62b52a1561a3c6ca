"""One write-transaction helper per backend (SPEC §2.6).

SQLite: ``BEGIN IMMEDIATE`` takes the write lock before the first read, so a
check-then-spend can never interleave with another writer (``busy_timeout``
makes the others wait). PostgreSQL: READ COMMITTED plus explicit row locks
(``lock_accounts``) taken in id order, and a retry on serialization failures and
deadlocks, re-running the whole unit of work with the same idempotency key.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

from peewee import Database, IntegrityError

from desk.data.database import is_postgres
from desk.data.faults import translate
from desk.data.models import Account, rows

T = TypeVar("T")

_RETRY_SQLSTATES = {"40001", "40P01"}
MAX_ATTEMPTS = 8


# Lookups cached for the life of one write transaction (account ids by code, the
# settings). Never shared between transactions: a rolled-back insert cannot leave
# a stale id behind.
_memo: ContextVar[dict[str, Any] | None] = ContextVar("desk_tx_memo", default=None)


def memo() -> dict[str, Any] | None:
    """The current write transaction's lookup cache, or None outside one."""
    return _memo.get()


@contextmanager
def _fresh_memo() -> Iterator[None]:
    token = _memo.set({})
    try:
        yield
    finally:
        _memo.reset(token)


class RetryTransaction(Exception):
    """Raised inside a unit of work to ask for one more attempt (e.g. a lost key race)."""


def _retryable(exc: BaseException) -> bool:
    seen: set[int] = set()
    item: BaseException | None = exc
    while item is not None and id(item) not in seen:
        seen.add(id(item))
        if isinstance(item, RetryTransaction):
            return True
        if getattr(item, "sqlstate", None) in _RETRY_SQLSTATES:
            return True
        for arg in item.args:
            if isinstance(arg, BaseException) and getattr(arg, "sqlstate", None) in \
                    _RETRY_SQLSTATES:
                return True
        item = item.__cause__ or item.__context__
    return False


def run_write(db: Database, work: Callable[[], T]) -> T:
    """Run ``work`` in one write transaction, retrying transient conflicts.

    Inside an enclosing transaction (a batch) it runs in a savepoint instead.
    Known database faults come out as ``DatabaseFault``.
    """
    if db.in_transaction():
        with _fresh_memo(), db.atomic():
            return work()
    for attempt in range(1, MAX_ATTEMPTS + 1):
        try:
            if is_postgres(db):
                with _fresh_memo(), db.atomic():
                    return work()
            with _fresh_memo(), db.atomic("IMMEDIATE"):
                return work()
        except Exception as exc:
            if attempt < MAX_ATTEMPTS and _retryable(exc):
                time.sleep(random.uniform(0.005, 0.03) * attempt)
                continue
            if isinstance(exc, IntegrityError) or not isinstance(exc, Exception):
                raise
            fault = translate(exc)
            if fault is not None:
                raise fault from exc
            raise
    raise AssertionError("unreachable")


def lock_row(db: Database, model: Any, row_id: int) -> None:
    """Lock one row (an appointment) until commit, so two desks acting on it queue up
    and the second sees what the first did. SQLite's IMMEDIATE lock already does."""
    if is_postgres(db):
        list(model.select(model.id).where(model.id == row_id).for_update())


def lock_accounts(db: Database, account_ids: Iterable[int]) -> dict[int, int]:
    """Lock account rows for the rest of the transaction, in id order (no deadlocks),
    and return their balances as of now (before this transaction's own postings).

    On SQLite the IMMEDIATE transaction already holds the only write lock.
    """
    ids = sorted(set(account_ids))
    if not ids:
        return {}
    query = Account.select(Account.id, Account.balance).where(Account.id.in_(ids))
    if is_postgres(db):
        # peewee takes the lock clause as text; its stub says bool.
        query = query.order_by(Account.id).for_update("FOR NO KEY UPDATE")  # type: ignore[arg-type]
    return {int(i): int(b) for i, b in rows(query)}
