"""What a cancel, late cancel or no-show would charge and how it would be paid, shown
by the cancel dialog before anything is written (reads only)."""

from __future__ import annotations

from dataclasses import dataclass

from desk.core import schedule
from desk.core.ledger import credit_of
from desk.data.models import Account, Service, TokenKind, rows
from desk.services import accounts, availability
from desk.services import settings as clinic_settings
from desk.services.appointments import get_appointment
from desk.services.cancellation import _new_status, fee_for
from desk.services.context import Ctx


@dataclass(frozen=True, slots=True)
class CancelPreview:
    appointment_id: int
    status: str               # what the visit would become (an on-time cancel may be late)
    fee_cents: int
    token_kind: str
    free_tokens: int          # tokens of the visit's kind that could pay the fee
    free_credit_cents: int    # credit that could pay it
    from_credit: bool         # without a token: True = from credit, False = left owed
    late_window_hours: int
    currency: str


def cancel_preview(ctx: Ctx, appointment_id: int, *, late: bool = False,
                   no_show: bool = False) -> CancelPreview:
    """Raises Refused as ``cancel`` would (a no-show before the visit started, a
    visit that is no longer booked)."""
    appt = get_appointment(appointment_id)
    status = _new_status(ctx, appt, late=late, no_show=no_show)
    schedule.check_transition(appointment_id, appt.status, status)
    service = Service.get_by_id(appt.service_id)
    kind = TokenKind.get_by_id(service.token_kind_id)
    pid, kind_id = int(appt.patient_id), int(service.token_kind_id)
    codes = accounts.wallet_codes(pid, accounts.shared_household(pid), kind_id)
    found = {codes[c]: (int(i), int(b)) for c, i, b in rows(
        Account.select(Account.code, Account.id, Account.balance)
        .where(Account.code.in_(list(codes))))}
    tokens = credit = 0
    if "tokens" in found:
        account = found["tokens"][0]
        tokens = max(availability.usable_tokens(account, ctx.today()) - availability.held(
            account, except_appointment=appointment_id), 0)
    if "credit" in found:
        account, balance = found["credit"]
        credit = max(credit_of(balance) - availability.held(
            account, except_appointment=appointment_id), 0)
    fee = fee_for(service, status)
    settings = clinic_settings.all_settings()
    return CancelPreview(appointment_id, status, fee, str(kind.name), tokens, credit,
                         credit >= fee, int(settings["late_cancel_hours"]), settings["currency"])
