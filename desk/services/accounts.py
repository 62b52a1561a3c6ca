"""Ledger accounts: their codes, creation on first use, and patient balances."""

from __future__ import annotations

from peewee import JOIN, fn

from desk.core.dates import as_date
from desk.core.ledger import MONEY, credit_of, token_unit, tokens_of
from desk.data.models import Account, Hold, Lot, Patient, TokenKind, rows
from desk.data.tx import memo
from desk.services.results import Balance

# Clinic-side account codes (the other side of every patient movement).
CASH_PREFIX = "tender:"
PREPAID = "prepaid"            # value of unspent prepaid tokens (a liability)
ADJUSTMENTS = "adjustments"    # manager corrections, goodwill, write-offs
REVENUE_SALES = "revenue:sales"
REVENUE_ITEMS = "revenue:items"
REVENUE_FEES = "revenue:fees"
REVENUE_EXPIRED = "revenue:expired"


def preload(patient_ids: list[int]) -> None:
    """Fetch the ids of the clinic's accounts and these patients' in one query, for
    the rest of the current write transaction."""
    cache = memo()
    if cache is None:
        return
    for account_id, code in rows(Account.select(Account.id, Account.code).where(
            Account.patient.is_null() | Account.patient.in_(sorted(set(patient_ids))))):
        cache[f"acct:{code}"] = int(account_id)


def _get_or_create(code: str, unit: str, kind: str, *, patient_id: int | None = None,
                   token_kind_id: int | None = None) -> int:
    cache = memo()
    if cache is not None and f"acct:{code}" in cache:
        return int(cache[f"acct:{code}"])
    row = Account.select(Account.id).where(Account.code == code).first()
    if row is None:
        (Account.insert(code=code, unit=unit, kind=kind, patient=patient_id,
                        token_kind=token_kind_id, balance=0)
         .on_conflict_ignore().execute())
        row = Account.get(Account.code == code)
    if cache is not None:
        cache[f"acct:{code}"] = int(row.id)
    return int(row.id)


def clinic_money(code: str) -> int:
    kind = code.split(":", 1)[0]
    return _get_or_create(code, MONEY, kind)


def tender_account(method: str) -> int:
    return clinic_money(f"{CASH_PREFIX}{method}")


def service_revenue(service_id: int) -> int:
    return clinic_money(f"revenue:service:{service_id}")


def tokens_issued(kind_id: int) -> int:
    return _get_or_create(f"issued:{kind_id}", token_unit(kind_id), "issued",
                          token_kind_id=kind_id)


def patient_credit(patient_id: int) -> int:
    return _get_or_create(f"patient:{patient_id}:credit", MONEY, "patient_credit",
                          patient_id=patient_id)


def patient_tokens(patient_id: int, kind_id: int) -> int:
    return _get_or_create(f"patient:{patient_id}:tok:{kind_id}", token_unit(kind_id),
                          "patient_tokens", patient_id=patient_id, token_kind_id=kind_id)


def patient_account_ids(patient_id: int) -> list[int]:
    return [int(a.id) for a in Account.select(Account.id)
            .where(Account.patient == patient_id).order_by(Account.id)]


def balances_for(patient_ids: list[int]) -> dict[int, Balance]:
    """Balances of several patients in three queries (cached balances, lot expiries,
    tokens held for booked visits)."""
    ids = sorted(set(patient_ids))
    credit = dict.fromkeys(ids, 0)
    tokens: dict[int, dict[str, int]] = {pid: {} for pid in ids}
    expiry: dict[int, dict[str, object]] = {pid: {} for pid in ids}
    if not ids:
        return {}
    found = rows(Account.select(Account.patient, Account.kind, Account.balance, TokenKind.name)
            .join(TokenKind, join_type=JOIN.LEFT_OUTER, on=(Account.token_kind == TokenKind.id))
            .where(Account.patient.in_(ids)))
    for pid, kind, balance, kind_name in found:
        if kind == "patient_credit":
            credit[pid] = credit_of(balance)
        elif tokens_of(balance) != 0:
            tokens[pid][kind_name] = tokens_of(balance)
    soonest = rows(Lot.select(Account.patient, TokenKind.name, fn.MIN(Lot.expires_on))
               .join(Account, on=(Lot.account == Account.id))
               .join(TokenKind, on=(Account.token_kind == TokenKind.id))
               .where(Account.patient.in_(ids), Lot.remaining > 0, Lot.expires_on.is_null(False))
               .group_by(Account.patient, TokenKind.name))
    for pid, kind_name, first in soonest:
        expiry[pid][kind_name] = as_date(first)
    held: dict[int, dict[str, int]] = {pid: {} for pid in ids}
    for pid, kind_name, quantity in rows(
            Hold.select(Account.patient, TokenKind.name, fn.SUM(Hold.quantity))
            .join(Account, on=(Hold.account == Account.id))
            .join(TokenKind, on=(Account.token_kind == TokenKind.id))
            .where(Account.patient.in_(ids), Hold.status == "open")
            .group_by(Account.patient, TokenKind.name)):
        held[pid][kind_name] = int(quantity)
    return {pid: Balance(pid, credit[pid], tokens[pid], held[pid], expiry[pid])  # type: ignore[arg-type]
            for pid in ids}


def balance_of(patient_id: int) -> Balance:
    return balances_for([patient_id])[patient_id]


def patient_exists(patient_id: int) -> bool:
    return Patient.select().where(Patient.id == patient_id).exists()
