"""A sale without a visit (SPEC §3 Sell) from the schedule window: Ctrl+Shift+S opens
it for the selected visit's patient; a package, tokens or credit, paid by card or
cash, paying less leaves the rest owed. The ledger is read back to the cent.

The clinic is the one in ``tests/ui/conftest.py``: Zoë 4 Acupuncture tokens, Bob
12.50 credit, Dan nothing; the five-pack is "Five acupuncture", 5 tokens, 350.00.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QComboBox

from desk.data.models import Account, Line, Txn
from desk.services import queries
from desk.ui.main_window import MainWindow
from desk.ui.sale_dialog import SaleDialog
from tests.ui.conftest import Clinic, choose, close_receipt, retype, save_with_enter

LEFT = Qt.MouseButton.LeftButton
CTRL_SHIFT = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier


# -- helpers ------------------------------------------------------------------------------

def open_sale(qtbot: Any, window: MainWindow, appointment_id: int | None) -> SaleDialog:
    """Select the visit (or nothing), press Ctrl+Shift+S, wait for the dialog."""
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=5000)
    if appointment_id is None:
        window.view.setFocus()
        qtbot.keyClick(window.view, Qt.Key.Key_Escape)
    else:
        rect = window.view.block_rect(appointment_id)
        assert rect is not None
        qtbot.mouseClick(window.view.viewport(), LEFT, pos=rect.center())
    assert window.view.selected_id == appointment_id
    qtbot.keyClick(QApplication.focusWidget() or window, Qt.Key.Key_S, CTRL_SHIFT)
    qtbot.waitUntil(lambda: isinstance(window.actions_.dialog, SaleDialog), timeout=5000)
    dialog = window.actions_.dialog
    assert isinstance(dialog, SaleDialog)
    return dialog


def wait_wallet(qtbot: Any, dialog: SaleDialog) -> None:
    """The patient's balance is read on the worker after the dialog opens."""
    qtbot.waitUntil(lambda: dialog.wallet is not None, timeout=5000)


def payment_method(dialog: SaleDialog, index: int = 0) -> QComboBox:
    combo = dialog.payments.rows[index][0]
    assert isinstance(combo, QComboBox)
    return combo


def wallet(patient_id: int) -> tuple[int, dict[str, int]]:
    found = queries.balance(patient_id)
    return found.credit_cents, {k: n for k, n in found.tokens.items() if n}


def sales() -> list[Txn]:
    return list(Txn.select().where(Txn.kind == "sale").order_by(Txn.id))


def money_lines(txn_id: int) -> dict[str, int]:
    """The transaction's money lines per account code (debit positive)."""
    out: dict[str, int] = {}
    for code, amount in (Line.select(Account.code, Line.amount)
                         .join(Account, on=(Line.account == Account.id))
                         .where(Line.txn == txn_id, Account.unit == "money").tuples()):
        out[code] = out.get(code, 0) + int(amount)
    return {code: amount for code, amount in out.items() if amount}


# -- tests ----------------------------------------------------------------------------------

def test_ctrl_shift_s_sells_zoe_the_package_by_card(
        make_window: Any, clinic: Clinic, qtbot: Any) -> None:
    window = make_window()
    dialog = open_sale(qtbot, window, clinic.visits["zoe"])
    assert dialog.windowTitle() == "Sale"
    assert dialog.search.patient is not None and dialog.search.patient.id == clinic.zoe
    assert dialog.search.edit.text() == "Zoë Adams"
    assert dialog.what.currentData() == "package"
    assert dialog.package.currentText() == "Five acupuncture: 5 Acupuncture tokens, $350.00"
    assert payment_method(dialog).currentData() == "card"
    assert dialog.payments.amount_edit(0).text() == "350.00"
    wait_wallet(qtbot, dialog)
    assert dialog.totals.text() == ("Price $350.00 · Paid $350.00<br>"
                                    "Leaves 9 Acupuncture tokens.")
    before = len(sales())

    assert save_with_enter(qtbot, window, dialog) == "Receipt 2"

    assert len(sales()) == before + 1
    txn = sales()[-1]
    assert (txn.patient_id, txn.receipt_no) == (clinic.zoe, 2)
    assert money_lines(txn.id) == {"tender:card": 35000, "prepaid": -35000}
    assert wallet(clinic.zoe) == (0, {"Acupuncture": 9})
    view = queries.history(clinic.zoe)[0]
    assert (view.id, view.credit_change_cents, view.token_changes) == (
        txn.id, 0, {"Acupuncture": 5})
    assert window.status.text() == "Sold to Zoë Adams; receipt 2."


def test_three_massage_tokens_paid_in_part_leave_the_rest_owed(
        make_window: Any, clinic: Clinic, qtbot: Any) -> None:
    window = make_window()
    dialog = open_sale(qtbot, window, clinic.visits["dan"])
    wait_wallet(qtbot, dialog)
    choose(qtbot, dialog.what, "Tokens")
    choose(qtbot, dialog.kind, "Massage")
    dialog.count.setFocus()
    qtbot.keyClick(dialog.count, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClicks(dialog.count, "3")
    assert dialog.count.value() == 3
    qtbot.keyClicks(dialog.token_price, "240.00")
    assert dialog.payments.amount_edit(0).text() == "240.00"
    retype(qtbot, dialog.payments.amount_edit(0), "200.00")
    assert dialog.totals.text() == ("Price $240.00 · Paid $200.00 · "
                                    "<b>$40.00 left owed</b><br>"
                                    "Leaves 3 Massage tokens and $40.00 owed.")

    save_with_enter(qtbot, window, dialog)

    txn = sales()[-1]
    assert txn.patient_id == clinic.dan
    assert money_lines(txn.id) == {"tender:card": 20000, f"patient:{clinic.dan}:credit": 4000,
                                   "prepaid": -24000}
    assert wallet(clinic.dan) == (-4000, {"Massage": 3})
    view = queries.history(clinic.dan)[0]
    assert (view.credit_change_cents, view.token_changes) == (-4000, {"Massage": 3})


def test_fifty_of_credit_sold_for_cash(make_window: Any, clinic: Clinic, qtbot: Any) -> None:
    window = make_window()
    dialog = open_sale(qtbot, window, clinic.visits["bob"])
    wait_wallet(qtbot, dialog)
    choose(qtbot, dialog.what, "Prepaid credit")
    qtbot.keyClicks(dialog.credit, "50.00")
    choose(qtbot, payment_method(dialog), "Cash")
    assert dialog.payments.amount_edit(0).text() == "50.00"
    assert dialog.totals.text() == "Price $50.00 · Paid $50.00<br>Leaves $62.50 credit."

    save_with_enter(qtbot, window, dialog)

    txn = sales()[-1]
    assert txn.patient_id == clinic.bob
    assert money_lines(txn.id) == {"tender:cash": 5000, f"patient:{clinic.bob}:credit": -5000}
    assert wallet(clinic.bob) == (6250, {})


def test_a_sale_without_a_patient_names_the_patient_field(
        make_window: Any, clinic: Clinic, qtbot: Any) -> None:
    window = make_window()
    dialog = open_sale(qtbot, window, None)
    assert dialog.search.patient is None and dialog.search.edit.text() == ""
    assert dialog.totals.text() == "Price $350.00 · Paid $350.00"
    before = Txn.select().count()

    qtbot.mouseClick(dialog.save, LEFT)

    assert dialog.message.text() == "Patient: choose one from the list (type a name or phone)"
    assert window.actions_.dialog is dialog and dialog.isVisible()
    assert window.tasks.pending == 0 and Txn.select().count() == before

    # Typing a name and Enter takes the first match; Enter again sells.
    qtbot.keyClicks(dialog.search.edit, "dan")
    qtbot.keyClick(dialog.search.edit, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: dialog.search.patient is not None, timeout=5000)
    assert dialog.search.patient.id == clinic.dan
    save_with_enter(qtbot, window, dialog)
    assert wallet(clinic.dan) == (0, {"Acupuncture": 5})
    assert Txn.select().count() == before + 1


def test_credit_sold_without_payment_is_refused_in_the_dialog(
        make_window: Any, clinic: Clinic, qtbot: Any) -> None:
    window = make_window()
    dialog = open_sale(qtbot, window, clinic.visits["bob"])
    wait_wallet(qtbot, dialog)
    choose(qtbot, dialog.what, "Prepaid credit")
    qtbot.keyClicks(dialog.credit, "50.00")
    retype(qtbot, dialog.payments.amount_edit(0), "0")
    before = Txn.select().count()

    qtbot.mouseClick(dialog.save, LEFT)

    assert dialog.message.text() == "Payment 1 amount: prepaid credit must be paid for"
    assert window.actions_.dialog is dialog and dialog.isVisible()
    assert dialog.save.isEnabled() and window.tasks.pending == 0
    assert Txn.select().count() == before
    assert wallet(clinic.bob) == (1250, {})
    dialog.reject()


def test_a_double_click_on_sell_writes_once(
        make_window: Any, clinic: Clinic, qtbot: Any) -> None:
    window = make_window()
    dialog = open_sale(qtbot, window, clinic.visits["zoe"])
    before = len(sales())
    loads = window.loads
    qtbot.mouseClick(dialog.save, LEFT)
    qtbot.mouseDClick(dialog.save, LEFT)
    qtbot.mouseRelease(dialog.save, LEFT)
    qtbot.keyClick(dialog, Qt.Key.Key_Return)
    close_receipt(qtbot, window, loads)
    assert len(sales()) == before + 1
    assert wallet(clinic.zoe) == (0, {"Acupuncture": 9})
