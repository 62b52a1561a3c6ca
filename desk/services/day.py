"""The schedule's read model: everything a day (or week) grid shows, in 7 queries.

The count does not grow with the number of appointments or patients (no N+1),
so the grid can load on every change.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from peewee import JOIN, fn

from desk.core import schedule
from desk.core.dates import as_date, as_datetime
from desk.core.ledger import credit_of, tokens_of
from desk.data.models import (
    Account,
    Appointment,
    Hold,
    Lot,
    Patient,
    Practitioner,
    Service,
    TokenKind,
    Txn,
    rows,
)
from desk.services.accounts import Owner, WalletScope, wallet_scope

QUERIES_PER_LOAD = 7


@dataclass(frozen=True, slots=True)
class DayAppointment:
    id: int
    patient_id: int
    patient_name: str
    practitioner_id: int
    service_id: int
    service_name: str
    colour: str
    token_kind: str
    price_cents: int
    starts_at: dt.datetime
    ends_at: dt.datetime
    status: str
    note: str
    checkin_txn_id: int | None
    receipt_no: int | None
    covered_by: str | None    # "hold", "token", "credit" or None (not covered); booked only


@dataclass(frozen=True, slots=True)
class HeldToken:
    kind: str
    quantity: int
    starts_at: dt.datetime


@dataclass(frozen=True, slots=True)
class Wallet:
    """A patient's balances as the grid shows them (icons and tooltips)."""

    patient_id: int
    credit_cents: int
    tokens: dict[str, int] = field(default_factory=dict)
    held: dict[str, int] = field(default_factory=dict)
    holds: tuple[HeldToken, ...] = ()
    credit_held_cents: int = 0
    next_expiry: dict[str, tuple[dt.date, int]] = field(default_factory=dict)
    #: The household whose shared wallet these balances are, if any.
    household_id: int | None = None


@dataclass(frozen=True, slots=True)
class DayView:
    first_day: dt.date
    days: int
    practitioners: tuple[tuple[int, str], ...]
    appointments: tuple[DayAppointment, ...]
    wallets: dict[int, Wallet]

    def counts(self) -> dict[str, int]:
        out = dict.fromkeys(schedule.STATUSES, 0)
        for appt in self.appointments:
            out[appt.status] += 1
        out["not_covered"] = sum(1 for a in self.appointments
                                 if a.status == schedule.BOOKED and a.covered_by is None)
        return out


def day_view(first_day: dt.date, days: int = 1, *, today: dt.date | None = None) -> DayView:
    """Appointments of ``days`` days from ``first_day`` with every patient's wallet."""
    start = dt.datetime.combine(first_day, dt.time())
    end = start + dt.timedelta(days=days)
    today = today or dt.date.today()
    # Active practitioners, and inactive ones whose visits fall in the range (their
    # past days keep their column).
    booked = Appointment.select(Appointment.practitioner).where(
        Appointment.starts_at >= start, Appointment.starts_at < end)
    practitioners = tuple((int(i), str(n)) for i, n in rows(
        Practitioner.select(Practitioner.id, Practitioner.name)
        .where((Practitioner.active == True) | Practitioner.id.in_(booked))  # noqa: E712
        .order_by(Practitioner.sort_order, Practitioner.id)))
    raw = list(rows(
        Appointment.select(Appointment.id, Appointment.patient, Patient.name,
                           Appointment.practitioner, Appointment.service, Service.name,
                           Service.colour, TokenKind.name, Service.price_cents,
                           Appointment.starts_at, Appointment.ends_at, Appointment.status,
                           Appointment.note, Txn.id, Txn.receipt_no)
        .join(Patient, on=(Appointment.patient == Patient.id))
        .switch(Appointment).join(Service, on=(Appointment.service == Service.id))
        .join(TokenKind, on=(Service.token_kind == TokenKind.id))
        .switch(Appointment).join(Txn, JOIN.LEFT_OUTER, on=(Appointment.checkin_txn == Txn.id))
        .where(Appointment.starts_at >= start, Appointment.starts_at < end)
        .order_by(Appointment.starts_at, Appointment.id)))
    patient_ids = sorted({int(r[1]) for r in raw})
    wallets, free_lots, free_credit, scope = _wallets(patient_ids, today)
    covered = _coverage(scope, today, end, free_lots, free_credit)
    appointments = tuple(
        DayAppointment(int(r[0]), int(r[1]), r[2], int(r[3]), int(r[4]), r[5], r[6], r[7],
                       int(r[8]), as_datetime(r[9]), as_datetime(r[10]), r[11], r[12],
                       None if r[13] is None else int(r[13]), r[14], covered.get(int(r[0])))
        for r in raw)
    return DayView(first_day, days, practitioners, appointments, wallets)


@dataclass(slots=True)
class _FreeLot:
    """Tokens of one expiry date not yet spoken for (mutable while walking visits)."""

    expires: dt.date
    left: int


FreeLots = dict[tuple[Owner, str], list[_FreeLot]]  # (wallet owner, kind) -> lots, FEFO


def _wallets(patient_ids: list[int], today: dt.date
             ) -> tuple[dict[int, Wallet], FreeLots, dict[Owner, int], WalletScope]:
    """Who shares a wallet (1 query), balances (1), open holds (1) and lots by expiry
    (1) of the patients. Members of a household sharing one wallet show its balances."""
    scope = wallet_scope(patient_ids)
    owners = {scope.owner(pid) for pid in patient_ids}
    credit: dict[Owner, int] = dict.fromkeys(owners, 0)
    tokens: dict[Owner, dict[str, int]] = defaultdict(dict)
    held: dict[Owner, dict[str, int]] = defaultdict(dict)
    holds: dict[Owner, list[HeldToken]] = defaultdict(list)
    credit_held: dict[Owner, int] = defaultdict(int)
    usable: FreeLots = defaultdict(list)
    expiry: dict[Owner, dict[str, tuple[dt.date, int]]] = defaultdict(dict)
    if patient_ids:
        where = scope.condition()
        for pid, hid, kind, balance, name in rows(
                Account.select(Account.patient, Account.household, Account.kind,
                               Account.balance, TokenKind.name)
                .join(TokenKind, JOIN.LEFT_OUTER, on=(Account.token_kind == TokenKind.id))
                .where(where)):
            owner = scope.owner_of(pid, hid)
            if owner not in owners:
                continue
            if kind == "patient_credit":
                credit[owner] = credit_of(int(balance))
            elif tokens_of(int(balance)):
                tokens[owner][name] = tokens_of(int(balance))
        for pid, hid, kind, name, quantity, starts in rows(
                Hold.select(Account.patient, Account.household, Account.kind, TokenKind.name,
                            Hold.quantity, Appointment.starts_at)
                .join(Account, on=(Hold.account == Account.id))
                .join(TokenKind, JOIN.LEFT_OUTER, on=(Account.token_kind == TokenKind.id))
                .switch(Hold).join(Appointment, on=(Hold.appointment == Appointment.id))
                .where(where, Hold.status == "open")
                .order_by(Appointment.starts_at)):
            owner = scope.owner_of(pid, hid)
            if owner not in owners:
                continue
            if kind == "patient_credit":
                credit_held[owner] += int(quantity)
            else:
                held[owner][name] = held[owner].get(name, 0) + int(quantity)
                holds[owner].append(HeldToken(name, int(quantity), as_datetime(starts)))
        for pid, hid, name, expires, remaining in rows(
                Lot.select(Account.patient, Account.household, TokenKind.name, Lot.expires_on,
                           fn.SUM(Lot.remaining))
                .join(Account, on=(Lot.account == Account.id))
                .join(TokenKind, on=(Account.token_kind == TokenKind.id))
                .where(where, Lot.remaining > 0)
                .group_by(Account.patient, Account.household, TokenKind.name, Lot.expires_on)):
            owner = scope.owner_of(pid, hid)
            if owner not in owners:
                continue
            day = as_date(expires) if expires is not None else None
            if day is not None and day < today:
                continue
            usable[(owner, name)].append(_FreeLot(day or dt.date.max, int(remaining)))
            if day is not None and (name not in expiry[owner] or day < expiry[owner][name][0]):
                expiry[owner][name] = (day, int(remaining))
    wallets = {}
    for pid in patient_ids:
        owner = scope.owner(pid)
        wallets[pid] = Wallet(pid, credit[owner], tokens[owner], held[owner],
                              tuple(holds[owner]), credit_held[owner], expiry[owner],
                              owner[1] if owner[0] == "h" else None)
    for (owner, name), lots in usable.items():  # holds will take the first-expiring lots
        lots.sort(key=lambda lot: lot.expires)
        _take(lots, held[owner].get(name, 0), today)
    free_credit = {owner: max(credit[owner] - credit_held[owner], 0) for owner in owners}
    return wallets, usable, free_credit, scope


def _take(lots: list[_FreeLot], count: int, on: dt.date) -> int:
    """Take up to ``count`` tokens usable on ``on`` from FEFO-sorted lots; return taken."""
    taken = 0
    for lot in lots:
        if lot.expires < on or not lot.left:
            continue
        step = min(lot.left, count - taken)
        lot.left -= step
        taken += step
        if taken == count:
            break
    return taken


def _coverage(scope: WalletScope, today: dt.date, end: dt.datetime,
              free_lots: FreeLots, free_credit: dict[Owner, int]) -> dict[int, str | None]:
    """Walk each wallet's booked visits from today on, in order: a visit with a hold
    is covered by it; others take a free token of their kind that is still valid on
    the visit's day, else credit for their price; what is left over is not covered
    (1 query). A shared household wallet is walked over every member's visits."""
    out: dict[int, str | None] = {}
    patient_ids = scope.members()
    if not patient_ids:
        return out
    credit = dict(free_credit)
    for appt_id, pid, kind, price, hold_status, starts in rows(
            Appointment.select(Appointment.id, Appointment.patient, TokenKind.name,
                               Service.price_cents, Hold.status, Appointment.starts_at)
            .join(Service, on=(Appointment.service == Service.id))
            .join(TokenKind, on=(Service.token_kind == TokenKind.id))
            .switch(Appointment).join(Hold, JOIN.LEFT_OUTER,
                                      on=((Hold.appointment == Appointment.id)
                                          & (Hold.status == "open")))
            .where(Appointment.patient.in_(patient_ids),
                   Appointment.status == schedule.BOOKED,
                   Appointment.starts_at >= dt.datetime.combine(today, dt.time()),
                   Appointment.starts_at < end)
            .order_by(Appointment.starts_at, Appointment.id)):
        owner = scope.owner(int(pid))
        if hold_status == "open":
            out[int(appt_id)] = "hold"
        elif _take(free_lots.get((owner, kind), []), 1, as_datetime(starts).date()):
            out[int(appt_id)] = "token"
        elif price == 0 or credit.get(owner, 0) >= price:
            credit[owner] = credit.get(owner, 0) - int(price)
            out[int(appt_id)] = "credit"
        else:
            out[int(appt_id)] = None
    return out
