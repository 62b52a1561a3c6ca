"""The check-in dialog (SPEC §3 Check in) driven like a receptionist: Enter on the
selected visit opens it, typing and clicking fills it, Enter saves; then the ledger is
read back to the cent and to the token.

The clinic is the one in ``tests/ui/conftest.py`` (clock Monday 2026-03-02 15:00):
Zoë 4 Acupuncture tokens, Bob 12.50 credit, Cat owes 25.00, Dan nothing; each has a
visit on Tuesday (Bob a 120.00 massage, the others a 95.00 acupuncture).
"""

from __future__ import annotations

import threading
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialogButtonBox,
    QLabel,
    QLineEdit,
    QPushButton,
    QStyle,
    QStyleOptionButton,
)

from desk.data.models import Account, Line, TokenKind, Txn
from desk.services import queries
from desk.services.appointments import get_appointment
from desk.services.results import Tender
from desk.services.reversal import reverse
from desk.ui.checkin_dialog import CheckInDialog, leaves_sentence
from desk.ui.main_window import MainWindow
from tests.ui.conftest import (
    CheckinRequest,
    Clinic,
    check_in,
    choose,
    close_receipt,
    retype,
    save_with_enter,
    wait_loaded,
)

LEFT = Qt.MouseButton.LeftButton
CTRL = Qt.KeyboardModifier.ControlModifier


# -- helpers ------------------------------------------------------------------------------

def open_check_in(qtbot: Any, window: MainWindow, appointment_id: int) -> CheckInDialog:
    """Click the visit on the grid, press Enter, wait for the dialog (its form is read
    on the worker first)."""
    rect = window.view.block_rect(appointment_id)
    assert rect is not None
    qtbot.mouseClick(window.view.viewport(), LEFT, pos=rect.center())
    assert window.view.selected_id == appointment_id
    qtbot.keyClick(window.view, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: isinstance(window.actions_.dialog, CheckInDialog), timeout=5000)
    dialog = window.actions_.dialog
    assert isinstance(dialog, CheckInDialog)
    assert dialog.form.appointment_id == appointment_id
    return dialog


def tick(qtbot: Any, box: QCheckBox) -> None:
    """Click a check box on its indicator."""
    option = QStyleOptionButton()
    box.initStyleOption(option)
    rect = box.style().subElementRect(QStyle.SubElement.SE_CheckBoxIndicator, option, box)
    qtbot.mouseClick(box, LEFT, pos=rect.center())


def button(dialog: CheckInDialog, text: str) -> QPushButton:
    return next(b for b in dialog.findChildren(QPushButton) if b.text() == text)


def payment_method(dialog: CheckInDialog, index: int) -> QComboBox:
    combo = dialog.payments.rows[index][0]
    assert isinstance(combo, QComboBox)
    return combo


def item_edits(dialog: CheckInDialog, index: int) -> tuple[QLineEdit, QLineEdit]:
    name, price = dialog.items.rows[index][:2]
    assert isinstance(name, QLineEdit) and isinstance(price, QLineEdit)
    return name, price


def wallet(patient_id: int) -> tuple[int, dict[str, int]]:
    found = queries.balance(patient_id)
    return found.credit_cents, {k: n for k, n in found.tokens.items() if n}


def txn_count() -> int:
    return int(Txn.select().count())


def lines_of(txn_id: int) -> dict[str, int]:
    """The transaction's lines summed per account code (debit positive)."""
    out: dict[str, int] = {}
    for code, amount in (Line.select(Account.code, Line.amount)
                         .join(Account, on=(Line.account == Account.id))
                         .where(Line.txn == txn_id).tuples()):
        out[code] = out.get(code, 0) + int(amount)
    return {code: amount for code, amount in out.items() if amount}


def checkin_txn(appointment_id: int) -> Txn:
    row = get_appointment(appointment_id)
    assert row.status == "checked_in"
    txn = Txn.get_by_id(row.checkin_txn_id)
    assert txn.kind == "checkin"
    return txn


def tender_refs(txn_id: int) -> list[tuple[str, int, str]]:
    return [(code, int(amount), memo) for code, amount, memo in (
        Line.select(Account.code, Line.amount, Line.memo)
        .join(Account, on=(Line.account == Account.id))
        .where(Line.txn == txn_id, Account.code.startswith("tender:"))
        .order_by(Line.id).tuples())]


class Codes:
    """Account codes of the conftest clinic."""

    def __init__(self, clinic: Clinic) -> None:
        self.c = clinic

    def credit(self, patient: int) -> str:
        return f"patient:{patient}:credit"

    @staticmethod
    def tok(patient: int, kind: str = "Acupuncture") -> str:
        return f"patient:{patient}:tok:{TokenKind.get(TokenKind.name == kind).id}"

    @staticmethod
    def issued(kind: str = "Acupuncture") -> str:
        return f"issued:{TokenKind.get(TokenKind.name == kind).id}"

    def acu(self) -> str:
        return f"revenue:service:{self.c.acu}"

    def msg(self) -> str:
        return f"revenue:service:{self.c.msg}"


# -- leaves_sentence ------------------------------------------------------------------------

@pytest.mark.parametrize(("tokens", "credit", "currency", "sentence"), [
    ({}, 0, "USD", "Leaves nothing on account."),
    ({"Acupuncture": 0}, 0, "USD", "Leaves nothing on account."),
    ({"Acupuncture": 1}, 0, "USD", "Leaves 1 Acupuncture token."),
    ({"Acupuncture": 3}, 0, "USD", "Leaves 3 Acupuncture tokens."),
    ({}, 1500, "USD", "Leaves $15.00 credit."),
    ({}, -2000, "USD", "Leaves $20.00 owed."),
    ({"Acupuncture": 4}, 1500, "USD", "Leaves 4 Acupuncture tokens and $15.00 credit."),
    ({"Massage": 2, "Acupuncture": 1}, -5, "USD",
     "Leaves 1 Acupuncture token, 2 Massage tokens and $0.05 owed."),
    ({"Massage": 2, "Acupuncture": 0}, 0, "USD", "Leaves 2 Massage tokens."),
    ({}, 123456, "EUR", "Leaves €1,234.56 credit."),
    ({}, -70000, "JPY", "Leaves ¥700 owed."),
])
def test_leaves_sentence(tokens: dict[str, int], credit: int, currency: str,
                         sentence: str) -> None:
    assert leaves_sentence(tokens, credit, currency) == sentence


# -- Enter, Enter -----------------------------------------------------------------------------

def test_enter_enter_checks_zoe_in_with_a_token(
        make_window: Any, clinic: Clinic, qtbot: Any) -> None:
    window = make_window()
    zoe = clinic.visits["zoe"]
    assert wallet(clinic.zoe) == (0, {"Acupuncture": 4})
    dialog = open_check_in(qtbot, window, zoe)
    assert dialog.windowTitle() == "Check in — Zoë Adams"
    assert dialog.use_token.isChecked() and dialog.use_token.isEnabled()
    assert dialog.use_token.text() == "Use one Acupuncture token (4 free)"
    assert not dialog.use_credit.isChecked() and not dialog.use_credit.isEnabled()
    assert dialog.price.text() == "95.00"
    assert dialog.payments.amount_edit(0).text() == ""
    assert dialog.totals.text() == "Due $0.00 · Paid $0.00"
    assert dialog.result_line.text() == "Leaves 3 Acupuncture tokens."
    assert dialog.message.text() == ""
    heading = next(label for label in dialog.findChildren(QLabel)
                   if label.accessibleName() == "Patient and balances")
    assert heading.text() == ("<b>Zoë Adams</b> — Acupuncture 45, Tue 03 Mar 09:00<br>"
                              "Now: 4 Acupuncture tokens")
    before = txn_count()

    assert save_with_enter(qtbot, window, dialog) == "Receipt 2"

    txn = checkin_txn(zoe)
    assert txn.receipt_no == 2                       # the package sale took receipt 1
    assert txn_count() == before + 1
    assert wallet(clinic.zoe) == (0, {"Acupuncture": 3})
    codes = Codes(clinic)
    # One token back to the clinic; its value (70.00 of the 350.00 five-pack) leaves
    # prepaid and is earned by the treatment. No tender, nothing on Zoë's credit.
    assert lines_of(txn.id) == {codes.tok(clinic.zoe): 1, codes.issued(): -1,
                                "prepaid": 7000, codes.acu(): -7000}
    view = queries.history(clinic.zoe)[0]
    assert (view.id, view.credit_change_cents, view.token_changes) == (
        txn.id, 0, {"Acupuncture": -1})
    assert window.status.text() == "Checked in Zoë Adams; receipt 2."
    block = window.view.grid.blocks[zoe]
    assert (block.status, block.receipt_no) == ("checked_in", 2)


def test_enter_enter_checks_dan_in_at_the_price_by_card(
        make_window: Any, clinic: Clinic, qtbot: Any) -> None:
    window = make_window()
    dan = clinic.visits["dan"]
    dialog = open_check_in(qtbot, window, dan)
    assert not dialog.use_token.isChecked() and not dialog.use_token.isEnabled()
    assert not dialog.use_credit.isChecked() and not dialog.use_credit.isEnabled()
    assert payment_method(dialog, 0).currentData() == "card"
    assert dialog.payments.amount_edit(0).text() == "95.00"
    assert dialog.totals.text() == "Due $95.00 · Paid $95.00"
    assert dialog.result_line.text() == "Leaves nothing on account."

    save_with_enter(qtbot, window, dialog)

    txn = checkin_txn(dan)
    codes = Codes(clinic)
    assert lines_of(txn.id) == {"tender:card": 9500, codes.acu(): -9500}
    assert wallet(clinic.dan) == (0, {})


def test_the_payment_method_chosen_last_is_the_next_default(
        make_window: Any, clinic: Clinic, qtbot: Any) -> None:
    window = make_window()
    dialog = open_check_in(qtbot, window, clinic.visits["dan"])
    assert payment_method(dialog, 0).currentData() == "card"
    choose(qtbot, payment_method(dialog, 0), "Cash")
    assert dialog.payments.amount_edit(0).text() == "95.00"
    save_with_enter(qtbot, window, dialog)
    assert tender_refs(checkin_txn(clinic.visits["dan"]).id) == [("tender:cash", 9500, "cash")]

    dialog = open_check_in(qtbot, window, clinic.visits["cat"])
    assert payment_method(dialog, 0).currentData() == "cash"
    assert dialog.totals.text() == "Due $95.00 · Paid $95.00"
    assert dialog.result_line.text() == "Leaves $25.00 owed."     # what Cat owed before
    save_with_enter(qtbot, window, dialog)
    txn = checkin_txn(clinic.visits["cat"])
    assert lines_of(txn.id) == {"tender:cash": 9500, Codes(clinic).acu(): -9500}
    assert wallet(clinic.cat) == (-2500, {})


# -- credit, items, overpaying, paying nothing ------------------------------------------------

def test_bobs_credit_covers_part_and_the_card_the_rest(
        make_window: Any, clinic: Clinic, qtbot: Any) -> None:
    window = make_window()
    bob = clinic.visits["bob"]
    dialog = open_check_in(qtbot, window, bob)
    assert dialog.use_credit.isChecked() and dialog.use_credit.isEnabled()
    assert dialog.use_credit.text() == "Use credit ($12.50 free)"
    assert dialog.payments.amount_edit(0).text() == "107.50"
    assert payment_method(dialog, 0).currentData() == "card"
    assert dialog.totals.text() == "Due $120.00 · Credit $12.50 · Paid $107.50"
    assert dialog.result_line.text() == "Leaves nothing on account."

    save_with_enter(qtbot, window, dialog)

    txn = checkin_txn(bob)
    codes = Codes(clinic)
    assert lines_of(txn.id) == {"tender:card": 10750, codes.credit(clinic.bob): 1250,
                                codes.msg(): -12000}
    assert wallet(clinic.bob) == (0, {})
    assert queries.history(clinic.bob)[0].credit_change_cents == -1250


def test_herbs_with_a_token_are_paid_by_card(
        make_window: Any, clinic: Clinic, qtbot: Any) -> None:
    window = make_window()
    zoe = clinic.visits["zoe"]
    dialog = open_check_in(qtbot, window, zoe)
    add = button(dialog, "Add item")
    qtbot.mouseClick(add, LEFT)
    name, price = item_edits(dialog, 0)
    qtbot.waitUntil(lambda: dialog.focusWidget() is name, timeout=2000)
    qtbot.keyClicks(name, "Herbal formula")
    qtbot.keyClick(name, Qt.Key.Key_Tab)
    assert dialog.focusWidget() is price
    qtbot.keyClicks(price, "18.00")
    assert dialog.use_token.isChecked()
    assert dialog.payments.amount_edit(0).text() == "18.00"
    assert dialog.totals.text() == "Due $18.00 · Paid $18.00"
    assert dialog.result_line.text() == "Leaves 3 Acupuncture tokens."

    loads = window.loads
    qtbot.keyClick(price, Qt.Key.Key_Return)         # Enter in a field saves too
    close_receipt(qtbot, window, loads)

    txn = checkin_txn(zoe)
    codes = Codes(clinic)
    assert lines_of(txn.id) == {codes.tok(clinic.zoe): 1, codes.issued(): -1,
                                "prepaid": 7000, codes.acu(): -7000,
                                "tender:card": 1800, "revenue:items": -1800}
    assert Line.get(Line.txn == txn.id, Line.amount == -1800).memo == "Herbal formula"
    assert wallet(clinic.zoe) == (0, {"Acupuncture": 3})
    view = queries.history(clinic.zoe)[0]
    assert (view.credit_change_cents, view.token_changes) == (0, {"Acupuncture": -1})


def test_paying_more_than_due_adds_credit(
        make_window: Any, clinic: Clinic, qtbot: Any) -> None:
    window = make_window()
    dan = clinic.visits["dan"]
    dialog = open_check_in(qtbot, window, dan)
    retype(qtbot, dialog.payments.amount_edit(0), "150.00")
    assert dialog.payments.amount_edit(0).text() == "150.00"
    assert dialog.totals.text() == "Due $95.00 · Paid $150.00"
    assert dialog.result_line.text() == "Leaves $55.00 credit. (adds $55.00 credit)"

    save_with_enter(qtbot, window, dialog)

    codes = Codes(clinic)
    assert lines_of(checkin_txn(dan).id) == {"tender:card": 15000, codes.acu(): -9500,
                                             codes.credit(clinic.dan): -5500}
    assert wallet(clinic.dan) == (5500, {})


def test_forgot_wallet_clearing_the_payment_leaves_the_visit_owed(
        make_window: Any, clinic: Clinic, qtbot: Any) -> None:
    window = make_window()
    dan = clinic.visits["dan"]
    dialog = open_check_in(qtbot, window, dan)
    retype(qtbot, dialog.payments.amount_edit(0), "")
    assert dialog.payments.amount_edit(0).text() == "", \
        "the cleared payment was filled in again: nothing-paid-now cannot be typed"
    assert dialog.totals.text() == "Due $95.00 · Paid $0.00"
    assert dialog.result_line.text() == ("Leaves $95.00 owed. "
                                         "(leaves $95.00 of this visit owed)")

    save_with_enter(qtbot, window, dialog)

    codes = Codes(clinic)
    assert lines_of(checkin_txn(dan).id) == {codes.credit(clinic.dan): 9500,
                                             codes.acu(): -9500}
    assert wallet(clinic.dan) == (-9500, {})


def test_removing_the_payment_leaves_the_visit_owed(
        make_window: Any, clinic: Clinic, qtbot: Any) -> None:
    window = make_window()
    dan = clinic.visits["dan"]
    dialog = open_check_in(qtbot, window, dan)
    remove = dialog.payments.rows[0][3]
    qtbot.mouseClick(remove, LEFT)
    assert dialog.payments.rows == []
    assert dialog.totals.text() == "Due $95.00 · Paid $0.00"
    assert dialog.result_line.text() == ("Leaves $95.00 owed. "
                                         "(leaves $95.00 of this visit owed)")
    save_with_enter(qtbot, window, dialog)
    assert tender_refs(checkin_txn(dan).id) == []
    assert wallet(clinic.dan) == (-9500, {})


def test_buying_the_package_at_check_in_pays_the_visit_with_its_token(
        make_window: Any, clinic: Clinic, qtbot: Any) -> None:
    """Dan has no token: he buys the five-pack at the counter and today's visit takes
    one of its tokens, so he pays the package price only and keeps 4 tokens."""
    window = make_window()
    dan = clinic.visits["dan"]
    dialog = open_check_in(qtbot, window, dan)
    choose(qtbot, dialog.package, "Buy Five acupuncture")
    assert dialog.package.currentText() == \
        "Buy Five acupuncture: 5 Acupuncture tokens, $350.00"
    assert dialog.use_token.isEnabled(), \
        "a package of the visit's kind is being bought, yet its token cannot be used"
    if not dialog.use_token.isChecked():
        tick(qtbot, dialog.use_token)
    assert dialog.payments.amount_edit(0).text() == "350.00"
    assert dialog.totals.text() == "Due $350.00 · Paid $350.00"
    assert dialog.result_line.text() == "Leaves 4 Acupuncture tokens."

    save_with_enter(qtbot, window, dialog)

    txn = checkin_txn(dan)
    assert tender_refs(txn.id) == [("tender:card", 35000, "card")]
    assert wallet(clinic.dan) == (0, {"Acupuncture": 4})
    view = queries.history(clinic.dan)[0]
    assert (view.credit_change_cents, view.token_changes) == (0, {"Acupuncture": 4})


def test_cash_handed_over_shows_the_change(
        make_window: Any, clinic: Clinic, qtbot: Any) -> None:
    window = make_window()
    dan = clinic.visits["dan"]
    dialog = open_check_in(qtbot, window, dan)
    choose(qtbot, payment_method(dialog, 0), "Cash")
    qtbot.keyClicks(dialog.cash_given, "100.00")
    assert dialog.totals.text() == "Due $95.00 · Paid $95.00 · <b>Change $5.00</b>"
    assert dialog.result_line.text() == "Leaves nothing on account."

    save_with_enter(qtbot, window, dialog)

    txn = checkin_txn(dan)
    assert tender_refs(txn.id) == [("tender:cash", 9500,
                                    "cash given $100.00, change $5.00")]
    assert lines_of(txn.id) == {"tender:cash": 9500, Codes(clinic).acu(): -9500}
    assert wallet(clinic.dan) == (0, {})


def test_an_edited_treatment_price_is_what_is_charged(
        make_window: Any, clinic: Clinic, qtbot: Any) -> None:
    window = make_window()
    dan = clinic.visits["dan"]
    dialog = open_check_in(qtbot, window, dan)
    retype(qtbot, dialog.price, "70.00")             # sliding scale
    assert dialog.payments.amount_edit(0).text() == "70.00"
    assert dialog.totals.text() == "Due $70.00 · Paid $70.00"
    assert dialog.result_line.text() == "Leaves nothing on account."

    save_with_enter(qtbot, window, dialog)

    assert lines_of(checkin_txn(dan).id) == {"tender:card": 7000,
                                             Codes(clinic).acu(): -7000}
    assert wallet(clinic.dan) == (0, {})


def test_card_and_cash_together(make_window: Any, clinic: Clinic, qtbot: Any) -> None:
    window = make_window()
    dan = clinic.visits["dan"]
    dialog = open_check_in(qtbot, window, dan)
    retype(qtbot, dialog.payments.amount_edit(0), "60.00")
    add = button(dialog, "Add payment")
    qtbot.mouseClick(add, LEFT)
    assert len(dialog.payments.rows) == 2
    qtbot.waitUntil(lambda: dialog.focusWidget() is dialog.payments.amount_edit(1),
                    timeout=2000)
    choose(qtbot, payment_method(dialog, 1), "Cash")
    qtbot.keyClicks(dialog.payments.amount_edit(1), "35.00")
    assert dialog.totals.text() == "Due $95.00 · Paid $95.00"
    assert dialog.result_line.text() == "Leaves nothing on account."

    save_with_enter(qtbot, window, dialog)

    txn = checkin_txn(dan)
    assert tender_refs(txn.id) == [("tender:card", 6000, "card"),
                                   ("tender:cash", 3500, "cash")]
    assert lines_of(txn.id) == {"tender:card": 6000, "tender:cash": 3500,
                                Codes(clinic).acu(): -9500}
    assert wallet(clinic.dan) == (0, {})


def test_a_second_payment_fills_what_the_first_leaves(
        make_window: Any, clinic: Clinic, qtbot: Any) -> None:
    """The first payment keeps offering what the others leave to pay."""
    window = make_window()
    dialog = open_check_in(qtbot, window, clinic.visits["dan"])
    add = button(dialog, "Add payment")
    qtbot.mouseClick(add, LEFT)
    qtbot.keyClicks(dialog.payments.amount_edit(1), "20.00")
    assert dialog.payments.amount_edit(0).text() == "75.00"
    assert dialog.totals.text() == "Due $95.00 · Paid $95.00"
    dialog.reject()


def test_enter_on_a_visit_checked_in_on_another_desk_opens_nothing(
        make_window: Any, clinic: Clinic, qtbot: Any) -> None:
    """The grid still shows Dan booked; the form read on Enter says otherwise."""
    window = make_window()
    dan = clinic.visits["dan"]
    check_in(clinic.ctx, CheckinRequest(dan, tenders=(Tender("cash", 9500),)))
    before = txn_count()
    rect = window.view.block_rect(dan)
    assert rect is not None
    qtbot.mouseClick(window.view.viewport(), LEFT, pos=rect.center())
    loads = window.loads
    qtbot.keyClick(window.view, Qt.Key.Key_Return)
    wait_loaded(qtbot, window, loads)
    assert window.actions_.dialog is None
    assert window.status.text() == "Dan Evans is checked in; nothing to check in."
    assert window.view.grid.blocks[dan].status == "checked_in"
    assert txn_count() == before


# -- bad input, refusals, double clicks -------------------------------------------------------

@pytest.mark.parametrize(("field", "typed", "message"), [
    ("payment", "abc", "Payment 1 amount: "),
    ("item price", "", "Item 1 price: "),
    ("price", "-5.00", "Treatment price: '-5.00' must be positive"),
    ("cash given", "90.00", "Cash handed over: "),
    ("cash given to a card", "100.00", "Cash handed over: "),
])
def test_bad_input_names_the_field_and_writes_nothing(
        make_window: Any, clinic: Clinic, qtbot: Any, field: str, typed: str,
        message: str) -> None:
    window = make_window()
    dan = clinic.visits["dan"]
    dialog = open_check_in(qtbot, window, dan)
    if field == "payment":
        retype(qtbot, dialog.payments.amount_edit(0), typed)
    elif field == "item price":
        add = button(dialog, "Add item")
        qtbot.mouseClick(add, LEFT)
        qtbot.keyClicks(item_edits(dialog, 0)[0], "Herbal formula")
    elif field == "cash given":
        choose(qtbot, payment_method(dialog, 0), "Cash")
        qtbot.keyClicks(dialog.cash_given, typed)         # less than the 95.00 in cash
    elif field == "cash given to a card":
        qtbot.keyClicks(dialog.cash_given, typed)         # the only payment is by card
    else:
        retype(qtbot, dialog.price, typed)
    assert dialog.message.text().startswith(message)      # said while typing
    assert dialog.totals.text() == "" and dialog.result_line.text() == ""
    before = txn_count()

    qtbot.mouseClick(dialog.save, LEFT)

    assert dialog.message.text().startswith(message)
    assert window.actions_.dialog is dialog and dialog.isVisible()
    assert dialog.save.isEnabled() and window.tasks.pending == 0
    assert txn_count() == before
    assert get_appointment(dan).status == "booked"
    assert wallet(clinic.dan) == (0, {})
    dialog.reject()


def test_a_refusal_keeps_everything_typed_and_the_dialog_usable(
        make_window: Any, clinic: Clinic, qtbot: Any) -> None:
    """Another desk checks Dan in while this dialog is open: Save is refused, what
    was typed stays, and once that check-in is reversed Save goes through."""
    window = make_window()
    dan = clinic.visits["dan"]
    dialog = open_check_in(qtbot, window, dan)
    add = button(dialog, "Add item")
    qtbot.mouseClick(add, LEFT)
    name, price = item_edits(dialog, 0)
    qtbot.keyClicks(name, "Herbal formula")
    qtbot.keyClicks(price, "18.00")
    retype(qtbot, dialog.payments.amount_edit(0), "120.00")
    other = check_in(clinic.ctx, CheckinRequest(dan, tenders=(Tender("cash", 9500),)))
    before = txn_count()

    qtbot.mouseClick(dialog.save, LEFT)
    qtbot.waitUntil(lambda: window.tasks.pending == 0 and not dialog.busy, timeout=5000)

    assert dialog.message.text() == \
        f"Appointment {dan} is checked in; it cannot become checked in"
    assert window.actions_.dialog is dialog and dialog.isVisible()
    assert (name.text(), price.text()) == ("Herbal formula", "18.00")
    assert dialog.payments.amount_edit(0).text() == "120.00"
    assert dialog.price.text() == "95.00"
    assert dialog.save.isEnabled()
    assert txn_count() == before
    assert Txn.get_by_id(get_appointment(dan).checkin_txn_id).id == other.txn.txn_id

    reverse(clinic.ctx, other.txn.txn_id, "checked in on the wrong desk")
    loads = window.loads
    qtbot.mouseClick(dialog.save, LEFT)
    close_receipt(qtbot, window, loads)

    txn = checkin_txn(dan)
    assert txn.id != other.txn.txn_id
    codes = Codes(clinic)
    assert lines_of(txn.id) == {"tender:card": 12000, codes.acu(): -9500,
                                "revenue:items": -1800, codes.credit(clinic.dan): -700}
    assert wallet(clinic.dan) == (700, {})


def test_a_double_click_on_save_writes_one_transaction(
        make_window: Any, clinic: Clinic, qtbot: Any) -> None:
    window = make_window()
    dan = clinic.visits["dan"]
    dialog = open_check_in(qtbot, window, dan)
    before = txn_count()
    loads = window.loads
    qtbot.mouseClick(dialog.save, LEFT)
    qtbot.mouseDClick(dialog.save, LEFT)
    qtbot.mouseRelease(dialog.save, LEFT)
    qtbot.keyClick(dialog, Qt.Key.Key_Return)
    close_receipt(qtbot, window, loads)
    assert txn_count() == before + 1
    assert wallet(clinic.dan) == (0, {})
    assert lines_of(checkin_txn(dan).id) == {"tender:card": 9500, Codes(clinic).acu(): -9500}


def test_save_is_disabled_while_saving(make_window: Any, clinic: Clinic, qtbot: Any) -> None:
    window = make_window()
    dan = clinic.visits["dan"]
    dialog = open_check_in(qtbot, window, dan)
    gate = threading.Event()
    window.tasks.run(lambda: gate.wait(10))           # the worker is busy elsewhere
    cancel = dialog.buttons.button(QDialogButtonBox.StandardButton.Cancel)
    loads = window.loads
    try:
        qtbot.mouseClick(dialog.save, LEFT)
        assert dialog.busy
        assert not dialog.save.isEnabled() and not cancel.isEnabled()
        assert dialog.message.text() == "Saving…"
        qtbot.keyClick(dialog, Qt.Key.Key_Escape)     # cannot be closed meanwhile
        qtbot.keyClick(dialog, Qt.Key.Key_Return)
        assert dialog.isVisible() and window.actions_.dialog is dialog
        assert get_appointment(dan).status == "booked"
    finally:
        gate.set()
    close_receipt(qtbot, window, loads)
    assert get_appointment(dan).status == "checked_in"
    assert Txn.select().where(Txn.kind == "checkin").count() == 1
