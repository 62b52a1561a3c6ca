"""Selling packages, tokens and credit (SPEC §3 Sell)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from desk.core.errors import BadInput, Refused
from desk.core.ledger import MONEY, credit_of, split_price, token_unit
from desk.core.money import MAX_CENTS, check_cents, check_count, format_money
from desk.core.text import clean_text
from desk.data.models import Account, Membership, Package
from desk.data.tx import lock_accounts, run_write
from desk.services import accounts
from desk.services import settings as clinic_settings
from desk.services.catalog import package_by_name, token_kind_id
from desk.services.context import Ctx
from desk.services.patients import get_patient
from desk.services.posting import Draft, NewLot, commit, find_replay, request_hash, txn_result
from desk.services.results import TENDER_METHODS, Tender, TxnResult

MAX_EXPIRY_DAYS = 36600


@dataclass(frozen=True, slots=True)
class SaleItem:
    """Exactly one of: a package by name, N tokens of a kind at a price, or credit."""

    package: str | None = None
    tokens: int | None = None
    token_kind: str | None = None
    price_cents: int | None = None
    credit_cents: int | None = None
    expires_days: int | None = None


def check_tenders(tenders: Sequence[Tender]) -> None:
    total = 0
    for tender in tenders:
        if tender.method not in TENDER_METHODS:
            raise BadInput("--pay", f"unknown method {tender.method!r}; use "
                           + ", ".join(TENDER_METHODS))
        check_cents(tender.amount_cents, "--pay", allow_zero=False)
        total += tender.amount_cents
    if total > MAX_CENTS:
        raise BadInput("--pay", "the payments add up to more than desk accepts")


def post_tenders(draft: Draft, tenders: Sequence[Tender]) -> int:
    """Debit each tender account; return the total paid."""
    paid = 0
    for tender in tenders:
        memo = tender.method + (f" {tender.reference}" if tender.reference else "")
        draft.post(accounts.tender_account(tender.method), MONEY, tender.amount_cents, memo)
        paid += tender.amount_cents
    return paid


def settle_with_credit(draft: Draft, patient_id: int, due_cents: int, paid_cents: int) -> None:
    """What tenders do not cover is drawn from credit (may go negative: owed);
    what they overpay is added to credit."""
    account = accounts.patient_credit(patient_id)
    diff = due_cents - paid_cents
    if diff <= 0:
        draft.post(account, MONEY, diff, "added to credit")
        return
    credit = max(credit_of(int(Account.get_by_id(account).balance)), 0)
    applied = min(credit, diff)
    draft.post(account, MONEY, applied, "credit applied")
    draft.post(account, MONEY, diff - applied, "left owed")


def grant_tokens(draft: Draft, ctx: Ctx, patient_id: int, kind_id: int, quantity: int,
                 price_cents: int, expires_days: int | None, memo: str) -> None:
    """Credit tokens to the patient in a new lot and book their prepaid value."""
    unit_value, remainder = split_price(price_cents, quantity)
    unit = token_unit(kind_id)
    draft.post(accounts.patient_tokens(patient_id, kind_id), unit, -quantity, memo)
    draft.post(accounts.tokens_issued(kind_id), unit, quantity, memo)
    draft.post(accounts.clinic_money(accounts.PREPAID), MONEY, -unit_value * quantity, memo)
    draft.post(accounts.clinic_money(accounts.REVENUE_SALES), MONEY, -remainder, memo)
    expires_on = ctx.today() + dt.timedelta(days=expires_days) if expires_days else None
    draft.new_lots.append(NewLot(accounts.patient_tokens(patient_id, kind_id), quantity,
                                 unit_value, expires_on))


def check_item(item: SaleItem) -> None:
    if item.price_cents is not None:
        check_cents(item.price_cents, "--price")
    if item.tokens is not None:
        check_count(item.tokens, "--tokens")
    if item.credit_cents is not None:
        check_cents(item.credit_cents, "--credit", allow_zero=False)
    check_expiry_days(item.expires_days)


def check_expiry_days(days: int | None) -> None:
    if days is not None and (type(days) is not int or not 1 <= days <= MAX_EXPIRY_DAYS):
        raise BadInput("--expires-days", f"must be between 1 and {MAX_EXPIRY_DAYS}")


def sell(ctx: Ctx, patient_id: int, item: SaleItem, tenders: Sequence[Tender] = (),
         idem_key: str | None = None, memo: str = "") -> TxnResult:
    """Sell a package, tokens or credit to a patient, paid by ``tenders``.

    Paying more than the price adds credit; paying less leaves the rest owed.
    """
    get_patient(patient_id)
    check_item(item)
    check_tenders(tenders)
    memo = clean_text(memo, "--memo", max_len=500)
    chosen = [item.package is not None, item.tokens is not None, item.credit_cents is not None]
    if sum(chosen) != 1:
        raise BadInput("--package/--tokens/--credit", "give exactly one of them")
    if item.credit_cents is not None and not tenders:
        raise BadInput("--pay", "a credit purchase needs a payment")
    key = idem_key or str(uuid.uuid4())
    req = request_hash({"op": "sell", "patient": patient_id, "item": item, "memo": memo,
                        "tenders": [(t.method, t.amount_cents, t.reference) for t in tenders]})

    def work() -> TxnResult:
        replay = find_replay(key, req)
        if replay is not None:
            return txn_result(replay, True)
        lock_accounts(ctx.db, [accounts.patient_credit(patient_id)])
        draft = Draft("sale", patient_id, memo=memo, receipt=True)
        due = _post_item(draft, ctx, patient_id, item)
        paid = post_tenders(draft, tenders)
        settle_with_credit(draft, patient_id, due, paid)
        txn = commit(ctx, draft, idem_key=key, req_hash=req)
        if item.package is not None:
            start_membership(ctx, patient_id, package_by_name(item.package), int(txn.id))
        return txn_result(txn, False)

    return run_write(ctx.db, work)


def sellable_package(name: str) -> Package:
    """A package by name that is still sold (a deactivated one keeps its history but
    cannot be sold again)."""
    package = package_by_name(name)
    if not package.active:
        raise Refused(f"the package {package.name!r} is no longer sold (inactive)")
    return package


def start_membership(ctx: Ctx, patient_id: int, package: Package, txn_id: int) -> None:
    """Selling a monthly package starts a membership that ``renew`` grants again."""
    if package.monthly:
        Membership.create(patient=patient_id, package=package.id, started_on=ctx.today(),
                          sale_txn=txn_id)


def _post_item(draft: Draft, ctx: Ctx, patient_id: int, item: SaleItem) -> int:
    if item.package is not None:
        package = sellable_package(item.package)
        price = item.price_cents if item.price_cents is not None else int(package.price_cents)
        grant_tokens(draft, ctx, patient_id, int(package.token_kind_id), int(package.tokens),
                     price, item.expires_days or package.expires_days,
                     f"{package.name} ({package.tokens} tokens)")
        return price
    if item.tokens is not None:
        if item.token_kind is None:
            raise BadInput("--token-kind", "is needed with --tokens")
        if item.price_cents is None:
            raise BadInput("--price", "is needed with --tokens")
        kind_id = token_kind_id(item.token_kind, create=False)
        grant_tokens(draft, ctx, patient_id, kind_id, item.tokens, item.price_cents,
                     item.expires_days, f"{item.tokens} {item.token_kind} tokens")
        return item.price_cents
    assert item.credit_cents is not None
    currency = clinic_settings.get("currency")
    draft.post(accounts.patient_credit(patient_id), MONEY, -item.credit_cents,
               f"credit purchase {format_money(item.credit_cents, currency)}")
    return item.credit_cents
