"""What the check-in and cancel dialogs read before they open (SPEC §3 Check in,
Cancel / no-show): ``checkin_form`` and ``cancel_preview`` on SQLite and PostgreSQL.

Both are reads: exact values (free tokens and credit exclude what is held for the
patient's *other* visits and tokens past their expiry), nothing written, and a
number of queries that does not grow with the clinic.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from playhouse.test_utils import count_queries

from desk.core.errors import NotFound, Refused
from desk.data.models import ALL_MODELS, Account, Appointment, Hold, Lot, Package, Service
from desk.services import catalog, patients
from desk.services import settings as clinic_settings
from desk.services.appointments import book
from desk.services.cancel_preview import CancelPreview, cancel_preview
from desk.services.checkin import CheckinRequest, check_in
from desk.services.checkin_form import CheckinForm, PackageChoice, checkin_form
from desk.services.results import Tender
from desk.services.sales import SaleItem, sell
from desk.services.wallet import adjust

TODAY = dt.date(2026, 3, 2)                  # the conftest clock: Monday 15:00
TUESDAY, WEDNESDAY, THURSDAY = (dt.date(2026, 3, d) for d in (3, 4, 5))
ACU, MSG = "Acupuncture 45", "Massage 60"
PACKAGES = (PackageChoice("Five acupuncture", "Acupuncture", 5, 35000),
            PackageChoice("Ten massages", "Massage", 10, 100000))

# The reads, counted with the patient's accounts in place (every booking creates
# them). checkin_form: the visit, 4 for the wallet, account ids, usable tokens, tokens
# held, credit held, packages, settings. cancel_preview: the visit, service, token
# kind, shared wallet, accounts, usable tokens, tokens held, credit held, settings (currency and
# window), plus the window when judging late or on time, plus the clinic fee when
# there is one.
CHECKIN_FORM_QUERIES = 11
CANCEL_PREVIEW_QUERIES = {"on time": 10, "late by the window": 11, "forced late": 10}


def at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute))


@dataclass(frozen=True)
class Clinic:
    ctx: Any
    zoe: int
    bob: int
    cat: int
    dan: int


@pytest.fixture
def clinic(ctx: Any) -> Clinic:
    catalog.add_service(ctx, ACU, 45, 9500, token_kind="Acupuncture")
    catalog.add_service(ctx, MSG, 60, 12000, token_kind="Massage")
    catalog.add_package(ctx, "Five acupuncture", "Acupuncture", 5, 35000, expires_days=90)
    catalog.add_package(ctx, "Ten massages", "Massage", 10, 100000)
    catalog.add_package(ctx, "Old offer", "Acupuncture", 3, 15000)
    Package.update(active=False).where(Package.name == "Old offer").execute()
    for name in ("Ann Lee", "Ben Okafor", "Cy Park"):
        catalog.add_practitioner(ctx, name)
    return Clinic(ctx, *(patients.add_patient(ctx, name).id for name in
                         ("Zoë Adams", "Bob Brown", "Cat Diaz", "Dan Evans")))


def visit(c: Clinic, patient: int, when: dt.datetime, service: str = ACU,
          who: str = "Ann Lee") -> int:
    return book(c.ctx, patient, service, who, when).appointment_id


def table_counts() -> dict[str, int]:
    return {model._meta.table_name: model.select().count() for model in ALL_MODELS}


def mutable_rows() -> tuple[list[Any], ...]:
    """The rows a careless read could change (projections and visits)."""
    return (list(Account.select(Account.id, Account.balance).order_by(Account.id).tuples()),
            list(Lot.select(Lot.id, Lot.remaining).order_by(Lot.id).tuples()),
            list(Hold.select(Hold.id, Hold.status).order_by(Hold.id).tuples()),
            list(Appointment.select(Appointment.id, Appointment.status,
                                    Appointment.updated_at).order_by(Appointment.id).tuples()))


def queries_of(read: Callable[..., Any], *args: Any, **kwargs: Any) -> int:
    with count_queries() as counter:
        read(*args, **kwargs)
    return int(counter.count)


# -- checkin_form -----------------------------------------------------------------------

def test_the_form_of_a_patient_with_nothing(clinic: Clinic) -> None:
    c = clinic
    dan = visit(c, c.dan, at(TUESDAY, 11), who="Ben Okafor")
    assert checkin_form(dan, TODAY) == CheckinForm(
        dan, "booked", c.dan, "Dan Evans", ACU, "Acupuncture", 9500, at(TUESDAY, 11),
        credit_cents=0, credit_free_cents=0, tokens={}, free_tokens=0, packages=PACKAGES,
        currency="USD", auto_apply_tokens=True, auto_apply_credit=True)


def test_the_form_shows_the_wallet_tokens_of_every_kind_and_what_is_owed(
        clinic: Clinic) -> None:
    c = clinic
    sell(c.ctx, c.zoe, SaleItem(package="Five acupuncture"), [Tender("card", 35000)])
    sell(c.ctx, c.zoe, SaleItem(package="Ten massages"), [Tender("card", 80000)])
    zoe = visit(c, c.zoe, at(TUESDAY, 10), MSG)
    form = checkin_form(zoe, TODAY)
    # the 200.00 unpaid on the massages is owed; the visit takes a Massage token
    assert (form.service_name, form.token_kind, form.price_cents) == (MSG, "Massage", 12000)
    assert (form.credit_cents, form.credit_free_cents) == (-20000, 0)
    assert form.tokens == {"Acupuncture": 5, "Massage": 10}
    assert form.free_tokens == 10


def test_free_tokens_leave_out_holds_for_other_visits_and_expired_lots(
        clinic: Clinic) -> None:
    """Zoë: 5 tokens (to May 31) and 2 more that expire on Tuesday, three visits each
    holding one. On Wednesday the Tuesday tokens are gone (the expiry job has not run)
    and two tokens are held for her other visits: 5 - 2 = 3 free for this one."""
    c = clinic
    clinic_settings.set_value(c.ctx, "reserve_token_at_booking", "true")
    sell(c.ctx, c.zoe, SaleItem(package="Five acupuncture"), [Tender("card", 35000)])
    adjust(c.ctx, c.zoe, reason="goodwill", tokens=2, token_kind="Acupuncture",
           expires_days=1)
    visits = [visit(c, c.zoe, at(day, 9)) for day in (TUESDAY, WEDNESDAY, THURSDAY)]
    assert Hold.select().where(Hold.status == "open").count() == 3

    on_tuesday = checkin_form(visits[0], TUESDAY)
    assert on_tuesday.tokens == {"Acupuncture": 7}
    assert on_tuesday.free_tokens == 7 - 2
    on_wednesday = checkin_form(visits[2], WEDNESDAY)
    assert on_wednesday.tokens == {"Acupuncture": 7}      # the balance, as the heading says
    assert on_wednesday.free_tokens == 5 - 2
    # Tuesday checked in (today, Monday) with a token: the first to expire is spent,
    # and one hold fewer stands for the others. The package's 5 are all still there.
    check_in(c.ctx, CheckinRequest(visits[0], use_token=True))
    assert checkin_form(visits[2], WEDNESDAY).free_tokens == 5 - 1


def test_free_tokens_never_go_below_zero(clinic: Clinic) -> None:
    c = clinic
    clinic_settings.set_value(c.ctx, "reserve_token_at_booking", "true")
    adjust(c.ctx, c.zoe, reason="opening balance", tokens=1, token_kind="Acupuncture",
           expires_days=1)
    first = visit(c, c.zoe, at(TUESDAY, 9))           # holds the only token
    second = visit(c, c.zoe, at(TUESDAY, 14))         # nothing left to hold
    assert checkin_form(first, TODAY).free_tokens == 1
    assert checkin_form(second, TODAY).free_tokens == 0
    # After Tuesday the held token has expired: 0 usable, 1 held, still 0 (not -1).
    assert checkin_form(second, WEDNESDAY).free_tokens == 0


def test_free_credit_leaves_out_credit_held_for_other_visits(clinic: Clinic) -> None:
    c = clinic
    clinic_settings.set_value(c.ctx, "reserve_token_at_booking", "true")
    adjust(c.ctx, c.bob, reason="prepaid", credit_cents=20000)
    first = visit(c, c.bob, at(TUESDAY, 9))           # holds 95.00 of credit
    second = visit(c, c.bob, at(WEDNESDAY, 9))        # holds 95.00 more
    third = visit(c, c.bob, at(THURSDAY, 9))          # 10.00 left: no hold
    assert [h.quantity for h in Hold.select().order_by(Hold.id)] == [9500, 9500]
    form = checkin_form(second, TODAY)
    assert (form.credit_cents, form.credit_free_cents) == (20000, 20000 - 9500)
    assert checkin_form(third, TODAY).credit_free_cents == 20000 - 2 * 9500
    assert checkin_form(first, TODAY).free_tokens == 0


def test_an_owing_patient_has_no_free_credit(clinic: Clinic) -> None:
    c = clinic
    adjust(c.ctx, c.cat, reason="unpaid balance", credit_cents=-2500)
    cat = visit(c, c.cat, at(TUESDAY, 9), who="Ben Okafor")
    form = checkin_form(cat, TODAY)
    assert (form.credit_cents, form.credit_free_cents, form.tokens) == (-2500, 0, {})


def test_the_form_carries_the_clinic_settings(clinic: Clinic) -> None:
    c = clinic
    for key, value in (("currency", "eur"), ("auto_apply_tokens", "false"),
                       ("auto_apply_credit", "off")):
        clinic_settings.set_value(c.ctx, key, value)
    dan = visit(c, c.dan, at(TUESDAY, 11))
    form = checkin_form(dan, TODAY)
    assert (form.currency, form.auto_apply_tokens, form.auto_apply_credit) == (
        "EUR", False, False)


def test_the_packages_on_sale_are_the_active_ones_by_name(clinic: Clinic) -> None:
    c = clinic
    catalog.add_package(c.ctx, "Aa starter", "Massage", 1, 9000)
    dan = visit(c, c.dan, at(TUESDAY, 11))
    assert checkin_form(dan, TODAY).packages == (
        PackageChoice("Aa starter", "Massage", 1, 9000), *PACKAGES)


def test_the_form_of_a_visit_checked_in_elsewhere_says_so(clinic: Clinic) -> None:
    """The grid may be stale: the form reports the status as it is now."""
    c = clinic
    dan = visit(c, c.dan, at(TUESDAY, 11))
    check_in(c.ctx, CheckinRequest(dan, tenders=(Tender("cash", 9500),)))
    form = checkin_form(dan, TODAY)
    assert (form.status, form.credit_cents) == ("checked_in", 0)


def test_the_form_of_an_unknown_visit_is_not_found(clinic: Clinic) -> None:
    with pytest.raises(NotFound, match="--appointment: no appointment with id 999"):
        checkin_form(999, TODAY)


# -- cancel_preview ---------------------------------------------------------------------

def test_an_on_time_cancel_is_free(clinic: Clinic) -> None:
    c = clinic
    clinic_settings.set_value(c.ctx, "late_cancel_fee", "30.00")
    dan = visit(c, c.dan, at(WEDNESDAY, 11))           # 44 hours ahead
    assert cancel_preview(c.ctx, dan) == CancelPreview(
        dan, "cancelled", 0, "Acupuncture", 0, 0, True, 24, "USD")


def test_a_cancel_inside_the_window_is_a_late_cancel_with_its_fee(clinic: Clinic) -> None:
    c = clinic
    clinic_settings.set_value(c.ctx, "late_cancel_fee", "30.00")
    adjust(c.ctx, c.bob, reason="prepaid", credit_cents=1250)
    bob = visit(c, c.bob, at(TUESDAY, 10), MSG)        # 19 hours ahead
    assert cancel_preview(c.ctx, bob) == CancelPreview(
        bob, "late_cancelled", 3000, "Massage", 0, 1250, False, 24, "USD")
    # A 12-hour window puts it on time again.
    clinic_settings.set_value(c.ctx, "late_cancel_hours", "12")
    assert cancel_preview(c.ctx, bob) == CancelPreview(
        bob, "cancelled", 0, "Massage", 0, 1250, True, 12, "USD")
    # Forced late: the fee, paid from credit once there is enough.
    adjust(c.ctx, c.bob, reason="prepaid", credit_cents=2000)
    assert cancel_preview(c.ctx, bob, late=True) == CancelPreview(
        bob, "late_cancelled", 3000, "Massage", 0, 3250, True, 12, "USD")


def test_a_service_fee_overrides_the_clinic_fee(clinic: Clinic, clock: Any) -> None:
    c = clinic
    clinic_settings.set_value(c.ctx, "late_cancel_fee", "30.00")
    clinic_settings.set_value(c.ctx, "no_show_fee", "50.00")
    Service.update(late_cancel_fee_cents=4000, no_show_fee_cents=0).where(
        Service.name == MSG).execute()
    bob = visit(c, c.bob, at(TUESDAY, 10), MSG)
    dan = visit(c, c.dan, at(TUESDAY, 11))
    assert cancel_preview(c.ctx, bob, late=True).fee_cents == 4000
    assert cancel_preview(c.ctx, dan, late=True).fee_cents == 3000
    clock.current = at(TUESDAY, 12)                    # both visits have started
    assert cancel_preview(c.ctx, bob, no_show=True).fee_cents == 0
    assert cancel_preview(c.ctx, dan, no_show=True) == CancelPreview(
        dan, "no_show", 5000, "Acupuncture", 0, 0, False, 24, "USD")


def test_the_fee_may_be_paid_by_a_token_not_held_for_another_visit(clinic: Clinic) -> None:
    c = clinic
    clinic_settings.set_value(c.ctx, "reserve_token_at_booking", "true")
    clinic_settings.set_value(c.ctx, "late_cancel_fee", "30.00")
    adjust(c.ctx, c.zoe, reason="opening balance", tokens=2, token_kind="Acupuncture")
    adjust(c.ctx, c.zoe, reason="prepaid", credit_cents=10000)
    first = visit(c, c.zoe, at(TUESDAY, 9))            # holds a token
    second = visit(c, c.zoe, at(WEDNESDAY, 9))         # holds the other
    # Its own hold counts as free for this visit, the other visit's does not.
    assert cancel_preview(c.ctx, first, late=True) == CancelPreview(
        first, "late_cancelled", 3000, "Acupuncture", 1, 10000, True, 24, "USD")
    third = visit(c, c.zoe, at(THURSDAY, 9))           # holds 95.00 of credit
    assert cancel_preview(c.ctx, second, late=True) == CancelPreview(
        second, "late_cancelled", 3000, "Acupuncture", 1, 500, False, 24, "USD")
    assert cancel_preview(c.ctx, third, late=True).free_tokens == 0


def test_the_preview_refuses_what_cancel_refuses(clinic: Clinic) -> None:
    c = clinic
    dan = visit(c, c.dan, at(TUESDAY, 11))
    with pytest.raises(Refused, match="a no-show can only be recorded once it has started"):
        cancel_preview(c.ctx, dan, no_show=True)
    check_in(c.ctx, CheckinRequest(dan, tenders=(Tender("card", 9500),)))
    with pytest.raises(Refused, match=f"appointment {dan} is checked in; it cannot become"):
        cancel_preview(c.ctx, dan)
    with pytest.raises(NotFound):
        cancel_preview(c.ctx, 999)


# -- reads only, in a fixed number of queries ---------------------------------------------

def _busy_clinic(c: Clinic) -> dict[str, int]:
    clinic_settings.set_value(c.ctx, "reserve_token_at_booking", "true")
    clinic_settings.set_value(c.ctx, "late_cancel_fee", "30.00")
    sell(c.ctx, c.zoe, SaleItem(package="Five acupuncture"), [Tender("card", 35000)])
    adjust(c.ctx, c.bob, reason="prepaid", credit_cents=30000)
    adjust(c.ctx, c.cat, reason="unpaid balance", credit_cents=-2500)
    return {"zoe": visit(c, c.zoe, at(TUESDAY, 9)),
            "zoe2": visit(c, c.zoe, at(WEDNESDAY, 9)),
            "bob": visit(c, c.bob, at(TUESDAY, 10), MSG),
            "bob2": visit(c, c.bob, at(WEDNESDAY, 10), MSG),
            "cat": visit(c, c.cat, at(TUESDAY, 9), who="Ben Okafor"),
            "dan": visit(c, c.dan, at(WEDNESDAY, 11), who="Ben Okafor")}


def test_the_reads_write_nothing(clinic: Clinic) -> None:
    c = clinic
    visits = _busy_clinic(c)
    counts, rows = table_counts(), mutable_rows()
    for appointment_id in visits.values():
        checkin_form(appointment_id, TODAY)
        cancel_preview(c.ctx, appointment_id)
        cancel_preview(c.ctx, appointment_id, late=True)
    assert table_counts() == counts
    assert mutable_rows() == rows


def test_the_reads_take_a_fixed_number_of_queries(clinic: Clinic) -> None:
    c = clinic
    visits = _busy_clinic(c)
    counted = _counts(c, visits)
    assert counted == {name: (CHECKIN_FORM_QUERIES, CANCEL_PREVIEW_QUERIES[judged],
                              CANCEL_PREVIEW_QUERIES["forced late"])
                       for name, judged in JUDGED.items()}
    # Many more packages, lots, holds and patients: the same counts.
    for n in range(12):
        catalog.add_package(c.ctx, f"Pack {n:02d}", "Massage", n + 1, 1000 * (n + 1))
        sell(c.ctx, c.zoe, SaleItem(package="Five acupuncture"), [Tender("cash", 35000)])
        other = patients.add_patient(c.ctx, f"Patient {n:02d}").id
        sell(c.ctx, other, SaleItem(package="Five acupuncture"), [Tender("cash", 35000)])
        visit(c, c.zoe, at(THURSDAY, 8) + dt.timedelta(minutes=45 * n), who="Cy Park")
        visit(c, other, at(THURSDAY, 8) + dt.timedelta(minutes=45 * n), who="Ann Lee")
    assert checkin_form(visits["zoe"], TODAY).free_tokens == 65 - 13
    assert len(checkin_form(visits["zoe"], TODAY).packages) == 14
    assert _counts(c, visits) == counted


JUDGED = {"zoe": "late by the window", "zoe2": "on time", "bob": "late by the window",
          "bob2": "on time", "cat": "late by the window", "dan": "on time"}


def _counts(c: Clinic, visits: dict[str, int]) -> dict[str, tuple[int, int, int]]:
    return {name: (queries_of(checkin_form, a, TODAY), queries_of(cancel_preview, c.ctx, a),
                   queries_of(cancel_preview, c.ctx, a, late=True))
            for name, a in visits.items()}
