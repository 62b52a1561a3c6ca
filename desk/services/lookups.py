"""Small read queries the screens need: pick lists and "where is this patient next"."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from desk.core import schedule
from desk.core.dates import as_datetime
from desk.data.models import (
    Appointment,
    Package,
    Practitioner,
    Service,
    TokenKind,
    Txn,
    rows,
)


@dataclass(frozen=True, slots=True)
class ServiceChoice:
    id: int
    name: str
    duration_min: int
    price_cents: int
    token_kind: str


@dataclass(frozen=True, slots=True)
class BookingChoices:
    services: tuple[ServiceChoice, ...]
    practitioners: tuple[tuple[int, str], ...]


def booking_choices() -> BookingChoices:
    """Active services and practitioners in display order (2 queries)."""
    services = tuple(ServiceChoice(int(i), n, int(d), int(p), k) for i, n, d, p, k in rows(
        Service.select(Service.id, Service.name, Service.duration_min, Service.price_cents,
                       TokenKind.name)
        .join(TokenKind, on=(Service.token_kind == TokenKind.id))
        .where(Service.active == True)  # noqa: E712
        .order_by(Service.name)))
    practitioners = tuple((int(i), str(n)) for i, n in rows(
        Practitioner.select(Practitioner.id, Practitioner.name)
        .where(Practitioner.active == True)  # noqa: E712
        .order_by(Practitioner.sort_order, Practitioner.id)))
    return BookingChoices(services, practitioners)


@dataclass(frozen=True, slots=True)
class SaleChoices:
    packages: tuple[tuple[str, str, int, int], ...]   # name, token kind, tokens, price
    token_kinds: tuple[str, ...]


def sale_choices() -> SaleChoices:
    """Packages on sale and the token kinds (2 queries)."""
    packages = tuple((str(n), str(k), int(t), int(p)) for n, k, t, p in rows(
        Package.select(Package.name, TokenKind.name, Package.tokens, Package.price_cents)
        .join(TokenKind, on=(Package.token_kind == TokenKind.id))
        .where(Package.active == True)  # noqa: E712
        .order_by(Package.name)))
    kinds = tuple(str(n) for (n,) in rows(TokenKind.select(TokenKind.name)
                                          .order_by(TokenKind.name)))
    return SaleChoices(packages, kinds)


def next_appointment(patient_id: int, after: dt.datetime
                     ) -> tuple[int, dt.datetime, int] | None:
    """(id, start, practitioner id) of the patient's first booked or checked-in visit
    starting at or after ``after``, else of their latest one before it; None when
    they have no visits."""
    live = (Appointment.patient == patient_id) & Appointment.status.in_(
        (schedule.BOOKED, schedule.CHECKED_IN, schedule.COMPLETED))
    for cond, order in ((Appointment.starts_at >= after, Appointment.starts_at.asc()),
                        (Appointment.starts_at < after, Appointment.starts_at.desc())):
        found = list(rows(Appointment.select(Appointment.id, Appointment.starts_at,
                                             Appointment.practitioner)
                          .where(live & cond).order_by(order, Appointment.id).limit(1)))
        if found:
            return int(found[0][0]), as_datetime(found[0][1]), int(found[0][2])
    return None


def last_receipt_txn(patient_id: int) -> int | None:
    """The patient's most recent transaction that has a receipt number."""
    found = list(rows(Txn.select(Txn.id).where(Txn.patient == patient_id,
                                               Txn.receipt_no.is_null(False))
                      .order_by(Txn.id.desc()).limit(1)))
    return int(found[0][0]) if found else None
