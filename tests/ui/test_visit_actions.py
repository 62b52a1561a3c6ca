"""What the receptionist does to a visit from the grid (drag to move, the context menu,
double-click and Enter to check in), checked against what the database holds after."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import (
    QDeadlineTimer,
    QMimeData,
    QPoint,
    QPointF,
    Qt,
    QTime,
)
from PySide6.QtGui import QContextMenuEvent, QDragEnterEvent, QDragMoveEvent, QDropEvent
from PySide6.QtWidgets import (
    QApplication,
    QCheckBox,
    QComboBox,
    QDialog,
    QLabel,
    QMenu,
    QStyle,
    QStyleOptionButton,
)

from desk.data.models import Account, Audit, Line, TokenKind, Txn
from desk.services import queries, settings
from desk.services.appointments import book, get_appointment, move
from desk.ui.checkin_dialog import CheckInDialog
from desk.ui.main_window import MainWindow
from desk.ui.patient_window import patient_window_of
from desk.ui.receipt_preview import ReceiptPreview
from desk.ui.schedule_view import MIME
from desk.ui.visit_dialogs import CancelDialog, MoveDialog, ReverseDialog
from tests.ui.conftest import (
    TUESDAY,
    CheckinRequest,
    Clinic,
    at,
    block_point,
    check_in,
    close_receipt,
    retype,
    slot_point,
    wait_loaded,
)

# Popping the context menu up offscreen warns that the platform cannot raise windows
# or grab the keyboard (harmless, like propagateSizeHints in pyproject's list).
pytestmark = pytest.mark.qt_log_ignore(r"does not support raise\(\)",
                                       "does not support grabbing the keyboard")

MENU = ["Check in…", "Move…", "Cancel…", "Late cancel…", "No-show…", "Reverse check-in…",
        "Open patient…", "Print last receipt"]





# -- helpers ----------------------------------------------------------------------------





def drag_event(cls: Any, target: QPoint, *args: Any) -> Any:
    """PySide6 6.12 takes a QPointF (its QPoint form is deprecated); 6.11 only a QPoint."""
    try:
        return cls(QPointF(target), *args)
    except TypeError:
        return cls(target, *args)


def drag_and_drop(window: MainWindow, appointment_id: int, grab_rows: int,
                  target: QPoint) -> bool:
    """Send enter, move and drop of a dragged visit to the grid; True if dropped."""
    viewport = window.view.viewport()
    mime = QMimeData()
    mime.setData(MIME, f"{appointment_id}:{grab_rows}".encode())
    move, left, none = (Qt.DropAction.MoveAction, Qt.MouseButton.LeftButton,
                        Qt.KeyboardModifier.NoModifier)
    enter = drag_event(QDragEnterEvent, target, move, mime, left, none)
    QApplication.sendEvent(viewport, enter)
    assert enter.isAccepted()
    hover = drag_event(QDragMoveEvent, target, move, mime, left, none)
    QApplication.sendEvent(viewport, hover)
    assert hover.isAccepted()
    drop = drag_event(QDropEvent, target, move, mime, left, none)
    QApplication.sendEvent(viewport, drop)
    # The move is requested once the drag is over (a zero timer): let it fire.
    deadline = QDeadlineTimer(200)
    while not deadline.hasExpired():
        QApplication.processEvents()
    return drop.isAccepted()


def where(appointment_id: int) -> tuple[dt.datetime, dt.datetime, int, str]:
    row = get_appointment(appointment_id)
    return row.starts_at, row.ends_at, row.practitioner_id, row.status


def menu_for(window: MainWindow, appointment_id: int) -> QMenu:
    """Right-click the visit; the context menu the window pops up."""
    viewport = window.view.viewport()
    pos = block_point(window, appointment_id)
    event = QContextMenuEvent(QContextMenuEvent.Reason.Mouse, pos, viewport.mapToGlobal(pos))
    QApplication.sendEvent(viewport, event)
    menu = window.actions_.menu
    assert menu is not None and menu.isVisible()
    assert window.view.selected_id == appointment_id
    return menu


def choose(menu: QMenu, text: str) -> None:
    action = {a.text(): a for a in menu.actions() if not a.isSeparator()}[text]
    assert action.isEnabled()
    action.trigger()
    menu.close()


def open_dialog(qtbot: Any, window: MainWindow, appointment_id: int, text: str,
                kind: type[QDialog]) -> Any:
    choose(menu_for(window, appointment_id), text)
    qtbot.waitUntil(lambda: isinstance(window.actions_.dialog, kind), timeout=5000)
    return window.actions_.dialog


def press_ok(qtbot: Any, window: MainWindow, dialog: Any) -> None:
    """Click the dialog's OK and wait for it to close and the grid to reload."""
    loads = window.loads
    qtbot.mouseClick(dialog.ok, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.actions_.dialog is None, timeout=5000)
    wait_loaded(qtbot, window, loads)


def press_save(qtbot: Any, window: MainWindow, dialog: CheckInDialog) -> None:
    """Click the check-in's Save, wait for it to close and the grid to reload, then
    close the receipt preview that follows."""
    loads = window.loads
    qtbot.mouseClick(dialog.save, Qt.MouseButton.LeftButton)
    close_receipt(qtbot, window, loads)




def first_payment_method(dialog: CheckInDialog) -> QComboBox:
    combo = dialog.payments.rows[0][0]
    assert isinstance(combo, QComboBox)
    return combo


def cancel_info(dialog: CancelDialog) -> str:
    """What the cancel dialog says it will do, before anything is written."""
    return next(label.text() for label in dialog.findChildren(QLabel)
                if label.accessibleName() == "What this cancel does")


def fee_lines(appointment_id: int) -> dict[str, int]:
    """The fee transaction of a cancelled visit, per account code (debit positive)."""
    txn = Txn.get(Txn.appointment_id == appointment_id, Txn.kind == "fee")
    out: dict[str, int] = {}
    for code, amount in (Line.select(Account.code, Line.amount)
                         .join(Account, on=(Line.account == Account.id))
                         .where(Line.txn == txn.id).tuples()):
        out[code] = out.get(code, 0) + int(amount)
    return {code: amount for code, amount in out.items() if amount}


def double_click(qtbot: Any, window: MainWindow, pos: QPoint) -> None:
    """Press, release, double-click, release: what a mouse sends (QTest's mouseDClick
    alone sends only the double-click event)."""
    viewport, left = window.view.viewport(), Qt.MouseButton.LeftButton
    qtbot.mouseClick(viewport, left, pos=pos)
    qtbot.mouseDClick(viewport, left, pos=pos)
    qtbot.mouseRelease(viewport, left, pos=pos)


def tick(qtbot: Any, box: QCheckBox) -> None:
    """Click a check box on its indicator (the middle of a wide row may miss it)."""
    option = QStyleOptionButton()
    box.initStyleOption(option)
    rect = box.style().subElementRect(QStyle.SubElement.SE_CheckBoxIndicator, option, box)
    qtbot.mouseClick(box, Qt.MouseButton.LeftButton, pos=rect.center())


def enabled(menu: QMenu) -> dict[str, bool]:
    return {a.text(): a.isEnabled() for a in menu.actions() if not a.isSeparator()}


def txn_count() -> int:
    return int(Txn.select().count())


def wallet(patient_id: int) -> tuple[int, dict[str, int]]:
    found = queries.balance(patient_id)
    return found.credit_cents, {k: n for k, n in found.tokens.items() if n}


# -- drag and drop ------------------------------------------------------------------------

def test_dropping_a_visit_on_a_free_slot_moves_it_there(
        make_window: Any, clinic: Clinic, qtbot: Any) -> None:
    window = make_window()
    asked: list[tuple[str, str]] = []
    window.actions_.confirm = lambda _parent, title, text: asked.append((title, text)) or True
    zoe = clinic.visits["zoe"]

    loads = window.loads
    assert drag_and_drop(window, zoe, 0, slot_point(window, at(TUESDAY, 14), clinic.ben))
    wait_loaded(qtbot, window, loads)

    assert asked == [("Move visit", "Move Zoë Adams's Acupuncture 45\nfrom Tue 03 Mar 09:00 "
                                    "to Tue 03 Mar 14:00 with Ben Okafor?")]
    assert where(zoe) == (at(TUESDAY, 14), at(TUESDAY, 14, 45), clinic.ben, "booked")
    # Nobody else moved.
    assert where(clinic.visits["bob"]) == (at(TUESDAY, 10), at(TUESDAY, 11), clinic.ann,
                                           "booked")
    assert where(clinic.visits["cat"]) == (at(TUESDAY, 9), at(TUESDAY, 9, 45), clinic.ben,
                                           "booked")
    assert where(clinic.visits["dan"]) == (at(TUESDAY, 11), at(TUESDAY, 11, 45), clinic.ben,
                                           "booked")
    block = window.view.grid.blocks[zoe]
    assert (block.starts_at, block.practitioner_id) == (at(TUESDAY, 14), clinic.ben)
    assert window.view.selected_id == zoe


def test_the_row_grabbed_inside_the_block_is_kept_on_drop(
        make_window: Any, clinic: Clinic, qtbot: Any) -> None:
    """Grabbing Bob's visit one row below its top and dropping at 14:15 starts it 14:00."""
    window = make_window()
    window.actions_.confirm = lambda *_: True
    bob = clinic.visits["bob"]
    loads = window.loads
    assert drag_and_drop(window, bob, 1, slot_point(window, at(TUESDAY, 14, 15), clinic.ann))
    wait_loaded(qtbot, window, loads)
    assert where(bob) == (at(TUESDAY, 14), at(TUESDAY, 15), clinic.ann, "booked")


def test_a_move_that_is_not_confirmed_changes_nothing(
        make_window: Any, clinic: Clinic, qtbot: Any) -> None:
    window = make_window()
    asked: list[str] = []
    window.actions_.confirm = lambda _parent, _title, text: asked.append(text) and False
    zoe = clinic.visits["zoe"]

    drag_and_drop(window, zoe, 0, slot_point(window, at(TUESDAY, 14), clinic.ben))
    qtbot.waitUntil(lambda: not window.tasks.pending, timeout=5000)

    assert len(asked) == 1
    assert window.tasks.pending == 0
    assert where(zoe) == (at(TUESDAY, 9), at(TUESDAY, 9, 45), clinic.ann, "booked")
    assert window.view.grid.blocks[zoe].starts_at == at(TUESDAY, 9)


def test_a_drop_on_an_occupied_slot_is_refused_and_said(
        make_window: Any, clinic: Clinic, qtbot: Any) -> None:
    window = make_window()
    window.actions_.confirm = lambda *_: True
    told: list[tuple[str, str]] = []
    window.actions_.tell = lambda _parent, title, text: told.append((title, text))
    zoe = clinic.visits["zoe"]

    # Onto Cat's 09:00 visit with Ben.
    drag_and_drop(window, zoe, 0, slot_point(window, at(TUESDAY, 9), clinic.ben))
    qtbot.waitUntil(lambda: bool(told), timeout=5000)

    assert told == [("Move visit", f"Ben Okafor already has Cat Diaz 09:00–09:45 that day "
                                   f"(appointment {clinic.visits['cat']}); double booking "
                                   "is off")]
    assert where(zoe) == (at(TUESDAY, 9), at(TUESDAY, 9, 45), clinic.ann, "booked")
    assert where(clinic.visits["cat"]) == (at(TUESDAY, 9), at(TUESDAY, 9, 45), clinic.ben,
                                           "booked")
    assert Audit.select().where(Audit.action == "move").count() == 0


def test_dropping_a_visit_back_where_it_was_asks_nothing(
        make_window: Any, clinic: Clinic, qtbot: Any) -> None:
    window = make_window()
    asked: list[str] = []
    window.actions_.confirm = lambda _p, _t, text: asked.append(text) or True
    zoe = clinic.visits["zoe"]
    drag_and_drop(window, zoe, 0, slot_point(window, at(TUESDAY, 9), clinic.ann))
    qtbot.waitUntil(lambda: not window.tasks.pending, timeout=5000)
    assert asked == []
    assert where(zoe) == (at(TUESDAY, 9), at(TUESDAY, 9, 45), clinic.ann, "booked")


def test_a_visit_moved_on_another_desk_meanwhile_is_not_overwritten(
        make_window: Any, clinic: Clinic, qtbot: Any) -> None:
    """The grid still shows Zoë at 09:00 when another desk moves her to 12:00: a drop
    made from the stale grid is refused instead of silently undoing that move."""
    window = make_window()
    window.actions_.confirm = lambda *_: True
    told: list[tuple[str, str]] = []
    window.actions_.tell = lambda _parent, title, text: told.append((title, text))
    zoe = clinic.visits["zoe"]
    move(clinic.ctx, zoe, at(TUESDAY, 12))
    drag_and_drop(window, zoe, 0, slot_point(window, at(TUESDAY, 14), clinic.ben))
    qtbot.waitUntil(lambda: bool(told), timeout=5000)
    assert told[0][0] == "Move visit"
    assert "was changed on another workstation (it is now Tue 03 Mar 12:00)" in told[0][1]
    assert where(zoe) == (at(TUESDAY, 12), at(TUESDAY, 12, 45), clinic.ann, "booked")


def test_move_from_the_menu_with_the_keyboard(
        make_window: Any, clinic: Clinic, qtbot: Any) -> None:
    window = make_window()
    zoe = clinic.visits["zoe"]
    menu = window.actions_.build_menu(window.view.grid.blocks[zoe])
    next(a for a in menu.actions() if a.text() == "Move…").trigger()
    dialog = window.actions_.dialog
    assert isinstance(dialog, MoveDialog)
    assert dialog.practitioner.currentData() == clinic.ann
    dialog.time.setTime(QTime(15, 30))
    dialog.practitioner.setCurrentIndex(dialog.practitioner.findData(clinic.ben))
    qtbot.keyClick(dialog, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: where(zoe)[0] == at(TUESDAY, 15, 30), timeout=5000)
    assert where(zoe) == (at(TUESDAY, 15, 30), at(TUESDAY, 16, 15), clinic.ben, "booked")
    qtbot.waitUntil(lambda: window.view.selected_id == zoe
                    and window.view.grid.blocks[zoe].practitioner_id == clinic.ben,
                    timeout=5000)


# -- the context menu ---------------------------------------------------------------------

def test_menu_offers_what_fits_a_booked_and_a_checked_in_visit(
        make_window: Any, clinic: Clinic, qtbot: Any) -> None:
    check_in(clinic.ctx, CheckinRequest(clinic.visits["zoe"], use_token=True))
    window = make_window()

    booked = enabled(window.actions_.build_menu(window.view.grid.blocks[clinic.visits["cat"]]))
    assert list(booked) == MENU
    assert booked == {"Check in…": True, "Move…": True, "Cancel…": True, "Late cancel…": True,
                      "No-show…": False,      # Tuesday 09:00 has not started yet
                      "Reverse check-in…": False, "Open patient…": True,
                      "Print last receipt": True}
    done = enabled(window.actions_.build_menu(window.view.grid.blocks[clinic.visits["zoe"]]))
    assert done == {"Check in…": False, "Move…": False, "Cancel…": False, "Late cancel…": False,
                    "No-show…": False, "Reverse check-in…": True, "Open patient…": True,
                    "Print last receipt": True}


def test_no_show_is_offered_once_the_visit_has_started(
        make_window: Any, clinic: Clinic, clock: Any) -> None:
    window = make_window()
    block = window.view.grid.blocks[clinic.visits["cat"]]
    assert not enabled(window.actions_.build_menu(block))["No-show…"]
    clock.current = at(TUESDAY, 9, 5)
    assert enabled(window.actions_.build_menu(block))["No-show…"]


def test_check_in_from_the_menu_uses_one_of_zoes_tokens(
        make_window: Any, clinic: Clinic, qtbot: Any) -> None:
    window = make_window()
    zoe = clinic.visits["zoe"]
    assert wallet(clinic.zoe) == (0, {"Acupuncture": 4})

    dialog = open_dialog(qtbot, window, zoe, "Check in…", CheckInDialog)
    assert dialog.form.appointment_id == zoe
    assert dialog.use_token.isChecked() and dialog.use_token.isEnabled()
    assert not dialog.use_credit.isEnabled()
    assert dialog.payments.amount_edit(0).text() == ""        # nothing to pay
    assert dialog.totals.text() == "Due $0.00 · Paid $0.00"
    press_save(qtbot, window, dialog)

    row = get_appointment(zoe)
    assert row.status == "checked_in"
    txn = Txn.get_by_id(row.checkin_txn_id)
    assert (txn.kind, txn.receipt_no) == ("checkin", 2)   # the sale took receipt 1
    assert wallet(clinic.zoe) == (0, {"Acupuncture": 3})
    block = window.view.grid.blocks[zoe]
    assert (block.status, block.receipt_no) == ("checked_in", 2)
    assert "receipt 2" in window.status.text()


def test_check_in_from_the_menu_uses_bobs_credit_and_a_card_for_the_rest(
        make_window: Any, clinic: Clinic, qtbot: Any) -> None:
    window = make_window()
    bob = clinic.visits["bob"]
    assert wallet(clinic.bob) == (1250, {})

    dialog = open_dialog(qtbot, window, bob, "Check in…", CheckInDialog)
    assert not dialog.use_token.isChecked() and not dialog.use_token.isEnabled()
    assert dialog.use_credit.isChecked()
    assert first_payment_method(dialog).currentData() == "card"
    # credit comes first; the card is offered what remains, and the dialog says so
    amount = dialog.payments.amount_edit(0)
    assert amount.text() == "107.50"
    assert dialog.totals.text() == "Due $120.00 · Credit $12.50 · Paid $107.50"
    assert dialog.result_line.text() == "Leaves nothing on account."
    retype(qtbot, amount, "110.00")
    assert dialog.totals.text() == "Due $120.00 · Credit $10.00 · Paid $110.00"
    assert dialog.result_line.text() == "Leaves $2.50 credit."
    retype(qtbot, amount, "107.50")
    assert dialog.totals.text() == "Due $120.00 · Credit $12.50 · Paid $107.50"
    press_save(qtbot, window, dialog)

    row = get_appointment(bob)
    assert row.status == "checked_in"
    txn = Txn.get_by_id(row.checkin_txn_id)
    assert txn.receipt_no == 2
    assert wallet(clinic.bob) == (0, {})
    lines = {(line.account.code, line.amount) for line in txn.lines if line.amount}
    assert lines == {("tender:card", 10750), (f"patient:{clinic.bob}:credit", 1250),
                     (f"revenue:service:{clinic.msg}", -12000)}
    assert "receipt 2" in window.status.text()


def test_the_suggested_amount_follows_the_token_choice(
        make_window: Any, clinic: Clinic, qtbot: Any) -> None:
    """Unticking the token offers the price; ticking it again takes the price back, so
    a token and a full payment are never taken together by accident."""
    window = make_window()
    dialog = open_dialog(qtbot, window, clinic.visits["zoe"], "Check in…", CheckInDialog)
    assert dialog.use_token.isChecked()
    method = first_payment_method(dialog)
    method.setCurrentIndex(method.findData("cash"))
    amount = dialog.payments.amount_edit(0)
    assert amount.text() == ""
    tick(qtbot, dialog.use_token)
    assert not dialog.use_token.isChecked()
    assert amount.text() == "95.00"
    assert dialog.totals.text() == "Due $95.00 · Paid $95.00"
    assert dialog.result_line.text() == "Leaves 4 Acupuncture tokens."
    tick(qtbot, dialog.use_token)
    assert amount.text() == ""
    assert dialog.totals.text() == "Due $0.00 · Paid $0.00"
    assert dialog.result_line.text() == "Leaves 3 Acupuncture tokens."
    qtbot.keyClicks(amount, "abc")
    assert dialog.message.text().startswith("Payment 1 amount: ")
    assert dialog.totals.text() == ""
    dialog.reject()


def test_the_check_in_message_stays_in_the_status_bar(
        make_window: Any, clinic: Clinic, qtbot: Any) -> None:
    """What the check-in did is said in the status bar, and the reload that follows
    must not wipe it."""
    window = make_window()
    dialog = open_dialog(qtbot, window, clinic.visits["zoe"], "Check in…", CheckInDialog)
    press_save(qtbot, window, dialog)
    assert window.status.text() == "Checked in Zoë Adams; receipt 2."


def test_cancel_on_time_is_free(make_window: Any, clinic: Clinic, qtbot: Any) -> None:
    # Dan's visit is Tuesday 11:00, 20 hours away: on time with a 12-hour window
    # (the default 24-hour window would make it a late cancel).
    settings.set_value(clinic.ctx, "late_cancel_hours", "12")
    settings.set_value(clinic.ctx, "late_cancel_fee", "30.00")
    window = make_window()
    dan = clinic.visits["dan"]
    before = txn_count()

    dialog = open_dialog(qtbot, window, dan, "Cancel…", CancelDialog)
    assert dialog.windowTitle() == "Cancel visit"
    assert dialog.ok.text() == "Cancel visit"
    assert cancel_info(dialog) == ("No fee: nothing is charged. A token held for this "
                                   "visit is released (per the clinic's settings).")
    # Without a fee there is nothing to pay or waive: those fields must not show (they
    # are not in the layout, so they would sit over the heading's top-left corner).
    assert [w.isVisibleTo(dialog) for w in (dialog.take_token, dialog.waive, dialog.reason)] \
        == [False, False, False]
    press_ok(qtbot, window, dialog)

    assert get_appointment(dan).status == "cancelled"
    assert wallet(clinic.dan) == (0, {})
    assert txn_count() == before + 1        # recorded, with no money moved
    assert window.view.grid.blocks[dan].status == "cancelled"


def test_late_cancel_adds_the_fee_to_what_cat_owes(
        make_window: Any, clinic: Clinic, qtbot: Any) -> None:
    settings.set_value(clinic.ctx, "late_cancel_fee", "30.00")
    window = make_window()
    cat = clinic.visits["cat"]
    assert wallet(clinic.cat) == (-2500, {})

    dialog = open_dialog(qtbot, window, cat, "Late cancel…", CancelDialog)
    assert (dialog.windowTitle(), dialog.ok.text()) == ("Late cancel", "Late cancel")
    assert cancel_info(dialog) == ("Fee <b>$30.00</b>: it will be left owed (not enough "
                                   "free credit), unless paid with a token or waived below.")
    assert not dialog.take_token.isEnabled()             # Cat has no token
    press_ok(qtbot, window, dialog)

    assert get_appointment(cat).status == "late_cancelled"
    assert wallet(clinic.cat) == (-5500, {})
    assert fee_lines(cat) == {f"patient:{clinic.cat}:credit": 3000, "revenue:fees": -3000}
    assert window.status.text() == "Cat Diaz: late-cancelled; the fee was left owed."
    block = window.view.grid.blocks[cat]
    assert (block.status, block.badge) == ("late_cancelled", "LATE CANCEL")


def test_a_late_cancel_fee_is_taken_from_bobs_credit(
        make_window: Any, clinic: Clinic, qtbot: Any) -> None:
    settings.set_value(clinic.ctx, "late_cancel_fee", "10.00")
    window = make_window()
    bob = clinic.visits["bob"]

    dialog = open_dialog(qtbot, window, bob, "Late cancel…", CancelDialog)
    assert cancel_info(dialog) == ("Fee <b>$10.00</b>: it will be taken from credit ($12.50 "
                                   "free), unless paid with a token or waived below.")
    assert dialog.take_token.text() == "Pay the fee with one Massage token (0 free)"
    assert not dialog.take_token.isEnabled()
    press_ok(qtbot, window, dialog)

    assert get_appointment(bob).status == "late_cancelled"
    assert wallet(clinic.bob) == (250, {})
    assert fee_lines(bob) == {f"patient:{clinic.bob}:credit": 1000, "revenue:fees": -1000}
    assert window.status.text() == "Bob Brown: late-cancelled; the fee was taken from credit."


def test_cancel_inside_the_window_says_it_counts_as_a_late_cancel(
        make_window: Any, clinic: Clinic, qtbot: Any) -> None:
    """Cat's visit is Tuesday 09:00, 18 hours away: inside the default 24-hour window,
    an on-time "Cancel…" is a late cancel, and the dialog says so before saving."""
    settings.set_value(clinic.ctx, "late_cancel_fee", "30.00")
    window = make_window()
    cat = clinic.visits["cat"]

    dialog = open_dialog(qtbot, window, cat, "Cancel…", CancelDialog)
    assert (dialog.windowTitle(), dialog.ok.text()) == ("Cancel visit", "Late cancel")
    assert cancel_info(dialog) == (
        "This is inside the clinic's 24-hour window, so it counts as a <b>late cancel</b>."
        "<br>Fee <b>$30.00</b>: it will be left owed (not enough free credit), unless paid "
        "with a token or waived below.")
    press_ok(qtbot, window, dialog)

    assert get_appointment(cat).status == "late_cancelled"
    assert wallet(clinic.cat) == (-5500, {})
    assert fee_lines(cat) == {f"patient:{clinic.cat}:credit": 3000, "revenue:fees": -3000}
    # Judged by the window, not forced: no "forced late cancel" audit.
    assert Audit.select().where(Audit.entity_id == cat,
                                Audit.action == "forced late cancel").count() == 0


def test_a_late_cancel_fee_paid_with_one_of_zoes_tokens(
        make_window: Any, clinic: Clinic, qtbot: Any) -> None:
    settings.set_value(clinic.ctx, "late_cancel_fee", "30.00")
    window = make_window()
    zoe = clinic.visits["zoe"]
    assert wallet(clinic.zoe) == (0, {"Acupuncture": 4})

    dialog = open_dialog(qtbot, window, zoe, "Late cancel…", CancelDialog)
    assert dialog.take_token.text() == "Pay the fee with one Acupuncture token (4 free)"
    assert dialog.take_token.isEnabled() and not dialog.take_token.isChecked()
    tick(qtbot, dialog.take_token)
    assert dialog.take_token.isChecked()
    press_ok(qtbot, window, dialog)

    assert get_appointment(zoe).status == "late_cancelled"
    assert wallet(clinic.zoe) == (0, {"Acupuncture": 3})
    acupuncture = TokenKind.get(TokenKind.name == "Acupuncture").id
    # One token back to the clinic; its value (70.00 of the 350.00 five-pack) leaves
    # prepaid and is earned as the fee. No tender, nothing on Zoë's credit.
    assert fee_lines(zoe) == {f"patient:{clinic.zoe}:tok:{acupuncture}": 1,
                              f"issued:{acupuncture}": -1, "prepaid": 7000,
                              "revenue:fees": -7000}
    view = queries.history(clinic.zoe)[0]
    assert (view.kind, view.credit_change_cents, view.token_changes) == (
        "fee", 0, {"Acupuncture": -1})
    assert window.status.text() == "Zoë Adams: late-cancelled; the fee was paid with a token."


def test_waiving_the_fee_needs_a_reason(make_window: Any, clinic: Clinic, qtbot: Any
                                        ) -> None:
    settings.set_value(clinic.ctx, "late_cancel_fee", "30.00")
    window = make_window()
    cat = clinic.visits["cat"]
    before = txn_count()

    dialog = open_dialog(qtbot, window, cat, "Late cancel…", CancelDialog)
    assert not dialog.reason.isEnabled()
    tick(qtbot, dialog.waive)
    assert dialog.waive.isChecked() and dialog.reason.isEnabled()
    qtbot.mouseClick(dialog.ok, Qt.MouseButton.LeftButton)

    assert dialog.message.text() == "Reason: say why the fee is waived."
    assert window.actions_.dialog is dialog and dialog.isVisible()
    assert window.tasks.pending == 0
    assert get_appointment(cat).status == "booked"
    assert wallet(clinic.cat) == (-2500, {})
    assert txn_count() == before

    qtbot.keyClicks(dialog.reason, "car broke down")
    press_ok(qtbot, window, dialog)
    assert get_appointment(cat).status == "late_cancelled"
    assert wallet(clinic.cat) == (-2500, {})
    waived = Audit.select().where(Audit.entity == "appointment", Audit.entity_id == cat,
                                  Audit.action == "fee waived")
    assert waived.count() == 1
    assert waived.get().after == '{"fee_cents": 3000, "reason": "car broke down"}'
    txn = Txn.get(Txn.appointment_id == cat)
    assert (txn.kind, txn.receipt_no, txn.memo) == (
        "cancel", None, "late-cancelled: Acupuncture 45 2026-03-03 09:00 "
                        "(fee waived: car broke down)")
    assert [line.amount for line in txn.lines] == []      # nothing charged
    assert txn_count() == before + 1
    assert window.status.text() == "Cat Diaz: late-cancelled."


def test_reverse_check_in_needs_a_reason_then_gives_the_token_back(
        make_window: Any, clinic: Clinic, qtbot: Any) -> None:
    zoe = clinic.visits["zoe"]
    checked = check_in(clinic.ctx, CheckinRequest(zoe, use_token=True))
    assert wallet(clinic.zoe) == (0, {"Acupuncture": 3})
    window = make_window()
    before = txn_count()

    dialog = open_dialog(qtbot, window, zoe, "Reverse check-in…", ReverseDialog)
    qtbot.mouseClick(dialog.ok, Qt.MouseButton.LeftButton)
    assert dialog.message.text() == "Say why the check-in is reversed."
    assert dialog.isVisible() and window.tasks.pending == 0
    assert get_appointment(zoe).status == "checked_in"
    assert txn_count() == before

    qtbot.keyClicks(dialog.reason, "wrong patient")
    press_ok(qtbot, window, dialog)

    row = get_appointment(zoe)
    assert (row.status, row.checkin_txn_id) == ("booked", None)
    assert wallet(clinic.zoe) == (0, {"Acupuncture": 4})
    reversal = Txn.get(Txn.reverses == checked.txn.txn_id)
    assert reversal.kind == "reversal"
    assert txn_count() == before + 1
    assert window.view.grid.blocks[zoe].status == "booked"


def test_print_last_receipt_writes_the_checked_in_visits_pdf(
        make_window: Any, clinic: Clinic, qtbot: Any, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The copy opens in the receipt preview (it used to be written straight to a
    file); Save as PDF writes it."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))   # where receipts_dir() points
    zoe = clinic.visits["zoe"]
    check_in(clinic.ctx, CheckinRequest(zoe, use_token=True))
    window = make_window()

    choose(menu_for(window, zoe), "Print last receipt")
    qtbot.waitUntil(lambda: isinstance(window.actions_.dialog, ReceiptPreview), timeout=5000)

    preview = window.actions_.dialog
    assert (preview.windowTitle(), preview.file_stem) == ("Receipt 2 (copy)", "receipt-2-copy")
    assert preview.pdf.startswith(b"%PDF")
    path = tmp_path / "receipt-2-copy.pdf"             # where Save as PDF was pointed
    preview.save_to(path)
    assert path.read_bytes() == preview.pdf
    preview.reject()
    qtbot.waitUntil(lambda: window.actions_.dialog is None, timeout=5000)
    assert window.status.text() == f"Saved {path}."


def test_print_last_receipt_of_a_patient_without_one_says_so(
        make_window: Any, clinic: Clinic, qtbot: Any, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    window = make_window()
    opened: list[Path] = []
    window.actions_.open_file = opened.append

    choose(menu_for(window, clinic.visits["dan"]), "Print last receipt")
    qtbot.waitUntil(lambda: window.status.text() == "Dan Evans has no receipt yet.",
                    timeout=5000)
    assert opened == []
    assert not (tmp_path / "desk").exists()


@pytest.mark.parametrize(("name", "balance"), [("bob", "$12.50 credit"),
                                               ("cat", "Owes $25.00")])
def test_open_patient_shows_name_and_balance(make_window: Any, clinic: Clinic, qtbot: Any,
                                            name: str, balance: str) -> None:
    window = make_window()
    choose(menu_for(window, clinic.visits[name]), "Open patient…")
    pid = getattr(clinic, name)
    patient = patient_window_of(clinic.ctx, pid)
    assert patient is not None and patient.parentWidget() is window
    qtbot.waitUntil(lambda: patient.loads >= 1 and not window.tasks.pending, timeout=5000)
    full = {"bob": "Bob Brown", "cat": "Cat Diaz"}[name]
    assert patient.windowTitle() == f"{full} (#{pid}) — patient"
    assert balance in patient.header.text()
    assert window.actions_.dialog is None          # a window of its own, not a dialog
    patient.close()


# -- double-click and Enter ---------------------------------------------------------------

def test_double_click_on_a_visit_opens_its_check_in(
        make_window: Any, clinic: Clinic, qtbot: Any) -> None:
    window = make_window()
    cat = clinic.visits["cat"]
    double_click(qtbot, window, block_point(window, cat))
    qtbot.waitUntil(lambda: isinstance(window.actions_.dialog, CheckInDialog), timeout=5000)
    assert window.actions_.dialog.form.appointment_id == cat
    assert window.view.selected_id == cat
    assert get_appointment(cat).status == "booked"     # nothing written before OK


def test_enter_on_the_selected_visit_opens_its_check_in(
        make_window: Any, clinic: Clinic, qtbot: Any) -> None:
    window = make_window()
    dan = clinic.visits["dan"]
    qtbot.mouseClick(window.view.viewport(), Qt.MouseButton.LeftButton,
                     pos=block_point(window, dan))
    assert window.view.selected_id == dan
    assert window.actions_.dialog is None
    qtbot.keyClick(window.view, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: isinstance(window.actions_.dialog, CheckInDialog), timeout=5000)
    dialog = window.actions_.dialog
    assert dialog.form.appointment_id == dan
    # Dan has neither tokens nor credit: nothing is preselected; the card takes the price.
    assert not dialog.use_token.isEnabled() and not dialog.use_credit.isEnabled()
    assert dialog.payments.amount_edit(0).text() == "95.00"
    press_save(qtbot, window, dialog)
    row = get_appointment(dan)
    assert row.status == "checked_in"
    lines = {(line.account.code, line.amount)
             for line in Txn.get_by_id(row.checkin_txn_id).lines if line.amount}
    assert lines == {("tender:card", 9500), (f"revenue:service:{clinic.acu}", -9500)}
    assert wallet(clinic.dan) == (0, {})


def test_double_click_on_a_checked_in_visit_only_says_so(
        make_window: Any, clinic: Clinic, qtbot: Any) -> None:
    zoe = clinic.visits["zoe"]
    check_in(clinic.ctx, CheckinRequest(zoe, use_token=True))
    window = make_window()
    double_click(qtbot, window, block_point(window, zoe))
    assert window.actions_.dialog is None
    assert window.status.text() == "Zoë Adams is checked in; nothing to check in."


def test_a_visit_off_the_slot_grid_keeps_its_minutes_when_dragged(
        make_window: Any, clinic: Clinic, qtbot: Any) -> None:
    """A 13:10 visit dragged one slot down starts at 13:25 (not 13:15), and dropped
    back where it was it does not move at all."""
    booked = book(clinic.ctx, clinic.dan, clinic.acu, clinic.ann, at(TUESDAY, 13, 10))
    window = make_window()
    asked: list[str] = []
    window.actions_.confirm = lambda _parent, _title, text: not asked.append(text)
    visit = booked.appointment_id
    assert drag_and_drop(window, visit, 0, slot_point(window, at(TUESDAY, 13), clinic.ann))
    qtbot.waitUntil(lambda: not window.tasks.pending, timeout=5000)
    assert asked == []
    assert where(visit)[0] == at(TUESDAY, 13, 10)
    assert drag_and_drop(window, visit, 0, slot_point(window, at(TUESDAY, 13, 15), clinic.ann))
    qtbot.waitUntil(lambda: where(visit)[0] == at(TUESDAY, 13, 25), timeout=5000)
    assert asked == ["Move Dan Evans's Acupuncture 45\nfrom Tue 03 Mar 13:10 to "
                     "Tue 03 Mar 13:25 with Ann Lee?"]
