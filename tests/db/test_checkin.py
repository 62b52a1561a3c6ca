"""Checking in (SPEC §3 Check in), reversing a check-in, and memberships (§3 renew)
on SQLite and PostgreSQL, to the cent and to the token.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pytest

from desk.core.checkin import CREDIT_NONE, CheckinPlan
from desk.core.errors import BadInput, Refused
from desk.data.models import (
    Account,
    Appointment,
    Audit,
    Counter,
    Hold,
    Line,
    Lot,
    LotMove,
    Membership,
    Renewal,
    TokenKind,
    Txn,
)
from desk.services import availability, catalog, patients, queries
from desk.services import settings as clinic_settings
from desk.services.appointments import book
from desk.services.checkin import CheckinRequest, CheckinResult, check_in
from desk.services.memberships import RenewResult, renew
from desk.services.results import Balance, Tender
from desk.services.reversal import reverse
from desk.services.sales import SaleItem, sell
from desk.services.verify import verify

TODAY = dt.date(2026, 3, 2)                 # the conftest clock: 2026-03-02 15:00
ACU = "Acupuncture"
SVC = "Acupuncture 45"                      # 45 min, 95.00, takes an Acupuncture token
PKG5 = "Five acupuncture"                   # 5 tokens for 350.00 (70.00 each), 90 days
PKG5_EXPIRES = dt.date(2026, 5, 31)
MONTHLY = "Monthly acupuncture"             # 4 tokens a month for 200.00 (50.00 each)
ANN = "Ann Lee"
AT = dt.datetime(2026, 3, 3, 9, 0)


@dataclass(frozen=True)
class Clinic:
    ctx: Any
    zoe: int
    bob: int
    acu: int
    svc: int

    def tok(self, patient: int) -> str:
        return f"patient:{patient}:tok:{self.acu}"

    @staticmethod
    def credit(patient: int) -> str:
        return f"patient:{patient}:credit"

    @property
    def revenue(self) -> str:
        return f"revenue:service:{self.svc}"


@pytest.fixture
def clinic(ctx: Any) -> Clinic:
    svc = catalog.add_service(ctx, SVC, 45, 9500, token_kind=ACU).id
    catalog.add_service(ctx, "Massage 60", 60, 12000, token_kind="Massage")
    catalog.add_package(ctx, PKG5, ACU, 5, 35000, expires_days=90)
    catalog.add_package(ctx, "Five massages", "Massage", 5, 50000)
    catalog.add_package(ctx, MONTHLY, ACU, 4, 20000, expires_days=31, monthly=True)
    catalog.add_practitioner(ctx, ANN)
    catalog.add_practitioner(ctx, "Ben Okafor")
    zoe = patients.add_patient(ctx, "Zoë Adams").id
    bob = patients.add_patient(ctx, "Bob Brown").id
    return Clinic(ctx, zoe, bob, int(TokenKind.get(TokenKind.name == ACU).id), svc)


# -- helpers -------------------------------------------------------------------------------

def visit(c: Clinic, patient: int) -> int:
    """Book a 45-minute visit with Ann on Wednesday, in the next free slot."""
    at = dt.datetime(2026, 3, 4, 7, 0) + dt.timedelta(minutes=45 * Appointment.select().count())
    return book(c.ctx, patient, SVC, ANN, at).appointment_id


def give_package(c: Clinic, patient: int) -> int:
    txn = sell(c.ctx, patient, SaleItem(package=PKG5), [Tender("cash", 35000)]).txn_id
    return int(Lot.get(Lot.txn == txn).id)


def give_credit(c: Clinic, patient: int, cents: int) -> None:
    sell(c.ctx, patient, SaleItem(credit_cents=cents), [Tender("cash", cents)])


def setting(c: Clinic, key: str, value: str) -> None:
    clinic_settings.set_value(c.ctx, key, value)


def checkin(c: Clinic, appointment_id: int, **kw: Any) -> CheckinResult:
    return check_in(c.ctx, CheckinRequest(appointment_id, **kw))


def plan_of(result: CheckinResult) -> CheckinPlan:
    assert result.plan is not None
    return result.plan


def lines_of(txn_id: int) -> list[tuple[str, int]]:
    found = (Line.select(Account.code, Line.amount)
             .join(Account, on=(Line.account == Account.id)).where(Line.txn == txn_id).tuples())
    return sorted((str(code), int(amount)) for code, amount in found)


def memos_of(txn_id: int) -> list[tuple[str, int, str]]:
    found = (Line.select(Account.code, Line.amount, Line.memo)
             .join(Account, on=(Line.account == Account.id)).where(Line.txn == txn_id).tuples())
    return sorted((str(code), int(amount), str(memo)) for code, amount, memo in found)


def moves_of(txn_id: int) -> list[tuple[int, int, int]]:
    return sorted((int(m.lot_id), int(m.quantity), int(m.value_cents))
                  for m in LotMove.select().where(LotMove.txn == txn_id))


def remaining(lot_id: int) -> int:
    return int(Lot.get_by_id(lot_id).remaining)


def snapshot() -> dict[str, object]:
    return {
        "txn": Txn.select().count(),
        "line": Line.select().count(),
        "lot_move": LotMove.select().count(),
        "lots": list(Lot.select(Lot.id, Lot.remaining).order_by(Lot.id).tuples()),
        "accounts": sorted(Account.select(Account.code, Account.balance).tuples()),
        "receipt": int(Counter.get_by_id("receipt").value),
        "appointments": list(Appointment.select(Appointment.id, Appointment.status,
                                                Appointment.checkin_txn)
                             .order_by(Appointment.id).tuples()),
        "holds": list(Hold.select(Hold.id, Hold.status).order_by(Hold.id).tuples()),
        "memberships": Membership.select().count(),
        "audit": Audit.select().count(),
    }


def assert_ledger_ok() -> None:
    report = verify()
    assert report.problems == []


# -- check-in: what pays -------------------------------------------------------------------

def test_a_token_pays_the_visit_by_default(clinic: Clinic) -> None:
    c = clinic
    lot = give_package(c, c.zoe)
    appt = visit(c, c.zoe)
    result = checkin(c, appt)

    assert plan_of(result) == CheckinPlan(0, True, 0, 0, 0, 0, 0, 0)
    assert (result.appointment_id, result.txn.kind, result.txn.receipt_no,
            result.txn.replayed) == (appt, "checkin", 2, False)
    assert lines_of(result.txn.txn_id) == sorted([
        (c.tok(c.zoe), 1), (f"issued:{c.acu}", -1), ("prepaid", 7000), (c.revenue, -7000)])
    assert moves_of(result.txn.txn_id) == [(lot, -1, -7000)]
    assert remaining(lot) == 4
    expected = Balance(c.zoe, 0, {ACU: 4}, {}, {ACU: PKG5_EXPIRES})
    assert queries.balance(c.zoe) == expected
    assert result.txn.balance_of(c.zoe) == expected
    row = Appointment.get_by_id(appt)
    assert (row.status, row.checkin_txn_id) == ("checked_in", result.txn.txn_id)
    txn = Txn.get_by_id(result.txn.txn_id)
    assert (txn.patient_id, txn.appointment_id, txn.staff, txn.memo) == (
        c.zoe, appt, "tester", "Acupuncture 45 2026-03-04 07:00")
    assert [a.action for a in Audit.select().where(Audit.entity_id == appt,
                                                   Audit.entity == "appointment")
            .order_by(Audit.id)] == ["book", "check in"]
    assert Account.get(Account.code == c.revenue).balance == -7000
    assert_ledger_ok()


def test_a_token_pays_whatever_the_price_typed(clinic: Clinic) -> None:
    c = clinic
    give_package(c, c.zoe)
    result = checkin(c, visit(c, c.zoe), price_cents=4000)
    assert plan_of(result).due_cents == 0
    assert (c.revenue, -7000) in lines_of(result.txn.txn_id)


def test_credit_partially_covering_then_card(clinic: Clinic) -> None:
    c = clinic
    give_credit(c, c.bob, 3000)
    result = checkin(c, visit(c, c.bob), tenders=(Tender("card", 6500),))

    assert plan_of(result) == CheckinPlan(due_cents=9500, token_used=False,
                                          credit_applied_cents=3000, paid_cents=6500,
                                          owed_cents=0, credit_added_cents=0,
                                          cash_change_cents=0, credit_after_cents=0)
    assert memos_of(result.txn.txn_id) == sorted([
        (c.revenue, -9500, SVC), ("tender:card", 6500, "card"),
        (c.credit(c.bob), 3000, "credit applied")])
    assert queries.balance(c.bob) == Balance(c.bob, 0, {}, {}, {})
    assert_ledger_ok()


def test_herbs_with_a_token_pays_only_the_herbs(clinic: Clinic) -> None:
    c = clinic
    give_package(c, c.zoe)
    result = checkin(c, visit(c, c.zoe), items=(("Herbs", 1250),),
                     tenders=(Tender("cash", 1250),))

    assert plan_of(result) == CheckinPlan(1250, True, 0, 1250, 0, 0, 0, 0)
    assert lines_of(result.txn.txn_id) == sorted([
        (c.tok(c.zoe), 1), (f"issued:{c.acu}", -1), ("prepaid", 7000), (c.revenue, -7000),
        ("revenue:items", -1250), ("tender:cash", 1250)])
    assert queries.balance(c.zoe) == Balance(c.zoe, 0, {ACU: 4}, {}, {ACU: PKG5_EXPIRES})
    assert_ledger_ok()


def test_overpaying_adds_credit(clinic: Clinic) -> None:
    c = clinic
    result = checkin(c, visit(c, c.bob), tenders=(Tender("card", 10000),))
    assert plan_of(result) == CheckinPlan(9500, False, 0, 10000, 0, 500, 0, 500)
    assert (c.credit(c.bob), -500, "added to credit") in memos_of(result.txn.txn_id)
    assert queries.balance(c.bob).credit_cents == 500
    assert_ledger_ok()


def test_forgot_wallet_leaves_the_price_owed(clinic: Clinic) -> None:
    c = clinic
    result = checkin(c, visit(c, c.bob))
    assert plan_of(result) == CheckinPlan(9500, False, 0, 0, 9500, 0, 0, -9500)
    assert memos_of(result.txn.txn_id) == sorted([
        (c.revenue, -9500, SVC), (c.credit(c.bob), 9500, "left owed")])
    assert queries.balance(c.bob) == Balance(c.bob, -9500, {}, {}, {})
    assert result.txn.receipt_no == 1
    assert_ledger_ok()


def test_buy_a_package_at_check_in_and_use_one_of_its_tokens(clinic: Clinic) -> None:
    c = clinic
    result = checkin(c, visit(c, c.bob), buy_package=PKG5, tenders=(Tender("cash", 35000),))

    assert plan_of(result) == CheckinPlan(35000, True, 0, 35000, 0, 0, 0, 0)
    (lot,) = Lot.select().where(Lot.txn == result.txn.txn_id)
    assert (lot.quantity, lot.remaining, lot.unit_value_cents, lot.expires_on) == (
        5, 4, 7000, PKG5_EXPIRES)
    assert moves_of(result.txn.txn_id) == [(int(lot.id), -1, -7000)]
    assert lines_of(result.txn.txn_id) == sorted([
        (c.tok(c.bob), -5), (f"issued:{c.acu}", 5), ("prepaid", -35000),
        (c.tok(c.bob), 1), (f"issued:{c.acu}", -1), ("prepaid", 7000), (c.revenue, -7000),
        ("tender:cash", 35000)])
    assert queries.balance(c.bob) == Balance(c.bob, 0, {ACU: 4}, {}, {ACU: PKG5_EXPIRES})
    assert Membership.select().count() == 0   # not a monthly package
    assert_ledger_ok()


def test_buying_a_package_when_an_older_lot_exists_uses_the_older_lot(clinic: Clinic) -> None:
    c = clinic
    old = sell(c.ctx, c.zoe, SaleItem(tokens=2, token_kind=ACU, price_cents=10000,
                                      expires_days=30), [Tender("cash", 10000)]).txn_id
    old_lot = int(Lot.get(Lot.txn == old).id)
    result = checkin(c, visit(c, c.zoe), buy_package=PKG5, tenders=(Tender("card", 35000),))

    new_lot = Lot.get(Lot.txn == result.txn.txn_id)
    assert (remaining(old_lot), new_lot.remaining) == (1, 5)
    assert moves_of(result.txn.txn_id) == [(old_lot, -1, -5000)]
    assert (c.revenue, -5000) in lines_of(result.txn.txn_id)
    assert queries.balance(c.zoe) == Balance(c.zoe, 0, {ACU: 6}, {},
                                             {ACU: dt.date(2026, 4, 1)})
    assert_ledger_ok()


def test_a_package_of_another_kind_does_not_pay_the_visit(clinic: Clinic) -> None:
    c = clinic
    result = checkin(c, visit(c, c.bob), buy_package="Five massages",
                     tenders=(Tender("card", 59500),))
    assert plan_of(result) == CheckinPlan(59500, False, 0, 59500, 0, 0, 0, 0)
    assert queries.balance(c.bob).tokens == {"Massage": 5}
    assert (c.revenue, -9500) in lines_of(result.txn.txn_id)
    assert_ledger_ok()


def test_several_tenders(clinic: Clinic) -> None:
    c = clinic
    result = checkin(c, visit(c, c.bob), tenders=(
        Tender("cash", 5000), Tender("card", 4000, "slip 0042"), Tender("check", 500, "#1001")))
    assert plan_of(result) == CheckinPlan(9500, False, 0, 9500, 0, 0, 0, 0)
    assert memos_of(result.txn.txn_id) == sorted([
        (c.revenue, -9500, SVC), ("tender:cash", 5000, "cash"),
        ("tender:card", 4000, "card slip 0042"), ("tender:check", 500, "check #1001")])
    assert queries.balance(c.bob).credit_cents == 0
    assert_ledger_ok()


def test_cash_handed_over_gives_change(clinic: Clinic) -> None:
    c = clinic
    appt = visit(c, c.bob)
    snap = snapshot()
    with pytest.raises(BadInput) as info:
        checkin(c, appt, tenders=(Tender("cash", 9500),), cash_given_cents=9000)
    assert info.value.field == "--cash-given"
    with pytest.raises(BadInput):
        checkin(c, appt, tenders=(Tender("card", 9500),), cash_given_cents=10000)
    assert snapshot() == snap

    result = checkin(c, appt, tenders=(Tender("cash", 9500),), cash_given_cents=10000)
    assert plan_of(result).cash_change_cents == 500
    assert plan_of(result).credit_after_cents == 0
    assert ("tender:cash", 9500, "cash given $100.00, change $5.00") in \
        memos_of(result.txn.txn_id)
    assert Account.get(Account.code == "tender:cash").balance == 9500  # the change went back
    assert queries.balance(c.bob).credit_cents == 0


def test_asking_for_a_token_without_one_is_refused_and_writes_nothing(clinic: Clinic) -> None:
    c = clinic
    give_credit(c, c.bob, 20000)
    appt = visit(c, c.bob)
    snap = snapshot()
    with pytest.raises(Refused, match="no Acupuncture token available"):
        checkin(c, appt, use_token=True, tenders=(Tender("cash", 100),))
    assert snapshot() == snap
    assert Txn.select().count() == 1
    assert Appointment.get_by_id(appt).status == "booked"


def test_a_token_held_for_another_visit_cannot_pay_this_one(clinic: Clinic) -> None:
    c = clinic
    setting(c, "reserve_token_at_booking", "true")
    sell(c.ctx, c.bob, SaleItem(tokens=1, token_kind=ACU, price_cents=7000),
         [Tender("cash", 7000)])
    later = book(c.ctx, c.bob, SVC, ANN, dt.datetime(2026, 3, 9, 9, 0))
    assert later.hold == "token"
    setting(c, "reserve_token_at_booking", "false")
    today = visit(c, c.bob)
    snap = snapshot()
    with pytest.raises(Refused):
        checkin(c, today, use_token=True)
    assert snapshot() == snap
    result = checkin(c, today, tenders=(Tender("card", 9500),))  # default: no free token
    assert plan_of(result).token_used is False
    assert queries.balance(c.bob).tokens == {ACU: 1}


def test_using_more_credit_than_available_is_refused(clinic: Clinic) -> None:
    c = clinic
    give_credit(c, c.bob, 3000)
    appt = visit(c, c.bob)
    snap = snapshot()
    with pytest.raises(Refused, match=r"only \$30\.00 credit is available"):
        checkin(c, appt, use_credit=5000, tenders=(Tender("card", 4500),))
    with pytest.raises(BadInput):
        checkin(c, appt, use_credit="some")
    assert snapshot() == snap

    result = checkin(c, appt, use_credit=2000, tenders=(Tender("card", 7500),))
    assert plan_of(result) == CheckinPlan(9500, False, 2000, 7500, 0, 0, 0, 1000)
    assert queries.balance(c.bob).credit_cents == 1000
    assert_ledger_ok()


def test_auto_uses_a_token_else_credit_else_owes(clinic: Clinic) -> None:
    c = clinic
    cat = patients.add_patient(c.ctx, "Cat Diaz").id
    give_package(c, c.zoe)
    give_credit(c, c.zoe, 5000)
    give_credit(c, c.bob, 10000)
    with pytest.raises(BadInput) as info:
        checkin(c, visit(c, c.zoe), auto=True, use_token=True)
    assert info.value.field == "--auto"

    token = checkin(c, visit(c, c.zoe), auto=True)
    assert plan_of(token) == CheckinPlan(0, True, 0, 0, 0, 0, 0, 5000)
    assert queries.balance(c.zoe).tokens == {ACU: 4}
    credit = checkin(c, visit(c, c.bob), auto=True)
    assert plan_of(credit) == CheckinPlan(9500, False, 9500, 0, 0, 0, 0, 500)
    assert queries.balance(c.bob).credit_cents == 500
    owed = checkin(c, visit(c, cat), auto=True)
    assert plan_of(owed) == CheckinPlan(9500, False, 0, 0, 9500, 0, 0, -9500)
    assert queries.balance(cat).credit_cents == -9500
    assert_ledger_ok()


def test_auto_apply_settings_off_change_the_defaults(clinic: Clinic) -> None:
    c = clinic
    give_package(c, c.zoe)
    give_credit(c, c.bob, 10000)
    setting(c, "auto_apply_tokens", "false")
    setting(c, "auto_apply_credit", "false")

    paid = checkin(c, visit(c, c.zoe), tenders=(Tender("card", 9500),))
    assert plan_of(paid) == CheckinPlan(9500, False, 0, 9500, 0, 0, 0, 0)
    assert queries.balance(c.zoe).tokens == {ACU: 5}
    assert (c.revenue, -9500) in lines_of(paid.txn.txn_id)
    # asked for explicitly, the token is still used
    asked = checkin(c, visit(c, c.zoe), use_token=True)
    assert plan_of(asked).token_used
    assert queries.balance(c.zoe).tokens == {ACU: 4}

    # credit not preselected: the same movement is named "left owed"
    no_credit = checkin(c, visit(c, c.bob))
    assert plan_of(no_credit) == CheckinPlan(9500, False, 0, 0, 9500, 0, 0, 500)
    assert (c.credit(c.bob), 9500, "left owed") in memos_of(no_credit.txn.txn_id)
    assert queries.balance(c.bob).credit_cents == 500

    setting(c, "auto_apply_credit", "true")
    give_credit(c, c.bob, 9000)
    applied = checkin(c, visit(c, c.bob))
    assert plan_of(applied) == CheckinPlan(9500, False, 9500, 0, 0, 0, 0, 0)
    assert_ledger_ok()


def test_opting_out_of_credit_leaves_the_balance_the_same(clinic: Clinic) -> None:
    c = clinic
    give_credit(c, c.bob, 10000)
    result = checkin(c, visit(c, c.bob), use_credit=CREDIT_NONE, use_token=False)
    assert plan_of(result) == CheckinPlan(9500, False, 0, 0, 9500, 0, 0, 500)
    assert queries.balance(c.bob).credit_cents == 500


def test_a_double_check_in_is_refused(clinic: Clinic) -> None:
    c = clinic
    give_package(c, c.zoe)
    appt = visit(c, c.zoe)
    checkin(c, appt)
    snap = snapshot()
    with pytest.raises(Refused, match="is checked in"):
        checkin(c, appt)
    with pytest.raises(Refused):
        checkin(c, appt, tenders=(Tender("card", 9500),), use_token=False)
    assert snapshot() == snap
    assert queries.balance(c.zoe).tokens == {ACU: 4}


def test_the_same_key_replays_the_check_in(clinic: Clinic) -> None:
    c = clinic
    give_package(c, c.zoe)
    appt = visit(c, c.zoe)
    req = CheckinRequest(appt, items=(("Herbs", 1250),), tenders=(Tender("cash", 1250),))
    first = check_in(c.ctx, req, idem_key="dlg-42")
    snap = snapshot()
    again = check_in(c.ctx, req, idem_key="dlg-42")

    assert again.plan is None
    assert (again.appointment_id, again.txn.txn_id, again.txn.receipt_no) == (
        appt, first.txn.txn_id, first.txn.receipt_no)
    assert (first.txn.replayed, again.txn.replayed) == (False, True)
    assert snapshot() == snap
    assert queries.balance(c.zoe).tokens == {ACU: 4}
    with pytest.raises(Refused, match="different request"):
        check_in(c.ctx, CheckinRequest(appt, tenders=(Tender("card", 1250),)),
                 idem_key="dlg-42")


# -- reversal ------------------------------------------------------------------------------

def test_reversing_a_check_in_restores_everything_and_it_can_be_done_again(
        clinic: Clinic) -> None:
    c = clinic
    lot = give_package(c, c.zoe)                                        # receipt 1
    give_credit(c, c.zoe, 1000)                                         # receipt 2
    appt = visit(c, c.zoe)
    first = checkin(c, appt, items=(("Herbs", 1250),),                  # receipt 3
                    tenders=(Tender("card", 500),))
    assert queries.balance(c.zoe) == Balance(c.zoe, 250, {ACU: 4}, {}, {ACU: PKG5_EXPIRES})

    rev = reverse(c.ctx, first.txn.txn_id, "wrong tender")              # receipt 4
    assert (rev.kind, rev.receipt_no) == ("reversal", 4)
    assert lines_of(rev.txn_id) == sorted((code, -amount)
                                          for code, amount in lines_of(first.txn.txn_id))
    assert moves_of(rev.txn_id) == [(lot, 1, 7000)]
    assert remaining(lot) == 5
    assert queries.balance(c.zoe) == Balance(c.zoe, 1000, {ACU: 5}, {}, {ACU: PKG5_EXPIRES})
    row = Appointment.get_by_id(appt)
    assert (row.status, row.checkin_txn_id) == ("booked", None)
    audit = Audit.select().where(Audit.entity_id == appt, Audit.entity == "appointment") \
        .order_by(Audit.id.desc()).get()
    assert audit.action == "check-in reversed"
    assert Txn.get_by_id(rev.txn_id).appointment_id == appt

    again = checkin(c, appt, tenders=(Tender("cash", 1250),),          # receipt 5
                    items=(("Herbs", 1250),))
    assert plan_of(again) == CheckinPlan(1250, True, 0, 1250, 0, 0, 0, 1000)
    assert moves_of(again.txn.txn_id) == [(lot, -1, -7000)]
    assert Appointment.get_by_id(appt).checkin_txn_id == again.txn.txn_id
    assert queries.balance(c.zoe) == Balance(c.zoe, 1000, {ACU: 4}, {}, {ACU: PKG5_EXPIRES})

    stored = sorted(n for (n,) in Txn.select(Txn.receipt_no)
                    .where(Txn.receipt_no.is_null(False)).tuples())
    assert stored == [1, 2, 3, 4, 5]
    assert Counter.get_by_id("receipt").value == 5
    with pytest.raises(Refused):
        reverse(c.ctx, first.txn.txn_id, "again")
    assert_ledger_ok()


def test_reversing_a_check_in_reopens_its_hold(clinic: Clinic) -> None:
    c = clinic
    setting(c, "reserve_token_at_booking", "true")
    give_package(c, c.zoe)
    appt = book(c.ctx, c.zoe, SVC, ANN, AT).appointment_id
    first = checkin(c, appt)
    assert Hold.get(Hold.appointment == appt).status == "posted"

    reverse(c.ctx, first.txn.txn_id, "checked in the wrong visit")
    hold = Hold.get(Hold.appointment == appt)
    assert (hold.status, hold.closed_at) == ("open", None)
    assert availability.available_tokens(c.zoe, c.acu, TODAY) == 4   # 5, one held again
    assert queries.balance(c.zoe).tokens == {ACU: 5}

    checkin(c, appt)
    assert Hold.get(Hold.appointment == appt).status == "posted"
    assert queries.balance(c.zoe).tokens == {ACU: 4}
    assert availability.available_tokens(c.zoe, c.acu, TODAY) == 4
    assert_ledger_ok()


def test_a_check_in_that_bought_a_package_can_be_reversed(clinic: Clinic) -> None:
    """The token the visit took from the package it bought is given back by the same
    reversal, so the package's lot is whole again and goes away with it."""
    c = clinic
    appt = visit(c, c.bob)
    first = checkin(c, appt, buy_package=PKG5, tenders=(Tender("card", 35000),))
    lot = int(Lot.get(Lot.txn == first.txn.txn_id).id)

    rev = reverse(c.ctx, first.txn.txn_id, "bought by mistake")
    assert lines_of(rev.txn_id) == sorted((code, -amount)
                                          for code, amount in lines_of(first.txn.txn_id))
    assert remaining(lot) == 0
    assert queries.balance(c.bob) == Balance(c.bob, 0, {}, {}, {})
    assert Appointment.get_by_id(appt).status == "booked"
    assert_ledger_ok()


# -- memberships ---------------------------------------------------------------------------

def test_a_monthly_package_renews_once_per_month(clinic: Clinic) -> None:
    c = clinic
    zoe_sale = sell(c.ctx, c.zoe, SaleItem(package=MONTHLY), [Tender("card", 20000)])  # 1
    sell(c.ctx, c.bob, SaleItem(package=MONTHLY), [Tender("cash", 20000)])               # 2
    give_credit(c, c.zoe, 25000)                                                          # 3
    (zoe_member, bob_member) = Membership.select().order_by(Membership.id)
    assert (zoe_member.patient_id, zoe_member.package.name, zoe_member.started_on,
            zoe_member.sale_txn_id, zoe_member.ended_on) == (
        c.zoe, MONTHLY, TODAY, zoe_sale.txn_id, None)
    assert bob_member.patient_id == c.bob

    snap = snapshot()
    assert renew(c.ctx) == RenewResult("2026-03", (), 2)   # the sale paid for March
    assert renew(c.ctx, as_of=dt.date(2026, 3, 31)) == RenewResult("2026-03", (), 2)
    assert snapshot() == snap

    april = renew(c.ctx, as_of=dt.date(2026, 4, 1))
    assert (april.period, april.memberships, len(april.txn_ids)) == ("2026-04", 2, 2)
    by_patient = {int(Txn.get_by_id(t).patient_id): t for t in april.txn_ids}
    zoe_txn, bob_txn = by_patient[c.zoe], by_patient[c.bob]
    assert lines_of(zoe_txn) == sorted([
        (c.tok(c.zoe), -4), (f"issued:{c.acu}", 4), ("prepaid", -20000),
        (c.credit(c.zoe), 20000)])
    txn = Txn.get_by_id(zoe_txn)
    assert (txn.kind, txn.effective_on, txn.memo) == (
        "renewal", dt.date(2026, 4, 1), f"{MONTHLY} 2026-04")
    assert sorted([txn.receipt_no, Txn.get_by_id(bob_txn).receipt_no]) == [4, 5]
    assert [(lot.quantity, lot.remaining, lot.unit_value_cents, lot.expires_on)
            for lot in Lot.select().where(Lot.txn == zoe_txn)] == [
        (4, 4, 5000, dt.date(2026, 5, 2))]
    assert queries.balance(c.zoe).credit_cents == 5000     # 250.00 credit - 200.00
    assert queries.balance(c.zoe).tokens == {ACU: 8}
    assert queries.balance(c.bob).credit_cents == -20000   # no credit: owed
    assert queries.balance(c.bob).tokens == {ACU: 8}
    assert sorted(r.period for r in Renewal.select()) == ["2026-04", "2026-04"]

    snap = snapshot()
    assert renew(c.ctx, as_of=dt.date(2026, 4, 30)) == RenewResult("2026-04", (), 2)
    assert snapshot() == snap

    may = renew(c.ctx, as_of=dt.date(2026, 5, 1))
    assert len(may.txn_ids) == 2
    assert queries.balance(c.bob).credit_cents == -40000
    assert_ledger_ok()


def test_buying_a_monthly_package_at_check_in_starts_a_membership(clinic: Clinic) -> None:
    c = clinic
    result = checkin(c, visit(c, c.bob), buy_package=MONTHLY, tenders=(Tender("card", 20000),))
    assert plan_of(result).token_used
    assert queries.balance(c.bob).tokens == {ACU: 3}
    member = Membership.get(Membership.patient == c.bob)
    assert (member.sale_txn_id, member.started_on) == (result.txn.txn_id, TODAY)
    assert renew(c.ctx).txn_ids == ()
    assert len(renew(c.ctx, as_of=dt.date(2026, 4, 2)).txn_ids) == 1
    assert queries.balance(c.bob).tokens == {ACU: 7}
    assert_ledger_ok()


def test_a_reversed_membership_sale_does_not_renew(clinic: Clinic) -> None:
    """Selling the monthly package by mistake and reversing the sale must not leave a
    membership that grants tokens and charges the patient every month."""
    c = clinic
    sale = sell(c.ctx, c.bob, SaleItem(package=MONTHLY), [Tender("card", 20000)])
    reverse(c.ctx, sale.txn_id, "sold to the wrong patient")
    assert queries.balance(c.bob) == Balance(c.bob, 0, {}, {}, {})
    snap = snapshot()
    assert renew(c.ctx, as_of=dt.date(2026, 4, 1)).txn_ids == ()
    assert snapshot() == snap
    assert queries.balance(c.bob) == Balance(c.bob, 0, {}, {}, {})


# -- a visit that costs nothing --------------------------------------------------------------

def test_a_free_visit_can_be_checked_in(clinic: Clinic) -> None:
    """A complimentary consult (a 0.00 service) or a sliding-scale price of 0.00 moves
    no money, but the visit still happened: it must be marked checked in."""
    c = clinic
    catalog.add_service(c.ctx, "Free consult", 15, 0, token_kind="Consult")
    consult = book(c.ctx, c.bob, "Free consult", ANN, dt.datetime(2026, 3, 5, 9, 0))
    result = checkin(c, consult.appointment_id)
    assert plan_of(result) == CheckinPlan(0, False, 0, 0, 0, 0, 0, 0)
    assert Appointment.get_by_id(consult.appointment_id).status == "checked_in"

    scaled = checkin(c, visit(c, c.bob), price_cents=0)
    assert plan_of(scaled).due_cents == 0
    assert Appointment.get_by_id(scaled.appointment_id).status == "checked_in"
    assert queries.balance(c.bob) == Balance(c.bob, 0, {}, {}, {})
    assert_ledger_ok()
