"""Editable rows of the money dialogs: extra items and payments (tenders).

Each row parses its own fields and names them in errors ("Payment 2 amount: …"), so
the dialog can say exactly what to fix.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QGridLayout,
    QLineEdit,
    QPushButton,
    QWidget,
)

from desk.core.errors import BadInput
from desk.core.money import format_amount, parse_amount
from desk.core.text import clean_text
from desk.services.results import Tender

METHODS = (("Card", "card"), ("Cash", "cash"), ("Check", "check"), ("Other", "other"))


def amount_of(edit: QLineEdit, field: str, *, allow_zero: bool = False) -> int:
    """Cents typed in ``edit`` ("" is 0 when ``allow_zero``)."""
    text = edit.text().strip()
    if not text and allow_zero:
        return 0
    return parse_amount(text, field, allow_zero=allow_zero)


class _Rows(QObject):
    changed = Signal()

    def __init__(self, grid: QGridLayout, first_row: int, parent: QWidget) -> None:
        super().__init__(parent)
        self.grid, self.first_row, self.parent_ = grid, first_row, parent
        self.rows: list[list[QWidget]] = []

    def _place(self, widgets: list[QWidget]) -> None:
        row = self.first_row + len(self.rows)
        for column, widget in enumerate(widgets):
            self.grid.addWidget(widget, row, column)
        self.rows.append(widgets)
        self.changed.emit()

    def remove(self, widgets: list[QWidget]) -> None:
        index = self.rows.index(widgets)
        for widget in widgets:
            self.grid.removeWidget(widget)
            widget.deleteLater()
        del self.rows[index]
        for i, row in enumerate(self.rows[index:], start=index):  # close the gap
            for column, widget in enumerate(row):
                self.grid.removeWidget(widget)
                self.grid.addWidget(widget, self.first_row + i, column)
        self.changed.emit()

    def _remove_button(self, widgets: list[QWidget], what: str) -> QPushButton:
        button = QPushButton("✕", self.parent_)
        button.setToolTip(f"Remove this {what}")
        button.setAccessibleName(f"Remove {what}")
        button.setAutoDefault(False)
        button.setMaximumWidth(32)
        button.clicked.connect(lambda: self.remove(widgets))
        return button


class ItemRows(_Rows):
    """Extra lines of a visit (herbs, a product): description and price."""

    def add(self, description: str = "", cents: int | None = None) -> QLineEdit:
        n = len(self.rows) + 1
        name = QLineEdit(description, self.parent_)
        name.setPlaceholderText("Item (e.g. Herbal formula)")
        name.setAccessibleName(f"Item {n} description")
        price = QLineEdit("" if cents is None else format_amount(cents), self.parent_)
        price.setPlaceholderText("0.00")
        price.setAccessibleName(f"Item {n} price")
        widgets: list[QWidget] = [name, price]
        widgets.append(self._remove_button(widgets, "item"))
        for edit in (name, price):
            edit.textEdited.connect(lambda _t: self.changed.emit())
        self._place(widgets)
        return name

    def values(self) -> list[tuple[str, int]]:
        out = []
        for n, (name, price, _x) in enumerate(self.rows, start=1):
            assert isinstance(name, QLineEdit) and isinstance(price, QLineEdit)
            if not name.text().strip() and not price.text().strip():
                continue  # an empty row the receptionist added and left
            desc = clean_text(name.text(), f"Item {n} description", max_len=200)
            if not desc:
                raise BadInput(f"Item {n} description", "is empty; say what was sold")
            out.append((desc, amount_of(price, f"Item {n} price")))
        return out


class PaymentRows(_Rows):
    """Tenders: method, amount, reference (card's last digits, check number)."""

    def __init__(self, grid: QGridLayout, first_row: int, parent: QWidget,
                 remember: Callable[[str], None] | None = None) -> None:
        super().__init__(grid, first_row, parent)
        self.remember = remember

    def add(self, method: str = "card", cents: int | None = None) -> QLineEdit:
        n = len(self.rows) + 1
        kind = QComboBox(self.parent_)
        kind.setAccessibleName(f"Payment {n} method")
        for label, value in METHODS:
            kind.addItem(label, value)
        kind.setCurrentIndex(max(kind.findData(method), 0))
        amount = QLineEdit("" if cents is None else format_amount(cents), self.parent_)
        amount.setPlaceholderText("0.00")
        amount.setAccessibleName(f"Payment {n} amount")
        ref = QLineEdit(self.parent_)
        ref.setPlaceholderText("Ref. (optional)")
        ref.setAccessibleName(f"Payment {n} reference")
        ref.setMaxLength(40)
        widgets: list[QWidget] = [kind, amount, ref]
        widgets.append(self._remove_button(widgets, "payment"))
        kind.currentIndexChanged.connect(lambda _i: self.changed.emit())
        # Typed by the receptionist (even emptied): no longer refilled with a suggestion.
        amount.textEdited.connect(lambda _t: amount.setProperty("typed", True))
        amount.textEdited.connect(lambda _t: self.changed.emit())
        remember = self.remember
        if remember is not None:
            kind.activated.connect(lambda _i: remember(str(kind.currentData())))
        self._place(widgets)
        return amount

    def amount_edit(self, index: int) -> QLineEdit:
        edit = self.rows[index][1]
        assert isinstance(edit, QLineEdit)
        return edit

    def method(self, index: int) -> str:
        combo = self.rows[index][0]
        assert isinstance(combo, QComboBox)
        return str(combo.currentData())

    def values(self) -> list[Tender]:
        out = []
        for n, (kind, amount, ref, _x) in enumerate(self.rows, start=1):
            assert isinstance(kind, QComboBox)
            assert isinstance(amount, QLineEdit) and isinstance(ref, QLineEdit)
            if not amount.text().strip():
                continue
            cents = amount_of(amount, f"Payment {n} amount", allow_zero=True)
            if cents:
                out.append(Tender(str(kind.currentData()), cents,
                                  clean_text(ref.text(), f"Payment {n} reference",
                                             max_len=40)))
        return out
