"""The patient window's money dialogs, typed like a receptionist: sell, adjust,
transfer, refund. The ledger is read back to the cent; refused input writes nothing.

The clinic is the one in ``tests/ui/conftest.py``: Zoë 4 Acupuncture tokens (lot of 5
at 70.00 each, expiring 2026-05-31), Bob 12.50 credit, Cat owes 25.00, Dan nothing.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from desk.data.models import Lot, Membership, Txn
from desk.services import catalog, queries, settings
from desk.services.appointments import book
from desk.services.results import Tender
from desk.services.sales import SaleItem, sell
from desk.services.wallet import adjust
from desk.ui.patient_dialogs import AdjustDialog, RefundDialog, TransferDialog
from desk.ui.sale_dialog import SaleDialog
from tests.ui.conftest import TUESDAY, Clinic, at, choose
from tests.ui.patient_helpers import (
    LEFT,
    close_preview,
    counts,
    open_dialog,
    patient_window,
    pick_patient,
    press_ok,
    press_refused,
    settle,
    type_into,
    wallet,
)

__all__ = ["patient_window"]   # the fixture, imported for this module's tests

#: What people type that is not an amount, and what the message says (after "Amount: ").
BAD_AMOUNTS = [
    ("-0", "'-0': zero has no sign; type 0 or a positive amount"),
    ("1e309", "'1e309': exponents are not accepted; type the amount in full"),
    ("NaN", "'NaN' is not an amount"),
    ("１２", "'１２' has non-ASCII digits; type plain digits such as 12.50"),
    ("12.345", "'12.345' has more than two decimals"),
    ("10^20", "'10^20': exponents are not accepted; type the amount in full"),
    ("", "is empty; type an amount such as 12.50"),
]


def type_amount(qtbot: Any, edit: Any, text: str) -> None:
    """Type (QTest types ASCII only: other text is pasted)."""
    type_into(qtbot, edit, text if text.isascii() else "")
    if not text.isascii():
        edit.insert(text)


def refused_amounts(qtbot: Any, window: Any, dialog: Any, edit: Any) -> None:
    before = counts()
    for typed, message in BAD_AMOUNTS:
        type_amount(qtbot, edit, typed)
        assert press_refused(qtbot, window, dialog) == f"Amount: {message}", typed
        assert edit.text() == typed
    assert counts() == before


# -- adjust ------------------------------------------------------------------------------------

def test_adjust_credit_with_a_reason(patient_window: Any, clinic: Clinic, qtbot: Any) -> None:
    window = patient_window(clinic.bob)
    dialog = open_dialog(qtbot, window, window.act_adjust, AdjustDialog)
    qtbot.keyClicks(dialog.amount, "-2.50")
    assert dialog.after.text() == "Leaves $10.00 credit."
    before = counts()
    assert press_refused(qtbot, window, dialog) == (
        "Reason: is required: say why the credit changes")
    assert counts() == before and dialog.focusWidget() is dialog.reason
    qtbot.keyClicks(dialog.reason, "coffee voucher taken back")
    press_ok(qtbot, window, dialog)
    assert wallet(clinic.bob) == (1000, {})
    txn = queries.history(clinic.bob)[0]
    assert (txn.kind, txn.memo, txn.credit_change_cents, txn.staff) == (
        "adjustment", "coffee voucher taken back", -250, "tester")
    assert "$10.00 credit" in window.header.text()


def test_adjust_tokens_removes_and_adds_with_an_expiry(patient_window: Any, clinic: Clinic,
                                                       qtbot: Any) -> None:
    window = patient_window(clinic.zoe)
    dialog = open_dialog(qtbot, window, window.act_adjust, AdjustDialog)
    choose(qtbot, dialog.what, "Tokens")
    assert not dialog.form.isRowVisible(dialog.amount)
    qtbot.keyClicks(dialog.count, "-1")
    assert not dialog.expires.isEnabled()
    qtbot.keyClicks(dialog.reason, "used at the other site")
    press_ok(qtbot, window, dialog)
    assert wallet(clinic.zoe) == (0, {"Acupuncture": 3})

    dialog = open_dialog(qtbot, window, window.act_adjust, AdjustDialog)
    choose(qtbot, dialog.what, "Tokens")
    qtbot.keyClicks(dialog.count, "+2")
    assert dialog.expires.isEnabled()
    type_into(qtbot, dialog.expires.lineEdit(), "30")
    qtbot.keyClicks(dialog.reason, "goodwill")
    assert dialog.after.text() == "Leaves 5 Acupuncture tokens."
    press_ok(qtbot, window, dialog)
    assert wallet(clinic.zoe) == (0, {"Acupuncture": 5})
    txn = queries.history(clinic.zoe)[0]
    (lot,) = Lot.select().where(Lot.txn == txn.id)
    assert (lot.quantity, lot.remaining, lot.unit_value_cents, lot.expires_on) == (
        2, 2, 0, dt.date(2026, 4, 1))
    assert window.balances.lots.rowCount() == 2


def test_adjust_refuses_bad_amounts_and_counts(patient_window: Any, clinic: Clinic,
                                               qtbot: Any) -> None:
    window = patient_window(clinic.zoe)
    dialog = open_dialog(qtbot, window, window.act_adjust, AdjustDialog)
    qtbot.keyClicks(dialog.reason, "correction")
    refused_amounts(qtbot, window, dialog, dialog.amount)
    choose(qtbot, dialog.what, "Tokens")
    before = counts()
    for typed, message in [("0", "'0' must not be zero"), ("1.5", "'1.5' is not a whole number"),
                           ("", "is empty; type a whole number such as 5"),
                           ("-9", None)]:
        type_into(qtbot, dialog.count, typed)
        said = press_refused(qtbot, window, dialog)
        if message is not None:
            assert said == f"Tokens: {message}"
        else:   # the service refuses: Zoë has only 4
            assert "Acupuncture" in said and "4" in said, said
    assert counts() == before


# -- transfer ----------------------------------------------------------------------------------

def test_transfer_credit_to_a_patient_found_by_search(patient_window: Any, clinic: Clinic,
                                                      qtbot: Any) -> None:
    window = patient_window(clinic.bob)
    dialog = open_dialog(qtbot, window, window.act_transfer, TransferDialog)
    qtbot.keyClicks(dialog.amount, "5.00")
    before = counts()
    assert press_refused(qtbot, window, dialog) == (
        "To patient: choose one from the list (type a name or phone)")
    pick_patient(qtbot, dialog.search, "Dan", "Dan Evans")
    type_into(qtbot, dialog.amount, "20.00")
    assert press_refused(qtbot, window, dialog) == (
        "Amount: is more than the $12.50 credit Bob Brown has")
    refused_amounts(qtbot, window, dialog, dialog.amount)
    assert counts() == before
    type_into(qtbot, dialog.amount, "5.00")
    qtbot.keyClicks(dialog.memo, "for his son's visit")
    press_ok(qtbot, window, dialog)
    assert wallet(clinic.bob) == (750, {})
    assert wallet(clinic.dan) == (500, {})
    txn = queries.history(clinic.dan)[0]
    assert (txn.kind, txn.memo, txn.credit_change_cents) == (
        "transfer", "for his son's visit", 500)
    assert window.status.text() == f"Transferred to Dan Evans (transaction {txn.id})."


def test_transfer_tokens_keeps_their_lots(patient_window: Any, clinic: Clinic,
                                          qtbot: Any) -> None:
    window = patient_window(clinic.zoe)
    dialog = open_dialog(qtbot, window, window.act_transfer, TransferDialog)
    assert dialog.what.currentText() == "Tokens"      # no credit: tokens come first
    assert dialog.kind.currentText() == "Acupuncture (4)"
    pick_patient(qtbot, dialog.search, "Cat", "Cat Diaz")
    qtbot.keyClicks(dialog.count, "5")
    before = counts()
    assert press_refused(qtbot, window, dialog) == (
        "Tokens: Zoë Adams has only 4 Acupuncture tokens free")
    assert counts() == before
    type_into(qtbot, dialog.count, "2")
    press_ok(qtbot, window, dialog)
    assert wallet(clinic.zoe) == (0, {"Acupuncture": 2})
    assert wallet(clinic.cat) == (-2500, {"Acupuncture": 2})
    (lot,) = (Lot.select().join(Txn).where(Txn.kind == "transfer",
                                           Lot.remaining > 0))
    assert (lot.quantity, lot.unit_value_cents, lot.expires_on) == (2, 7000,
                                                                    dt.date(2026, 5, 31))


# -- refund --------------------------------------------------------------------------------------

def test_refund_credit_by_check_prints_a_receipt(patient_window: Any, clinic: Clinic,
                                                 qtbot: Any) -> None:
    window = patient_window(clinic.bob)
    dialog = open_dialog(qtbot, window, window.act_refund, RefundDialog)
    assert dialog.amount.placeholderText() == "up to $12.50"
    before = counts()
    refused_amounts(qtbot, window, dialog, dialog.amount)
    type_into(qtbot, dialog.amount, "12.51")
    assert press_refused(qtbot, window, dialog) == (
        "Amount: is more than the $12.50 credit Bob Brown has")
    assert counts() == before
    type_into(qtbot, dialog.amount, "12.50")
    choose(qtbot, dialog.method, "Check")
    qtbot.keyClicks(dialog.reference, "check 1042")
    qtbot.mouseClick(dialog.ok, LEFT)
    preview = close_preview(qtbot, window)
    assert wallet(clinic.bob) == (0, {})
    txn = queries.history(clinic.bob)[0]
    assert (txn.kind, txn.credit_change_cents) == ("refund", -1250)
    assert preview.windowTitle() == f"Receipt {txn.receipt_no}"
    tender = [(line.account, line.amount, line.memo) for line in txn.lines
              if line.account_kind == "tender"]
    assert tender == [("tender:check", -1250, "check check 1042")]
    assert not window.act_refund.isEnabled()


# -- sell -----------------------------------------------------------------------------------------

def test_sell_from_the_patient_window(patient_window: Any, clinic: Clinic, qtbot: Any) -> None:
    window = patient_window(clinic.dan)
    dialog = open_dialog(qtbot, window, window.act_sell, SaleDialog)
    assert dialog.search.patient is not None and dialog.search.patient.id == clinic.dan
    assert dialog.what.currentText() == "A package"
    qtbot.mouseClick(dialog.save, LEFT)
    preview = close_preview(qtbot, window)
    qtbot.waitUntil(lambda: "5 Acupuncture tokens" in window.header.text(), timeout=5000)
    assert wallet(clinic.dan) == (0, {"Acupuncture": 5})
    txn = queries.history(clinic.dan)[0]
    assert preview.windowTitle() == f"Receipt {txn.receipt_no}"


@pytest.mark.parametrize("who", ["zoe", "bob"])
def test_cancel_writes_nothing(patient_window: Any, clinic: Clinic, qtbot: Any,
                               who: str) -> None:
    window = patient_window(getattr(clinic, who))
    before = counts()
    for action, kind in ((window.act_adjust, AdjustDialog),
                         (window.act_transfer, TransferDialog)):
        dialog = open_dialog(qtbot, window, action, kind)
        dialog.reject()
        qtbot.waitUntil(lambda: window.actions_.dialog is None, timeout=5000)
    assert counts() == before


def test_transfer_leaves_tokens_held_for_booked_visits(patient_window: Any, clinic: Clinic,
                                                       qtbot: Any) -> None:
    settings.set_value(clinic.ctx, "reserve_token_at_booking", "true")
    book(clinic.ctx, clinic.zoe, clinic.acu, clinic.ann, at(TUESDAY, 15))
    window = patient_window(clinic.zoe)
    assert [window.balances.tokens.item(0, c).text() for c in range(4)] == [
        "Acupuncture", "4", "1", "3"]
    assert "4 Acupuncture tokens (1 held)" in window.header.text()
    dialog = open_dialog(qtbot, window, window.act_transfer, TransferDialog)
    pick_patient(qtbot, dialog.search, "Dan", "Dan Evans")
    qtbot.keyClicks(dialog.count, "4")
    before = counts()
    assert press_refused(qtbot, window, dialog) == (
        "Tokens: Zoë Adams has only 3 Acupuncture tokens free (1 held for booked visits)")
    assert counts() == before


def test_refund_leaves_credit_held_for_booked_visits(patient_window: Any, clinic: Clinic,
                                                     qtbot: Any) -> None:
    settings.set_value(clinic.ctx, "reserve_token_at_booking", "true")
    adjust(clinic.ctx, clinic.dan, reason="prepaid", credit_cents=10000)
    book(clinic.ctx, clinic.dan, clinic.acu, clinic.ben, at(TUESDAY, 14))
    window = patient_window(clinic.dan)
    assert [window.balances.holds.item(0, c).text() for c in range(3)] == [
        "Tue 2026-03-03 14:00", "Acupuncture 45", "$95.00 credit"]
    dialog = open_dialog(qtbot, window, window.act_refund, RefundDialog)
    assert dialog.amount.placeholderText() == "up to $5.00"
    qtbot.keyClicks(dialog.amount, "10.00")
    before = counts()
    assert press_refused(qtbot, window, dialog) == (
        "Amount: is more than the $5.00 credit Dan Evans has free ($95.00 held for booked "
        "visits)")
    assert counts() == before


def test_end_a_membership_from_the_balances_tab(patient_window: Any, clinic: Clinic,
                                                qtbot: Any) -> None:
    catalog.add_package(clinic.ctx, "Monthly massage", "Massage", 2, 20000, monthly=True)
    sell(clinic.ctx, clinic.bob, SaleItem(package="Monthly massage"), [Tender("card", 20000)])
    window = patient_window(clinic.bob)
    tab = window.balances
    assert not tab.end_membership.isEnabled()
    table = tab.memberships
    assert [table.item(0, c).text() for c in range(3)] == [
        "Monthly massage", "2026-03-02", "active"]
    rect = table.visualRect(table.model().index(0, 0))
    qtbot.mouseClick(table.viewport(), LEFT, pos=rect.center())
    assert tab.end_membership.isEnabled()
    asked: list[str] = []
    window.actions_.confirm = lambda _w, _t, text: asked.append(text) or True
    loads = window.loads
    qtbot.mouseClick(tab.end_membership, LEFT)
    settle(qtbot, window, loads)
    assert asked and "Monthly massage" in asked[0]
    assert Membership.get().ended_on == clinic.ctx.today()
    assert table.item(0, 2).text() == "2026-03-02"
    assert not tab.end_membership.isEnabled()
