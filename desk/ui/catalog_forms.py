"""The add / edit forms of the catalog window: a practitioner, a service, a package.

Each form checks its fields when one is left and again on Save, naming the field
("Price: '12,50': use a dot for cents…"); a refusal from the database (a name
already taken, a token kind fixed by history) names its field the same way and
keeps everything typed. ``outcome`` is the service's result (``id`` and ``name``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QPalette, QShowEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QColorDialog,
    QComboBox,
    QDialogButtonBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSizePolicy,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from desk.core.errors import BadInput
from desk.core.money import format_amount, format_money, parse_amount
from desk.core.text import clean_name
from desk.services import catalog, catalog_admin
from desk.services.catalog import check_colour
from desk.services.catalog_admin import KEEP, PackageRow, PractitionerRow, ServiceRow
from desk.services.context import Ctx
from desk.ui.tasks import Tasks
from desk.ui.widgets import BusyDialog, set_error

#: The services' field names (BadInput.field) as the forms label them.
FIELD_LABELS = {
    "--name": "Name", "--minutes": "Minutes", "--price": "Price",
    "--token-kind": "Token kind", "--colour": "Colour",
    "--late-cancel-fee": "Late cancel fee", "--no-show-fee": "No-show fee",
    "--tokens": "Tokens", "--expires-days": "Tokens expire", "--monthly": "Membership",
}

Work = Callable[[], Any]


def hint(text: str, parent: QWidget) -> QLabel:
    """A short explanation under a field, in the quieter text colour."""
    label = QLabel(text, parent)
    label.setWordWrap(True)
    label.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
    label.setForegroundRole(QPalette.ColorRole.PlaceholderText)
    return label


def money_edit(parent: QWidget, name: str, cents: int | None) -> QLineEdit:
    edit = QLineEdit("" if cents is None else format_amount(cents), parent)
    edit.setAccessibleName(name)
    edit.setMaximumWidth(140)
    return edit


def cents_of(edit: QLineEdit, field: str, *, blank_is_none: bool = False) -> int | None:
    text = edit.text().strip()
    if not text and blank_is_none:
        return None
    return parse_amount(text, field, allow_zero=True)


class CatalogForm(BusyDialog):
    """Name field, a form of rows, a message and Save / Cancel."""

    def __init__(self, ctx: Ctx, tasks: Tasks, title: str, parent: QWidget | None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.ctx, self.tasks = ctx, tasks
        self.inputs: dict[str, QWidget] = {}
        self.grid = QGridLayout()
        self.grid.setHorizontalSpacing(12)
        self.grid.setVerticalSpacing(6)
        self.grid.setColumnStretch(1, 1)
        self.message = QLabel(self)
        self.message.setWordWrap(True)
        self.message.setAccessibleName("Message")
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel, self)
        self.save = self.buttons.addButton("Save", QDialogButtonBox.ButtonRole.AcceptRole)
        self.save.setDefault(True)
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setAutoDefault(False)
        self.buttons.accepted.connect(self.submit)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(self.grid)
        layout.addWidget(self.message)
        layout.addStretch(1)
        layout.addWidget(self.buttons)
        self.name = QLineEdit(self)
        self.name.setMaxLength(200)
        self.add_row("--name", "&Name", self.name)

    def add_row(self, field: str, label: str, widget: QWidget, note: str = "",
                shown: QWidget | None = None) -> None:
        """A labelled row (``shown``: what is placed, when ``widget`` sits in it) and
        its explanation underneath."""
        self.inputs[field] = widget
        widget.setAccessibleName(FIELD_LABELS[field])
        row = self.grid.rowCount()
        if label:
            buddy = QLabel(label, self)
            buddy.setBuddy(widget)
            self.grid.addWidget(buddy, row, 0)
        if isinstance(widget, QLineEdit) and shown is None:   # names take the width
            self.grid.addWidget(widget, row, 1)
        else:
            self.grid.addWidget(shown or widget, row, 1, Qt.AlignmentFlag.AlignLeft)
        if isinstance(widget, QLineEdit):
            widget.editingFinished.connect(self.check_inline)
        if note:
            self.add_note(note)

    def add_note(self, note: str) -> None:
        """An explanation under the last row, in the field column."""
        label = hint(note, self)
        label.setContentsMargins(0, 0, 0, 6)
        self.grid.addWidget(label, self.grid.rowCount(), 1)

    def work(self) -> Work:
        """The service call for what is typed; ``BadInput`` names the field."""
        raise NotImplementedError

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        # A window is first sized without asking how tall its wrapped notes are at
        # its actual width: make room so none is cut off.
        layout = self.layout()
        if layout is not None and layout.hasHeightForWidth():
            needed = layout.totalHeightForWidth(self.width())
            if needed > self.height():
                self.resize(self.width(), needed)

    def check_inline(self) -> None:
        """Check the fields when one is left: say what to fix, or clear the message."""
        if self.busy:
            return
        try:
            self.work()
        except BadInput as exc:
            if self.inputs.get(exc.field) is self.focusWidget():
                return  # still typing in it: said on leaving
            set_error(self.message, self.said(exc))
        else:
            set_error(self.message, "")

    def submit(self) -> None:
        if self.busy:
            return
        try:
            work = self.work()
        except BadInput as exc:
            self.refuse(exc)
            return
        self.run_save(self.tasks, work)

    @staticmethod
    def said(exc: BadInput) -> str:
        return f"{FIELD_LABELS.get(exc.field, exc.field)}: {exc.reason}"

    def refuse(self, exc: BadInput) -> None:
        set_error(self.message, self.said(exc))
        widget = self.inputs.get(exc.field)
        if widget is not None and widget.isEnabled():
            widget.setFocus()
            if isinstance(widget, QLineEdit):
                widget.selectAll()

    def _save_failed(self, exc: BaseException) -> None:
        if isinstance(exc, BadInput):
            self.set_busy(False)
            self.refuse(exc)
        else:
            super()._save_failed(exc)


class PractitionerForm(CatalogForm):
    def __init__(self, ctx: Ctx, tasks: Tasks, row: PractitionerRow | None,
                 parent: QWidget | None = None) -> None:
        super().__init__(ctx, tasks, "Edit practitioner" if row else "Add practitioner", parent)
        self.row = row
        if row is not None:
            self.name.setText(row.name)
        self.add_note("Each practitioner is a column of the schedule.")
        self.setMinimumWidth(380)

    def work(self) -> Work:
        name = clean_name(self.name.text(), "--name")
        ctx, row = self.ctx, self.row
        if row is None:
            return lambda: catalog.add_practitioner(ctx, name)
        return lambda: catalog_admin.update_practitioner(ctx, row.id, name=name)


class ServiceForm(CatalogForm):
    def __init__(self, ctx: Ctx, tasks: Tasks, row: ServiceRow | None, kinds: tuple[str, ...],
                 currency: str, default_fees: tuple[int, int], new_colour: str,
                 parent: QWidget | None = None) -> None:
        super().__init__(ctx, tasks, "Edit service" if row else "Add service", parent)
        self.row = row
        self.minutes = QSpinBox(self)
        self.minutes.setRange(1, 1440)
        self.minutes.setSuffix(" min")
        self.minutes.setValue(row.minutes if row else 60)
        self.minutes.setMaximumWidth(110)
        self.add_row("--minutes", "&Minutes", self.minutes)
        self.price = money_edit(self, "Price", row.price_cents if row else None)
        self.price.setPlaceholderText("0.00")
        self.add_row("--price", "&Price", self.price, shown=_with_unit(self, self.price, currency))
        self.kind = QComboBox(self)
        self.kind.setEditable(True)
        self.kind.addItems(list(kinds))
        self.kind.setCurrentText(row.token_kind if row else "")
        self.kind.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        typed = self.kind.lineEdit()
        if typed is not None:
            typed.setPlaceholderText("same as the name")
        fixed = row is not None and row.in_use
        self.kind.setEnabled(not fixed)
        self.add_row("--token-kind", "&Token kind", self.kind, (
            "Fixed: visits were booked with this service. To use another kind, add a new "
            "service and deactivate this one.") if fixed else (
            "What a prepaid token pays for; services may share a kind. A new name "
            "creates a new kind."))
        self.colour = QLineEdit(row.colour if row else new_colour, self)
        self.colour.setMaximumWidth(90)
        self.swatch = QLabel(self)
        self.swatch.setFixedSize(36, 22)
        self.pick = QPushButton("C&hoose…", self)
        self.pick.setAutoDefault(False)
        self.pick.clicked.connect(self.choose_colour)
        self.picker: QColorDialog | None = None
        self.colour.textChanged.connect(lambda _t: self._paint_swatch())
        self.add_row("--colour", "&Colour", self.colour,
                     shown=_row(self, self.swatch, self.colour, self.pick))
        self._paint_swatch()
        late, no_show = default_fees
        self.late_fee = money_edit(self, "Late cancel fee", row.late_cancel_fee_cents
                                   if row else None)
        self.late_fee.setPlaceholderText(f"clinic default ({format_money(late, currency)})")
        self.no_show_fee = money_edit(self, "No-show fee", row.no_show_fee_cents
                                      if row else None)
        self.no_show_fee.setPlaceholderText(
            f"clinic default ({format_money(no_show, currency)})")
        for edit in (self.late_fee, self.no_show_fee):
            edit.setMaximumWidth(220)
        self.add_row("--late-cancel-fee", "&Late cancel fee", self.late_fee)
        self.add_row("--no-show-fee", "N&o-show fee", self.no_show_fee,
                     "Leave a fee blank to charge the clinic's (Settings).")
        if row is not None:
            self.name.setText(row.name)
        self.setMinimumWidth(460)

    def _paint_swatch(self) -> None:
        try:
            colour = check_colour(self.colour.text(), 0)
        except BadInput:
            self.swatch.setStyleSheet("border: 1px dashed palette(mid);")
            self.swatch.setToolTip("Not a colour yet")
            return
        self.swatch.setStyleSheet(f"background: {colour}; border: 1px solid palette(dark);")
        self.swatch.setToolTip(colour)

    def choose_colour(self) -> None:
        """Pick the colour in Qt's colour dialog (opened without blocking)."""
        start = QColor(self.colour.text().strip())
        self.picker = QColorDialog(start if start.isValid() else QColor("#4a90d9"), self)
        self.picker.setWindowTitle("Service colour")
        self.picker.colorSelected.connect(lambda c: self.colour.setText(c.name()))
        self.picker.open()

    def work(self) -> Work:
        name = clean_name(self.name.text(), "--name")
        minutes = self.minutes.value()
        price = cents_of(self.price, "--price")
        assert price is not None
        kind_text = self.kind.currentText().strip()
        colour = check_colour(self.colour.text(), 0)
        late = cents_of(self.late_fee, "--late-cancel-fee", blank_is_none=True)
        no_show = cents_of(self.no_show_fee, "--no-show-fee", blank_is_none=True)
        ctx, row = self.ctx, self.row
        if row is None:
            kind = clean_name(kind_text, "--token-kind") if kind_text else None
            return lambda: catalog_admin.create_service(
                ctx, name, minutes, price, token_kind=kind, colour=colour,
                late_cancel_fee_cents=late, no_show_fee_cents=no_show)
        kind_or_keep = KEEP if row.in_use else clean_name(kind_text, "--token-kind")
        return lambda: catalog_admin.update_service(
            ctx, row.id, name=name, minutes=minutes, price_cents=price, colour=colour,
            token_kind=kind_or_keep, late_cancel_fee_cents=late, no_show_fee_cents=no_show)


class PackageForm(CatalogForm):
    def __init__(self, ctx: Ctx, tasks: Tasks, row: PackageRow | None, kinds: tuple[str, ...],
                 currency: str, parent: QWidget | None = None) -> None:
        super().__init__(ctx, tasks, "Edit package" if row else "Add package", parent)
        self.row = row
        fixed = row is not None and row.sold
        self.kind = QComboBox(self)
        self.kind.addItems(list(kinds))
        if row is not None:
            self.kind.setCurrentText(row.token_kind)
        self.kind.setEnabled(not fixed)
        self.add_row("--token-kind", "&Token kind", self.kind, "" if kinds else
                     "There are no token kinds yet: add a service first (its token kind "
                     "is created with it).")
        self.tokens = QSpinBox(self)
        self.tokens.setRange(1, catalog_admin.MAX_PACKAGE_TOKENS)
        self.tokens.setValue(row.tokens if row else 5)
        self.tokens.setMaximumWidth(110)
        self.add_row("--tokens", "T&okens", self.tokens)
        self.price = money_edit(self, "Price", row.price_cents if row else None)
        self.price.setPlaceholderText("0.00")
        self.add_row("--price", "&Price", self.price, shown=_with_unit(self, self.price, currency))
        self.expires = QSpinBox(self)
        self.expires.setRange(0, catalog_admin.MAX_EXPIRY_DAYS)
        self.expires.setSpecialValueText("Never")
        self.expires.setSuffix(" days")
        self.expires.setValue((row.expires_days or 0) if row else 0)
        self.expires.setMaximumWidth(130)
        self.add_row("--expires-days", "Tokens &expire", self.expires,
                     "Days after the sale; Never keeps them until used.")
        self.monthly = QCheckBox("&Monthly membership", self)
        self.monthly.setChecked(bool(row and row.monthly))
        self.monthly.setEnabled(not fixed)
        self.add_row("--monthly", "", self.monthly,
                     "Grants the tokens again every month and charges the price to the "
                     "patient's account.")
        if fixed:
            self.add_note("Sold already: its token kind and whether it is a membership "
                          "stay as they are. To change them, add a new package and "
                          "deactivate this one.")
        if row is not None and row.members:
            who = "1 patient holds" if row.members == 1 else f"{row.members} patients hold"
            self.add_note(f"{who} this membership: new tokens, price or expiry apply from "
                          "their next renewal.")
        if row is not None:
            self.name.setText(row.name)
        self.setMinimumWidth(460)

    def work(self) -> Work:
        name = clean_name(self.name.text(), "--name")
        kind = self.kind.currentText()
        if not kind:
            raise BadInput("--token-kind", "there are no token kinds yet; add a service "
                           "first")
        tokens = self.tokens.value()
        price = cents_of(self.price, "--price")
        assert price is not None
        expires = self.expires.value() or None
        monthly = self.monthly.isChecked()
        ctx, row = self.ctx, self.row
        if row is None:
            return lambda: catalog.add_package(ctx, name, kind, tokens, price, expires,
                                               monthly)
        fixed = row.sold
        return lambda: catalog_admin.update_package(
            ctx, row.id, name=name, token_kind=KEEP if fixed else kind, tokens=tokens,
            price_cents=price, expires_days=expires, monthly=KEEP if fixed else monthly)


def _row(parent: QWidget, *widgets: QWidget) -> QWidget:
    holder = QWidget(parent)
    layout = QHBoxLayout(holder)
    layout.setContentsMargins(0, 0, 0, 0)
    for widget in widgets:
        layout.addWidget(widget)
    layout.addStretch(1)
    return holder


def _with_unit(parent: QWidget, edit: QLineEdit, currency: str) -> QWidget:
    unit = QLabel(currency, parent)
    unit.setAlignment(Qt.AlignmentFlag.AlignVCenter)
    return _row(parent, edit, unit)

