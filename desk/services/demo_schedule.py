"""The demo clinic's two weeks of appointments around today, through the real flows.

Past visits were checked in (token, credit, card or cash, sometimes left owed),
cancelled on time or late, or missed; today's are checked in up to now; future
ones are booked, some already cancelled.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
from collections.abc import Callable
from contextlib import suppress

from desk.core.errors import Refused
from desk.data.models import Account, Appointment, Patient, Practitioner, Service, rows
from desk.services import appointments, availability, cancellation, checkin
from desk.services.context import Ctx
from desk.services.results import Tender

Event = tuple[dt.datetime, int, Callable[[Ctx], object]]
DAY_START, DAY_END = dt.time(8, 0), dt.time(19, 0)


def schedule_events(ctx: Ctx, rng: random.Random, people: list[int], days: int) -> list[Event]:
    """Bookings and their outcomes as timed service calls (run them in time order)."""
    now = ctx.local_now()
    first = ctx.today() - dt.timedelta(days=days // 2)
    services = list(Service.select().where(Service.active == True))  # noqa: E712
    weights = [5 if "Acupuncture" in s.name or "Massage" in s.name else 2 for s in services]
    holders = _token_holders()
    wallet_people = sorted({pid for pids in holders.values() for pid in pids})
    events: list[Event] = []
    order = 0
    for offset in range(days):
        day = first + dt.timedelta(days=offset)
        for practitioner in Practitioner.select().where(Practitioner.active == True):  # noqa: E712
            at = dt.datetime.combine(day, DAY_START) + dt.timedelta(
                minutes=rng.choice([0, 0, 15, 30]))
            while True:
                service = rng.choices(services, weights)[0]
                end = at + dt.timedelta(minutes=int(service.duration_min))
                if end.time() > DAY_END or end.date() != day:
                    break
                if rng.random() < 0.72:
                    order += 1
                    # Patients with prepaid tokens come back for what they prepaid.
                    kind = int(service.token_kind_id)
                    if holders.get(kind) and rng.random() < 0.5:
                        pid = rng.choice(holders[kind])
                    elif wallet_people and rng.random() < 0.2:
                        pid = rng.choice(wallet_people)
                    else:
                        pid = rng.choice(people)
                    events += _visit(rng, order, pid, service, practitioner, at, now)
                at = end + dt.timedelta(minutes=rng.choice([0, 0, 0, 15]))
    return events


def _token_holders() -> dict[int, list[int]]:
    """Patients holding tokens (their own or their shared household's), per token kind
    id (two queries)."""
    members: dict[int, list[int]] = {}
    for pid, household in rows(Patient.select(Patient.id, Patient.household)
                               .where(Patient.household.is_null(False)).order_by(Patient.id)):
        members.setdefault(int(household), []).append(int(pid))
    out: dict[int, list[int]] = {}
    for pid, household, kind in rows(
            Account.select(Account.patient, Account.household, Account.token_kind)
            .where(Account.kind == "patient_tokens", Account.balance < 0)
            .order_by(Account.id)):
        holders = [int(pid)] if household is None else members.get(int(household), [])
        out.setdefault(int(kind), []).extend(holders)
    return out


def _visit(rng: random.Random, order: int, pid: int, service: Service,
           practitioner: Practitioner, at: dt.datetime, now: dt.datetime) -> list[Event]:
    key = f"demo-booking-{order}"
    booked_at = at - dt.timedelta(days=rng.randint(3, 14), hours=rng.randint(0, 8))
    events: list[Event] = [(booked_at, order, lambda c: appointments.book(
        c, pid, int(service.id), int(practitioner.id), at, idem_key=key))]

    def appointment_id() -> int:
        return int(Appointment.get(Appointment.idem_key == key).id)

    roll = rng.random()
    if roll < 0.06:
        events.append((at - dt.timedelta(days=2), order,
                       lambda c: cancellation.cancel(c, appointment_id())))
    elif at + dt.timedelta(minutes=int(service.duration_min)) > now:
        return events  # still to come
    elif roll < 0.11:
        take = rng.random() < 0.4
        events.append((at - dt.timedelta(hours=3), order,
                       lambda c: _late(c, appointment_id(), take)))
    elif roll < 0.15:
        events.append((at + dt.timedelta(minutes=20), order,
                       lambda c: cancellation.cancel(c, appointment_id(), no_show=True)))
    else:
        herbs = rng.random() < 0.15
        method = rng.choice(["card", "card", "cash"])
        pays = rng.random() < 0.9
        events.append((at + dt.timedelta(minutes=5), order,
                       lambda c: _check_in(c, appointment_id(), service, herbs, method, pays)))
    return events


def _late(ctx: Ctx, appointment_id: int, take_token: bool) -> None:
    try:
        cancellation.cancel(ctx, appointment_id, late=True, take_token=take_token)
    except Refused:
        cancellation.cancel(ctx, appointment_id, late=True)


def _check_in(ctx: Ctx, appointment_id: int, service: Service, herbs: bool, method: str,
              pays: bool) -> None:
    appt = appointments.get_appointment(appointment_id)
    pid = int(appt.patient_id)
    items = (("Herbal formula", 1800),) if herbs else ()
    due = sum(c for _, c in items)
    if availability.available_tokens(pid, int(service.token_kind_id), ctx.today()) < 1:
        due += int(service.price_cents)
    uncovered = max(due - availability.available_credit(pid), 0)
    tenders = (Tender(method, uncovered),) if uncovered and pays else ()
    checkin.check_in(ctx, checkin.CheckinRequest(appointment_id, items=items, auto=True,
                                                 tenders=tenders))


def run_event(ctx: Ctx, event: Event) -> None:
    moment, _order, call = event
    at = dataclasses.replace(ctx, now=lambda: moment, today=lambda: moment.date(),
                             local_now=lambda: moment)
    with suppress(Refused):  # e.g. nothing to share or refund then: it did not happen
        call(at)
