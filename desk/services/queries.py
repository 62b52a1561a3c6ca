"""Read side: a patient's balance and transaction history."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from peewee import JOIN

from desk.core.ledger import MONEY
from desk.data.models import Account, Line, TokenKind, Txn, rows
from desk.services import accounts
from desk.services.patients import get_patient
from desk.services.results import Balance


@dataclass(frozen=True, slots=True)
class LineView:
    account: str
    account_kind: str
    unit: str          # "money" or the token kind's name
    amount: int        # debit-positive, cents for money, count for tokens
    memo: str


@dataclass(frozen=True, slots=True)
class TxnView:
    id: int
    kind: str
    created_at: dt.datetime
    staff: str
    workstation: str
    memo: str
    receipt_no: int | None
    reverses_id: int | None
    reversed_by: int | None
    appointment_id: int | None
    credit_change_cents: int               # for this patient: + added, - used/owed
    token_changes: dict[str, int]          # for this patient, per kind
    lines: tuple[LineView, ...]


def balance(patient_id: int) -> Balance:
    get_patient(patient_id)
    return accounts.balance_of(patient_id)


def history(patient_id: int, limit: int = 1000) -> list[TxnView]:
    """Every transaction that touched the patient's accounts (with those of duplicates
    merged into them and of their household's shared wallet) or was made for them,
    newest first."""
    get_patient(patient_id)
    mine = accounts.history_condition(patient_id)
    mine_ids = {int(a.id) for a in Account.select(Account.id).where(mine)}
    touched = Line.select(Line.txn).where(Line.account.in_(sorted(mine_ids)))
    merged = accounts.merged_ids(patient_id)
    txns = list(Txn.select().where((Txn.id.in_(touched)) | (Txn.patient.in_(merged)))
                .order_by(Txn.id.desc()).limit(limit))
    ids = [int(t.id) for t in txns]
    if not ids:
        return []
    lines: dict[int, list[LineView]] = defaultdict(list)
    mine_credit: dict[int, int] = defaultdict(int)
    mine_tokens: dict[int, dict[str, int]] = defaultdict(dict)
    found = rows(Line.select(Line.txn, Line.amount, Line.memo, Account.code, Account.kind,
                        Account.unit, Account.id, TokenKind.name)
            .join(Account, on=(Line.account == Account.id))
            .join(TokenKind, join_type=JOIN.LEFT_OUTER, on=(Account.token_kind == TokenKind.id))
            .where(Line.txn.in_(ids)).order_by(Line.id))
    for txn_id, amount, memo, code, kind, unit, account_id, kind_name in found:
        unit_name = "money" if unit == MONEY else str(kind_name)
        lines[txn_id].append(LineView(code, kind, unit_name, int(amount), memo))
        if account_id in mine_ids:
            if unit == MONEY:
                mine_credit[txn_id] -= amount
            else:
                changes = mine_tokens[txn_id]
                changes[unit_name] = changes.get(unit_name, 0) - amount
    reversed_by = {int(orig): int(rid) for rid, orig in
                   rows(Txn.select(Txn.id, Txn.reverses).where(Txn.reverses.in_(ids)))}
    return [TxnView(int(t.id), t.kind, t.created_at, t.staff, t.workstation, t.memo,
                    t.receipt_no, t.reverses_id, reversed_by.get(int(t.id)), t.appointment_id,
                    mine_credit[int(t.id)],
                    {k: v for k, v in mine_tokens[int(t.id)].items() if v},
                    tuple(lines[int(t.id)])) for t in txns]
