"""Check-in arithmetic (``desk.core.checkin.plan``) and appointment rules
(``desk.core.schedule``). Pure tests: no database, no Qt.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from desk.core import schedule
from desk.core.checkin import CREDIT_ALL, CREDIT_NONE, CheckinInput, CheckinPlan, plan
from desk.core.errors import BadInput, Refused

PRICE = 9500  # a 95.00 treatment


def ask(**kw: object) -> CheckinInput:
    """A check-in of one 95.00 treatment with no token, no credit and no payment."""
    base: dict[str, object] = {
        "treatment_cents": PRICE, "item_cents": (), "package_cents": 0, "use_token": False,
        "credit_before_cents": 0, "credit_available_cents": 0, "use_credit": CREDIT_ALL,
        "tender_cents": ()}
    base.update(kw)
    return CheckinInput(**base)  # type: ignore[arg-type]


# -- plan: what is due -------------------------------------------------------------------

def test_a_token_covers_the_treatment_line_only() -> None:
    assert plan(ask(use_token=True)) == CheckinPlan(0, True, 0, 0, 0, 0, 0, 0)
    herbs = plan(ask(use_token=True, item_cents=(1250,), tender_cents=(1250,)))
    assert herbs == CheckinPlan(1250, True, 0, 1250, 0, 0, 0, 0)


def test_due_is_treatment_plus_items_plus_package() -> None:
    got = plan(ask(item_cents=(1250, 300), package_cents=35000, tender_cents=(46050,)))
    assert got == CheckinPlan(46050, False, 0, 46050, 0, 0, 0, 0)
    assert got.credit_delta_cents == 0


def test_a_package_bought_with_its_token_used_pays_only_the_package() -> None:
    got = plan(ask(use_token=True, package_cents=35000, tender_cents=(35000,)))
    assert (got.due_cents, got.paid_cents, got.owed_cents) == (35000, 35000, 0)


# -- plan: credit --------------------------------------------------------------------------

def test_credit_partially_covering_then_card() -> None:
    got = plan(ask(credit_before_cents=3000, credit_available_cents=3000,
                   tender_cents=(6500,)))
    assert got == CheckinPlan(due_cents=9500, token_used=False, credit_applied_cents=3000,
                              paid_cents=6500, owed_cents=0, credit_added_cents=0,
                              cash_change_cents=0, credit_after_cents=0)


def test_credit_all_takes_only_what_is_uncovered() -> None:
    got = plan(ask(credit_before_cents=20000, credit_available_cents=20000,
                   tender_cents=(5000,)))
    assert (got.credit_applied_cents, got.owed_cents, got.credit_after_cents) == (
        4500, 0, 15500)


def test_forgot_wallet_leaves_the_price_owed() -> None:
    got = plan(ask())
    assert got == CheckinPlan(9500, False, 0, 0, 9500, 0, 0, -9500)
    assert got.credit_delta_cents == -9500


def test_credit_not_enough_leaves_the_rest_owed() -> None:
    got = plan(ask(credit_before_cents=2000, credit_available_cents=2000))
    assert (got.credit_applied_cents, got.owed_cents, got.credit_after_cents) == (
        2000, 7500, -7500)


def test_already_owing_adds_to_what_is_owed() -> None:
    got = plan(ask(credit_before_cents=-2500, credit_available_cents=0))
    assert (got.credit_applied_cents, got.owed_cents, got.credit_after_cents) == (
        0, 9500, -12000)


def test_held_credit_is_not_available() -> None:
    """Credit 100.00, of which 95.00 is held for another visit: 5.00 can be used."""
    got = plan(ask(credit_before_cents=10000, credit_available_cents=500))
    assert (got.credit_applied_cents, got.owed_cents, got.credit_after_cents) == (
        500, 9000, 500)


def test_negative_available_credit_counts_as_none() -> None:
    got = plan(ask(credit_before_cents=-100, credit_available_cents=-100))
    assert (got.credit_applied_cents, got.owed_cents) == (0, 9500)


def test_opting_out_of_credit_names_the_same_movement_owed() -> None:
    got = plan(ask(credit_before_cents=10000, credit_available_cents=10000,
                   use_credit=CREDIT_NONE))
    assert got == CheckinPlan(9500, False, 0, 0, 9500, 0, 0, 500)


def test_an_explicit_credit_amount() -> None:
    got = plan(ask(credit_before_cents=3000, credit_available_cents=3000, use_credit=2000,
                   tender_cents=(7500,)))
    assert got == CheckinPlan(9500, False, 2000, 7500, 0, 0, 0, 1000)
    less = plan(ask(credit_before_cents=3000, credit_available_cents=3000, use_credit=1000))
    assert (less.credit_applied_cents, less.owed_cents, less.credit_after_cents) == (
        1000, 8500, -6500)
    # asked for more than the tenders leave uncovered: only the uncovered part is applied
    some = plan(ask(credit_before_cents=9500, credit_available_cents=9500, use_credit=9500,
                    tender_cents=(9000,)))
    assert (some.credit_applied_cents, some.owed_cents, some.credit_after_cents) == (
        500, 0, 9000)
    zero = plan(ask(credit_before_cents=3000, credit_available_cents=3000, use_credit=0,
                    tender_cents=(9500,)))
    assert zero.credit_applied_cents == 0


def test_asking_for_more_credit_than_available_is_refused() -> None:
    with pytest.raises(Refused, match=r"only \$30\.00 credit is available; cannot use \$50\.00"):
        plan(ask(credit_before_cents=3000, credit_available_cents=3000, use_credit=5000))
    with pytest.raises(Refused):
        plan(ask(credit_before_cents=3000, credit_available_cents=0, use_credit=1))


def test_asking_for_more_credit_than_due_is_bad_input() -> None:
    with pytest.raises(BadInput) as info:
        plan(ask(credit_before_cents=20000, credit_available_cents=20000, use_credit=9501))
    assert info.value.field == "--use-credit"


# -- plan: tenders and change --------------------------------------------------------------

def test_overpaying_adds_credit() -> None:
    got = plan(ask(tender_cents=(10000,)))
    assert got == CheckinPlan(9500, False, 0, 10000, 0, 500, 0, 500)


def test_several_tenders_add_up() -> None:
    got = plan(ask(tender_cents=(5000, 4000, 500)))
    assert (got.paid_cents, got.owed_cents, got.credit_added_cents) == (9500, 0, 0)


def test_cash_handed_over_gives_change() -> None:
    got = plan(ask(tender_cents=(9500,), cash_kept_cents=9500, cash_given_cents=10000))
    assert got.cash_change_cents == 500
    assert got.credit_after_cents == 0
    exact = plan(ask(tender_cents=(9500,), cash_kept_cents=9500, cash_given_cents=9500))
    assert exact.cash_change_cents == 0
    # cash 50.00 of a 95.00 visit, 60.00 handed over; card pays the rest
    mixed = plan(ask(tender_cents=(5000, 4500), cash_kept_cents=5000, cash_given_cents=6000))
    assert (mixed.cash_change_cents, mixed.paid_cents) == (1000, 9500)


def test_cash_handed_over_below_the_cash_payment_is_bad_input() -> None:
    with pytest.raises(BadInput) as info:
        plan(ask(tender_cents=(9500,), cash_kept_cents=9500, cash_given_cents=9000))
    assert info.value.field == "--cash-given"


def test_plan_is_frozen() -> None:
    got = plan(ask())
    with pytest.raises(dataclasses.FrozenInstanceError):
        got.owed_cents = 0  # type: ignore[misc]


cents = st.integers(min_value=0, max_value=10**9)


@settings(max_examples=300, deadline=None)
@given(treatment=cents, items=st.lists(cents, max_size=4), package=cents,
       use_token=st.booleans(), before=st.integers(min_value=-10**9, max_value=10**9),
       held=cents, tenders=st.lists(st.integers(min_value=1, max_value=10**9), max_size=4),
       use_credit=st.sampled_from([CREDIT_ALL, CREDIT_NONE]))
def test_plan_always_balances(treatment: int, items: list[int], package: int,
                              use_token: bool, before: int, held: int, tenders: list[int],
                              use_credit: str) -> None:
    available = max(before - held, 0)
    got = plan(ask(treatment_cents=treatment, item_cents=items, package_cents=package,
                   use_token=use_token, credit_before_cents=before,
                   credit_available_cents=available, use_credit=use_credit,
                   tender_cents=tenders))
    due = (0 if use_token else treatment) + sum(items) + package
    assert got.due_cents == due
    assert got.paid_cents == sum(tenders)
    # every cent due is paid, taken from credit or left owed; overpayment becomes credit
    assert got.paid_cents + got.credit_applied_cents + got.owed_cents \
        - got.credit_added_cents == due
    assert min(got.credit_applied_cents, got.owed_cents, got.credit_added_cents) >= 0
    assert got.credit_applied_cents <= available
    assert not (got.owed_cents and got.credit_added_cents)
    assert got.credit_after_cents == before + got.credit_delta_cents
    assert got.credit_delta_cents == got.paid_cents - due
    if use_credit == CREDIT_NONE:
        assert got.credit_applied_cents == 0


# -- schedule ----------------------------------------------------------------------------

def test_status_transitions() -> None:
    b, ci, done = schedule.BOOKED, schedule.CHECKED_IN, schedule.COMPLETED
    allowed = {(b, ci), (b, schedule.CANCELLED), (b, schedule.LATE_CANCELLED),
               (b, schedule.NO_SHOW), (ci, done), (ci, b), (done, b)}
    for old in schedule.STATUSES:
        for new in schedule.STATUSES:
            if (old, new) in allowed:
                schedule.check_transition(7, old, new)
            else:
                with pytest.raises(Refused):
                    schedule.check_transition(7, old, new)


def test_a_refused_transition_says_why() -> None:
    with pytest.raises(Refused, match="appointment 7 is checked in; it cannot become cancelled"):
        schedule.check_transition(7, schedule.CHECKED_IN, schedule.CANCELLED)
    with pytest.raises(Refused, match="is no-show; it cannot become checked in"):
        schedule.check_transition(7, schedule.NO_SHOW, schedule.CHECKED_IN)


def test_only_live_visits_occupy_the_practitioner() -> None:
    assert {schedule.BOOKED, schedule.CHECKED_IN, schedule.COMPLETED} == schedule.OCCUPYING
    assert set(schedule.LABELS) == set(schedule.STATUSES) == set(schedule.TRANSITIONS)


def at(hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, 3, 3, hour, minute)


def test_overlaps_are_half_open() -> None:
    assert not schedule.overlaps(at(9), at(10), at(10), at(11))       # back to back
    assert not schedule.overlaps(at(10), at(11), at(9), at(10))
    assert schedule.overlaps(at(9), at(10), at(9, 59), at(11))
    assert schedule.overlaps(at(9), at(12), at(10), at(11))           # containment
    assert schedule.overlaps(at(10), at(11), at(9), at(12))
    assert schedule.overlaps(at(9), at(10), at(9), at(10))            # the same slot
    assert not schedule.overlaps(at(9), at(10), at(11), at(12))


def test_is_late_inside_the_window() -> None:
    start = at(15)
    assert not schedule.is_late(start - dt.timedelta(hours=24, minutes=1), start, 24)
    assert schedule.is_late(start - dt.timedelta(hours=23, minutes=59), start, 24)
    assert schedule.is_late(start, start, 24)
    assert schedule.is_late(start + dt.timedelta(hours=2), start, 24)   # after the start
    assert not schedule.is_late(start - dt.timedelta(minutes=1), start, 0)
    assert schedule.is_late(start, start, 0)
    assert not schedule.is_late(start - dt.timedelta(hours=49), start, 48)
    assert schedule.is_late(start - dt.timedelta(hours=47), start, 48)


def test_period_is_the_calendar_month() -> None:
    assert schedule.period_of(dt.date(2026, 3, 2)) == "2026-03"
    assert schedule.period_of(dt.date(2026, 3, 31)) == "2026-03"
    assert schedule.period_of(dt.date(2026, 12, 1)) == "2026-12"
    assert schedule.period_of(dt.date(2027, 1, 1)) == "2027-01"
    assert schedule.period_of(dt.date(999, 7, 4)) == "0999-07"
