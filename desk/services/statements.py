"""Patient statements (SPEC §7): the balances at the start of a period, every
transaction in it with a running credit balance, the balances at its end and the
tokens left with their next expiry.

Days are the clinic's local days: a transaction belongs to the local date of its
UTC ``created_at``. Reading a statement is a fixed number of queries (12), however
many transactions the period holds.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from peewee import JOIN, fn

from desk.core.dates import MAX_DATE, MIN_DATE, as_date, as_datetime
from desk.core.errors import BadInput
from desk.core.ledger import MONEY, credit_of, tokens_of
from desk.data.models import Account, Line, Lot, LotMove, TokenKind, Txn, rows
from desk.printing.statement_data import StatementData, StatementEntry, TokensLeft
from desk.services import accounts
from desk.services import settings as clinic_settings
from desk.services.patients import get_patient
from desk.services.receipts import clinic_header

#: Transaction kinds that charge the patient for something (a visit, a package, a
#: fee): what they charged is what was paid less what went onto the credit balance.
_BILLED = frozenset({"checkin", "sale", "fee", "renewal", "refund", "cancel"})
_KIND_WORDS = {"checkin": "Visit", "sale": "Sale", "refund": "Refund",
               "adjustment": "Adjustment", "fee": "Fee", "cancel": "Cancellation",
               "expiry": "Tokens expired", "renewal": "Membership renewal"}
_FEE_WORDS = {"late cancel fee": "Late cancel fee", "no-show fee": "No-show fee",
              "token kept on cancel": "Token kept on cancel"}
_SETTLEMENT_MEMOS = frozenset({"credit applied", "left owed", "added to credit"})


def statement_for(patient_id: int, first: dt.date, last: dt.date, *,
                  today: dt.date | None = None) -> StatementData:
    """The statement of ``patient_id`` from the start of local day ``first`` to the
    end of local day ``last`` (both included), issued on ``today`` (default: the
    local date).

    Raises ``BadInput`` naming ``--from``/``--to`` for a period that ends before it
    starts, lies outside 1900-2200 or reaches past ``today``, and ``NotFound`` naming
    ``--patient`` for an unknown patient. Nothing is written.
    """
    issued = today or dt.date.today()
    _check_period(first, last, issued)
    if type(patient_id) is not int:
        raise BadInput("--patient", f"{patient_id!r} is not a patient id")
    patient = get_patient(patient_id)                                     # 1 query
    header = clinic_header()                                              # 1 query
    paper = clinic_settings.get("receipt_paper")                         # 1 query
    start, end = _utc_start(first), _utc_start(last + dt.timedelta(days=1))
    mine = _Mine.of(patient_id)                                           # 4 queries
    opening_credit, opening_tokens = _balances_before(mine, start)        # 1 query
    entries = _entries(mine, start, end, opening_credit)                  # 2 queries
    closing_credit = entries[-1].balance_cents if entries else opening_credit
    closing_tokens = dict(opening_tokens)
    for entry in entries:
        for kind, change in entry.token_changes.items():
            closing_tokens[kind] = closing_tokens.get(kind, 0) + change
    closing_tokens = {k: n for k, n in sorted(closing_tokens.items()) if n}
    return StatementData(
        clinic=header, patient_id=patient_id, patient_name=patient.name,
        patient_phone=patient.phone, patient_email=patient.email, first=first, last=last,
        issued_on=issued, opening_credit_cents=opening_credit, opening_tokens=opening_tokens,
        entries=tuple(entries), closing_credit_cents=closing_credit,
        closing_tokens=closing_tokens,
        tokens_left=_tokens_left(mine, end, closing_tokens),         # 2 queries
        charges_cents=sum(e.charge_cents for e in entries),
        paid_cents=sum(e.paid_cents for e in entries),
        paper="a4" if paper == "a4" else "letter")


def _check_period(first: dt.date, last: dt.date, today: dt.date) -> None:
    for name, day in (("--from", first), ("--to", last)):
        if type(day) is not dt.date:
            raise BadInput(name, f"{day!r} is not a date")
        if not MIN_DATE <= day <= MAX_DATE:
            raise BadInput(name, f"{day} is out of range ({MIN_DATE} to {MAX_DATE})")
    if first > today:
        raise BadInput("--from", f"{first} is in the future (today is {today})")
    if last > today:
        raise BadInput("--to", f"{last} is in the future (today is {today}); a statement "
                       "shows balances that have already happened")
    if first > last:
        raise BadInput("--from", f"{first} is after --to {last}; a period starts before "
                       "it ends")


def _utc_start(day: dt.date) -> dt.datetime:
    """The UTC instant (naive, as stored) at which local day ``day`` begins."""
    local = dt.datetime.combine(day, dt.time()).astimezone()
    return local.astimezone(dt.UTC).replace(tzinfo=None)


def _local(utc: dt.datetime) -> dt.datetime:
    return utc.replace(tzinfo=dt.UTC).astimezone().replace(tzinfo=None)


@dataclass(frozen=True)
class _Mine:
    """The patient's side of the ledger: their accounts, those of the duplicates merged
    into them and their household's shared wallet; the patient ids transactions were
    made for."""

    patient_ids: tuple[int, ...]
    account_ids: tuple[int, ...]

    @classmethod
    def of(cls, patient_id: int) -> _Mine:
        found = Account.select(Account.id).where(accounts.history_condition(patient_id))
        return cls(tuple(accounts.merged_ids(patient_id)),
                   tuple(sorted(int(a.id) for a in found)))


def _balances_before(mine: _Mine, start: dt.datetime) -> tuple[int, dict[str, int]]:
    credit, tokens = 0, {}
    for kind, name, total in rows(
            Line.select(Account.kind, TokenKind.name, fn.SUM(Line.amount))
            .join(Account, on=(Line.account == Account.id))
            .join(TokenKind, JOIN.LEFT_OUTER, on=(Account.token_kind == TokenKind.id))
            .switch(Line).join(Txn, on=(Line.txn == Txn.id))
            .where(Account.id.in_(mine.account_ids), Txn.created_at < start)
            .group_by(Account.kind, TokenKind.name)):
        if kind == "patient_credit":
            credit += credit_of(int(total))
        elif tokens_of(int(total)):
            tokens[str(name)] = tokens_of(int(total))
    return credit, dict(sorted(tokens.items()))


@dataclass
class _Txn:
    """One period transaction while its lines are being added up."""

    id: int
    at: dt.datetime
    kind: str
    memo: str
    receipt_no: int | None
    payer: bool                        # the patient is the transaction's patient
    reverses: tuple[int, int | None, str] | None   # original id, receipt no., kind
    credit: int = 0
    paid: int = 0
    tokens: dict[str, int] = field(default_factory=dict)
    details: list[str] = field(default_factory=list)
    has_lines: bool = False


def _entries(mine: _Mine, start: dt.datetime, end: dt.datetime,
             opening_credit: int) -> list[StatementEntry]:
    """The period's transactions, oldest first, with a running credit balance."""
    original = Txn.alias()
    touched = Line.select(Line.txn).where(Line.account.in_(mine.account_ids))
    in_period = ((Txn.created_at >= start) & (Txn.created_at < end)
                 & (Txn.id.in_(touched) | Txn.patient.in_(mine.patient_ids)))
    found: dict[int, _Txn] = {}
    for (txn_id, at, kind, memo, receipt_no, payer, orig_id, orig_receipt,
         orig_kind) in rows(
            Txn.select(Txn.id, Txn.created_at, Txn.kind, Txn.memo, Txn.receipt_no,
                       Txn.patient, original.id, original.receipt_no, original.kind)
            .join(original, JOIN.LEFT_OUTER, on=(Txn.reverses == original.id))
            .where(in_period).order_by(Txn.created_at, Txn.id)):
        reverses = None if orig_id is None else (int(orig_id), orig_receipt, str(orig_kind))
        found[int(txn_id)] = _Txn(int(txn_id), _local(as_datetime(at)), str(kind),
                                  str(memo), receipt_no, payer in mine.patient_ids,
                                  reverses)
    if not found:
        return []
    period_ids = Txn.select(Txn.id).where(in_period)
    for txn_id, amount, memo, kind, code, owner, unit, kind_name in rows(
            Line.select(Line.txn, Line.amount, Line.memo, Account.kind, Account.code,
                        Account.id, Account.unit, TokenKind.name)
            .join(Account, on=(Line.account == Account.id))
            .join(TokenKind, JOIN.LEFT_OUTER, on=(Account.token_kind == TokenKind.id))
            .where(Line.txn.in_(period_ids),
                   Account.id.in_(mine.account_ids) | (Account.kind == "tender")
                   | (Account.code == accounts.REVENUE_ITEMS))
            .order_by(Line.id)):
        _add_line(found[int(txn_id)], int(owner) in mine.account_ids, int(amount),
                  str(memo), str(kind), str(code), str(unit), kind_name)
    out: list[StatementEntry] = []
    balance = opening_credit
    for txn in found.values():
        if not txn.has_lines:
            continue   # nothing moved (an on-time cancel, a free visit)
        balance += txn.credit
        out.append(_entry(txn, balance))
    return out


def _add_line(txn: _Txn, mine: bool, amount: int, memo: str, kind: str, code: str,
              unit: str, kind_name: Any) -> None:
    memo = memo.removeprefix("reversal: ")
    if mine:
        txn.has_lines = True
        if unit == MONEY:
            txn.credit += credit_of(amount)
            if memo.startswith("credit purchase"):
                txn.details.append("credit purchase")   # the amount is in its own column
            elif memo not in _SETTLEMENT_MEMOS and not memo.endswith(
                    ("left owed", "from credit")):
                txn.details.append(memo)       # "from patient 3"
        else:
            name = str(kind_name)
            txn.tokens[name] = txn.tokens.get(name, 0) + tokens_of(amount)
            if amount < 0 or txn.kind == "transfer":
                txn.details.append(memo)       # a grant: "Five acupuncture (5 tokens)"
    elif kind == "tender" and txn.payer:
        txn.has_lines = True
        txn.paid += amount
    elif code == accounts.REVENUE_ITEMS and txn.payer:
        txn.has_lines = True
        txn.details.append(memo)               # "Herbs"


def _entry(txn: _Txn, balance: int) -> StatementEntry:
    billed = txn.kind in _BILLED or (txn.reverses is not None and txn.reverses[2] in _BILLED)
    tokens = {k: n for k, n in sorted(txn.tokens.items()) if n}
    return StatementEntry(
        txn_id=txn.id, at=txn.at, kind=_kind_words(txn, tokens), memo=_memo(txn),
        receipt_no=txn.receipt_no, charge_cents=txn.paid - txn.credit if billed else 0,
        paid_cents=txn.paid, credit_change_cents=txn.credit, token_changes=tokens,
        balance_cents=balance)


def _kind_words(txn: _Txn, tokens: dict[str, int]) -> str:
    if txn.reverses is not None:
        orig_id, orig_receipt, _ = txn.reverses
        return f"Reversal of #{orig_receipt}" if orig_receipt else \
            f"Reversal of transaction {orig_id}"
    if txn.kind == "transfer":
        gained = txn.credit > 0 or any(n > 0 for n in tokens.values())
        return "Transfer in" if gained else "Transfer out"
    if txn.kind == "fee":
        label = txn.memo.partition(": ")[0]
        return _FEE_WORDS.get(label, "Fee")
    return _KIND_WORDS.get(txn.kind, txn.kind.replace("_", " ").capitalize())


def _memo(txn: _Txn) -> str:
    """What the entry was for, without repeating its kind."""
    memo, details = txn.memo, [d for d in dict.fromkeys(txn.details) if d and d != txn.memo]
    if txn.reverses is not None or txn.kind == "fee":
        # "reversal of transaction 7: <reason>", "late cancel fee: <appointment>"
        parts = [memo.partition(": ")[2] or memo]
    elif txn.kind == "checkin":
        parts = [memo, *details]
    elif txn.kind == "sale":
        parts = [*details, memo]
    elif txn.kind == "transfer":
        parts = [*details, "" if memo.startswith("transfer to patient") else memo]
    elif txn.kind == "expiry":
        parts = [memo.removeprefix("tokens ")]
    else:
        parts = [memo] if memo else details
    text = "; ".join(part for part in parts if part)
    return text[:1].upper() + text[1:]


def _tokens_left(mine: _Mine, end: dt.datetime,
                 closing: dict[str, int]) -> tuple[TokensLeft, ...]:
    """Tokens held at ``end`` per kind, with the first expiry among the lots that
    still held tokens then (lot remainders rebuilt from their moves up to ``end``)."""
    moved: dict[int, int] = {
        int(lot): int(total) for lot, total in rows(
            LotMove.select(LotMove.lot, fn.SUM(LotMove.quantity))
            .join(Lot, on=(LotMove.lot == Lot.id))
            .join(Account, on=(Lot.account == Account.id))
            .switch(LotMove).join(Txn, on=(LotMove.txn == Txn.id))
            .where(Account.id.in_(mine.account_ids), Txn.created_at < end)
            .group_by(LotMove.lot))}
    soonest: dict[str, tuple[dt.date, int]] = {}
    for lot_id, name, quantity, expires_on in rows(
            Lot.select(Lot.id, TokenKind.name, Lot.quantity, Lot.expires_on)
            .join(Account, on=(Lot.account == Account.id))
            .join(TokenKind, on=(Account.token_kind == TokenKind.id))
            .switch(Lot).join(Txn, on=(Lot.txn == Txn.id))
            .where(Account.id.in_(mine.account_ids), Txn.created_at < end,
                   Lot.expires_on.is_null(False))):
        left = int(quantity) + moved.get(int(lot_id), 0)
        if left <= 0:
            continue
        day = as_date(expires_on)
        kind = str(name)
        if kind not in soonest or day < soonest[kind][0]:
            soonest[kind] = (day, left)
        elif day == soonest[kind][0]:
            soonest[kind] = (day, soonest[kind][1] + left)
    out = []
    for kind, count in sorted(closing.items()):
        first = soonest.get(kind) if count > 0 else None
        out.append(TokensLeft(kind, count, first[0] if first else None,
                              min(first[1], count) if first else 0))
    return tuple(out)
