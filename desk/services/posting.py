"""The posting engine: turns a balanced draft into an immutable transaction.

Every ledger write goes through ``commit``: it checks that the lines balance per
unit, assigns the next gap-free receipt number when the transaction gets a
receipt, writes the transaction, lines, new lots and lot moves, and updates the
projections (cached balances, lot remainders) in the same database transaction.
Then it checks the token rule where it was written.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections import defaultdict
from dataclasses import dataclass, field

from peewee import Database, IntegrityError, fn

from desk.core.errors import Refused
from desk.core.ledger import (
    MONEY,
    Allocation,
    LotView,
    Posting,
    allocate_fefo,
    imbalances,
    token_unit,
)
from desk.data.models import Account, Line, Lot, LotMove, Setting, TokenKind, Txn, rows
from desk.data.tx import RetryTransaction, memo
from desk.services import accounts
from desk.services.context import Ctx
from desk.services.results import TxnResult


@dataclass(frozen=True, slots=True)
class NewLot:
    account_id: int
    quantity: int
    unit_value_cents: int
    expires_on: dt.date | None


@dataclass
class Draft:
    """A transaction being built. ``commit`` writes it or nothing."""

    kind: str
    patient_id: int | None
    memo: str = ""
    postings: list[Posting] = field(default_factory=list)
    new_lots: list[NewLot] = field(default_factory=list)
    # (lot id, quantity, value); a negative lot id -1-i names new_lots[i]
    moves: list[tuple[int, int, int]] = field(default_factory=list)
    appointment_id: int | None = None
    reverses_id: int | None = None
    receipt: bool = False
    effective_on: dt.date | None = None
    #: A record with no amounts is still worth keeping (a free visit, a cancel).
    allow_empty: bool = False

    def post(self, account_id: int, unit: str, amount: int, memo: str = "") -> None:
        if amount != 0:
            self.postings.append(Posting(account_id, unit, amount, memo))


def request_hash(payload: dict[str, object]) -> str:
    """A fingerprint of what was asked, to catch one key reused for another request."""
    text = json.dumps(payload, sort_keys=True, default=str, ensure_ascii=True)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def find_replay(idem_key: str | None, req_hash: str) -> Txn | None:
    """The transaction already written under ``idem_key``, if any.

    The same key with a different request is refused: it is a client bug, and
    silently returning the other transaction would hide it.
    """
    if idem_key is None:
        return None
    txn = Txn.get_or_none(Txn.idem_key == idem_key)
    if txn is not None and txn.request_hash != req_hash:
        raise Refused(f"the key {idem_key!r} was already used for a different request "
                      f"(transaction {txn.id}); use a new key")
    return txn


def setting_bool(key: str, default: bool = False) -> bool:
    """A stored boolean setting (read once per write transaction)."""
    cache = memo()
    if cache is not None:
        if "settings" not in cache:
            cache["settings"] = dict(rows(Setting.select(Setting.key, Setting.value)))
        stored = cache["settings"].get(key)
    else:
        row = Setting.get_or_none(Setting.key == key)
        stored = None if row is None else row.value
    return default if stored is None else stored == "true"


def lots_of(account_id: int, today: dt.date) -> list[LotView]:
    """The lots of an account that can still be spent on ``today``.

    A lot is usable through its expiry date, even before the expiry job has run.
    """
    return [LotView(int(lot.id), int(lot.remaining), int(lot.unit_value_cents), lot.expires_on)
            for lot in Lot.select().where(
                Lot.account == account_id, Lot.remaining > 0,
                Lot.expires_on.is_null() | (Lot.expires_on >= today))]


def take_tokens(draft: Draft, account_id: int, unit: str, quantity: int, *, today: dt.date,
                allow_short: bool, memo: str, lots: list[LotView] | None = None
                ) -> list[Allocation]:
    """Debit ``quantity`` tokens from a patient account, first-expiring lots first
    (``lots`` when the caller already read them under its lock).

    Refused when the usable lots cannot cover it, unless ``allow_short`` (negative
    tokens allowed): the shortfall is then taken with no lot and no value.
    """
    usable = lots if lots is not None else lots_of(account_id, today)
    allocations, short = allocate_fefo(usable, quantity)
    if short and not allow_short:
        held = quantity - short
        kind = _kind_name_of(account_id)
        expired = (Lot.select(fn.SUM(Lot.remaining))
                   .where(Lot.account == account_id, Lot.remaining > 0,
                          Lot.expires_on < today).scalar() or 0)
        note = f" ({expired} more expired)" if expired else ""
        raise Refused(f"not enough {kind} tokens: {held} available{note}, {quantity} needed")
    for alloc in allocations:
        draft.moves.append((alloc.lot_id, -alloc.quantity, -alloc.value_cents))
    draft.post(account_id, unit, quantity, memo)
    return allocations


def spend_tokens(draft: Draft, account_id: int, kind_id: int, quantity: int, *,
                 today: dt.date, earned_code: str, memo: str, allow_short: bool = False,
                 lots: list[LotView] | None = None) -> int:
    """Tokens leave a patient for good (a visit, a fee, a removal): taken from their
    lots, returned to the kind's issued account, and their prepaid value recognised
    on the clinic account ``earned_code``. Returns that value in cents."""
    unit = token_unit(kind_id)
    allocations = take_tokens(draft, account_id, unit, quantity, today=today,
                              allow_short=allow_short, memo=memo, lots=lots)
    value = sum(a.value_cents for a in allocations)
    draft.post(accounts.tokens_issued(kind_id), unit, -quantity, memo)
    draft.post(accounts.clinic_money(accounts.PREPAID), MONEY, value, memo)
    draft.post(accounts.clinic_money(earned_code), MONEY, -value, memo)
    return value


def _kind_name_of(account_id: int) -> str:
    account = Account.get_by_id(account_id)
    if account.token_kind_id is None:
        return "?"
    return str(TokenKind.get_by_id(account.token_kind_id).name)


def _next_receipt_no(db: Database) -> int:
    # The UPDATE row-locks the counter until commit, so numbers are gap-free:
    # a rolled-back transaction gives its number back.
    row = db.execute_sql("UPDATE counter SET value = value + 1 WHERE name = 'receipt' "
                         "RETURNING value").fetchone()
    return int(row[0])


def commit(ctx: Ctx, draft: Draft, *, idem_key: str | None, req_hash: str) -> Txn:
    """Write ``draft`` as one transaction. Must run inside ``run_write``."""
    unbalanced = imbalances(draft.postings)
    if unbalanced:
        raise AssertionError(f"unbalanced transaction {draft.kind}: {unbalanced}")
    if not draft.postings and not draft.moves and not draft.allow_empty:
        raise Refused("nothing to record: every amount is zero")
    receipt_no = _next_receipt_no(ctx.db) if draft.receipt else None
    try:
        # No savepoint needed: any failure here abandons the whole transaction.
        txn = Txn.create(kind=draft.kind, idem_key=idem_key, request_hash=req_hash,
                         created_at=ctx.now(), staff=ctx.staff,
                         workstation=ctx.workstation, memo=draft.memo,
                         patient=draft.patient_id, appointment_id=draft.appointment_id,
                         reverses=draft.reverses_id, receipt_no=receipt_no,
                         effective_on=draft.effective_on or ctx.today())
    except IntegrityError as exc:
        if draft.reverses_id is not None and "revers" in str(exc):
            raise Refused(f"transaction {draft.reverses_id} was already reversed") from exc
        if idem_key is not None:
            raise RetryTransaction(idem_key) from exc  # lost a race on the key: replay
        raise
    Line.insert_many([
        {"txn": txn.id, "account": p.account_id, "amount": p.amount, "memo": p.memo}
        for p in draft.postings]).execute()
    created = [_create_lot(txn.id, new) for new in draft.new_lots]
    # A move may take from a lot this same transaction creates (buy a package at
    # check-in and use one of its tokens): it names it as -1 - index in new_lots.
    moves = [(created[-1 - lot] if lot < 0 else lot, qty, value)
             for lot, qty, value in draft.moves]
    _apply_moves(txn.id, moves)
    _apply_balances(ctx.db, draft.postings)
    return txn


def _create_lot(txn_id: int, new: NewLot) -> int:
    lot = Lot.create(txn=txn_id, account=new.account_id, quantity=new.quantity,
                     remaining=new.quantity, unit_value_cents=new.unit_value_cents,
                     expires_on=new.expires_on)
    return int(lot.id)


def _apply_moves(txn_id: int, moves: list[tuple[int, int, int]]) -> None:
    if not moves:
        return
    LotMove.insert_many([{"txn": txn_id, "lot": lot_id, "quantity": qty, "value_cents": value}
                         for lot_id, qty, value in moves]).execute()
    per_lot: dict[int, int] = defaultdict(int)
    for lot_id, qty, _ in moves:
        per_lot[lot_id] += qty
    for lot_id in sorted(per_lot):
        if per_lot[lot_id]:
            Lot.update(remaining=Lot.remaining + per_lot[lot_id]).where(Lot.id == lot_id).execute()


def _apply_balances(db: Database, postings: list[Posting]) -> None:
    """Move the cached balances, and refuse a patient token balance below zero
    unless the clinic allows it (SPEC §2.8): checked where it is written."""
    per_account: dict[int, int] = defaultdict(int)
    for posting in postings:
        per_account[posting.account_id] += posting.amount
    sql = (f"UPDATE account SET balance = balance + {db.param} WHERE id = {db.param} "
           "RETURNING balance, kind")
    for account_id in sorted(per_account):  # id order: no deadlocks between writers
        delta = per_account[account_id]
        if not delta:
            continue
        balance, kind = db.execute_sql(sql, (delta, account_id)).fetchone()
        if kind == "patient_tokens" and balance > 0 and not setting_bool(
                "allow_negative_tokens"):
            name = _kind_name_of(account_id)
            raise Refused(f"not enough {name} tokens: this would leave {-balance}")


def patients_of(txn_id: int) -> list[int]:
    """Every patient whose accounts a transaction touched."""
    found = rows(Account.select(Account.patient).join(Line, on=(Line.account == Account.id))
                 .where(Line.txn == txn_id, Account.patient.is_null(False)).distinct())
    return sorted({int(pid) for (pid,) in found})


def txn_result(txn: Txn, replayed: bool, patient_ids: list[int] | None = None) -> TxnResult:
    """The result of a write, with the balances after of every patient it touched
    (``patient_ids`` when the caller knows them: saves a query)."""
    ids = set(patients_of(int(txn.id)) if patient_ids is None else patient_ids)
    if txn.patient_id is not None:
        ids.add(int(txn.patient_id))
    found = accounts.balances_for(sorted(ids))
    return TxnResult(int(txn.id), str(txn.kind), txn.receipt_no, replayed,
                     tuple(found[pid] for pid in sorted(ids)))
