"""The patient window (SPEC §6): what it shows, the profile typed and saved, the
history (filters, lines, reprint, reverse), the statement preview and the visits,
checked against what the database holds after.

The clinic is the one in ``tests/ui/conftest.py``: Zoë 4 Acupuncture tokens, Bob
12.50 credit, Cat owes 25.00, Dan nothing; clock Monday 2026-03-02 15:00.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from PySide6.QtCore import QDate, QPoint, Qt
from PySide6.QtWidgets import QApplication

from desk.data.models import Audit, Patient, Txn
from desk.services import queries
from desk.services.appointments import get_appointment
from desk.services.results import Tender
from desk.ui.history_model import TXN_ROLE, HistoryModel
from desk.ui.patient_dialogs import ReverseTxnDialog, StatementDialog
from desk.ui.patient_window import (
    PatientWindow,
    open_patient_file,
    open_patient_window,
    patient_window_of,
)
from tests.ui.conftest import (
    TUESDAY,
    CheckinRequest,
    Clinic,
    block_point,
    check_in,
    choose,
    retype,
    wait_loaded,
)
from tests.ui.patient_helpers import (
    LEFT,
    close_preview,
    counts,
    open_dialog,
    patient_window,
    press_ok,
    press_refused,
    settle,
    type_into,
    wallet,
)

__all__ = ["patient_window"]   # the fixture, imported for this module's tests


def history_rows(window: PatientWindow) -> list[tuple[str, ...]]:
    """The history table as shown: (kind, memo, paid, credit, tokens, receipt) per row."""
    proxy = window.history.proxy
    return [tuple(str(proxy.index(r, c).data()) for c in (1, 2, 3, 4, 5, 7))
            for r in range(proxy.rowCount())]


def click_check_box(qtbot: Any, box: Any) -> None:
    qtbot.mouseClick(box, LEFT, pos=QPoint(8, box.height() // 2))


def select_txn(qtbot: Any, window: PatientWindow, txn_id: int) -> None:
    """Click the history row of a transaction."""
    window.tabs.setCurrentWidget(window.history)
    table, proxy = window.history.table, window.history.proxy
    row = next(r for r in range(proxy.rowCount())
               if proxy.index(r, 0).data(TXN_ROLE).id == txn_id)
    rect = table.visualRect(proxy.index(row, 2))
    qtbot.mouseClick(table.viewport(), LEFT, pos=rect.center())
    assert window.history.selected() is not None
    assert window.history.selected().id == txn_id


# -- what it shows ------------------------------------------------------------------------

def test_window_shows_profile_balances_lots_and_visits(patient_window: Any,
                                                       clinic: Clinic) -> None:
    window = patient_window(clinic.zoe)
    assert window.windowTitle() == f"Zoë Adams (#{clinic.zoe}) — patient"
    header = window.header.text()
    assert "Zoë Adams" in header and "4 Acupuncture tokens" in header
    assert window.profile.name.text() == "Zoë Adams"
    assert window.profile.phone.text() == "555 0101"
    tokens = window.balances.tokens
    assert [tokens.item(0, c).text() for c in range(5)] == [
        "Acupuncture", "4", "0", "4", "2026-05-31"]
    lots = window.balances.lots
    assert [lots.item(0, c).text() for c in range(8)] == [
        "Acupuncture", "2026-03-02", "sale", "5", "4", "$70.00", "2026-05-31", ""]
    upcoming = window.visits.upcoming
    assert [upcoming.item(0, c).text() for c in range(4)] == [
        "Tue 2026-03-03 09:00", "Ann Lee", "Acupuncture 45", "booked"]
    assert history_rows(window) == [
        ("Adjustment", "used one", "", "", "-1 Acupuncture", ""),
        ("Sale", "", "$350.00", "", "+5 Acupuncture", "#1")]


def test_owing_is_shown_in_red_and_refund_is_off_without_credit(patient_window: Any,
                                                               clinic: Clinic) -> None:
    window = patient_window(clinic.cat)
    assert "Owes $25.00" in window.header.text()
    assert "color:#b3261e" in window.header.text()
    assert "Owes $25.00" in window.balances.summary.text()
    assert not window.act_refund.isEnabled()
    assert window.act_refund.toolTip() == "No credit to refund"
    assert not window.act_transfer.isEnabled()


def test_opening_a_patient_twice_raises_the_same_window(patient_window: Any,
                                                        clinic: Clinic) -> None:
    window = patient_window(clinic.bob)
    again = open_patient_window(clinic.ctx, window.tasks, clinic.bob)
    assert again is window
    assert patient_window_of(clinic.ctx, clinic.bob) is window
    other = patient_window(clinic.dan)
    assert other is not window
    window.close()
    QApplication.processEvents()
    QApplication.sendPostedEvents(None, 0)   # the deferred delete
    assert patient_window_of(clinic.ctx, clinic.bob) is None


def test_the_history_model_passes_the_model_tester(qtmodeltester: Any, patient_window: Any,
                                                   clinic: Clinic) -> None:
    window = patient_window(clinic.zoe)
    model = HistoryModel()
    model.set_history(queries.history(clinic.zoe), "USD")
    qtmodeltester.check(model)
    qtmodeltester.check(window.history.proxy)


# -- profile --------------------------------------------------------------------------------

def test_profile_typed_and_saved_with_an_audit_row(patient_window: Any, clinic: Clinic,
                                                   qtbot: Any) -> None:
    window = patient_window(clinic.zoe)
    profile = window.profile
    retype(qtbot, profile.name, "Zoe Adams-Lee")
    profile.name.setCursorPosition(2)
    profile.name.del_()
    profile.name.insert("ë")                  # QTest types ASCII only: "ë" is pasted
    retype(qtbot, profile.email, "zoe@example.org")
    retype(qtbot, profile.dob, "1990-05-17")
    profile.notes.setFocus()
    qtbot.keyClicks(profile.notes, "Needles: small")
    audits = Audit.select().count()
    loads = window.loads
    qtbot.mouseClick(profile.save, LEFT)
    settle(qtbot, window, loads)
    row = Patient.get_by_id(clinic.zoe)
    assert (row.name, row.phone, row.email, row.dob, row.notes) == (
        "Zoë Adams-Lee", "555 0101", "zoe@example.org", dt.date(1990, 5, 17), "Needles: small")
    assert Audit.select().count() == audits + 1
    audit = Audit.select().order_by(Audit.id.desc()).first()
    assert (audit.entity, audit.entity_id, audit.action, audit.staff) == (
        "patient", clinic.zoe, "update", "tester")
    assert json.loads(audit.before) == {"name": "Zoë Adams", "email": "", "dob": None,
                                        "notes": ""}
    assert json.loads(audit.after)["name"] == "Zoë Adams-Lee"
    assert window.windowTitle().startswith("Zoë Adams-Lee")
    assert profile.message.text() == "" and not profile.dirty()
    assert window.status.text() == "Profile of Zoë Adams-Lee saved."


@pytest.mark.parametrize(("field", "typed", "message"), [
    ("name", "", "Name: is empty"),
    ("email", "zoe@", "Email: 'zoe@' is not an email address"),
    ("phone", "12", "Phone: '12' has too few digits for a phone number"),
    ("dob", "1990-02-30", "Date of birth: 1990-02-30 is not a day of the calendar"),
    ("dob", "１９９０-01-01", "Date of birth: '１９９０-01-01' is not a date; type it as "
                            "YYYY-MM-DD, e.g. 1984-07-21"),
    ("dob", "2030-01-01", "Date of birth: is in the future"),
])
def test_bad_profile_input_names_the_field_and_keeps_the_typing(
        patient_window: Any, clinic: Clinic, qtbot: Any, field: str, typed: str,
        message: str) -> None:
    window = patient_window(clinic.bob)
    edit = getattr(window.profile, field)
    retype(qtbot, edit, typed if typed.isascii() else "")
    if not typed.isascii():
        edit.insert(typed)                    # QTest types ASCII only: pasted
    before = counts()
    qtbot.mouseClick(window.profile.save, LEFT)
    assert window.profile.message.text() == message
    assert edit.text() == typed and edit.hasFocus()
    assert counts() == before
    assert Patient.get_by_id(clinic.bob).name == "Bob Brown"
    window.load()                         # a reload keeps what is being typed
    settle(qtbot, window)
    assert edit.text() == typed


def test_deactivating_a_patient(patient_window: Any, clinic: Clinic, qtbot: Any) -> None:
    window = patient_window(clinic.dan)
    click_check_box(qtbot, window.profile.active)
    assert not window.profile.active.isChecked()
    loads = window.loads
    qtbot.mouseClick(window.profile.save, LEFT)
    settle(qtbot, window, loads)
    assert not Patient.get_by_id(clinic.dan).active
    assert "(inactive)" in window.header.text()
    audit = Audit.select().order_by(Audit.id.desc()).first()
    assert json.loads(audit.after) == {"active": False}


# -- history ----------------------------------------------------------------------------------

def test_history_filters_by_kind_and_dates_and_shows_lines(
        patient_window: Any, clinic: Clinic, qtbot: Any) -> None:
    window = patient_window(clinic.zoe)
    tab = window.history
    window.tabs.setCurrentWidget(tab)
    assert tab.count.text() == "2 transactions"
    choose(qtbot, tab.kind, "Sale")
    assert [r[0] for r in history_rows(window)] == ["Sale"]
    assert tab.count.text() == "1 of 2 transactions"
    choose(qtbot, tab.kind, "All kinds")
    tab.first.setFocus()
    tab.first.setDate(QDate(2026, 3, 3))       # after both: nothing shown
    assert history_rows(window) == []
    qtbot.mouseClick(tab.whole, LEFT)
    assert len(history_rows(window)) == 2
    sale = next(t for t in queries.history(clinic.zoe) if t.kind == "sale")
    select_txn(qtbot, window, sale.id)
    lines = [[tab.lines.item(r, c).text() for c in range(4)] for r in range(tab.lines.rowCount())]
    assert ["Paid by card", "$350.00", "", "card"] in lines
    assert ["Acupuncture tokens", "", "5 Acupuncture", "Five acupuncture (5 tokens)"] in lines
    assert "receipt #1" in tab.detail.text()
    assert tab.reprint.isEnabled() and tab.reverse.isEnabled()
    # Sorted by kind instead of newest first.
    tab.table.sortByColumn(1, Qt.SortOrder.AscendingOrder)
    assert [r[0] for r in history_rows(window)] == ["Adjustment", "Sale"]


def test_reprint_a_receipt_from_the_history(patient_window: Any, clinic: Clinic,
                                            qtbot: Any) -> None:
    window = patient_window(clinic.zoe)
    history = queries.history(clinic.zoe)
    adjustment = next(t for t in history if t.kind == "adjustment")
    select_txn(qtbot, window, adjustment.id)
    assert not window.history.reprint.isEnabled()
    assert window.history.reprint.toolTip() == "This transaction has no receipt."
    sale = next(t for t in history if t.kind == "sale")
    select_txn(qtbot, window, sale.id)
    before = counts()
    qtbot.mouseClick(window.history.reprint, LEFT)
    preview = close_preview(qtbot, window)
    assert (preview.windowTitle(), preview.file_stem) == ("Receipt 1 (copy)", "receipt-1-copy")
    assert counts() == before


def test_reverse_from_the_history_restores_the_balance(patient_window: Any, clinic: Clinic,
                                                       qtbot: Any) -> None:
    window = patient_window(clinic.bob)
    (prepaid,) = queries.history(clinic.bob)
    select_txn(qtbot, window, prepaid.id)
    qtbot.mouseClick(window.history.reverse, LEFT)
    dialog = window.actions_.dialog
    assert isinstance(dialog, ReverseTxnDialog)
    before = counts()
    assert press_refused(qtbot, window, dialog) == (
        "Reason: is required: say why the transaction is reversed")
    assert counts() == before
    qtbot.keyClicks(dialog.reason, "entered on the wrong patient")
    press_ok(qtbot, window, dialog)
    assert wallet(clinic.bob) == (0, {})
    reversal, original = queries.history(clinic.bob)
    assert (reversal.kind, reversal.reverses_id, original.reversed_by) == (
        "reversal", prepaid.id, reversal.id)
    assert reversal.memo == f"reversal of transaction {prepaid.id}: entered on the wrong patient"
    assert window.status.text() == (f"Transaction {prepaid.id} reversed (transaction "
                                    f"{reversal.id}).")
    assert "No credit" in window.header.text()
    # Neither can be reversed again; the buttons say why.
    select_txn(qtbot, window, reversal.id)
    assert not window.history.reverse.isEnabled()
    assert window.history.reverse.toolTip() == (
        f"This reverses transaction {prepaid.id}; a reversal cannot be reversed.")
    select_txn(qtbot, window, prepaid.id)
    assert not window.history.reverse.isEnabled()
    assert window.history.reverse.toolTip() == f"Already reversed by transaction {reversal.id}."


def test_reversing_a_check_in_books_the_visit_again_and_prints_the_reversal(
        make_window: Any, patient_window: Any, clinic: Clinic, qtbot: Any) -> None:
    dan = clinic.visits["dan"]
    checked = check_in(clinic.ctx, CheckinRequest(dan, tenders=(Tender("card", 9500),)))
    main = make_window()
    window = patient_window(clinic.dan, main)
    select_txn(qtbot, window, checked.txn.txn_id)
    qtbot.mouseClick(window.history.reverse, LEFT)
    dialog = window.actions_.dialog
    qtbot.keyClicks(dialog.reason, "wrong card")
    loads = main.loads
    press_ok(qtbot, window, dialog)
    preview = close_preview(qtbot, window)
    assert preview.windowTitle() == f"Receipt {checked.txn.receipt_no + 1}"
    assert get_appointment(dan).status == "booked"
    wait_loaded(qtbot, main, loads)                    # the grid reloaded too
    assert main.view.grid.blocks[dan].status == "booked"


def test_a_transaction_the_services_refuse_to_reverse_says_why(
        patient_window: Any, clinic: Clinic, qtbot: Any) -> None:
    window = patient_window(clinic.zoe)
    sale = next(t for t in queries.history(clinic.zoe) if t.kind == "sale")
    select_txn(qtbot, window, sale.id)
    qtbot.mouseClick(window.history.reverse, LEFT)
    dialog = window.actions_.dialog
    qtbot.keyClicks(dialog.reason, "changed her mind")
    before = counts()
    assert press_refused(qtbot, window, dialog) == (
        f"1 of the 5 tokens granted by transaction {sale.id} were already used, moved or "
        "expired; reverse those first")
    assert counts() == before
    assert dialog.reason.text() == "changed her mind"


# -- statement ------------------------------------------------------------------------------

def test_statement_preview(patient_window: Any, clinic: Clinic, qtbot: Any) -> None:
    window = patient_window(clinic.zoe)
    dialog = open_dialog(qtbot, window, window.act_statement, StatementDialog)
    assert dialog.dates() == (dt.date(2026, 3, 2), dt.date(2026, 3, 2))
    dialog.first.setDate(QDate(2026, 3, 5))
    before = counts()
    assert press_refused(qtbot, window, dialog) == (
        "From: 2026-03-05 is after Until 2026-03-02; a period starts before it ends")
    dialog.first.setDate(QDate(2026, 2, 1))
    dialog.last.setDate(QDate(2026, 3, 9))
    assert press_refused(qtbot, window, dialog).startswith(
        "Until: 2026-03-09 is in the future (today is 2026-03-02)")
    choose(qtbot, dialog.period, "This month")
    assert dialog.dates() == (dt.date(2026, 3, 1), dt.date(2026, 3, 2))
    qtbot.mouseClick(dialog.ok, LEFT)
    preview = close_preview(qtbot, window)
    assert preview.windowTitle() == "Statement of Zoë Adams, 2026-03-01 to 2026-03-02"
    assert preview.file_stem == f"statement-{clinic.zoe}-2026-03-01-2026-03-02"
    assert counts() == before


# -- visits and the schedule window -----------------------------------------------------------

def test_open_patient_from_the_grid_and_double_click_a_visit_to_go_there(
        make_window: Any, clinic: Clinic, qtbot: Any) -> None:
    main = make_window(day=TUESDAY + dt.timedelta(days=7))
    main.go_to(TUESDAY, select=clinic.visits["bob"])
    wait_loaded(qtbot, main)
    main.actions_.open_patient(main.view.grid.blocks[clinic.visits["bob"]])
    window = patient_window_of(clinic.ctx, clinic.bob)
    assert window is not None and window.parentWidget() is main
    qtbot.waitUntil(lambda: window.loads >= 1 and not main.tasks.pending, timeout=10_000)
    assert "$12.50 credit" in window.header.text()
    main.actions_.open_patient(main.view.grid.blocks[clinic.visits["bob"]])
    assert patient_window_of(clinic.ctx, clinic.bob) is window     # raised, not a second
    main.go_to(TUESDAY + dt.timedelta(days=7))
    wait_loaded(qtbot, main)
    window.tabs.setCurrentWidget(window.visits)
    table = window.visits.upcoming
    qtbot.waitUntil(lambda: table.isVisible() and table.viewport().height() > 50)
    loads = main.loads
    where = table.visualItemRect(table.item(0, 0)).center()
    qtbot.mouseClick(table.viewport(), LEFT, pos=where)    # what a mouse sends: QTest's
    qtbot.mouseDClick(table.viewport(), LEFT, pos=where)   # mouseDClick alone sends only
    qtbot.mouseRelease(table.viewport(), LEFT, pos=where)  # the double-click event
    wait_loaded(qtbot, main, loads)
    assert main.day == TUESDAY and main.view.selected_id == clinic.visits["bob"]
    window.close()


def test_patient_file_opens_the_selected_visits_patient_or_asks(
        make_window: Any, clinic: Clinic, qtbot: Any) -> None:
    main = make_window()
    qtbot.mouseClick(main.view.viewport(), LEFT, pos=block_point(main, clinic.visits["cat"]))
    open_patient_file(main)
    window = patient_window_of(clinic.ctx, clinic.cat)
    assert window is not None
    window.close()
    main.view.select(None)
    open_patient_file(main)
    picker = main.actions_.dialog
    assert picker is not None and picker.windowTitle() == "Patient file"
    type_into(qtbot, picker.search.edit, "Dan")
    qtbot.waitUntil(lambda: picker.search.results.count() > 0
                    and picker.search.results.item(0).text() == "Dan Evans", timeout=5000)
    qtbot.mouseClick(picker.ok, LEFT)                 # nobody chosen yet
    assert picker.message.text() == "Patient: choose one from the list."
    item = picker.search.results.item(0)
    qtbot.mouseClick(picker.search.results.viewport(), LEFT,
                     pos=picker.search.results.visualItemRect(item).center())
    qtbot.mouseClick(picker.ok, LEFT)
    window = patient_window_of(clinic.ctx, clinic.dan)
    assert window is not None
    qtbot.waitUntil(lambda: window.loads >= 1 and not main.tasks.pending, timeout=10_000)
    assert window.profile.name.text() == "Dan Evans"
    window.close()
    assert Txn.select().count() == 4
