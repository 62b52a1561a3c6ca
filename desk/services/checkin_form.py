"""What the check-in dialog needs to open: the visit, the patient's wallet as it
stands for this visit, the packages on sale and the clinic's defaults (reads only)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from desk.core.dates import as_datetime
from desk.core.errors import NotFound
from desk.core.settings import as_bool
from desk.data.models import Account, Appointment, Package, Patient, Service, TokenKind, rows
from desk.services import accounts, availability
from desk.services import settings as clinic_settings


@dataclass(frozen=True, slots=True)
class PackageChoice:
    name: str
    token_kind: str
    tokens: int
    price_cents: int


@dataclass(frozen=True, slots=True)
class CheckinForm:
    appointment_id: int
    status: str
    patient_id: int
    patient_name: str
    service_name: str
    token_kind: str
    price_cents: int
    starts_at: dt.datetime
    credit_cents: int                 # signed: negative = owed
    credit_free_cents: int            # credit not held for other visits
    tokens: dict[str, int] = field(default_factory=dict)
    free_tokens: int = 0              # tokens of this visit's kind it may use
    packages: tuple[PackageChoice, ...] = ()
    currency: str = "USD"
    auto_apply_tokens: bool = True
    auto_apply_credit: bool = True


def checkin_form(appointment_id: int, today: dt.date) -> CheckinForm:
    """The visit and its patient's balances as a check-in would see them now."""
    found = list(rows(
        Appointment.select(Appointment.status, Appointment.patient, Patient.name, Service.name,
                           TokenKind.id, TokenKind.name, Service.price_cents,
                           Appointment.starts_at)
        .join(Patient, on=(Appointment.patient == Patient.id))
        .switch(Appointment).join(Service, on=(Appointment.service == Service.id))
        .join(TokenKind, on=(Service.token_kind == TokenKind.id))
        .where(Appointment.id == appointment_id)))
    if not found:
        raise NotFound(f"--appointment: no appointment with id {appointment_id}")
    status, pid, name, service, kind_id, kind, price, starts = found[0]
    balance = accounts.balance_of(int(pid))
    codes = accounts.wallet_codes(int(pid), balance.household_id, int(kind_id))
    ids = {codes[c]: int(i) for c, i in rows(
        Account.select(Account.code, Account.id).where(Account.code.in_(list(codes))))}
    free_tokens = 0
    if "tokens" in ids:
        free_tokens = max(availability.usable_tokens(ids["tokens"], today) - availability.held(
            ids["tokens"], except_appointment=appointment_id), 0)
    credit = balance.credit_cents
    free_credit = 0
    if "credit" in ids:
        free_credit = max(credit - availability.held(ids["credit"],
                                                     except_appointment=appointment_id), 0)
    packages = tuple(PackageChoice(n, k, int(t), int(p)) for n, k, t, p in rows(
        Package.select(Package.name, TokenKind.name, Package.tokens, Package.price_cents)
        .join(TokenKind, on=(Package.token_kind == TokenKind.id))
        .where(Package.active == True)  # noqa: E712
        .order_by(Package.name)))
    settings = clinic_settings.all_settings()
    return CheckinForm(
        appointment_id, str(status), int(pid), str(name), str(service), str(kind), int(price),
        as_datetime(starts), credit, free_credit, dict(balance.tokens), free_tokens, packages,
        settings["currency"], as_bool(settings["auto_apply_tokens"]),
        as_bool(settings["auto_apply_credit"]))

