"""Catalog management (issue 6, part 4) on SQLite and PostgreSQL: every update, its
audit row (only the changed fields, before and after), refusals that write
nothing, what is fixed once used, and history that survives deactivation."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest

from desk.core.errors import BadInput, NotFound, Refused
from desk.core.money import MAX_CENTS
from desk.data.models import Audit, Package, Practitioner, Service, Setting, TokenKind, rows
from desk.printing.receipt import render_receipt
from desk.services import catalog, catalog_admin, lookups, patients, queries, receipts
from desk.services import settings as clinic_settings
from desk.services.appointments import book
from desk.services.cancellation import cancel, fee_for
from desk.services.catalog_admin import (
    PackageRow,
    PractitionerRow,
    ServiceRow,
    update_package,
    update_practitioner,
    update_service,
)
from desk.services.checkin import CheckinRequest, check_in
from desk.services.day import day_view
from desk.services.results import Tender
from desk.services.sales import SaleItem, sell

TUESDAY = dt.date(2026, 3, 3)


def at(hour: int, day: dt.date = TUESDAY) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour))


def audits(entity: str, entity_id: int | None = None) -> list[tuple[str, Any, Any]]:
    query = Audit.select().where(Audit.entity == entity, Audit.action != "create")
    if entity_id is not None:
        query = query.where(Audit.entity_id == entity_id)
    return [(a.action, json.loads(a.before or "null"), json.loads(a.after or "null"))
            for a in query.order_by(Audit.id)]


def snapshot() -> tuple[Any, ...]:
    """Everything an update could touch, to prove a refusal wrote nothing."""
    return (list(Practitioner.select().order_by(Practitioner.id).dicts()),
            list(Service.select().order_by(Service.id).dicts()),
            list(Package.select().order_by(Package.id).dicts()),
            list(TokenKind.select().order_by(TokenKind.id).dicts()),
            Audit.select().count())


@pytest.fixture
def shop(ctx: Any) -> dict[str, int]:
    ids = {
        "acu": catalog.add_service(ctx, "Acupuncture 45", 45, 9500, token_kind="Acupuncture",
                                   colour="#3b82c4").id,
        "msg": catalog.add_service(ctx, "Massage 60", 60, 12000, token_kind="Massage",
                                   colour="#c47a3b").id,
        "five": catalog.add_package(ctx, "Five acupuncture", "Acupuncture", 5, 35000,
                                    expires_days=90).id,
        "monthly": catalog.add_package(ctx, "Monthly massage", "Massage", 2, 20000,
                                       monthly=True).id,
        "ann": catalog.add_practitioner(ctx, "Ann Lee").id,
        "ben": catalog.add_practitioner(ctx, "Ben Okafor").id,
        "zoe": patients.add_patient(ctx, "Zoë Adams").id,
        "bob": patients.add_patient(ctx, "Bob Brown").id,
    }
    return ids


# -- lists ---------------------------------------------------------------------------------

def test_lists_show_every_row_inactive_ones_included(ctx: Any, shop: dict[str, int]) -> None:
    update_service(ctx, shop["msg"], active=False, no_show_fee_cents=4000)
    update_practitioner(ctx, shop["ann"], active=False)
    update_package(ctx, shop["five"], active=False)
    sell(ctx, shop["zoe"], SaleItem(package="Monthly massage"), [Tender("card", 20000)])
    sell(ctx, shop["bob"], SaleItem(package="Monthly massage"), [Tender("card", 20000)])

    assert catalog_admin.list_practitioners() == (
        PractitionerRow(shop["ann"], "Ann Lee", 0, False),
        PractitionerRow(shop["ben"], "Ben Okafor", 1, True))
    assert catalog_admin.list_services() == (
        ServiceRow(shop["acu"], "Acupuncture 45", 45, 9500, "#3b82c4", "Acupuncture",
                   None, None, True, False),
        ServiceRow(shop["msg"], "Massage 60", 60, 12000, "#c47a3b", "Massage", None, 4000,
                   False, False))
    assert catalog_admin.list_packages(ctx.today()) == (
        PackageRow(shop["five"], "Five acupuncture", "Acupuncture", 5, 35000, 90, False,
                   False, 0, False),
        PackageRow(shop["monthly"], "Monthly massage", "Massage", 2, 20000, None, True,
                   True, 2, True))
    view = catalog_admin.catalog_view(ctx.today())
    assert view.token_kinds == ("Acupuncture", "Massage")
    assert len(view.services) == 2


# -- practitioners -------------------------------------------------------------------------

def test_practitioner_rename_and_deactivate_are_audited(ctx: Any, shop: dict[str, int]) -> None:
    result = update_practitioner(ctx, shop["ann"], name="  Dr.  Ann   Lee ")
    assert (result.before, result.after, result.changed) == (
        {"name": "Ann Lee"}, {"name": "Dr. Ann Lee"}, ("name",))
    assert update_practitioner(ctx, shop["ann"], name="Dr. Ann Lee", active=True).changed == ()
    update_practitioner(ctx, shop["ann"], active=False)

    row = Practitioner.get_by_id(shop["ann"])
    assert (row.name, row.active) == ("Dr. Ann Lee", False)
    assert audits("practitioner", shop["ann"]) == [
        ("update", {"name": "Ann Lee"}, {"name": "Dr. Ann Lee"}),
        ("update", {"active": True}, {"active": False}),
    ]
    who = Audit.get(Audit.entity == "practitioner", Audit.action == "update")
    assert (who.staff, who.workstation, who.at) == ("tester", "ws-test", ctx.now())
    assert day_view(TUESDAY, today=ctx.today()).practitioners == ((shop["ben"], "Ben Okafor"),)
    assert lookups.booking_choices().practitioners == ((shop["ben"], "Ben Okafor"),)
    with pytest.raises(Refused):
        book(ctx, shop["zoe"], shop["acu"], shop["ann"], at(9))

    update_practitioner(ctx, shop["ann"], active=True)
    assert [p for p, _ in day_view(TUESDAY, today=ctx.today()).practitioners] == [
        shop["ann"], shop["ben"]]


def test_a_practitioner_with_booked_visits_stays_active(ctx: Any, shop: dict[str, int]) -> None:
    book(ctx, shop["zoe"], shop["acu"], shop["ann"], at(9))
    book(ctx, shop["bob"], shop["acu"], shop["ann"], at(11, TUESDAY + dt.timedelta(days=7)))
    before = snapshot()

    with pytest.raises(Refused, match=r"2 booked visits \(the first on Tue 03 Mar 2026 09:00\)"):
        update_practitioner(ctx, shop["ann"], name="Ann Lee-Smith", active=False)

    assert snapshot() == before


def test_practitioner_names_are_checked(ctx: Any, shop: dict[str, int]) -> None:
    before = snapshot()
    for name in ("", "   ", "Tab\there", "x" * 201, "BEN OKAFOR", "bén okafor"):
        with pytest.raises(BadInput) as refused:
            update_practitioner(ctx, shop["ann"], name=name)
        assert refused.value.field == "--name"
    with pytest.raises(BadInput):
        update_practitioner(ctx, shop["ann"], active=1)  # type: ignore[arg-type]
    with pytest.raises(NotFound):
        update_practitioner(ctx, 9999, name="Nobody")
    assert snapshot() == before
    # the same name in other letters is the practitioner's own: allowed
    assert update_practitioner(ctx, shop["ann"], name="ANN LEE").after == {"name": "ANN LEE"}


def test_reorder_sets_the_schedule_columns(ctx: Any, shop: dict[str, int]) -> None:
    cy = catalog.add_practitioner(ctx, "Cy Park").id
    ann, ben = shop["ann"], shop["ben"]

    result = catalog_admin.reorder_practitioners(ctx, [cy, ann])

    assert result.order == (cy, ann, ben)
    assert set(result.moved) == {cy, ann, ben}
    orders = {p.id: p.sort_order for p in Practitioner.select()}
    assert orders == {cy: 0, ann: 1, ben: 2}
    assert [p for p, _ in day_view(TUESDAY, today=ctx.today()).practitioners] == [cy, ann, ben]
    assert [p for p, _ in lookups.booking_choices().practitioners] == [cy, ann, ben]
    assert audits("practitioner", cy) == [("update", {"sort_order": 2}, {"sort_order": 0})]
    assert audits("practitioner", ben) == [("update", {"sort_order": 1}, {"sort_order": 2})]

    assert catalog_admin.reorder_practitioners(ctx, [cy, ann, ben]).moved == ()
    before = snapshot()
    with pytest.raises(BadInput):
        catalog_admin.reorder_practitioners(ctx, [ann, ann])
    with pytest.raises(NotFound):
        catalog_admin.reorder_practitioners(ctx, [ben, 9999])
    assert snapshot() == before


# -- services ------------------------------------------------------------------------------

def test_every_service_field_can_change(ctx: Any, shop: dict[str, int]) -> None:
    result = update_service(ctx, shop["msg"], name="Massage 75", minutes=75, price_cents=14000,
                            colour=" #ABCDEF ", token_kind="Deep tissue",
                            late_cancel_fee_cents=3000, no_show_fee_cents=0, active=False)

    row = Service.get_by_id(shop["msg"])
    assert (row.name, row.duration_min, row.price_cents, row.colour, row.token_kind.name,
            row.late_cancel_fee_cents, row.no_show_fee_cents, row.active) == (
        "Massage 75", 75, 14000, "#abcdef", "Deep tissue", 3000, 0, False)
    assert result.before == {"name": "Massage 60", "duration_min": 60, "price_cents": 12000,
                             "colour": "#c47a3b", "token_kind": "Massage",
                             "late_cancel_fee_cents": None, "no_show_fee_cents": None,
                             "active": True}
    assert audits("service", shop["msg"]) == [("update", result.before, result.after)]
    assert result.after["token_kind"] == "Deep tissue"
    assert TokenKind.select().count() == 3   # the new kind was created

    # only what changed is recorded; an existing kind is matched ignoring case and accents
    update_service(ctx, shop["msg"], price_cents=14000, token_kind="acupuncture",
                   late_cancel_fee_cents=None)
    assert audits("service", shop["msg"])[-1] == (
        "update", {"token_kind": "Deep tissue", "late_cancel_fee_cents": 3000},
        {"token_kind": "Acupuncture", "late_cancel_fee_cents": None})
    assert TokenKind.select().count() == 3


def test_service_fees_fall_back_to_the_clinic_default(ctx: Any, shop: dict[str, int]) -> None:
    clinic_settings.set_value(ctx, "late_cancel_fee", "25")
    clinic_settings.set_value(ctx, "no_show_fee", "40")
    update_service(ctx, shop["acu"], late_cancel_fee_cents=1000, no_show_fee_cents=0)
    service = Service.get_by_id(shop["acu"])
    assert (fee_for(service, "late_cancelled"), fee_for(service, "no_show")) == (1000, 0)

    update_service(ctx, shop["acu"], late_cancel_fee_cents=None, no_show_fee_cents=None)
    service = Service.get_by_id(shop["acu"])
    assert (fee_for(service, "late_cancelled"), fee_for(service, "no_show")) == (2500, 4000)


def test_bad_service_values_are_refused_and_write_nothing(ctx: Any, shop: dict[str, int]
                                                          ) -> None:
    catalog.add_service(ctx, "Cupping", 20, 4000)
    before = snapshot()
    attempts: dict[str, tuple[str, dict[str, Any]]] = {
        "no minutes": ("--minutes", {"minutes": 0}),
        "over a day": ("--minutes", {"minutes": 1441}),
        "minutes as text": ("--minutes", {"minutes": "60"}),
        "negative price": ("--price", {"price_cents": -1}),
        "price too large": ("--price", {"price_cents": MAX_CENTS + 1}),
        "price as float": ("--price", {"price_cents": 95.0}),
        "colour name": ("--colour", {"colour": "pink"}),
        "short colour": ("--colour", {"colour": "#abc"}),
        "empty name": ("--name", {"name": "  "}),
        "taken name": ("--name", {"name": "cupping"}),
        "taken name, accents": ("--name", {"name": "MASSÀGE 60"}),
        "empty kind": ("--token-kind", {"token_kind": ""}),
        "negative fee": ("--late-cancel-fee", {"late_cancel_fee_cents": -100}),
        "fee too large": ("--no-show-fee", {"no_show_fee_cents": MAX_CENTS + 1}),
        "active as text": ("--active", {"active": "no"}),
        "good price, bad colour": ("--colour", {"price_cents": 100, "colour": "blue"}),
    }
    wrong = []
    for label, (field, kwargs) in attempts.items():
        try:
            update_service(ctx, shop["acu"], **kwargs)
        except BadInput as exc:
            if exc.field != field:
                wrong.append(f"{label}: {exc.field}")
            continue
        wrong.append(label)
    assert wrong == []
    with pytest.raises(NotFound):
        update_service(ctx, 9999, name="Nothing")
    assert snapshot() == before


def test_a_service_keeps_its_token_kind_once_booked(ctx: Any, shop: dict[str, int]) -> None:
    book(ctx, shop["zoe"], shop["acu"], shop["ann"], at(9))
    before = snapshot()

    with pytest.raises(BadInput, match="Acupuncture") as refused:
        update_service(ctx, shop["acu"], price_cents=10000, token_kind="Massage")
    assert refused.value.field == "--token-kind"
    assert snapshot() == before
    # the same kind in other letters is not a change; everything else still may change
    changed = update_service(ctx, shop["acu"], price_cents=10000, token_kind="ACUPUNCTURE")
    assert changed.after == {"price_cents": 10000}
    assert catalog_admin.list_services()[0].in_use is True


def test_create_service_with_its_own_fees_is_one_write(ctx: Any, shop: dict[str, int]) -> None:
    made = catalog_admin.create_service(ctx, "Cupping", 20, 4000, token_kind="Cupping",
                                        colour="#112233", no_show_fee_cents=1500)
    row = Service.get_by_id(made.id)
    assert (row.name, row.token_kind.name, row.colour, row.late_cancel_fee_cents,
            row.no_show_fee_cents) == ("Cupping", "Cupping", "#112233", None, 1500)

    before = snapshot()
    with pytest.raises(BadInput) as refused:
        catalog_admin.create_service(ctx, "Reiki", 30, 5000, late_cancel_fee_cents=-5)
    assert refused.value.field == "--late-cancel-fee"
    with pytest.raises(BadInput):
        catalog_admin.create_service(ctx, "Massage 60", 30, 5000, no_show_fee_cents=500)
    assert snapshot() == before


def test_a_deactivated_service_keeps_its_history(ctx: Any, shop: dict[str, int]) -> None:
    visit = book(ctx, shop["zoe"], shop["msg"], shop["ann"], at(10)).appointment_id
    done = check_in(ctx, CheckinRequest(visit, tenders=(Tender("card", 12000),)))
    txn_id = done.txn.txn_id

    update_service(ctx, shop["msg"], name="Massage (old)", price_cents=15000, active=False)
    update_practitioner(ctx, shop["ann"], name="Dr. Ann Lee")

    assert [s.name for s in lookups.booking_choices().services] == ["Acupuncture 45"]
    with pytest.raises(Refused, match="no longer offered"):
        book(ctx, shop["bob"], shop["msg"], shop["ben"], at(14))
    past = day_view(TUESDAY, today=ctx.today())
    [appt] = past.appointments
    assert (appt.id, appt.service_name, appt.status, appt.checkin_txn_id) == (
        visit, "Massage (old)", "checked_in", txn_id)
    [txn] = [t for t in queries.history(shop["zoe"]) if t.id == txn_id]
    assert txn.memo == "Massage 60 2026-03-03 10:00"      # as it was at check-in
    assert txn.credit_change_cents == 0
    receipt = receipts.receipt_for(txn_id)
    assert [(line.description, line.amount_cents) for line in receipt.lines] == [
        ("Massage 60", 12000)]                              # the price it was sold at
    assert receipt.total_cents == 12000
    assert render_receipt(receipt).startswith(b"%PDF")


def test_price_changes_apply_to_visits_checked_in_later(ctx: Any, shop: dict[str, int]) -> None:
    first = book(ctx, shop["bob"], shop["acu"], shop["ann"], at(9)).appointment_id
    second = book(ctx, shop["bob"], shop["acu"], shop["ann"], at(10)).appointment_id
    one = check_in(ctx, CheckinRequest(first, tenders=(Tender("cash", 9500),))).txn.txn_id
    update_service(ctx, shop["acu"], price_cents=11000)
    two = check_in(ctx, CheckinRequest(second, tenders=(Tender("cash", 11000),))).txn.txn_id
    assert receipts.receipt_for(one).total_cents == 9500
    assert receipts.receipt_for(two).total_cents == 11000


# -- packages ------------------------------------------------------------------------------

def test_every_package_field_can_change_before_it_is_sold(ctx: Any, shop: dict[str, int]
                                                          ) -> None:
    result = update_package(ctx, shop["five"], name="Six massages", token_kind="massage",
                            tokens=6, price_cents=40000, expires_days=None, monthly=True,
                            active=False)
    row = Package.get_by_id(shop["five"])
    assert (row.name, row.token_kind.name, row.tokens, row.price_cents, row.expires_days,
            row.monthly, row.active) == ("Six massages", "Massage", 6, 40000, None, True,
                                         False)
    assert audits("package", shop["five"]) == [(
        "update",
        {"name": "Five acupuncture", "token_kind": "Acupuncture", "tokens": 5,
         "price_cents": 35000, "expires_days": 90, "monthly": False, "active": True},
        {"name": "Six massages", "token_kind": "Massage", "tokens": 6, "price_cents": 40000,
         "expires_days": None, "monthly": True, "active": False})]
    assert result.name == "Six massages"
    assert [p[0] for p in lookups.sale_choices().packages] == ["Monthly massage"]


def test_bad_package_values_are_refused_and_write_nothing(ctx: Any, shop: dict[str, int]
                                                          ) -> None:
    before = snapshot()
    attempts: dict[str, tuple[str, dict[str, Any]]] = {
        "no tokens": ("--tokens", {"tokens": 0}),
        "too many tokens": ("--tokens", {"tokens": 100_001}),
        "negative price": ("--price", {"price_cents": -1}),
        "zero days": ("--expires-days", {"expires_days": 0}),
        "a century and more": ("--expires-days", {"expires_days": 36601}),
        "taken name": ("--name", {"name": "monthly MASSAGE"}),
        "monthly as text": ("--monthly", {"monthly": "yes"}),
    }
    wrong = []
    for label, (field, kwargs) in attempts.items():
        try:
            update_package(ctx, shop["five"], **kwargs)
        except BadInput as exc:
            if exc.field != field:
                wrong.append(f"{label}: {exc.field}")
            continue
        wrong.append(label)
    assert wrong == []
    with pytest.raises(NotFound):
        update_package(ctx, shop["five"], token_kind="Reiki")   # kinds are not made here
    with pytest.raises(NotFound):
        update_package(ctx, 9999, tokens=3)
    assert snapshot() == before


@pytest.mark.parametrize("how", ["sale", "checkin", "renamed_after_sale", "membership"])
def test_a_sold_package_keeps_its_kind_and_type(ctx: Any, shop: dict[str, int], how: str
                                                ) -> None:
    package = shop["monthly"] if how == "membership" else shop["five"]
    name = Package.get_by_id(package).name
    if how == "checkin":
        visit = book(ctx, shop["zoe"], shop["acu"], shop["ann"], at(9)).appointment_id
        check_in(ctx, CheckinRequest(visit, buy_package=name, use_token=True,
                                     tenders=(Tender("card", 35000),)))
    else:
        sell(ctx, shop["zoe"], SaleItem(package=name), [Tender("card", 35000)])
    if how == "renamed_after_sale":   # the sale's memo keeps the old name and count
        update_package(ctx, package, name="Acupuncture five-pack", tokens=6)
    assert catalog_admin.list_packages(ctx.today())[0 if package == shop["five"] else 1].sold
    before = snapshot()

    with pytest.raises(BadInput) as kind:
        update_package(ctx, package, token_kind="Massage" if how != "membership"
                       else "Acupuncture")
    with pytest.raises(BadInput) as monthly:
        update_package(ctx, package, monthly=how != "membership")

    assert (kind.value.field, monthly.value.field) == ("--token-kind", "--monthly")
    assert "add a new package" in kind.value.message
    assert snapshot() == before
    # what it costs and grants next may still change
    assert update_package(ctx, package, price_cents=30000, tokens=4).changed == (
        "tokens", "price_cents")


def test_an_unsold_package_is_not_taken_for_a_sold_one(ctx: Any, shop: dict[str, int]) -> None:
    # A package of another kind sold under a similar memo, and loose tokens, are not sales
    # of "Five acupuncture".
    catalog.add_package(ctx, "Five acupuncture (promo)", "Massage", 5, 100)
    sell(ctx, shop["zoe"], SaleItem(package="Five acupuncture (promo)"),
         [Tender("card", 100)])
    sell(ctx, shop["zoe"], SaleItem(tokens=5, token_kind="Acupuncture", price_cents=100),
         [Tender("card", 100)])
    assert not catalog_admin.package_sold(Package.get_by_id(shop["five"]))
    assert update_package(ctx, shop["five"], token_kind="Massage").after == {
        "token_kind": "Massage"}


def test_membership_count_follows_active_memberships(ctx: Any, shop: dict[str, int]) -> None:
    from desk.services.reversal import reverse

    first = sell(ctx, shop["zoe"], SaleItem(package="Monthly massage"),
                 [Tender("card", 20000)])
    sell(ctx, shop["bob"], SaleItem(package="Monthly massage"), [Tender("card", 20000)])
    sell(ctx, shop["bob"], SaleItem(package="Monthly massage"), [Tender("card", 20000)])
    assert catalog_admin.list_packages(ctx.today())[1].members == 2   # patients, not sales
    reverse(ctx, first.txn_id, "sold by mistake")
    assert catalog_admin.list_packages(ctx.today())[1].members == 1


# -- settings: several at once --------------------------------------------------------------

def test_set_many_writes_all_or_nothing(ctx: Any) -> None:
    # moving the whole day later only works when both ends move together
    with pytest.raises(BadInput):
        clinic_settings.set_value(ctx, "day_start", "20:00")
    saved = clinic_settings.set_many(ctx, {"day_start": "20:00", "day_end": "22:30",
                                           "auto_print": "yes", "currency": "USD"})
    assert saved == {"day_start": "20:00", "day_end": "22:30", "auto_print": "true",
                     "currency": "USD"}
    assert dict(rows(Setting.select(Setting.key, Setting.value))) == {
        "day_start": "20:00", "day_end": "22:30", "auto_print": "true"}
    assert [(a.action, json.loads(a.before or ""), json.loads(a.after or "")) for a in
            Audit.select().where(Audit.entity == "setting").order_by(Audit.id)] == [
        ("set day_start", {"day_start": "08:00"}, {"day_start": "20:00"}),
        ("set day_end", {"day_end": "19:00"}, {"day_end": "22:30"}),
        ("set auto_print", {"auto_print": "false"}, {"auto_print": "true"}),
    ]
    audits_before = Audit.select().count()
    for bad in ({"clinic_name": "Calm", "late_cancel_fee": "12,50"},
                {"clinic_name": "Calm", "day_end": "07:00"},
                {"clinic_name": "Calm", "colour": "blue"}):
        with pytest.raises(BadInput) as refused:
            clinic_settings.set_many(ctx, bad)
        assert refused.value.field in {"late_cancel_fee", "day_end", "key"}
    assert clinic_settings.get("clinic_name") == ""
    assert Audit.select().count() == audits_before


def test_cancel_fee_uses_the_service_fee_set_in_the_catalog(ctx: Any, shop: dict[str, int]
                                                             ) -> None:
    update_service(ctx, shop["acu"], no_show_fee_cents=1800)
    monday = ctx.today()   # the clock says 15:00: the 9:00 visit has started
    visit = book(ctx, shop["bob"], shop["acu"], shop["ann"], at(9, monday)).appointment_id
    assert cancel(ctx, visit, no_show=True).fee_cents == 1800


def test_a_deactivated_package_is_no_longer_sold(ctx: Any, shop: dict[str, int]) -> None:
    update_package(ctx, shop["five"], active=False)
    visit = book(ctx, shop["zoe"], shop["acu"], shop["ann"], at(9)).appointment_id
    before = (queries.history(shop["zoe"]), queries.balance(shop["zoe"]))
    with pytest.raises(Refused, match="'Five acupuncture' is no longer sold"):
        sell(ctx, shop["zoe"], SaleItem(package="Five acupuncture"), [Tender("card", 35000)])
    with pytest.raises(Refused, match="no longer sold"):
        check_in(ctx, CheckinRequest(visit, buy_package="Five acupuncture",
                                     tenders=(Tender("card", 35000),)))
    assert (queries.history(shop["zoe"]), queries.balance(shop["zoe"])) == before


def test_a_deactivated_practitioner_keeps_their_column_on_past_days(
        ctx: Any, shop: dict[str, int]) -> None:
    visit = book(ctx, shop["zoe"], shop["acu"], shop["ben"], at(9)).appointment_id
    check_in(ctx, CheckinRequest(visit, tenders=(Tender("card", 9500),)))
    update_practitioner(ctx, shop["ben"], active=False)
    tuesday = day_view(TUESDAY, today=TUESDAY)
    assert tuesday.practitioners == ((shop["ann"], "Ann Lee"), (shop["ben"], "Ben Okafor"))
    assert [a.id for a in tuesday.appointments] == [visit]
    wednesday = day_view(TUESDAY + dt.timedelta(days=1), today=TUESDAY)
    assert wednesday.practitioners == ((shop["ann"], "Ann Lee"),)
