"""Building receipt data from a transaction's lines (what it sold, how it was paid,
and the patient's balances right after it, even when reprinted later)."""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict

from peewee import JOIN, fn

from desk.core.errors import NotFound, Refused
from desk.core.ledger import MONEY, credit_of, tokens_of
from desk.data.models import Account, Line, Patient, TokenKind, Txn, rows
from desk.printing.receipt_data import ClinicHeader, Payment, ReceiptData, ReceiptLine
from desk.services import accounts
from desk.services import settings as clinic_settings

_CREDIT_MEMOS = {"credit applied": "applied", "left owed": "owed",
                 "added to credit": "added"}


def clinic_header() -> ClinicHeader:
    values = clinic_settings.all_settings()
    return ClinicHeader(values["clinic_name"], values["clinic_address"],
                        values["clinic_phone"], values["tax_id"], values["receipt_footer"],
                        values["currency"])


def receipt_for(txn_id: int, *, copy: bool = False) -> ReceiptData:
    txn = Txn.get_or_none(Txn.id == txn_id)
    if txn is None:
        raise NotFound(f"--txn: no transaction with id {txn_id}")
    if txn.receipt_no is None:
        raise Refused(f"transaction {txn_id} ({txn.kind}) has no receipt; receipts are for "
                      "sales, check-ins, fees, refunds and their reversals")
    found = list(rows(
        Line.select(Line.amount, Line.memo, Account.kind, Account.code, Account.unit,
                    Account.household, TokenKind.name)
        .join(Account, on=(Line.account == Account.id))
        .join(TokenKind, on=(Account.token_kind == TokenKind.id), join_type=JOIN.LEFT_OUTER)
        .where(Line.txn == txn_id).order_by(Line.id)))
    sign = -1 if txn.reverses_id is not None else 1
    charges: dict[str, int] = defaultdict(int)
    token_use: dict[str, tuple[int, str]] = {}
    payments: list[Payment] = []
    owed = added = applied = 0
    change_note = ""
    households = {int(r[5]) for r in found if r[5] is not None}
    for amount, memo, kind, code, unit, _household, kind_name in found:
        amount = int(amount) * sign
        memo = memo.removeprefix("reversal: ") if sign < 0 else memo
        if kind == "tender":
            method = code.split(":", 1)[1]
            ref, note = _split_change(memo.removeprefix(method).strip())
            if note and sign > 0:   # a reversal gives the cash back: no change to give
                change_note = note
            payments.append(Payment(method, amount, ref))
        elif kind == "patient_credit":
            role = _CREDIT_MEMOS.get(memo)
            if role == "applied":
                applied += amount
            elif role == "owed":
                owed += amount
            elif role == "added":
                added += -amount
            elif memo.startswith("credit purchase"):
                charges["Credit added to account"] += -amount
            elif memo == "credit refunded":
                charges["Credit refunded"] += -amount
            elif memo.endswith("left owed"):   # a fee left on the account
                owed += amount
            else:                              # a fee or charge paid from credit
                applied += amount
        elif kind == "patient_tokens" and amount > 0:
            token_use[memo] = (amount, kind_name)
        elif unit == MONEY and kind not in ("patient_credit", "tender", "adjustments"):
            charges[memo] += -amount
    lines = []
    for memo, cents in charges.items():
        if memo in token_use:
            count, kind_name = token_use.pop(memo)
            lines.append(ReceiptLine(_described(memo.split(" — ")[0]), None, count, kind_name))
        elif cents:
            lines.append(ReceiptLine(_described(memo), cents))
    for memo, (count, kind_name) in token_use.items():
        lines.append(ReceiptLine(_described(memo.split(" — ")[0]), None, count, kind_name))
    if applied:
        payments.append(Payment("credit", applied))
    patient = Patient.get_or_none(Patient.id == txn.patient_id) if txn.patient_id else None
    tokens_after, credit_after = _balances_after(txn.patient_id, txn_id, households)
    title = "Receipt"
    if txn.reverses_id is not None:
        original = Txn.get_by_id(txn.reverses_id)
        title = f"REVERSAL of #{original.receipt_no or original.id}"
    elif txn.kind == "refund":
        title = "Refund"
    values = clinic_settings.all_settings()
    memo = ""
    if txn.reverses_id is not None:   # "reversal of transaction 7: <why>": the title says it
        memo = f"Reason: {txn.memo.partition(': ')[2] or txn.memo}"
    elif txn.kind == "fee":
        memo = _fee_appointment(txn.memo)
    return ReceiptData(
        clinic=clinic_header(), title=title, receipt_no=txn.receipt_no, txn_id=int(txn.id),
        created_at=_local(txn.created_at), staff=txn.staff,
        patient_name=patient.name if patient else "", patient_id=txn.patient_id,
        lines=tuple(lines), payments=tuple(payments),
        total_cents=sum(line.amount_cents or 0 for line in lines), owed_cents=owed,
        credit_added_cents=added, change_note=change_note, tokens_after=tokens_after,
        credit_after_cents=credit_after, copy=copy,
        memo=memo, paper=values["receipt_paper"])


#: "given $20.00, change $7.50" ("CHF 20.00" for codes without a symbol) at the end.
_CHANGE_NOTE = re.compile(r"(?:^|\s)(given (?:[A-Z]{3} )?\S+, change (?:[A-Z]{3} )?\S+)$")
_FEE_LABELS = ("late cancel fee", "no-show fee", "token kept on cancel")
_APPOINTMENT = re.compile(r"(.+) ([0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2})")


def _split_change(reference: str) -> tuple[str, str]:
    """A cash tender's memo carries "given $20.00, change $7.50" after its reference
    (check-in with the cash handed over): split the two."""
    found = _CHANGE_NOTE.search(reference)
    if found is None:
        return reference, ""
    return reference[:found.start()].strip(), found[1]


def _described(memo: str) -> str:
    """A line's description for people: fee labels start with a capital."""
    if memo.startswith(_FEE_LABELS):
        return memo[:1].upper() + memo[1:]
    return memo


def _fee_appointment(memo: str) -> str:
    """"late cancel fee: Acupuncture 45 2026-03-03 10:00" -> the appointment it is for."""
    found = _APPOINTMENT.fullmatch(memo.partition(": ")[2])
    return f"Appointment: {found[1]}, {found[2]}" if found else ""


def _balances_after(patient_id: int | None, txn_id: int,
                    households: set[int]) -> tuple[dict[str, int], int]:
    """The patient's balances just after ``txn_id`` (1 query), also for reprints: the
    patient's own accounts, and the shared household wallet the transaction used."""
    if patient_id is None:
        return {}, 0
    wallet = Account.patient == patient_id
    if not households:   # nothing moved on a wallet (paid by card): the one used now
        current = accounts.shared_household(patient_id)
        households = set() if current is None else {current}
    if households:
        wallet = wallet | Account.household.in_(sorted(households))
    tokens: dict[str, int] = {}
    credit = 0
    for kind, name, total in rows(
            Line.select(Account.kind, TokenKind.name, fn.SUM(Line.amount))
            .join(Account, on=(Line.account == Account.id))
            .join(TokenKind, on=(Account.token_kind == TokenKind.id),
                  join_type=JOIN.LEFT_OUTER)
            .where(wallet, Line.txn <= txn_id)
            .group_by(Account.kind, TokenKind.name)):
        if kind == "patient_credit":
            credit = credit_of(int(total))
        elif tokens_of(int(total)):
            tokens[name] = tokens_of(int(total))
    return tokens, credit


def _local(utc: dt.datetime) -> dt.datetime:
    return utc.replace(tzinfo=dt.UTC).astimezone().replace(tzinfo=None)
