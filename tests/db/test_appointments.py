"""Booking, moving and cancelling appointments (SPEC §3 Book, Cancel / no-show; §4)
on SQLite and PostgreSQL: policies, holds, fees, audit rows, exact cents and tokens.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

import pytest

from desk.core.errors import BadInput, NotFound, Refused
from desk.data.models import (
    Account,
    Appointment,
    Audit,
    Counter,
    Hold,
    Line,
    Lot,
    LotMove,
    Practitioner,
    Service,
    TokenKind,
    Txn,
)
from desk.services import availability, catalog, patients, queries
from desk.services import settings as clinic_settings
from desk.services.appointments import BookResult, book, move
from desk.services.cancellation import CancelResult, cancel
from desk.services.checkin import CheckinRequest, check_in
from desk.services.results import Balance, Tender
from desk.services.sales import SaleItem, sell
from desk.services.verify import verify
from desk.services.wallet import adjust

TODAY = dt.date(2026, 3, 2)                  # the conftest clock: 2026-03-02 15:00
ACU = "Acupuncture"
SVC = "Acupuncture 45"                       # 45 min, 95.00, takes an Acupuncture token
MSG = "Massage 60"                           # 60 min, 120.00, takes a Massage token
PKG5 = "Five acupuncture"                    # 5 Acupuncture tokens for 350.00 (70.00 each)
PKG5_EXPIRES = dt.date(2026, 5, 31)
ANN, BEN = "Ann Lee", "Ben Okafor"
TOMORROW_10 = dt.datetime(2026, 3, 3, 10, 0)  # 19 h ahead: inside the 24 h window
FRIDAY_10 = dt.datetime(2026, 3, 6, 10, 0)    # days ahead: an on-time cancel


@dataclass(frozen=True)
class Clinic:
    ctx: Any
    zoe: int
    bob: int
    cat: int
    acu: int          # token kind id
    svc: int          # service id of SVC
    ann: int
    ben: int

    def tok(self, patient: int) -> str:
        return f"patient:{patient}:tok:{self.acu}"

    @staticmethod
    def credit(patient: int) -> str:
        return f"patient:{patient}:credit"


@pytest.fixture
def clinic(ctx: Any) -> Clinic:
    svc = catalog.add_service(ctx, SVC, 45, 9500, token_kind=ACU).id
    catalog.add_service(ctx, MSG, 60, 12000, token_kind="Massage")
    catalog.add_package(ctx, PKG5, ACU, 5, 35000, expires_days=90)
    ann = catalog.add_practitioner(ctx, ANN).id
    ben = catalog.add_practitioner(ctx, BEN).id
    zoe = patients.add_patient(ctx, "Zoë Adams").id
    bob = patients.add_patient(ctx, "Bob Brown").id
    cat = patients.add_patient(ctx, "Cat Diaz").id
    return Clinic(ctx, zoe, bob, cat, int(TokenKind.get(TokenKind.name == ACU).id), svc,
                  ann, ben)


# -- helpers -------------------------------------------------------------------------------

def setting(c: Clinic, key: str, value: str) -> None:
    clinic_settings.set_value(c.ctx, key, value)


def give_package(c: Clinic, patient: int) -> int:
    """Sell PKG5 paid in cash; return its lot id."""
    txn = sell(c.ctx, patient, SaleItem(package=PKG5), [Tender("cash", 35000)]).txn_id
    return int(Lot.get(Lot.txn == txn).id)


def give_credit(c: Clinic, patient: int, cents: int) -> None:
    sell(c.ctx, patient, SaleItem(credit_cents=cents), [Tender("card", cents)])


def free_tokens(c: Clinic, patient: int) -> int:
    return availability.available_tokens(patient, c.acu, TODAY)


def lines_of(txn_id: int) -> list[tuple[str, int]]:
    found = (Line.select(Account.code, Line.amount)
             .join(Account, on=(Line.account == Account.id)).where(Line.txn == txn_id).tuples())
    return sorted((str(code), int(amount)) for code, amount in found)


def moves_of(txn_id: int) -> list[tuple[int, int, int]]:
    return sorted((int(m.lot_id), int(m.quantity), int(m.value_cents))
                  for m in LotMove.select().where(LotMove.txn == txn_id))


def audits(appointment_id: int) -> list[str]:
    return [str(a.action) for a in Audit.select().where(
        Audit.entity == "appointment", Audit.entity_id == appointment_id).order_by(Audit.id)]


def audit_row(appointment_id: int, action: str) -> Audit:
    return Audit.get(Audit.entity == "appointment", Audit.entity_id == appointment_id,
                     Audit.action == action)


def status(appointment_id: int) -> str:
    return str(Appointment.get_by_id(appointment_id).status)


def snapshot() -> dict[str, object]:
    """Everything a booking, move or cancel could change."""
    return {
        "txn": Txn.select().count(),
        "line": Line.select().count(),
        "lot_move": LotMove.select().count(),
        "lots": list(Lot.select(Lot.id, Lot.remaining).order_by(Lot.id).tuples()),
        "accounts": sorted(Account.select(Account.code, Account.balance).tuples()),
        "receipt": int(Counter.get_by_id("receipt").value),
        "appointments": list(Appointment.select(
            Appointment.id, Appointment.status, Appointment.starts_at, Appointment.ends_at,
            Appointment.practitioner).order_by(Appointment.id).tuples()),
        "holds": list(Hold.select(Hold.id, Hold.status, Hold.quantity).order_by(Hold.id)
                      .tuples()),
        "audit": Audit.select().count(),
    }


def assert_ledger_ok() -> None:
    report = verify()
    assert report.problems == []


# -- book ----------------------------------------------------------------------------------

def test_book_takes_the_duration_from_the_service_and_audits(clinic: Clinic) -> None:
    c = clinic
    result = book(c.ctx, c.zoe, SVC, ANN, dt.datetime(2026, 3, 3, 9, 0), note="left knee")

    assert result == BookResult(result.appointment_id, dt.datetime(2026, 3, 3, 9, 0),
                                dt.datetime(2026, 3, 3, 9, 45), None, False, False, False)
    appt = Appointment.get_by_id(result.appointment_id)
    assert (appt.patient_id, appt.practitioner_id, appt.service_id) == (c.zoe, c.ann, c.svc)
    assert (appt.duration_min, appt.status, appt.note) == (45, "booked", "left knee")
    assert appt.ends_at == dt.datetime(2026, 3, 3, 9, 45)
    assert appt.created_at == dt.datetime(2026, 3, 2, 15, 0)
    assert appt.checkin_txn_id is None
    assert Hold.select().count() == 0           # reserve_token_at_booking is off by default
    assert Txn.select().count() == 0            # booking writes no ledger transaction
    assert audits(result.appointment_id) == ["book"]
    after = json.loads(audit_row(result.appointment_id, "book").after)
    assert after["starts_at"] == "2026-03-03T09:00:00"
    assert (after["duration_min"], after["status"], after["note"]) == (45, "booked",
                                                                       "left knee")
    assert audit_row(result.appointment_id, "book").staff == "tester"

    # by id, with an explicit duration
    other = book(c.ctx, c.bob, c.svc, c.ben, dt.datetime(2026, 3, 3, 9, 0), duration_min=20)
    assert other.ends_at == dt.datetime(2026, 3, 3, 9, 20)
    assert Appointment.get_by_id(other.appointment_id).duration_min == 20


def test_back_to_back_is_allowed_an_overlap_is_refused(clinic: Clinic) -> None:
    c = clinic
    first = book(c.ctx, c.zoe, SVC, ANN, dt.datetime(2026, 3, 3, 9, 0))      # 09:00-09:45
    after = book(c.ctx, c.bob, SVC, ANN, dt.datetime(2026, 3, 3, 9, 45))     # 09:45-10:30
    before = book(c.ctx, c.cat, SVC, ANN, dt.datetime(2026, 3, 3, 8, 15))    # 08:15-09:00
    assert len({first.appointment_id, after.appointment_id, before.appointment_id}) == 3

    snap = snapshot()
    for start, minutes in [((9, 30), None), ((9, 0), None), ((8, 0), 180), ((9, 44), 1),
                           ((8, 59), 2)]:
        with pytest.raises(Refused, match="double booking is off"):
            book(c.ctx, c.cat, SVC, ANN, dt.datetime(2026, 3, 3, *start),
                 duration_min=minutes)
    with pytest.raises(Refused, match="Zoë Adams 09:00–09:45"):
        book(c.ctx, c.bob, MSG, ANN, dt.datetime(2026, 3, 3, 9, 10))
    assert snapshot() == snap

    # another practitioner is free at the same time
    book(c.ctx, c.cat, SVC, BEN, dt.datetime(2026, 3, 3, 9, 0))
    # a cancelled visit no longer occupies the slot
    cancel(c.ctx, first.appointment_id)
    again = book(c.ctx, c.cat, SVC, ANN, dt.datetime(2026, 3, 3, 9, 0))
    assert again.appointment_id != first.appointment_id


def test_a_checked_in_visit_still_occupies_its_slot(clinic: Clinic) -> None:
    c = clinic
    first = book(c.ctx, c.zoe, SVC, ANN, dt.datetime(2026, 3, 3, 9, 0))
    check_in(c.ctx, CheckinRequest(first.appointment_id, tenders=(Tender("card", 9500),)))
    with pytest.raises(Refused):
        book(c.ctx, c.bob, SVC, ANN, dt.datetime(2026, 3, 3, 9, 15))


def test_allow_double_booking_lets_visits_overlap(clinic: Clinic) -> None:
    c = clinic
    book(c.ctx, c.zoe, SVC, ANN, dt.datetime(2026, 3, 3, 9, 0))
    setting(c, "allow_double_booking", "true")
    second = book(c.ctx, c.bob, SVC, ANN, dt.datetime(2026, 3, 3, 9, 0))
    third = book(c.ctx, c.cat, MSG, ANN, dt.datetime(2026, 3, 3, 9, 30))
    assert [status(second.appointment_id), status(third.appointment_id)] == ["booked"] * 2
    assert Appointment.select().where(Appointment.practitioner == c.ann).count() == 3

    setting(c, "allow_double_booking", "false")
    with pytest.raises(Refused):
        book(c.ctx, c.cat, SVC, ANN, dt.datetime(2026, 3, 3, 9, 15))


def test_inactive_service_or_practitioner_is_refused(clinic: Clinic) -> None:
    c = clinic
    moving = book(c.ctx, c.zoe, SVC, ANN, dt.datetime(2026, 3, 3, 9, 0))
    Service.update(active=False).where(Service.name == MSG).execute()
    Practitioner.update(active=False).where(Practitioner.id == c.ben).execute()
    snap = snapshot()
    with pytest.raises(Refused, match="no longer offered"):
        book(c.ctx, c.zoe, MSG, ANN, dt.datetime(2026, 3, 3, 11, 0))
    with pytest.raises(Refused, match="inactive"):
        book(c.ctx, c.zoe, SVC, BEN, dt.datetime(2026, 3, 3, 11, 0))
    with pytest.raises(Refused, match="inactive"):
        book(c.ctx, c.zoe, SVC, c.ben, dt.datetime(2026, 3, 3, 11, 0))
    with pytest.raises(Refused, match="inactive"):
        move(c.ctx, moving.appointment_id, dt.datetime(2026, 3, 3, 11, 0), BEN)
    with pytest.raises(NotFound):
        book(c.ctx, c.zoe, "Reiki", ANN, dt.datetime(2026, 3, 3, 11, 0))
    with pytest.raises(NotFound):
        book(c.ctx, 999_999, SVC, ANN, dt.datetime(2026, 3, 3, 11, 0))
    with pytest.raises(BadInput):
        book(c.ctx, c.zoe, SVC, ANN, dt.datetime(2026, 3, 3, 11, 0, 30))
    assert snapshot() == snap


def test_prevent_no_credit_booking(clinic: Clinic) -> None:
    c = clinic
    setting(c, "prevent_no_credit_booking", "true")
    give_credit(c, c.bob, 9499)  # one cent short of the 95.00 price
    snap = snapshot()
    for patient in (c.cat, c.bob):
        with pytest.raises(Refused, match="a manager may override"):
            book(c.ctx, patient, SVC, ANN, dt.datetime(2026, 3, 3, 9, 0))
    assert snapshot() == snap

    give_credit(c, c.bob, 1)  # now exactly the price
    with_credit = book(c.ctx, c.bob, SVC, ANN, dt.datetime(2026, 3, 3, 9, 0))
    assert (with_credit.covered, with_credit.overridden) == (True, False)

    give_package(c, c.zoe)
    with_token = book(c.ctx, c.zoe, SVC, ANN, dt.datetime(2026, 3, 3, 10, 0))
    assert (with_token.covered, with_token.overridden) == (True, False)
    assert audits(with_token.appointment_id) == ["book"]
    # booking does not spend: the balances are untouched
    assert queries.balance(c.zoe).tokens == {ACU: 5}
    assert queries.balance(c.bob).credit_cents == 9500

    forced = book(c.ctx, c.cat, SVC, ANN, dt.datetime(2026, 3, 3, 11, 0), override=True)
    assert (forced.covered, forced.overridden, forced.hold) == (False, True, None)
    assert audits(forced.appointment_id) == ["book", "override: booked without credit"]
    row = audit_row(forced.appointment_id, "override: booked without credit")
    assert json.loads(row.after) == {"credit": 0, "tokens": 0}
    assert (row.staff, row.workstation) == ("tester", "ws-test")


def test_without_the_policy_an_uncovered_booking_is_not_an_override(clinic: Clinic) -> None:
    c = clinic
    result = book(c.ctx, c.cat, SVC, ANN, dt.datetime(2026, 3, 3, 9, 0), override=True)
    assert (result.covered, result.overridden) == (False, False)
    assert audits(result.appointment_id) == ["book"]


def test_a_token_held_for_another_visit_does_not_cover_a_booking(clinic: Clinic) -> None:
    c = clinic
    setting(c, "prevent_no_credit_booking", "true")
    setting(c, "reserve_token_at_booking", "true")
    adjust(c.ctx, c.cat, reason="opening balance", tokens=1, token_kind=ACU)
    first = book(c.ctx, c.cat, SVC, ANN, dt.datetime(2026, 3, 3, 9, 0))
    assert first.hold == "token"
    snap = snapshot()
    with pytest.raises(Refused, match="no Acupuncture token"):
        book(c.ctx, c.cat, SVC, ANN, dt.datetime(2026, 3, 4, 9, 0))
    assert snapshot() == snap


def test_reserve_token_at_booking_holds_a_token(clinic: Clinic) -> None:
    c = clinic
    setting(c, "reserve_token_at_booking", "true")
    give_package(c, c.zoe)
    txns = Txn.select().count()
    first = book(c.ctx, c.zoe, SVC, ANN, dt.datetime(2026, 3, 3, 9, 0))

    assert (first.hold, first.covered) == ("token", True)
    assert free_tokens(c, c.zoe) == 4
    assert queries.balance(c.zoe) == Balance(c.zoe, 0, {ACU: 5}, {ACU: 1}, {ACU: PKG5_EXPIRES})
    hold = Hold.get(Hold.appointment == first.appointment_id)
    assert (hold.quantity, hold.status, hold.closed_at) == (1, "open", None)
    assert hold.account.code == c.tok(c.zoe)
    assert Txn.select().count() == txns  # a hold is not a ledger transaction

    book(c.ctx, c.zoe, SVC, ANN, dt.datetime(2026, 3, 3, 10, 0))
    assert free_tokens(c, c.zoe) == 3
    assert availability.held(Account.get(Account.code == c.tok(c.zoe)).id) == 2
    assert queries.balance(c.zoe).tokens == {ACU: 5}
    assert_ledger_ok()


def test_reserve_holds_credit_when_there_is_no_token(clinic: Clinic) -> None:
    c = clinic
    setting(c, "reserve_token_at_booking", "true")
    give_credit(c, c.bob, 10000)
    result = book(c.ctx, c.bob, SVC, ANN, dt.datetime(2026, 3, 3, 9, 0))

    assert (result.hold, result.covered) == ("credit", True)
    hold = Hold.get(Hold.appointment == result.appointment_id)
    assert (hold.quantity, hold.status, hold.account.code) == (9500, "open", c.credit(c.bob))
    assert availability.available_credit(c.bob) == 500
    assert queries.balance(c.bob).credit_cents == 10000

    # 5.00 left is not enough for a second visit: no hold, not covered
    second = book(c.ctx, c.bob, SVC, ANN, dt.datetime(2026, 3, 3, 10, 0))
    assert (second.hold, second.covered) == (None, False)
    nothing = book(c.ctx, c.cat, SVC, BEN, dt.datetime(2026, 3, 3, 9, 0))
    assert nothing.hold is None
    assert Hold.select().count() == 1


def test_the_same_key_replays_the_booking(clinic: Clinic) -> None:
    c = clinic
    setting(c, "reserve_token_at_booking", "true")
    give_package(c, c.zoe)
    first = book(c.ctx, c.zoe, SVC, ANN, dt.datetime(2026, 3, 3, 9, 0), idem_key="dlg-7")
    snap = snapshot()
    again = book(c.ctx, c.zoe, SVC, ANN, dt.datetime(2026, 3, 3, 9, 0), idem_key="dlg-7")

    assert again.replayed and not first.replayed
    assert (again.appointment_id, again.starts_at, again.ends_at, again.hold) == (
        first.appointment_id, first.starts_at, first.ends_at, "token")
    assert snapshot() == snap
    assert free_tokens(c, c.zoe) == 4
    assert audits(first.appointment_id) == ["book"]
    other = book(c.ctx, c.zoe, SVC, ANN, dt.datetime(2026, 3, 3, 10, 0), idem_key="dlg-8")
    assert other.appointment_id != first.appointment_id


# -- move ----------------------------------------------------------------------------------

def test_move_refuses_an_overlap_and_audits_before_and_after(clinic: Clinic) -> None:
    c = clinic
    mine = book(c.ctx, c.zoe, SVC, ANN, dt.datetime(2026, 3, 3, 9, 0)).appointment_id
    book(c.ctx, c.bob, SVC, ANN, dt.datetime(2026, 3, 3, 10, 0))
    book(c.ctx, c.cat, SVC, BEN, dt.datetime(2026, 3, 3, 11, 0))

    snap = snapshot()
    with pytest.raises(Refused, match="Bob Brown 10:00–10:45"):
        move(c.ctx, mine, dt.datetime(2026, 3, 3, 9, 30))       # 09:30-10:15 hits Bob
    with pytest.raises(Refused, match="Cat Diaz"):
        move(c.ctx, mine, dt.datetime(2026, 3, 3, 10, 30), BEN)
    assert snapshot() == snap

    moved = move(c.ctx, mine, dt.datetime(2026, 3, 3, 9, 15))   # overlapping only itself
    assert (moved.starts_at, moved.ends_at, moved.replayed) == (
        dt.datetime(2026, 3, 3, 9, 15), dt.datetime(2026, 3, 3, 10, 0), False)
    moved = move(c.ctx, mine, dt.datetime(2026, 3, 4, 14, 0), BEN)
    appt = Appointment.get_by_id(mine)
    assert (appt.starts_at, appt.ends_at, appt.practitioner_id, appt.duration_min) == (
        dt.datetime(2026, 3, 4, 14, 0), dt.datetime(2026, 3, 4, 14, 45), c.ben, 45)

    assert audits(mine) == ["book", "move", "move"]
    last = Audit.select().where(Audit.entity_id == mine, Audit.action == "move") \
        .order_by(Audit.id.desc()).get()
    before, after = json.loads(last.before), json.loads(last.after)
    assert (before["starts_at"], before["practitioner"]) == ("2026-03-03T09:15:00", c.ann)
    assert (after["starts_at"], after["practitioner"]) == ("2026-03-04T14:00:00", c.ben)
    assert (after["patient"], after["status"]) == (c.zoe, "booked")
    # the old slot is free again
    book(c.ctx, c.cat, SVC, ANN, dt.datetime(2026, 3, 3, 9, 0))


def test_only_a_booked_visit_moves(clinic: Clinic) -> None:
    c = clinic
    gone = book(c.ctx, c.zoe, SVC, ANN, FRIDAY_10).appointment_id
    cancel(c.ctx, gone)
    with pytest.raises(Refused, match="only booked visits can move"):
        move(c.ctx, gone, dt.datetime(2026, 3, 6, 12, 0))
    with pytest.raises(NotFound):
        move(c.ctx, 999_999, dt.datetime(2026, 3, 6, 12, 0))


# -- holds lifecycle -----------------------------------------------------------------------

def is_free_cancel(done: CancelResult, appt: int, status: str, paid_by: str) -> bool:
    """A cancel that moved no money: recorded as a "cancel" transaction with no lines
    and no receipt, so that its key can be replayed."""
    assert done.txn is not None
    txn = Txn.get_by_id(done.txn.txn_id)
    return ((done.appointment_id, done.status, done.fee_cents, done.paid_by) ==
            (appt, status, 0, paid_by) and txn.kind == "cancel" and txn.receipt_no is None
            and txn.appointment_id == appt and not lines_of(txn.id))


def test_hold_released_on_time_then_posted_at_check_in(clinic: Clinic, clock: Any) -> None:
    c = clinic
    setting(c, "reserve_token_at_booking", "true")
    lot = give_package(c, c.zoe)
    first = book(c.ctx, c.zoe, SVC, ANN, FRIDAY_10).appointment_id
    assert free_tokens(c, c.zoe) == 4
    txns = Txn.select().count()

    clock.advance(hours=1)
    done = cancel(c.ctx, first)
    assert is_free_cancel(done, first, "cancelled", "none")
    hold = Hold.get(Hold.appointment == first)
    assert (hold.status, hold.closed_at) == ("released", dt.datetime(2026, 3, 2, 16, 0))
    assert free_tokens(c, c.zoe) == 5
    assert queries.balance(c.zoe).tokens == {ACU: 5}
    assert Txn.select().count() == txns + 1     # the cancel record, with no lines

    second = book(c.ctx, c.zoe, SVC, ANN, FRIDAY_10)
    assert second.hold == "token"
    assert free_tokens(c, c.zoe) == 4
    result = check_in(c.ctx, CheckinRequest(second.appointment_id))
    assert result.plan is not None and result.plan.token_used
    assert Hold.get(Hold.appointment == second.appointment_id).status == "posted"
    assert queries.balance(c.zoe) == Balance(c.zoe, 0, {ACU: 4}, {}, {ACU: PKG5_EXPIRES})
    assert free_tokens(c, c.zoe) == 4          # the hold is spent, not counted twice
    assert int(Lot.get_by_id(lot).remaining) == 4
    assert moves_of(result.txn.txn_id) == [(lot, -1, -7000)]
    assert Txn.select().count() == txns + 2
    assert_ledger_ok()


def test_without_restore_on_cancel_an_on_time_cancel_keeps_the_token(clinic: Clinic) -> None:
    c = clinic
    setting(c, "reserve_token_at_booking", "true")
    setting(c, "restore_on_cancel", "false")
    lot = give_package(c, c.zoe)
    give_credit(c, c.zoe, 2000)
    appt = book(c.ctx, c.zoe, SVC, ANN, FRIDAY_10).appointment_id

    done = cancel(c.ctx, appt)
    assert (done.status, done.fee_cents, done.paid_by) == ("cancelled", 0, "token")
    assert done.txn is not None and done.txn.receipt_no == 3
    assert queries.balance(c.zoe) == Balance(c.zoe, 2000, {ACU: 4}, {}, {ACU: PKG5_EXPIRES})
    assert free_tokens(c, c.zoe) == 4
    assert Hold.get(Hold.appointment == appt).status == "posted"
    assert lines_of(done.txn.txn_id) == sorted([
        (c.tok(c.zoe), 1), (f"issued:{c.acu}", -1), ("prepaid", 7000),
        ("revenue:fees", -7000)])
    assert moves_of(done.txn.txn_id) == [(lot, -1, -7000)]
    assert Txn.get_by_id(done.txn.txn_id).appointment_id == appt
    assert_ledger_ok()


def test_without_restore_on_cancel_a_visit_with_no_hold_cancels_free(clinic: Clinic) -> None:
    c = clinic
    setting(c, "restore_on_cancel", "false")
    give_package(c, c.zoe)
    appt = book(c.ctx, c.zoe, SVC, ANN, FRIDAY_10).appointment_id
    assert is_free_cancel(cancel(c.ctx, appt), appt, "cancelled", "none")
    assert queries.balance(c.zoe).tokens == {ACU: 5}


# -- cancel --------------------------------------------------------------------------------

def test_an_on_time_cancel_is_free(clinic: Clinic) -> None:
    c = clinic
    setting(c, "late_cancel_fee", "25.00")
    give_credit(c, c.zoe, 5000)
    appt = book(c.ctx, c.zoe, SVC, ANN, FRIDAY_10).appointment_id
    snap_txn = Txn.select().count()

    assert is_free_cancel(cancel(c.ctx, appt), appt, "cancelled", "none")
    assert status(appt) == "cancelled"
    assert Txn.select().count() == snap_txn + 1
    assert queries.balance(c.zoe).credit_cents == 5000
    assert audits(appt) == ["book", "cancelled"]
    row = audit_row(appt, "cancelled")
    assert (json.loads(row.before)["status"], json.loads(row.after)["status"]) == (
        "booked", "cancelled")
    with pytest.raises(Refused):
        cancel(c.ctx, appt)


def test_the_same_key_replays_a_free_cancel(clinic: Clinic) -> None:
    """A double-click or a retry of the same Cancel dialog returns what was done the
    first time (SPEC §2.5), also when the cancel wrote no transaction."""
    c = clinic
    free = book(c.ctx, c.zoe, SVC, ANN, FRIDAY_10).appointment_id
    first = cancel(c.ctx, free, idem_key="cancel-dlg-1")
    snap = snapshot()
    again = cancel(c.ctx, free, idem_key="cancel-dlg-1")
    assert again.txn is not None and first.txn is not None
    assert (again.appointment_id, again.status, again.txn.txn_id, again.txn.replayed) == (
        free, "cancelled", first.txn.txn_id, True)
    assert first.status == "cancelled"
    assert snapshot() == snap


def test_the_same_key_replays_a_charged_cancel(clinic: Clinic) -> None:
    c = clinic
    setting(c, "late_cancel_fee", "25.00")
    late = book(c.ctx, c.bob, SVC, ANN, TOMORROW_10).appointment_id
    charged = cancel(c.ctx, late, idem_key="cancel-dlg-2")
    snap = snapshot()
    replay = cancel(c.ctx, late, idem_key="cancel-dlg-2")
    assert charged.txn is not None and replay.txn is not None
    assert (replay.status, replay.txn.txn_id, replay.txn.replayed) == (
        "late_cancelled", charged.txn.txn_id, True)
    assert snapshot() == snap
    assert queries.balance(c.bob).credit_cents == -2500


def test_the_late_window_is_late_cancel_hours(clinic: Clinic) -> None:
    c = clinic
    setting(c, "late_cancel_fee", "25.00")
    outside = book(c.ctx, c.zoe, SVC, ANN, dt.datetime(2026, 3, 3, 15, 1)).appointment_id
    inside = book(c.ctx, c.bob, SVC, ANN, dt.datetime(2026, 3, 3, 14, 0)).appointment_id
    assert cancel(c.ctx, outside).status == "cancelled"     # 24 h 1 min ahead
    assert cancel(c.ctx, inside).status == "late_cancelled"  # 23 h ahead

    setting(c, "late_cancel_hours", "72")
    three_days = book(c.ctx, c.cat, SVC, ANN, dt.datetime(2026, 3, 5, 9, 0)).appointment_id
    late = cancel(c.ctx, three_days)
    assert (late.status, late.fee_cents, late.paid_by) == ("late_cancelled", 2500, "owed")


def test_late_cancel_fee_is_drawn_from_credit(clinic: Clinic) -> None:
    c = clinic
    setting(c, "late_cancel_fee", "25.00")
    give_credit(c, c.zoe, 5000)
    appt = book(c.ctx, c.zoe, SVC, ANN, TOMORROW_10).appointment_id

    done = cancel(c.ctx, appt)
    assert (done.appointment_id, done.status, done.fee_cents, done.paid_by) == (
        appt, "late_cancelled", 2500, "credit")
    assert done.txn is not None
    assert (done.txn.kind, done.txn.receipt_no, done.txn.replayed) == ("fee", 2, False)
    assert done.txn.balance_of(c.zoe).credit_cents == 2500
    assert queries.balance(c.zoe).credit_cents == 2500
    assert lines_of(done.txn.txn_id) == sorted([(c.credit(c.zoe), 2500),
                                                ("revenue:fees", -2500)])
    txn = Txn.get_by_id(done.txn.txn_id)
    assert (txn.appointment_id, txn.patient_id) == (appt, c.zoe)
    assert txn.memo == "late cancel fee: Acupuncture 45 2026-03-03 10:00"
    assert status(appt) == "late_cancelled"
    assert audits(appt) == ["book", "late-cancelled"]
    assert_ledger_ok()


def test_late_cancel_fee_is_left_owed_without_enough_credit(clinic: Clinic) -> None:
    c = clinic
    setting(c, "late_cancel_fee", "25.00")
    give_credit(c, c.bob, 1000)
    none = book(c.ctx, c.cat, SVC, ANN, TOMORROW_10).appointment_id
    some = book(c.ctx, c.bob, SVC, BEN, TOMORROW_10).appointment_id

    owed = cancel(c.ctx, none)
    assert (owed.status, owed.fee_cents, owed.paid_by) == ("late_cancelled", 2500, "owed")
    assert queries.balance(c.cat).credit_cents == -2500
    short = cancel(c.ctx, some)
    assert (short.fee_cents, short.paid_by) == (2500, "owed")
    assert queries.balance(c.bob).credit_cents == -1500
    assert owed.txn is not None and short.txn is not None
    assert lines_of(owed.txn.txn_id) == sorted([(c.credit(c.cat), 2500),
                                                ("revenue:fees", -2500)])
    assert Account.get(Account.code == "revenue:fees").balance == -5000
    assert_ledger_ok()


def test_a_service_overrides_the_clinic_fee(clinic: Clinic, clock: Any) -> None:
    c = clinic
    setting(c, "late_cancel_fee", "25.00")
    setting(c, "no_show_fee", "10.00")
    Service.update(late_cancel_fee_cents=4000, no_show_fee_cents=0).where(
        Service.id == c.svc).execute()
    late = book(c.ctx, c.zoe, SVC, ANN, TOMORROW_10).appointment_id
    gone = book(c.ctx, c.bob, SVC, ANN, dt.datetime(2026, 3, 2, 14, 0)).appointment_id
    other = book(c.ctx, c.cat, MSG, BEN, TOMORROW_10).appointment_id

    done = cancel(c.ctx, late)
    assert (done.fee_cents, done.paid_by) == (4000, "owed")
    assert queries.balance(c.zoe).credit_cents == -4000
    # the service says a no-show is free, whatever the clinic's fee
    assert is_free_cancel(cancel(c.ctx, gone, no_show=True), gone, "no_show", "none")
    assert queries.balance(c.bob).credit_cents == 0
    # a service without its own fee takes the clinic's
    assert cancel(c.ctx, other).fee_cents == 2500
    assert queries.balance(c.cat).credit_cents == -2500


def test_take_token_pays_the_fee_with_a_token(clinic: Clinic) -> None:
    c = clinic
    setting(c, "late_cancel_fee", "25.00")
    lot = give_package(c, c.zoe)
    give_credit(c, c.zoe, 3000)
    appt = book(c.ctx, c.zoe, SVC, ANN, TOMORROW_10).appointment_id

    done = cancel(c.ctx, appt, take_token=True)
    assert (done.status, done.fee_cents, done.paid_by) == ("late_cancelled", 2500, "token")
    assert queries.balance(c.zoe) == Balance(c.zoe, 3000, {ACU: 4}, {}, {ACU: PKG5_EXPIRES})
    assert done.txn is not None and done.txn.receipt_no == 3
    assert lines_of(done.txn.txn_id) == sorted([
        (c.tok(c.zoe), 1), (f"issued:{c.acu}", -1), ("prepaid", 7000),
        ("revenue:fees", -7000)])
    assert moves_of(done.txn.txn_id) == [(lot, -1, -7000)]
    assert_ledger_ok()


def test_take_token_without_a_token_is_refused(clinic: Clinic) -> None:
    c = clinic
    setting(c, "late_cancel_fee", "25.00")
    give_credit(c, c.bob, 5000)
    appt = book(c.ctx, c.bob, SVC, ANN, TOMORROW_10).appointment_id
    snap = snapshot()
    with pytest.raises(Refused, match="no Acupuncture token"):
        cancel(c.ctx, appt, take_token=True)
    assert snapshot() == snap
    assert status(appt) == "booked"


def test_take_token_refuses_a_token_held_for_another_visit(clinic: Clinic) -> None:
    c = clinic
    setting(c, "late_cancel_fee", "25.00")
    adjust(c.ctx, c.cat, reason="opening balance", tokens=1, token_kind=ACU)
    other = book(c.ctx, c.cat, SVC, ANN, FRIDAY_10).appointment_id
    setting(c, "reserve_token_at_booking", "true")
    held = book(c.ctx, c.cat, SVC, ANN, dt.datetime(2026, 3, 7, 10, 0))
    assert held.hold == "token"
    snap = snapshot()
    with pytest.raises(Refused):
        cancel(c.ctx, other, late=True, take_token=True)
    assert snapshot() == snap


def test_take_token_uses_the_visits_own_hold(clinic: Clinic) -> None:
    c = clinic
    setting(c, "late_cancel_fee", "25.00")
    setting(c, "reserve_token_at_booking", "true")
    adjust(c.ctx, c.cat, reason="opening balance", tokens=1, token_kind=ACU)
    appt = book(c.ctx, c.cat, SVC, ANN, TOMORROW_10).appointment_id
    done = cancel(c.ctx, appt, take_token=True)
    assert done.paid_by == "token"
    assert Hold.get(Hold.appointment == appt).status == "posted"
    assert queries.balance(c.cat) == Balance(c.cat, 0, {}, {}, {})
    assert_ledger_ok()


def test_waiving_a_fee_needs_a_reason_and_is_audited(clinic: Clinic) -> None:
    c = clinic
    setting(c, "late_cancel_fee", "25.00")
    appt = book(c.ctx, c.bob, SVC, ANN, TOMORROW_10).appointment_id
    snap = snapshot()
    for reason in ("", "   "):
        with pytest.raises(BadInput) as info:
            cancel(c.ctx, appt, waive=True, reason=reason)
        assert info.value.field == "--reason"
    with pytest.raises(BadInput):
        cancel(c.ctx, appt, waive=True, take_token=True, reason="first time")
    assert snapshot() == snap

    done = cancel(c.ctx, appt, waive=True, reason="first time, car broke down")
    assert is_free_cancel(done, appt, "late_cancelled", "waived")
    assert Txn.select().count() == snap["txn"] + 1
    assert queries.balance(c.bob).credit_cents == 0
    assert audits(appt) == ["book", "late-cancelled", "fee waived"]
    row = audit_row(appt, "fee waived")
    assert json.loads(row.after) == {"fee_cents": 2500, "reason": "first time, car broke down"}
    assert row.staff == "tester"


def test_late_forces_a_late_cancel_and_is_audited(clinic: Clinic) -> None:
    c = clinic
    setting(c, "late_cancel_fee", "25.00")
    give_credit(c, c.zoe, 2500)
    early = book(c.ctx, c.zoe, SVC, ANN, FRIDAY_10).appointment_id
    truly_late = book(c.ctx, c.bob, SVC, ANN, TOMORROW_10).appointment_id

    done = cancel(c.ctx, early, late=True)
    assert (done.status, done.fee_cents, done.paid_by) == ("late_cancelled", 2500, "credit")
    assert queries.balance(c.zoe).credit_cents == 0
    assert audits(early) == ["book", "late-cancelled", "forced late cancel"]

    cancel(c.ctx, truly_late, late=True)  # already late: nothing was forced
    assert audits(truly_late) == ["book", "late-cancelled"]
    assert_ledger_ok()


def test_a_no_show_only_after_the_start_and_it_charges_its_fee(clinic: Clinic,
                                                               clock: Any) -> None:
    c = clinic
    setting(c, "no_show_fee", "40.00")
    setting(c, "late_cancel_fee", "25.00")
    appt = book(c.ctx, c.bob, SVC, ANN, TOMORROW_10).appointment_id
    snap = snapshot()
    with pytest.raises(Refused, match="once it has started"):
        cancel(c.ctx, appt, no_show=True)
    with pytest.raises(BadInput):
        cancel(c.ctx, appt, no_show=True, late=True)
    clock.current = dt.datetime(2026, 3, 3, 9, 59)
    with pytest.raises(Refused, match="once it has started"):
        cancel(c.ctx, appt, no_show=True)
    assert snapshot() == snap

    clock.current = dt.datetime(2026, 3, 3, 10, 5)
    done = cancel(c.ctx, appt, no_show=True)
    assert (done.status, done.fee_cents, done.paid_by) == ("no_show", 4000, "owed")
    assert done.txn is not None
    assert lines_of(done.txn.txn_id) == sorted([(c.credit(c.bob), 4000),
                                                ("revenue:fees", -4000)])
    assert Txn.get_by_id(done.txn.txn_id).memo == "no-show fee: Acupuncture 45 2026-03-03 10:00"
    assert queries.balance(c.bob).credit_cents == -4000
    assert status(appt) == "no_show"
    assert audits(appt) == ["book", "no-show"]
    with pytest.raises(Refused):
        cancel(c.ctx, appt, no_show=True)
    assert_ledger_ok()


def test_a_checked_in_visit_cannot_be_cancelled(clinic: Clinic, clock: Any) -> None:
    c = clinic
    setting(c, "late_cancel_fee", "25.00")
    appt = book(c.ctx, c.bob, SVC, ANN, TOMORROW_10).appointment_id
    check_in(c.ctx, CheckinRequest(appt, tenders=(Tender("card", 9500),)))
    clock.current = dt.datetime(2026, 3, 3, 11, 0)
    snap = snapshot()
    for kwargs in ({}, {"late": True}, {"no_show": True},
                   {"waive": True, "reason": "x"}):
        with pytest.raises(Refused, match="checked in"):
            cancel(c.ctx, appt, **kwargs)
    assert snapshot() == snap
    assert status(appt) == "checked_in"


def test_a_late_fee_on_a_visit_holding_credit_is_paid_from_that_credit(
        clinic: Clinic) -> None:
    """Bob has 100.00 credit, 95.00 of it held for this very visit. Cancelling it
    releases the hold, so the 25.00 fee comes from his credit: nothing is owed."""
    c = clinic
    setting(c, "late_cancel_fee", "25.00")
    setting(c, "reserve_token_at_booking", "true")
    give_credit(c, c.bob, 10000)
    appt = book(c.ctx, c.bob, SVC, ANN, TOMORROW_10)
    assert appt.hold == "credit"

    done = cancel(c.ctx, appt.appointment_id)
    assert queries.balance(c.bob).credit_cents == 7500
    assert Hold.get(Hold.appointment == appt.appointment_id).status == "released"
    assert availability.available_credit(c.bob) == 7500
    assert (done.fee_cents, done.paid_by) == (2500, "credit")
    assert done.txn is not None
    memos = [m for (m,) in Line.select(Line.memo).where(Line.txn == done.txn.txn_id).tuples()]
    assert "late cancel fee — from credit" in memos
