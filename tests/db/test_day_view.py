"""The schedule's read model (SPEC §5): one day's practitioners, appointments and
wallets, forward-looking coverage, and a fixed number of queries per load.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pytest
from playhouse.test_utils import count_queries

from desk.data.models import Appointment, Practitioner
from desk.services import catalog, day, patients
from desk.services import settings as clinic_settings
from desk.services.appointments import book
from desk.services.cancellation import cancel
from desk.services.checkin import CheckinRequest, check_in
from desk.services.day import DayAppointment, HeldToken, Wallet, day_view
from desk.services.results import Tender
from desk.services.sales import SaleItem, sell
from desk.services.wallet import adjust

TODAY = dt.date(2026, 3, 2)          # the conftest clock: 2026-03-02 15:00
TUESDAY = dt.date(2026, 3, 3)
ACU = "Acupuncture"
SVC = "Acupuncture 45"               # 45 min, 95.00
MSG = "Massage 60"                   # 60 min, 120.00
PKG5 = "Five acupuncture"            # 5 tokens for 350.00, expiring after 90 days
ANN, BEN, CY = "Ann Lee", "Ben Okafor", "Cy Wu"


@dataclass(frozen=True)
class Clinic:
    ctx: Any
    zoe: int
    bob: int
    cat: int
    svc: int
    msg: int
    ann: int
    ben: int
    cy: int


@pytest.fixture
def clinic(ctx: Any) -> Clinic:
    svc = catalog.add_service(ctx, SVC, 45, 9500, token_kind=ACU, colour="#112233").id
    msg = catalog.add_service(ctx, MSG, 60, 12000, token_kind="Massage").id
    catalog.add_package(ctx, PKG5, ACU, 5, 35000, expires_days=90)
    ann = catalog.add_practitioner(ctx, ANN).id
    ben = catalog.add_practitioner(ctx, BEN).id
    cy = catalog.add_practitioner(ctx, CY).id
    zoe = patients.add_patient(ctx, "Zoë Adams").id
    bob = patients.add_patient(ctx, "Bob Brown").id
    cat = patients.add_patient(ctx, "Cat Diaz").id
    return Clinic(ctx, zoe, bob, cat, svc, msg, ann, ben, cy)


def at(day_: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day_, dt.time(hour, minute))


def view(first: dt.date = TUESDAY, days: int = 1) -> day.DayView:
    return day_view(first, days, today=TODAY)


def by_id(v: day.DayView) -> dict[int, DayAppointment]:
    return {a.id: a for a in v.appointments}


def one_token(c: Clinic, patient: int) -> None:
    adjust(c.ctx, patient, reason="opening balance", tokens=1, token_kind=ACU)


def test_a_day_shows_its_practitioners_appointments_and_wallets(clinic: Clinic) -> None:
    c = clinic
    Practitioner.update(sort_order=-1).where(Practitioner.id == c.cy).execute()
    inactive = catalog.add_practitioner(c.ctx, "Dee Gone").id
    Practitioner.update(active=False).where(Practitioner.id == inactive).execute()
    sell(c.ctx, c.zoe, SaleItem(package=PKG5), [Tender("cash", 35000)])
    sell(c.ctx, c.zoe, SaleItem(tokens=2, token_kind=ACU, price_cents=10000, expires_days=30),
         [Tender("cash", 10000)])
    sell(c.ctx, c.bob, SaleItem(credit_cents=5000), [Tender("card", 5000)])

    late = book(c.ctx, c.zoe, SVC, ANN, at(TUESDAY, 23, 0), note="last one").appointment_id
    first = book(c.ctx, c.bob, MSG, BEN, at(TUESDAY, 0, 0)).appointment_id
    mid = book(c.ctx, c.zoe, SVC, CY, at(TUESDAY, 9, 0)).appointment_id
    book(c.ctx, c.cat, SVC, ANN, at(TODAY, 17, 0))                  # the day before
    book(c.ctx, c.cat, SVC, ANN, at(dt.date(2026, 3, 4), 0, 0))     # the day after

    v = view()
    assert (v.first_day, v.days) == (TUESDAY, 1)
    assert v.practitioners == ((c.cy, CY), (c.ann, ANN), (c.ben, BEN))
    assert [a.id for a in v.appointments] == [first, mid, late]
    assert by_id(v)[late] == DayAppointment(
        late, c.zoe, "Zoë Adams", c.ann, c.svc, SVC, "#112233", ACU, 9500,
        at(TUESDAY, 23, 0), at(TUESDAY, 23, 45), "booked", "last one", None, None, "token")
    assert by_id(v)[first] == DayAppointment(
        first, c.bob, "Bob Brown", c.ben, c.msg, MSG, by_id(v)[first].colour, "Massage", 12000,
        at(TUESDAY, 0, 0), at(TUESDAY, 1, 0), "booked", "", None, None, None)  # 50.00 < 120.00
    assert sorted(v.wallets) == [c.zoe, c.bob]
    assert v.wallets[c.zoe] == Wallet(c.zoe, 0, {ACU: 7}, {}, (), 0,
                                      {ACU: (dt.date(2026, 4, 1), 2)})
    assert v.wallets[c.bob] == Wallet(c.bob, 5000, {}, {}, (), 0, {})

    # a checked-in visit shows its receipt number and is no longer "covered"
    result = check_in(c.ctx, CheckinRequest(mid))
    after = by_id(view())[mid]
    assert (after.status, after.checkin_txn_id, after.receipt_no, after.covered_by) == (
        "checked_in", result.txn.txn_id, result.txn.receipt_no, None)
    assert view().wallets[c.zoe].tokens == {ACU: 6}

    # two days at once
    assert [a.id for a in view(TODAY, 3).appointments][-1] == \
        Appointment.select().order_by(Appointment.starts_at.desc()).get().id
    assert len(view(TODAY, 3).appointments) == 5
    assert view(dt.date(2026, 3, 10)).appointments == ()
    assert view(dt.date(2026, 3, 10)).wallets == {}


def test_coverage_looks_forward_through_the_day(clinic: Clinic) -> None:
    c = clinic
    one_token(c, c.cat)
    first = book(c.ctx, c.cat, SVC, ANN, at(TUESDAY, 9, 0)).appointment_id
    second = book(c.ctx, c.cat, SVC, ANN, at(TUESDAY, 11, 0)).appointment_id
    massage = book(c.ctx, c.cat, MSG, BEN, at(TUESDAY, 8, 0)).appointment_id

    v = view()
    assert (by_id(v)[first].covered_by, by_id(v)[second].covered_by) == ("token", None)
    assert by_id(v)[massage].covered_by is None     # an Acupuncture token does not pay it
    assert v.counts()["not_covered"] == 2

    # enough credit for one more visit (95.00) but not for the massage (120.00) after it
    sell(c.ctx, c.cat, SaleItem(credit_cents=9500), [Tender("cash", 9500)])
    v = view()
    assert [by_id(v)[i].covered_by for i in (massage, first, second)] == [None, "token",
                                                                          "credit"]
    # the massage comes first in the day: with 120.00 it takes the credit instead
    sell(c.ctx, c.cat, SaleItem(credit_cents=2500), [Tender("cash", 2500)])
    v = view()
    assert [by_id(v)[i].covered_by for i in (massage, first, second)] == ["credit", "token",
                                                                          None]


def test_coverage_counts_visits_before_the_viewed_day(clinic: Clinic) -> None:
    c = clinic
    one_token(c, c.zoe)
    tuesday = book(c.ctx, c.zoe, SVC, ANN, at(TUESDAY, 9, 0)).appointment_id
    wednesday = book(c.ctx, c.zoe, SVC, ANN, at(dt.date(2026, 3, 4), 9, 0)).appointment_id
    assert by_id(view())[tuesday].covered_by == "token"
    # Wednesday's visit comes after Tuesday's, which takes the only token
    assert by_id(view(dt.date(2026, 3, 4)))[wednesday].covered_by is None
    cancel(c.ctx, tuesday, waive=True, reason="moved to Wednesday")
    assert by_id(view(dt.date(2026, 3, 4)))[wednesday].covered_by == "token"


def test_a_token_expiring_before_the_visit_does_not_cover_it(clinic: Clinic) -> None:
    """Looking forward (SPEC §5): a token usable through 2026-03-07 cannot pay a visit
    on 2026-03-20, so that visit is not covered; one on 2026-03-06 is."""
    c = clinic
    sell(c.ctx, c.zoe, SaleItem(tokens=1, token_kind=ACU, price_cents=7000, expires_days=5),
         [Tender("cash", 7000)])
    sell(c.ctx, c.bob, SaleItem(tokens=1, token_kind=ACU, price_cents=7000, expires_days=5),
         [Tender("cash", 7000)])
    in_time = book(c.ctx, c.bob, SVC, ANN, at(dt.date(2026, 3, 6), 9, 0)).appointment_id
    too_late = book(c.ctx, c.zoe, SVC, ANN, at(dt.date(2026, 3, 20), 9, 0)).appointment_id
    assert by_id(view(dt.date(2026, 3, 6)))[in_time].covered_by == "token"
    later = view(dt.date(2026, 3, 20))
    assert later.wallets[c.zoe].next_expiry == {ACU: (dt.date(2026, 3, 7), 1)}
    assert by_id(later)[too_late].covered_by is None
    assert later.counts()["not_covered"] == 1


def test_a_hold_covers_its_visit(clinic: Clinic) -> None:
    c = clinic
    clinic_settings.set_value(c.ctx, "reserve_token_at_booking", "true")
    one_token(c, c.zoe)
    sell(c.ctx, c.bob, SaleItem(credit_cents=10000), [Tender("card", 10000)])
    later = book(c.ctx, c.zoe, SVC, ANN, at(TUESDAY, 14, 0)).appointment_id
    earlier = book(c.ctx, c.zoe, SVC, ANN, at(TUESDAY, 9, 0)).appointment_id  # no token left
    credit = book(c.ctx, c.bob, SVC, BEN, at(TUESDAY, 9, 0)).appointment_id

    v = view()
    assert [by_id(v)[i].covered_by for i in (earlier, later, credit)] == [None, "hold",
                                                                          "hold"]
    assert v.wallets[c.zoe] == Wallet(c.zoe, 0, {ACU: 1}, {ACU: 1},
                                      (HeldToken(ACU, 1, at(TUESDAY, 14, 0)),), 0, {})
    assert v.wallets[c.bob] == Wallet(c.bob, 10000, {}, {}, (), 9500, {})
    assert v.counts()["not_covered"] == 1


def test_counts(clinic: Clinic, clock: Any) -> None:
    c = clinic
    ids = [book(c.ctx, c.zoe, SVC, ANN, at(TUESDAY, h, 0)).appointment_id for h in (8, 9)]
    ids += [book(c.ctx, c.bob, SVC, BEN, at(TUESDAY, h, 0)).appointment_id
            for h in (8, 9, 10, 11)]
    check_in(c.ctx, CheckinRequest(ids[0], tenders=(Tender("card", 9500),)))
    cancel(c.ctx, ids[2])                                 # late (inside 24 h), no fee set
    clock.current = dt.datetime(2026, 3, 3, 9, 30)
    cancel(c.ctx, ids[3], no_show=True)
    clock.current = dt.datetime(2026, 3, 2, 9, 0)
    cancel(c.ctx, ids[4])                                 # more than 24 h ahead
    assert view().counts() == {
        "booked": 2, "checked_in": 1, "completed": 0, "cancelled": 1, "late_cancelled": 1,
        "no_show": 1, "not_covered": 2}


def test_loading_a_day_takes_a_fixed_number_of_queries(clinic: Clinic) -> None:
    c = clinic
    clinic_settings.set_value(c.ctx, "reserve_token_at_booking", "true")
    sell(c.ctx, c.zoe, SaleItem(package=PKG5), [Tender("cash", 35000)])
    book(c.ctx, c.zoe, SVC, ANN, at(TUESDAY, 9, 0))
    book(c.ctx, c.bob, SVC, BEN, at(TUESDAY, 9, 0))
    with count_queries() as small:
        v = view()
    assert len(v.appointments) == 2
    assert small.count == day.QUERIES_PER_LOAD

    people = [c.zoe, c.bob, c.cat] + [patients.add_patient(c.ctx, f"Patient {i:02d}").id
                                      for i in range(27)]
    for i in range(4):
        sell(c.ctx, people[i + 3], SaleItem(package=PKG5), [Tender("cash", 35000)])
        sell(c.ctx, people[i + 10], SaleItem(credit_cents=20000), [Tender("card", 20000)])
    practitioners = [ANN, BEN, CY, catalog.add_practitioner(c.ctx, "Di Fox").name]
    booked = 2
    slot = 0
    while booked < 40:
        start = at(dt.date(2026, 3, 3), 10, 0) + dt.timedelta(minutes=45 * (slot // 4))
        book(c.ctx, people[booked % 30], SVC, practitioners[slot % 4], start)
        booked += 1
        slot += 1
    with count_queries() as large:
        v = view()
    assert len(v.appointments) == 40
    assert len(v.wallets) == 30
    assert large.count == small.count == day.QUERIES_PER_LOAD
