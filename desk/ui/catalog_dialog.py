"""The catalog window: practitioners (the schedule's columns and their order),
services and packages & memberships, inactive ones included and greyed.

Add…, Edit… (or a double click) and Deactivate / Reactivate on each tab; Move up /
Move down for the practitioners' column order. Every read and write goes through
the worker; nothing is ever deleted (deactivating keeps the history as it was).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar, Generic, TypeVar

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QIcon, QPalette, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from desk.core.money import format_money, parse_amount
from desk.services import catalog_admin
from desk.services import settings as clinic_settings
from desk.services.catalog import DEFAULT_COLOURS
from desk.services.catalog_admin import CatalogView, PackageRow, PractitionerRow, ServiceRow
from desk.services.context import Ctx
from desk.ui.catalog_forms import CatalogForm, PackageForm, PractitionerForm, ServiceForm
from desk.ui.tasks import Tasks
from desk.ui.widgets import alive, error_text, set_error, set_note

Row = TypeVar("Row", PractitionerRow, ServiceRow, PackageRow)


class _Tab(QWidget, Generic[Row]):
    """A table of one kind of row with its buttons."""

    headers: ClassVar[tuple[str, ...]] = ()
    stretch_column: ClassVar[int] = 0
    numeric_columns: ClassVar[tuple[int, ...]] = ()   # right-aligned: counts and money
    what: ClassVar[str] = ""

    def __init__(self, window: CatalogDialog) -> None:
        super().__init__(window)
        self.window_ = window
        self.rows: tuple[Row, ...] = ()
        self.table = QTableWidget(0, len(self.headers), self)
        self.table.setAccessibleName(self.what.capitalize() + "s")
        self.table.setHorizontalHeaderLabels(list(self.headers))
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().hide()
        self.table.setWordWrap(False)
        header = self.table.horizontalHeader()
        header.setHighlightSections(False)
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 10)
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(self.stretch_column, QHeaderView.ResizeMode.Stretch)
        self.table.itemSelectionChanged.connect(self.update_buttons)
        self.table.doubleClicked.connect(lambda _i: self.edit())
        self.add_button = self._button(f"&Add {self.what}…", self.add)
        self.edit_button = self._button("&Edit…", self.edit)
        self.toggle_button = self._button("&Deactivate", self.toggle)
        self.buttons = QHBoxLayout()
        for button in (self.add_button, self.edit_button, self.toggle_button):
            self.buttons.addWidget(button)
        self.buttons.addStretch(1)
        self.note = QLabel(self)
        self.note.setWordWrap(True)
        self.note.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table, 1)
        layout.addLayout(self.buttons)
        layout.addWidget(self.note)

    def _button(self, text: str, slot: Callable[[], object]) -> QPushButton:
        button = QPushButton(text, self)
        button.setAutoDefault(False)
        button.clicked.connect(lambda: slot())
        return button

    # -- what each tab says ---------------------------------------------------------------

    def cells(self, row: Row) -> list[str]:
        raise NotImplementedError

    def form(self, row: Row | None) -> CatalogForm:
        raise NotImplementedError

    def set_active(self, row: Row, active: bool) -> Callable[[], Any]:
        raise NotImplementedError

    def toggled_text(self, row: Row, active: bool) -> str:
        raise NotImplementedError

    def decorate(self, row: Row, items: list[QTableWidgetItem]) -> None:
        """Extra looks of a row (a colour swatch)."""

    # -- filling --------------------------------------------------------------------------

    def fill(self, rows: tuple[Row, ...], select: int | None) -> None:
        keep = select if select is not None else self.selected_id()
        self.rows = rows
        self.table.setRowCount(len(rows))
        muted = self.palette().color(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text)
        for index, row in enumerate(rows):
            items = [QTableWidgetItem(text) for text in self.cells(row)]
            for column, item in enumerate(items):
                item.setData(Qt.ItemDataRole.UserRole, row.id)
                if column in self.numeric_columns:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight
                                          | Qt.AlignmentFlag.AlignVCenter)
                if not row.active:
                    item.setForeground(muted)
                    font = item.font()
                    font.setItalic(True)
                    item.setFont(font)
                self.table.setItem(index, column, item)
            self.decorate(row, items)
        found = next((i for i, r in enumerate(rows) if r.id == keep), None)
        if found is None:
            self.table.clearSelection()
        else:
            self.table.selectRow(found)
        self.update_buttons()

    def selected(self) -> Row | None:
        chosen = self.table.selectionModel().selectedRows()
        if not chosen:
            return None
        index = chosen[0].row()
        return self.rows[index] if index < len(self.rows) else None

    def selected_id(self) -> int | None:
        row = self.selected()
        return None if row is None else row.id

    def update_buttons(self) -> None:
        row = self.selected()
        ready = self.window_.view is not None and not self.window_.busy
        self.add_button.setEnabled(ready)
        self.edit_button.setEnabled(ready and row is not None)
        self.toggle_button.setEnabled(ready and row is not None)
        self.toggle_button.setText("&Reactivate" if row is not None and not row.active
                                   else "&Deactivate")

    # -- actions --------------------------------------------------------------------------

    def add(self) -> None:
        if self.add_button.isEnabled():
            self.window_.open_form(self.form(None), self)

    def edit(self) -> None:
        row = self.selected()
        if row is not None and self.edit_button.isEnabled():
            self.window_.open_form(self.form(row), self)

    def toggle(self) -> None:
        row = self.selected()
        if row is None or not self.toggle_button.isEnabled():
            return
        active = not row.active
        self.window_.act(self.set_active(row, active), self.toggled_text(row, active),
                         self, row.id)


class PractitionersTab(_Tab[PractitionerRow]):
    headers = ("Column", "Name", "Status")
    stretch_column = 1
    what = "practitioner"

    def __init__(self, window: CatalogDialog) -> None:
        super().__init__(window)
        self.up_button = self._button("Move &up", lambda: self.shift(-1))
        self.down_button = self._button("Move do&wn", lambda: self.shift(1))
        self.buttons.insertWidget(3, self.up_button)
        self.buttons.insertWidget(4, self.down_button)
        self.note.setText("Each active practitioner is a column of the schedule, in this "
                          "order. A practitioner with booked visits cannot be deactivated.")

    def cells(self, row: PractitionerRow) -> list[str]:
        active = [r.id for r in self.rows if r.active]
        column = str(active.index(row.id) + 1) if row.active else "—"
        return [column, row.name, "active" if row.active else "inactive"]

    def form(self, row: PractitionerRow | None) -> CatalogForm:
        return PractitionerForm(self.window_.ctx, self.window_.tasks, row, self.window_)

    def set_active(self, row: PractitionerRow, active: bool) -> Callable[[], Any]:
        ctx = self.window_.ctx
        return lambda: catalog_admin.update_practitioner(ctx, row.id, active=active)

    def toggled_text(self, row: PractitionerRow, active: bool) -> str:
        if active:
            return f"{row.name} is back on the schedule."
        return f"{row.name} is no longer on the schedule; past visits keep their history."

    def update_buttons(self) -> None:
        super().update_buttons()
        if not hasattr(self, "up_button"):
            return
        row = self.selected()
        index = -1 if row is None else self.rows.index(row)
        ready = self.edit_button.isEnabled()
        self.up_button.setEnabled(ready and index > 0)
        self.down_button.setEnabled(ready and 0 <= index < len(self.rows) - 1)

    def shift(self, step: int) -> None:
        """Move the selected practitioner one column left (-1) or right (1)."""
        row = self.selected()
        if row is None or self.window_.busy:
            return
        order = [r.id for r in self.rows]
        index = order.index(row.id)
        other = index + step
        if not 0 <= other < len(order):
            return
        order[index], order[other] = order[other], order[index]
        ctx = self.window_.ctx
        self.window_.act(lambda: catalog_admin.reorder_practitioners(ctx, order),
                         "Column order saved.", self, row.id)


class ServicesTab(_Tab[ServiceRow]):
    headers = ("Name", "Minutes", "Price", "Token kind", "Late cancel fee", "No-show fee",
               "Status")
    numeric_columns = (1, 2, 4, 5)
    what = "service"

    def __init__(self, window: CatalogDialog) -> None:
        super().__init__(window)
        self.note.setText("A deactivated service can no longer be booked; visits already "
                          "booked with it still check in, and its history stays.")

    def cells(self, row: ServiceRow) -> list[str]:
        cur, (late, no_show) = self.window_.currency, self.window_.default_fees
        return [row.name, f"{row.minutes} min", format_money(row.price_cents, cur),
                row.token_kind, _fee(row.late_cancel_fee_cents, late, cur),
                _fee(row.no_show_fee_cents, no_show, cur),
                "active" if row.active else "inactive"]

    def decorate(self, row: ServiceRow, items: list[QTableWidgetItem]) -> None:
        swatch = QPixmap(14, 14)
        swatch.fill(QColor(row.colour))
        items[0].setIcon(QIcon(swatch))
        items[0].setToolTip(f"Colour {row.colour}")

    def form(self, row: ServiceRow | None) -> CatalogForm:
        window = self.window_
        assert window.view is not None
        colour = DEFAULT_COLOURS[len(self.rows) % len(DEFAULT_COLOURS)]
        return ServiceForm(window.ctx, window.tasks, row, window.view.token_kinds,
                           window.currency, window.default_fees, colour, window)

    def set_active(self, row: ServiceRow, active: bool) -> Callable[[], Any]:
        ctx = self.window_.ctx
        return lambda: catalog_admin.update_service(ctx, row.id, active=active)

    def toggled_text(self, row: ServiceRow, active: bool) -> str:
        if active:
            return f"{row.name} can be booked again."
        return (f"{row.name} can no longer be booked; booked visits and history are "
                "unchanged.")


class PackagesTab(_Tab[PackageRow]):
    headers = ("Name", "Token kind", "Tokens", "Price", "Tokens expire", "Type", "Members",
               "Status")
    numeric_columns = (2, 3, 6)
    what = "package"

    def __init__(self, window: CatalogDialog) -> None:
        super().__init__(window)
        self.note.setText("A deactivated package is no longer sold; patients keep their "
                          "tokens, and memberships already sold keep renewing.")

    def cells(self, row: PackageRow) -> list[str]:
        expires = "never" if row.expires_days is None else f"after {row.expires_days} days"
        return [row.name, row.token_kind, str(row.tokens),
                format_money(row.price_cents, self.window_.currency), expires,
                "monthly membership" if row.monthly else "package",
                str(row.members) if row.monthly else "—",
                "active" if row.active else "inactive"]

    def form(self, row: PackageRow | None) -> CatalogForm:
        window = self.window_
        assert window.view is not None
        return PackageForm(window.ctx, window.tasks, row, window.view.token_kinds,
                           window.currency, window)

    def set_active(self, row: PackageRow, active: bool) -> Callable[[], Any]:
        ctx = self.window_.ctx
        return lambda: catalog_admin.update_package(ctx, row.id, active=active)

    def toggled_text(self, row: PackageRow, active: bool) -> str:
        if active:
            return f"{row.name} is on sale again."
        text = f"{row.name} is no longer sold; patients keep their tokens."
        if row.members:
            text += f" Its {row.members} current membership(s) keep renewing."
        return text


def _fee(own: int | None, default: int, currency: str) -> str:
    if own is None:
        return f"default ({format_money(default, currency)})"
    return format_money(own, currency)


class CatalogDialog(QDialog):
    """``changed`` is emitted after every saved change (the schedule may reload)."""

    changed = Signal()

    def __init__(self, ctx: Ctx, tasks: Tasks, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Catalog")
        self.ctx, self.tasks = ctx, tasks
        self.view: CatalogView | None = None
        self.currency = "USD"
        self.default_fees = (0, 0)
        self.busy = False
        self.loads = 0
        self.form: CatalogForm | None = None
        self.tabs = QTabWidget(self)
        self.practitioners = PractitionersTab(self)
        self.services = ServicesTab(self)
        self.packages = PackagesTab(self)
        self.tabs.addTab(self.practitioners, "&Practitioners")
        self.tabs.addTab(self.services, "&Services")
        self.tabs.addTab(self.packages, "Packages && &memberships")
        self.message = QLabel(self)
        self.message.setWordWrap(True)
        self.message.setAccessibleName("Message")
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(self.message)
        layout.addWidget(self.buttons)
        self.resize(860, 520)
        set_note(self.message, "Loading…")
        self.reload()

    @property
    def all_tabs(self) -> tuple[PractitionersTab, ServicesTab, PackagesTab]:
        return self.practitioners, self.services, self.packages

    def reload(self, tab: _Tab[Any] | None = None, select: int | None = None) -> None:
        """Read the catalog again; then select ``select`` on ``tab``."""
        ctx = self.ctx

        def read() -> tuple[CatalogView, dict[str, str]]:
            return catalog_admin.catalog_view(ctx.today()), clinic_settings.all_settings()

        self.tasks.run(read, lambda result: self._loaded(result, tab, select),
                       self._load_failed)

    def _loaded(self, result: tuple[CatalogView, dict[str, str]], tab: _Tab[Any] | None,
                select: int | None) -> None:
        if not alive(self):
            return
        view, values = result
        self.view = view
        self.currency = values["currency"]
        self.default_fees = (parse_amount(values["late_cancel_fee"], "late_cancel_fee",
                                          allow_zero=True),
                             parse_amount(values["no_show_fee"], "no_show_fee",
                                          allow_zero=True))
        if self.message.text() == "Loading…":
            set_error(self.message, "")
        self.practitioners.fill(view.practitioners, select if tab is self.practitioners
                                else None)
        self.services.fill(view.services, select if tab is self.services else None)
        self.packages.fill(view.packages, select if tab is self.packages else None)
        self.loads += 1

    def _load_failed(self, exc: BaseException) -> None:
        if alive(self):
            set_error(self.message, f"The catalog could not be read. {error_text(exc)}")

    def _set_busy(self, busy: bool) -> None:
        self.busy = busy
        for tab in self.all_tabs:
            tab.update_buttons()

    def act(self, work: Callable[[], Any], said: str, tab: _Tab[Any], select: int) -> None:
        """Run one change on the worker, say what it did, and read the catalog again."""
        if self.busy:
            return
        self._set_busy(True)
        set_note(self.message, "Saving…")

        def done(_result: Any) -> None:
            if not alive(self):
                return
            self._set_busy(False)
            set_note(self.message, said)
            self.changed.emit()
            self.reload(tab, select)

        def failed(exc: BaseException) -> None:
            if alive(self):
                self._set_busy(False)
                set_error(self.message, error_text(exc))

        self.tasks.run(work, done, failed)

    def open_form(self, form: CatalogForm, tab: _Tab[Any]) -> None:
        """Open an add / edit form over the window; reload and select what it saved."""
        self.form = form

        def accepted() -> None:
            outcome = form.outcome
            verb = "Added" if getattr(form, "row", None) is None else "Saved"
            set_note(self.message, f"{verb} {outcome.name}.")
            self.changed.emit()
            self.reload(tab, int(outcome.id))

        def finished(_result: int) -> None:
            if self.form is form:
                self.form = None
            form.deleteLater()

        form.accepted.connect(accepted)
        form.finished.connect(finished)
        form.open()

    def reject(self) -> None:
        if not self.busy:
            super().reject()


def open_catalog(ctx: Ctx, tasks: Tasks, parent: QWidget | None) -> CatalogDialog:
    """Show the catalog window (not modal: the schedule stays usable beside it); it
    deletes itself when closed. Connect ``changed`` to reload the schedule."""
    dialog = CatalogDialog(ctx, tasks, parent)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.show()
    return dialog
