"""Cancel, late cancel and no-show, with their fees (SPEC §3 Cancel / no-show)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from desk.core import schedule
from desk.core.errors import BadInput, Refused
from desk.core.ledger import MONEY
from desk.core.money import parse_amount
from desk.core.text import clean_text
from desk.data.models import Account, Appointment, Hold, Line, Service, Txn, rows
from desk.data.tx import lock_accounts, lock_row, run_write
from desk.services import accounts, audit, availability
from desk.services import settings as clinic_settings
from desk.services.appointments import get_appointment, snapshot
from desk.services.context import Ctx
from desk.services.posting import (
    Draft,
    commit,
    find_replay,
    request_hash,
    setting_bool,
    spend_tokens,
    txn_result,
)
from desk.services.results import TxnResult


@dataclass(frozen=True, slots=True)
class CancelResult:
    appointment_id: int
    status: str
    fee_cents: int
    paid_by: str              # "none", "token", "credit", "owed", "waived"
    txn: TxnResult | None


def fee_for(service: Service, status: str) -> int:
    """The fee for a late cancel or no-show: the service's own, else the clinic's."""
    if status == schedule.NO_SHOW:
        own, key = service.no_show_fee_cents, "no_show_fee"
    elif status == schedule.LATE_CANCELLED:
        own, key = service.late_cancel_fee_cents, "late_cancel_fee"
    else:
        return 0
    if own is not None:
        return int(own)
    return parse_amount(clinic_settings.get(key), key, allow_zero=True)


def cancel(ctx: Ctx, appointment_id: int, *, late: bool = False, no_show: bool = False,
           take_token: bool = False, waive: bool = False, reason: str = "",
           idem_key: str | None = None) -> CancelResult:
    """Cancel a booked visit. On time is free and releases its hold; inside the
    ``late_cancel_hours`` window (or when ``late`` forces it) and for a no-show the
    fee is paid by a token (``take_token``), drawn from credit, or left owed —
    unless waived with a reason."""
    why = clean_text(reason, "--reason", max_len=500)
    if waive and not why:
        raise BadInput("--reason", "is required to waive a fee")
    if waive and take_token:
        raise BadInput("--take-token", "cannot be combined with --waive")
    if late and no_show:
        raise BadInput("--late", "cannot be combined with --no-show")
    key = idem_key or str(uuid.uuid4())
    req = request_hash({"op": "cancel", "appointment": appointment_id, "late": late,
                        "no_show": no_show, "take_token": take_token, "waive": waive,
                        "reason": why})

    def work() -> CancelResult:
        lock_row(ctx.db, Appointment, appointment_id)  # one desk at a time per visit
        replay = find_replay(key, req)
        if replay is not None:
            return _replayed(appointment_id, replay)
        appt = get_appointment(appointment_id)
        status = _new_status(ctx, appt, late=late, no_show=no_show)
        schedule.check_transition(appointment_id, appt.status, status)
        service = Service.get_by_id(appt.service_id)
        kind_id = int(service.token_kind_id)
        token_account = accounts.patient_tokens(appt.patient_id, kind_id)
        lock_accounts(ctx.db, [accounts.patient_credit(appt.patient_id), token_account])
        before = snapshot(appt)
        fee = fee_for(service, status)
        hold = Hold.get_or_none(Hold.appointment == appt.id, Hold.status == "open")
        if fee and not waive:
            draft, paid_by = _fee_draft(ctx, appt, service, status, fee, take_token)
        elif status == schedule.CANCELLED and hold is not None and \
                not setting_bool("restore_on_cancel", True) and _is_token_hold(hold):
            draft, paid_by = _fee_draft(ctx, appt, service, status, 0, True)
        else:
            # No money moves, but the cancel is recorded under its key, so a retry
            # (double click, lost answer) replays instead of failing.
            paid_by = "waived" if fee else "none"
            memo = f"{schedule.LABELS[status]}: {service.name} {appt.starts_at:%Y-%m-%d %H:%M}"
            if paid_by == "waived":
                memo += f" (fee waived: {why})"
            draft = Draft("cancel", appt.patient_id, memo=memo, appointment_id=int(appt.id),
                          allow_empty=True)
        result = txn_result(commit(ctx, draft, idem_key=key, req_hash=req), False,
                            [int(appt.patient_id)])
        if hold is not None:
            hold.status = "posted" if paid_by == "token" and _is_token_hold(hold) else "released"
            hold.closed_at = ctx.now()
            hold.save()
        appt.status = status
        appt.updated_at = ctx.now()
        appt.save()
        audit.record(ctx, "appointment", appt.id, schedule.LABELS[status], before=before,
                     after=snapshot(appt))
        if late and status == schedule.LATE_CANCELLED and not schedule.is_late(
                ctx.local_now(), appt.starts_at, _window()):
            audit.record(ctx, "appointment", appt.id, "forced late cancel")
        if paid_by == "waived":
            audit.record(ctx, "appointment", appt.id, "fee waived",
                         after={"fee_cents": fee, "reason": why})
        return CancelResult(appointment_id, status, fee if paid_by != "waived" else 0,
                            paid_by, result)

    return run_write(ctx.db, work)


def _window() -> int:
    return int(clinic_settings.get("late_cancel_hours"))


def _new_status(ctx: Ctx, appt: Appointment, *, late: bool, no_show: bool) -> str:
    now = ctx.local_now()
    if no_show:
        if now < appt.starts_at:
            raise Refused(f"appointment {appt.id} starts at {appt.starts_at:%Y-%m-%d %H:%M}; "
                          "a no-show can only be recorded once it has started")
        return schedule.NO_SHOW
    if late or schedule.is_late(now, appt.starts_at, _window()):
        return schedule.LATE_CANCELLED
    return schedule.CANCELLED


def _is_token_hold(hold: Hold) -> bool:
    return bool(hold.account.kind == "patient_tokens")


def _credit_or_owed(appt: Appointment, fee: int) -> str:
    """Whether the fee comes out of credit (this visit's own hold counts) or is owed."""
    free = availability.available_credit(int(appt.patient_id),
                                         except_appointment=int(appt.id))
    return "credit" if free >= fee else "owed"


def _replayed(appointment_id: int, txn: Txn) -> CancelResult:
    """Describe an earlier cancel from what it wrote."""
    appt = get_appointment(appointment_id)
    fee, paid_by = 0, "none"
    for amount, memo, kind, code in rows(
            Line.select(Line.amount, Line.memo, Account.kind, Account.code)
            .join(Account, on=(Line.account == Account.id)).where(Line.txn == txn.id)):
        if code == accounts.REVENUE_FEES:
            fee = -int(amount)
        if kind == "patient_tokens":
            paid_by = "token"
        elif kind == "patient_credit" and paid_by != "token":
            paid_by = "owed" if memo.endswith("left owed") else "credit"
    if txn.kind == "cancel" and "fee waived" in txn.memo:
        paid_by = "waived"
    return CancelResult(appointment_id, appt.status, fee, paid_by, txn_result(txn, True))


def _fee_draft(ctx: Ctx, appt: Appointment, service: Service, status: str, fee: int,
               take_token: bool) -> tuple[Draft, str]:
    label = {schedule.NO_SHOW: "no-show fee", schedule.LATE_CANCELLED: "late cancel fee"}.get(
        status, "token kept on cancel")
    memo = f"{label}: {service.name} {appt.starts_at:%Y-%m-%d %H:%M}"
    draft = Draft("fee", appt.patient_id, memo=memo, appointment_id=int(appt.id), receipt=True)
    if take_token:
        kind_id = int(service.token_kind_id)
        free = availability.available_tokens(appt.patient_id, kind_id, ctx.today(),
                                              except_appointment=int(appt.id))
        if free < 1:
            raise Refused(f"no {service.token_kind.name} token available to pay the {label}; "
                          "take it from credit or waive it")
        spend_tokens(draft, accounts.patient_tokens(appt.patient_id, kind_id), kind_id, 1,
                     today=ctx.today(), earned_code=accounts.REVENUE_FEES, memo=label)
        return draft, "token"
    paid_by = _credit_or_owed(appt, fee)
    draft.post(accounts.patient_credit(appt.patient_id), MONEY, fee,
               f"{label} — {'from credit' if paid_by == 'credit' else 'left owed'}")
    draft.post(accounts.clinic_money(accounts.REVENUE_FEES), MONEY, -fee, label)
    return draft, paid_by

