"""Households sharing one wallet, and merging duplicate patients (issue 6), on SQLite
and PostgreSQL. Every balance is asserted to the cent and token; every test ends
with ``verify()``; refusals are checked to write nothing."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pytest

from desk.core.errors import BadInput, NotFound, Refused
from desk.data.models import ALL_MODELS, Appointment, Audit, Lot, Patient, Txn
from desk.services import catalog, day, households, patients, queries
from desk.services.appointments import book
from desk.services.checkin import CheckinRequest, check_in
from desk.services.merge import merge_patients
from desk.services.patient_file import patient_file
from desk.services.results import Tender
from desk.services.reversal import reverse
from desk.services.sales import SaleItem, sell
from desk.services.settings import set_value
from desk.services.statements import statement_for
from desk.services.verify import verify
from desk.services.wallet import adjust, refund, transfer

TODAY = dt.date(2026, 3, 2)
TUESDAY = dt.date(2026, 3, 3)
PKG = "Five acupuncture"           # 5 tokens for 350.00 (70.00 each), 90 days
PKG_EXPIRES = TODAY + dt.timedelta(days=90)


@dataclass(frozen=True)
class Family:
    ctx: Any
    mum: int      # 5 Acupuncture tokens
    kid: int      # 20.00 credit
    dad: int      # owes 15.00
    other: int    # not family, nothing
    acu: int      # service id
    ann: int      # practitioner id


@pytest.fixture
def family(ctx: Any) -> Family:
    acu = catalog.add_service(ctx, "Acupuncture 45", 45, 9500, token_kind="Acupuncture").id
    catalog.add_package(ctx, PKG, "Acupuncture", 5, 35000, expires_days=90)
    ann = catalog.add_practitioner(ctx, "Ann Lee").id
    mum = patients.add_patient(ctx, "Mia Adams", phone="555 0101").id
    kid = patients.add_patient(ctx, "Kai Adams").id
    dad = patients.add_patient(ctx, "Dev Adams").id
    other = patients.add_patient(ctx, "Olga Berg").id
    sell(ctx, mum, SaleItem(package=PKG), [Tender("card", 35000)])
    adjust(ctx, kid, reason="gift", credit_cents=2000)
    adjust(ctx, dad, reason="unpaid", credit_cents=-1500)
    return Family(ctx, mum, kid, dad, other, acu, ann)


def counts() -> dict[str, int]:
    return {m._meta.table_name: m.select().count() for m in ALL_MODELS}


def bal(pid: int) -> tuple[int, dict[str, int], dict[str, int]]:
    b = queries.balance(pid)
    return b.credit_cents, b.tokens, b.held


def at(day_: dt.date, hour: int) -> dt.datetime:
    return dt.datetime.combine(day_, dt.time(hour))


# -- linking -------------------------------------------------------------------------------

def test_a_household_without_a_shared_wallet_keeps_balances_apart(family: Family) -> None:
    change = households.link(family.ctx, family.kid, family.mum)
    assert change.txn_ids == ()
    info = change.household
    assert info is not None and not info.shared_wallet
    assert info.name == "Mia Adams household"
    assert sorted(m.id for m in info.members) == sorted([family.kid, family.mum])
    assert bal(family.mum) == (0, {"Acupuncture": 5}, {})
    assert bal(family.kid) == (2000, {}, {})
    assert households.household_of(family.kid) == info
    assert verify().problems == []


def test_joining_a_shared_wallet_with_a_balance_is_refused_and_writes_nothing(
        family: Family) -> None:
    before = counts()
    with pytest.raises(Refused, match="Mia Adams has 5 Acupuncture tokens of their own"):
        households.link(family.ctx, family.kid, family.mum, shared_wallet=True)
    assert counts() == before
    assert Patient.get_by_id(family.kid).household_id is None


def test_moving_balances_into_a_shared_wallet(family: Family) -> None:
    change = households.link(family.ctx, family.kid, family.mum, shared_wallet=True,
                             move_balance=True)
    assert change.household is not None and change.household.shared_wallet
    assert len(change.txn_ids) == 1
    txn = Txn.get_by_id(change.txn_ids[0])
    assert txn.kind == "transfer" and txn.patient_id == family.kid
    for pid in (family.mum, family.kid):
        assert bal(pid) == (2000, {"Acupuncture": 5}, {})
    # the tokens kept their value and expiry in the household's new lot
    lots = patient_file(family.kid, at(TODAY, 15)).lots
    assert [(lot.remaining, lot.unit_value_cents, lot.expires_on) for lot in lots] == [
        (5, 7000, PKG_EXPIRES)]
    # dad joins with his debt moved in too
    households.link(family.ctx, family.dad, family.kid, move_balance=True)
    for pid in (family.mum, family.kid, family.dad):
        assert bal(pid) == (500, {"Acupuncture": 5}, {})
    assert bal(family.other) == (0, {}, {})
    audits = [(a.entity, a.action) for a in Audit.select().order_by(Audit.id)
              if a.entity == "household" or (a.entity == "patient" and a.action != "create")]
    assert audits == [("household", "create"), ("household", "share wallet"),
                      ("patient", "join household"), ("patient", "join household")]
    assert verify().problems == []


def test_members_spend_one_wallet_at_check_in_and_on_the_grid(family: Family) -> None:
    households.link(family.ctx, family.kid, family.mum, shared_wallet=True, move_balance=True)
    adjust(family.ctx, family.mum, reason="use most", tokens=-4, token_kind="Acupuncture")
    kid_visit = book(family.ctx, family.kid, family.acu, family.ann, at(TUESDAY, 9))
    mum_visit = book(family.ctx, family.mum, family.acu, family.ann, at(TUESDAY, 10))
    view = day.day_view(TUESDAY, today=TODAY)
    covered = {a.patient_id: a.covered_by for a in view.appointments}
    # one token for two visits: the first takes it, the second falls back on credit
    # (20.00 < 95.00: not covered)
    assert covered == {family.kid: "token", family.mum: None}
    assert view.wallets[family.kid].tokens == view.wallets[family.mum].tokens == \
        {"Acupuncture": 1}
    assert view.wallets[family.kid].household_id == view.wallets[family.mum].household_id \
        is not None
    done = check_in(family.ctx, CheckinRequest(kid_visit.appointment_id))
    assert done.txn.balance_of(family.kid).tokens == {}
    assert bal(family.mum) == (2000, {}, {})
    # the second visit has no token left: it draws the shared credit, leaving 75.00 owed
    check_in(family.ctx, CheckinRequest(mum_visit.appointment_id, use_token=False))
    assert bal(family.kid) == (2000 - 9500, {}, {})
    assert verify().problems == []


def test_no_transfer_between_members_of_one_wallet(family: Family) -> None:
    households.link(family.ctx, family.kid, family.mum, shared_wallet=True, move_balance=True)
    before = counts()
    with pytest.raises(Refused, match="share one household wallet"):
        transfer(family.ctx, family.kid, family.mum, credit_cents=100)
    assert counts() == before
    done = transfer(family.ctx, family.kid, family.other, tokens=2, token_kind="Acupuncture")
    assert done.balance_of(family.kid).tokens == {"Acupuncture": 3}
    assert bal(family.mum) == (2000, {"Acupuncture": 3}, {})
    assert bal(family.other) == (0, {"Acupuncture": 2}, {})
    assert verify().problems == []


def test_leaving_keeps_the_shared_wallet_with_the_household(family: Family) -> None:
    households.link(family.ctx, family.kid, family.mum, shared_wallet=True, move_balance=True)
    change = households.unlink(family.ctx, family.kid)
    assert change.household is not None
    assert [m.id for m in change.household.members] == [family.mum]
    assert bal(family.kid) == (0, {}, {})
    assert bal(family.mum) == (2000, {"Acupuncture": 5}, {})
    # the last member cannot walk away from a wallet that still holds something
    before = counts()
    with pytest.raises(Refused, match="household wallet still holds"):
        households.unlink(family.ctx, family.mum)
    assert counts() == before
    assert verify().problems == []


def test_a_member_whose_visit_holds_a_shared_token_cannot_leave(family: Family) -> None:
    set_value(family.ctx, "reserve_token_at_booking", "true")
    households.link(family.ctx, family.kid, family.mum, shared_wallet=True, move_balance=True)
    book(family.ctx, family.kid, family.acu, family.ann, at(TUESDAY, 9))
    assert bal(family.mum) == (2000, {"Acupuncture": 5}, {"Acupuncture": 1})
    with pytest.raises(Refused, match="1 booked visit holding"):
        households.unlink(family.ctx, family.kid)


def test_holds_move_with_the_balance_into_a_shared_wallet(family: Family) -> None:
    set_value(family.ctx, "reserve_token_at_booking", "true")
    visit = book(family.ctx, family.mum, family.acu, family.ann, at(TUESDAY, 9))
    households.link(family.ctx, family.kid, family.mum, shared_wallet=True, move_balance=True)
    assert bal(family.kid) == (2000, {"Acupuncture": 5}, {"Acupuncture": 1})
    done = check_in(family.ctx, CheckinRequest(visit.appointment_id))
    assert done.txn.balance_of(family.mum).tokens == {"Acupuncture": 4}
    assert bal(family.kid) == (2000, {"Acupuncture": 4}, {})
    assert verify().problems == []


def test_stop_sharing_hands_the_balance_to_a_named_member(family: Family) -> None:
    change = households.link(family.ctx, family.kid, family.mum, shared_wallet=True,
                             move_balance=True)
    assert change.household is not None
    hid = change.household.id
    before = counts()
    with pytest.raises(Refused, match="say which member receives it"):
        households.set_shared_wallet(family.ctx, hid, False)
    with pytest.raises(BadInput, match="not a member"):
        households.set_shared_wallet(family.ctx, hid, False, move_to=family.other)
    assert counts() == before
    done = households.set_shared_wallet(family.ctx, hid, False, move_to=family.kid)
    assert done.household is not None and not done.household.shared_wallet
    assert bal(family.kid) == (2000, {"Acupuncture": 5}, {})
    assert bal(family.mum) == (0, {}, {})
    lots = patient_file(family.kid, at(TODAY, 15)).lots
    assert [(lot.remaining, lot.unit_value_cents, lot.expires_on) for lot in lots] == [
        (5, 7000, PKG_EXPIRES)]
    # moved twice, the lot still says it was bought (mum's sale), and when
    sale_at = Txn.get(Txn.kind == "sale").created_at
    assert [(lot.granted_by, lot.bought_at) for lot in lots] == [("sale", sale_at)]
    # and sharing again moves it back
    households.set_shared_wallet(family.ctx, hid, True, move_balance=True)
    assert bal(family.mum) == (2000, {"Acupuncture": 5}, {})
    assert verify().problems == []


def test_reversing_a_sale_made_before_joining_is_refused(family: Family) -> None:
    sale = sell(family.ctx, family.kid, SaleItem(credit_cents=1000), [Tender("cash", 1000)])
    households.link(family.ctx, family.kid, family.mum, shared_wallet=True, move_balance=True)
    before = counts()
    with pytest.raises(Refused, match="now spends a household's shared wallet"):
        reverse(family.ctx, sale.txn_id, "wrong tender")
    assert counts() == before


def test_link_refusals(family: Family) -> None:
    households.link(family.ctx, family.kid, family.mum)
    households.link(family.ctx, family.dad, family.other)
    before = counts()
    with pytest.raises(BadInput, match="same patient"):
        households.link(family.ctx, family.kid, family.kid)
    with pytest.raises(Refused, match="already in the household 'Mia Adams household'"):
        households.link(family.ctx, family.kid, family.other)
    with pytest.raises(NotFound, match="no patient with id 999"):
        households.link(family.ctx, family.kid, 999)
    with pytest.raises(Refused, match="not in a household"):
        households.unlink(family.ctx, patients.add_patient(family.ctx, "Solo").id)
    assert {k: v for k, v in counts().items() if k != "patient" and k != "audit"} == \
        {k: v for k, v in before.items() if k != "patient" and k != "audit"}


def test_a_shared_household_statement_and_history(family: Family) -> None:
    households.link(family.ctx, family.kid, family.mum, shared_wallet=True, move_balance=True)
    adjust(family.ctx, family.mum, reason="goodwill", credit_cents=500)
    history = queries.history(family.kid)
    # newest first: mum's goodwill on the shared wallet, the move, the kid's own gift
    assert [(t.kind, t.memo, t.credit_change_cents) for t in history] == [
        ("adjustment", "goodwill", 500), ("transfer", "into the household wallet", 0),
        ("adjustment", "gift", 2000)]
    data = statement_for(family.kid, TODAY, TODAY, today=TODAY)
    assert data.closing_credit_cents == 2500
    assert verify().problems == []


# -- merging duplicates ----------------------------------------------------------------------

def test_merge_moves_visits_balances_and_history(family: Family) -> None:
    dup = patients.add_patient(family.ctx, "Mia Adams", email="mia@example.org").id
    sell(family.ctx, dup, SaleItem(package=PKG), [Tender("cash", 30000)])     # owes 50.00
    visit = book(family.ctx, dup, family.acu, family.ann, at(TUESDAY, 9)).appointment_id
    dup_txns = {t.id for t in queries.history(dup)}
    result = merge_patients(family.ctx, family.mum, dup, "entered twice")
    assert (result.appointments_moved, result.filled) == (1, ("email",))
    assert Appointment.get_by_id(visit).patient_id == family.mum
    assert bal(family.mum) == (-5000, {"Acupuncture": 10}, {})
    assert bal(dup) == (0, {}, {})                 # nothing left behind on the duplicate
    kept = patients.get_patient(family.mum)
    assert kept.email == "mia@example.org" and kept.phone == "555 0101"
    gone = Patient.get_by_id(dup)
    assert (gone.active, gone.merged_into_id) == (False, family.mum)
    history = {t.id for t in queries.history(family.mum)}
    assert dup_txns | {result.txn_id} <= history
    assert patients.find_patients("Mia Adams") == [kept]
    assert patient_file(family.mum, at(TODAY, 15)).merged_from == ((dup, "Mia Adams"),)
    assert verify().problems == []


def test_merge_is_idempotent_and_cannot_be_reversed(family: Family) -> None:
    dup = patients.add_patient(family.ctx, "Kai Adams").id
    adjust(family.ctx, dup, reason="opening", credit_cents=700)
    first = merge_patients(family.ctx, family.kid, dup, "twice", idem_key="merge-1")
    again = merge_patients(family.ctx, family.kid, dup, "twice", idem_key="merge-1")
    assert again.replayed and again.txn_id == first.txn_id
    assert bal(family.kid) == (2700, {}, {})
    before = counts()
    with pytest.raises(Refused, match="a merge cannot be reversed"):
        reverse(family.ctx, first.txn_id, "oops")
    with pytest.raises(Refused, match="was merged into patient"):
        merge_patients(family.ctx, family.mum, dup, "again")
    with pytest.raises(BadInput, match="--reason"):
        merge_patients(family.ctx, family.mum, family.dad, "  ")
    with pytest.raises(BadInput, match="same patient"):
        merge_patients(family.ctx, family.mum, family.mum, "x")
    assert counts() == before
    assert verify().problems == []


def test_a_shared_wallet_member_must_leave_before_being_merged(family: Family) -> None:
    households.link(family.ctx, family.kid, family.mum, shared_wallet=True, move_balance=True)
    before = counts()
    with pytest.raises(Refused, match="take them out of the household first"):
        merge_patients(family.ctx, family.other, family.kid, "dup")
    assert counts() == before
    # the kept patient may share a wallet: the duplicate's balance goes into it
    dup = patients.add_patient(family.ctx, "Mia A.").id
    adjust(family.ctx, dup, reason="opening", tokens=2, token_kind="Acupuncture")
    merge_patients(family.ctx, family.mum, dup, "dup")
    assert bal(family.kid) == (2000, {"Acupuncture": 7}, {})
    assert Lot.select().where(Lot.remaining > 0).count() == 2
    assert verify().problems == []


def test_update_patient_audits_what_changed(family: Family) -> None:
    profile = patients.check_profile(family.ctx, "Mia Adams-Lee", "555 0101", "m@x.org")
    info = patients.update_patient(family.ctx, family.mum, profile)
    assert (info.name, info.email) == ("Mia Adams-Lee", "m@x.org")
    row = Audit.select().where(Audit.entity == "patient", Audit.action == "update").get()
    assert row.entity_id == family.mum
    assert '"name": "Mia Adams"' in row.before and '"email": ""' in row.before
    assert "phone" not in row.after
    assert patients.find_patients("adams-lee")[0].id == family.mum
    with pytest.raises(BadInput, match="--email"):
        patients.check_profile(family.ctx, "X", email="not an email")
    with pytest.raises(BadInput, match="--dob"):
        patients.check_profile(family.ctx, "X", dob=TODAY + dt.timedelta(days=1))


# -- what a write may not touch ------------------------------------------------------------

def test_a_merged_patient_takes_no_more_writes(family: Family) -> None:
    dup = patients.add_patient(family.ctx, "Mia Adams").id
    merge_patients(family.ctx, family.mum, dup, "entered twice")
    before = counts()
    for write in (lambda: adjust(family.ctx, dup, reason="oops", credit_cents=1000),
                  lambda: sell(family.ctx, dup, SaleItem(credit_cents=500),
                               [Tender("cash", 500)]),
                  lambda: transfer(family.ctx, family.kid, dup, credit_cents=100),
                  lambda: book(family.ctx, dup, family.acu, family.ann, at(TUESDAY, 9))):
        with pytest.raises(Refused, match=f"patient {dup} was merged into patient "
                                          f"{family.mum}; use that one"):
            write()
    assert counts() == before


def test_held_tokens_and_credit_cannot_be_moved_away(family: Family) -> None:
    set_value(family.ctx, "reserve_token_at_booking", "true")
    for hour in (9, 10, 11, 12):
        book(family.ctx, family.mum, family.acu, family.ann, at(TUESDAY, hour))
    assert bal(family.mum) == (0, {"Acupuncture": 5}, {"Acupuncture": 4})
    before = counts()
    with pytest.raises(Refused, match="1 available, 4 held for booked visits; 2 needed"):
        transfer(family.ctx, family.mum, family.other, tokens=2, token_kind="Acupuncture")
    with pytest.raises(Refused, match="1 available, 4 held for booked visits; 3 needed"):
        adjust(family.ctx, family.mum, reason="remove", tokens=-3, token_kind="Acupuncture")
    assert counts() == before
    transfer(family.ctx, family.mum, family.other, tokens=1, token_kind="Acupuncture")
    # credit held for a visit (no token of its kind): not refundable
    catalog.add_service(family.ctx, "Massage 60", 60, 1500, token_kind="Massage")
    book(family.ctx, family.kid, "Massage 60", family.ann, at(TUESDAY, 14))
    assert bal(family.kid) == (2000, {}, {})
    before = counts()
    with pytest.raises(Refused, match=r"has only \$5.00 credit free \(\$15.00 held for "
                                      r"booked visits\); cannot refund \$6.00"):
        refund(family.ctx, family.kid, 600, "cash")
    assert counts() == before
    refund(family.ctx, family.kid, 500, "cash")
    assert verify().problems == []
