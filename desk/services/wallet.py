"""Manager corrections and movements of a patient's wallet: adjust, transfer, refund."""

from __future__ import annotations

import datetime as dt
import uuid

from desk.core.errors import BadInput, Refused
from desk.core.ledger import MONEY, token_unit
from desk.core.money import check_cents, check_count, format_money
from desk.core.text import clean_text
from desk.data.models import Lot, TokenKind
from desk.data.tx import lock_accounts, run_write
from desk.services import accounts, availability
from desk.services.catalog import token_kind_id
from desk.services.context import Ctx
from desk.services.patients import get_patient
from desk.services.posting import (
    Draft,
    NewLot,
    commit,
    find_replay,
    request_hash,
    setting_bool,
    spend_tokens,
    take_tokens,
    txn_result,
)
from desk.services.results import TENDER_METHODS, TxnResult
from desk.services.sales import check_expiry_days


def _reason(reason: str | None) -> str:
    text = clean_text(reason, "--reason", max_len=500)
    if not text:
        raise BadInput("--reason", "is required: say why (goodwill, correction, ...)")
    return text


def adjust(ctx: Ctx, patient_id: int, *, reason: str, credit_cents: int | None = None,
           tokens: int | None = None, token_kind: str | None = None,
           expires_days: int | None = None, idem_key: str | None = None) -> TxnResult:
    """Add (positive) or remove (negative) credit or tokens, with a mandatory reason."""
    get_patient(patient_id)
    why = _reason(reason)
    if (credit_cents is None) == (tokens is None):
        raise BadInput("--credit/--tokens", "give exactly one of them")
    if credit_cents == 0 or tokens == 0:
        raise BadInput("--credit" if credit_cents == 0 else "--tokens", "must not be zero")
    if tokens is not None and token_kind is None:
        raise BadInput("--token-kind", "is needed with --tokens")
    if credit_cents is not None:
        check_cents(credit_cents, "--credit", allow_negative=True, allow_zero=False)
    if tokens is not None:
        check_count(tokens, "--tokens", allow_negative=True)
    check_expiry_days(expires_days)
    key = idem_key or str(uuid.uuid4())
    req = request_hash({"op": "adjust", "patient": patient_id, "credit": credit_cents,
                        "tokens": tokens, "kind": token_kind, "reason": why,
                        "expires": expires_days})

    def work() -> TxnResult:
        replay = find_replay(key, req)
        if replay is not None:
            return txn_result(replay, True)
        draft = Draft("adjustment", patient_id, memo=why)
        if credit_cents is not None:
            account = accounts.patient_credit(patient_id)
            lock_accounts(ctx.db, [account])
            draft.post(account, MONEY, -credit_cents, why)
            draft.post(accounts.clinic_money(accounts.ADJUSTMENTS), MONEY, credit_cents, why)
        else:
            assert tokens is not None and token_kind is not None
            _adjust_tokens(ctx, draft, patient_id, token_kind_id(token_kind, create=False),
                           tokens, expires_days, why)
        return txn_result(commit(ctx, draft, idem_key=key, req_hash=req), False)

    return run_write(ctx.db, work)


def _adjust_tokens(ctx: Ctx, draft: Draft, patient_id: int, kind_id: int, tokens: int,
                   expires_days: int | None, why: str) -> None:
    unit = token_unit(kind_id)
    account = accounts.patient_tokens(patient_id, kind_id)
    lock_accounts(ctx.db, [account])
    if tokens > 0:
        draft.post(account, unit, -tokens, why)
        draft.post(accounts.tokens_issued(kind_id), unit, tokens, why)
        expires_on = ctx.today() + dt.timedelta(days=expires_days) if expires_days else None
        draft.new_lots.append(NewLot(account, tokens, 0, expires_on))
        return
    allow_short = setting_bool("allow_negative_tokens")
    if not allow_short:
        _check_free_tokens(account, kind_id, -tokens, ctx.today())
    spend_tokens(draft, account, kind_id, -tokens, today=ctx.today(),
                 earned_code=accounts.ADJUSTMENTS, memo=why, allow_short=allow_short)


def _check_free_tokens(account: int, kind_id: int, quantity: int, today: dt.date) -> None:
    """Tokens held for booked visits are not free to remove or move away."""
    usable = availability.usable_tokens(account, today)
    held = availability.held(account)
    if usable - held < quantity <= usable:
        name = TokenKind.get_by_id(kind_id).name
        raise Refused(f"not enough {name} tokens: {max(usable - held, 0)} available, "
                      f"{held} held for booked visits; {quantity} needed")


def _check_free_credit(patient_id: int, account: int, amount: int, what: str) -> None:
    balance = accounts.balance_of(patient_id).credit_cents
    held = availability.held(account)
    free = balance - held
    if free < amount:
        note = f" free ({format_money(held)} held for booked visits)" if held else ""
        raise Refused(f"patient {patient_id} has only {format_money(max(free, 0))} "
                      f"credit{note}; cannot {what} {format_money(amount)}")


def transfer(ctx: Ctx, from_id: int, to_id: int, *, credit_cents: int | None = None,
             tokens: int | None = None, token_kind: str | None = None,
             memo: str = "", idem_key: str | None = None) -> TxnResult:
    """Move credit or tokens between two patients in one atomic transaction.

    Tokens keep their lots' value and expiry in the receiving patient's new lots.
    """
    get_patient(from_id, "--from")
    get_patient(to_id, "--to")
    if from_id == to_id:
        raise BadInput("--to", "is the same patient as --from")
    if (credit_cents is None) == (tokens is None):
        raise BadInput("--credit/--tokens", "give exactly one of them")
    if credit_cents is not None:
        check_cents(credit_cents, "--credit", allow_zero=False)
    if tokens is not None:
        check_count(tokens, "--tokens")
    if tokens is not None and token_kind is None:
        raise BadInput("--token-kind", "is needed with --tokens")
    note = clean_text(memo, "--memo", max_len=500)
    key = idem_key or str(uuid.uuid4())
    req = request_hash({"op": "transfer", "from": from_id, "to": to_id, "memo": note,
                        "credit": credit_cents, "tokens": tokens, "kind": token_kind})

    def work() -> TxnResult:
        replay = find_replay(key, req)
        if replay is not None:
            return txn_result(replay, True)
        draft = Draft("transfer", from_id, memo=note or f"transfer to patient {to_id}")
        if accounts.patient_credit(from_id) == accounts.patient_credit(to_id):
            raise Refused(f"patients {from_id} and {to_id} share one household wallet: "
                          "there is nothing to transfer between them")
        if credit_cents is not None:
            src, dst = accounts.patient_credit(from_id), accounts.patient_credit(to_id)
            lock_accounts(ctx.db, [src, dst])
            _check_free_credit(from_id, src, credit_cents, "transfer")
            draft.post(src, MONEY, credit_cents, f"to patient {to_id}")
            draft.post(dst, MONEY, -credit_cents, f"from patient {from_id}")
        else:
            assert tokens is not None and token_kind is not None
            kind_id = token_kind_id(token_kind, create=False)
            unit = token_unit(kind_id)
            src = accounts.patient_tokens(from_id, kind_id)
            dst = accounts.patient_tokens(to_id, kind_id)
            lock_accounts(ctx.db, [src, dst])
            _check_free_tokens(src, kind_id, tokens, ctx.today())
            allocations = take_tokens(draft, src, unit, tokens, today=ctx.today(),
                                      allow_short=False,
                                      memo=f"to patient {to_id}")
            draft.post(dst, unit, -tokens, f"from patient {from_id}")
            for alloc in allocations:
                source = Lot.get_by_id(alloc.lot_id)
                draft.new_lots.append(NewLot(dst, alloc.quantity, int(source.unit_value_cents),
                                             source.expires_on))
        return txn_result(commit(ctx, draft, idem_key=key, req_hash=req), False)

    return run_write(ctx.db, work)


def refund(ctx: Ctx, patient_id: int, amount_cents: int, method: str, *,
           reference: str = "", memo: str = "", idem_key: str | None = None) -> TxnResult:
    """Pay a patient's credit back in cash, card, check or other."""
    get_patient(patient_id)
    if method not in TENDER_METHODS:
        raise BadInput("--method", f"unknown method {method!r}; use " + ", ".join(TENDER_METHODS))
    check_cents(amount_cents, "--amount", allow_zero=False)
    note = clean_text(memo, "--memo", max_len=500)
    ref = clean_text(reference, "--reference", max_len=100)
    key = idem_key or str(uuid.uuid4())
    req = request_hash({"op": "refund", "patient": patient_id, "amount": amount_cents,
                        "method": method, "reference": ref, "memo": note})

    def work() -> TxnResult:
        replay = find_replay(key, req)
        if replay is not None:
            return txn_result(replay, True)
        account = accounts.patient_credit(patient_id)
        lock_accounts(ctx.db, [account])
        _check_free_credit(patient_id, account, amount_cents, "refund")
        draft = Draft("refund", patient_id, memo=note or "refund of credit", receipt=True)
        draft.post(account, MONEY, amount_cents, "credit refunded")
        draft.post(accounts.tender_account(method), MONEY, -amount_cents,
                   method + (f" {ref}" if ref else ""))
        return txn_result(commit(ctx, draft, idem_key=key, req_hash=req), False)

    return run_write(ctx.db, work)
