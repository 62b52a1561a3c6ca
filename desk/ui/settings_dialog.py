"""The clinic settings (SPEC §4): every key with its explanation, grouped on tabs.

The values are read and written through the worker. Save checks every field first
(a refusal names the field, switches to its tab and writes nothing), then stores
the changed keys in one transaction; the dialog cannot close while that write is
on its way and keeps what was typed when it is refused.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import Qt, QTime, Signal
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialogButtonBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QScrollArea,
    QSizePolicy,
    QSpinBox,
    QTabWidget,
    QTimeEdit,
    QVBoxLayout,
    QWidget,
)

from desk.core import settings as rules
from desk.core.errors import BadInput
from desk.services import settings as clinic_settings
from desk.services.context import Ctx
from desk.ui.tasks import Tasks
from desk.ui.widgets import BusyDialog, alive, error_text, set_error, set_note

GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Clinic && receipts", ("clinic_name", "clinic_address", "clinic_phone", "tax_id",
                            "receipt_footer", "receipt_paper", "auto_print")),
    ("Payments && credit", ("currency", "use_credit_system", "auto_apply_tokens",
                            "auto_apply_credit", "allow_negative_tokens")),
    ("Booking && cancellation", ("allow_double_booking", "prevent_no_credit_booking",
                                 "reserve_token_at_booking", "restore_on_cancel",
                                 "late_cancel_hours", "late_cancel_fee", "no_show_fee")),
    ("Schedule", ("day_start", "day_end", "slot_minutes")),
    ("Security", ("idle_lock_minutes",)),
)

LABELS = {
    "clinic_name": "Clinic name", "clinic_address": "Address", "clinic_phone": "Phone",
    "tax_id": "Tax number", "receipt_footer": "Receipt footer",
    "receipt_paper": "Receipt paper", "auto_print": "Print receipts straight away",
    "currency": "Currency", "use_credit_system": "Use tokens and credit",
    "auto_apply_tokens": "Preselect a token at check-in",
    "auto_apply_credit": "Preselect credit at check-in",
    "allow_negative_tokens": "Allow negative token balances",
    "allow_double_booking": "Allow double booking",
    "prevent_no_credit_booking": "Require a token or credit to book",
    "reserve_token_at_booking": "Reserve a token when booking",
    "restore_on_cancel": "Give the token back on an on-time cancel",
    "late_cancel_hours": "Late cancel window", "late_cancel_fee": "Late cancel fee",
    "no_show_fee": "No-show fee", "day_start": "Day starts", "day_end": "Day ends",
    "slot_minutes": "Row length", "idle_lock_minutes": "Lock the screen after",
}

#: What each setting does, as the receptionist and the owner read it (SPEC §4).
EXPLAIN = {
    "clinic_name": "Printed at the top of every receipt and statement.",
    "clinic_address": "Printed under the clinic name on receipts.",
    "clinic_phone": "Printed under the address on receipts.",
    "tax_id": "Your tax or business registration number, printed on receipts.",
    "receipt_footer": "Printed at the bottom of every receipt, e.g. a thank-you or your "
                      "cancellation policy.",
    "receipt_paper": "The paper in the receipt printer.",
    "auto_print": "On: saving a payment prints its receipt at once. Off: a preview opens "
                  "first, to print or close.",
    "currency": "The clinic's currency, for every amount shown and printed. Amounts are "
                "not converted: change it only before taking money.",
    "use_credit_system": "Show and use prepaid tokens and credit at all. Off: the schedule "
                         "shows no balances.",
    "auto_apply_tokens": "Check-in preselects a matching token to pay for the visit.",
    "auto_apply_credit": "Check-in preselects credit, up to the amount due.",
    "allow_negative_tokens": "Let a patient's token balance go below zero (treat now, "
                             "buy the package later).",
    "allow_double_booking": "Allow overlapping appointments for one practitioner.",
    "prevent_no_credit_booking": "Refuse a booking when the patient has no available "
                                 "token and not enough credit (a manager can override).",
    "reserve_token_at_booking": "A booking holds one of the patient's tokens; check-in "
                                "spends it.",
    "restore_on_cancel": "An on-time cancel releases the held token, or gives it back.",
    "late_cancel_hours": "A cancel less than this many hours before the visit is late "
                         "and may carry the late cancel fee.",
    "late_cancel_fee": "Charged for a late cancel. A service may set its own fee in the "
                       "catalog.",
    "no_show_fee": "Charged when a patient does not come. A service may set its own fee "
                   "in the catalog.",
    "day_start": "The first hour shown on the schedule.",
    "day_end": "The last hour shown on the schedule. Visits booked outside these hours "
               "still show.",
    "slot_minutes": "Minutes per row of the schedule.",
    "idle_lock_minutes": "Lock the screen after this many minutes without use "
                         "(0: never).",
}

_CHOICE_TEXT = {"roll80": "80 mm roll", "letter": "Letter (8.5 × 11 in)", "a4": "A4"}
_UNITS = {"late_cancel_hours": " hours", "idle_lock_minutes": " minutes"}
CURRENCIES = (
    ("USD", "US dollar"), ("CAD", "Canadian dollar"), ("EUR", "Euro"),
    ("GBP", "Pound sterling"), ("AUD", "Australian dollar"), ("NZD", "New Zealand dollar"),
    ("CHF", "Swiss franc"), ("JPY", "Japanese yen"), ("INR", "Indian rupee"),
    ("MXN", "Mexican peso"), ("BRL", "Brazilian real"), ("ZAR", "South African rand"),
    ("SGD", "Singapore dollar"), ("HKD", "Hong Kong dollar"), ("SEK", "Swedish krona"),
    ("NOK", "Norwegian krone"), ("DKK", "Danish krone"), ("PLN", "Polish złoty"),
    ("CZK", "Czech koruna"), ("ILS", "Israeli shekel"), ("AED", "UAE dirham"),
    ("CNY", "Chinese yuan"), ("KRW", "South Korean won"), ("PHP", "Philippine peso"),
    ("THB", "Thai baht"), ("MYR", "Malaysian ringgit"), ("IDR", "Indonesian rupiah"),
    ("TWD", "New Taiwan dollar"), ("CLP", "Chilean peso"), ("COP", "Colombian peso"),
)


def label_of(key: str) -> str:
    return LABELS.get(key) or key.replace("_", " ").capitalize()


def explained(reason: str) -> str:
    """A refusal's reason with setting keys written as their labels."""
    for key in sorted(rules.SPECS, key=len, reverse=True):
        reason = reason.replace(key, f"“{label_of(key)}”")
    return reason


@dataclass
class Field:
    """One setting's widget, how to read and write it, and where it sits."""

    key: str
    widget: QWidget
    get: Callable[[], str]
    put: Callable[[str], None]
    tab: int
    label: QLabel | None = None
    hint: QLabel | None = None

    @property
    def input(self) -> QWidget:
        """The widget that takes the typing (a money field sits in a box)."""
        return self.widget.focusProxy() or self.widget


def _hint(text: str, parent: QWidget) -> QLabel:
    hint = QLabel(text, parent)
    hint.setWordWrap(True)
    # Expanding: it takes the field column's width rather than wrapping narrow.
    hint.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
    hint.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
    hint.setForegroundRole(QPalette.ColorRole.PlaceholderText)
    font = hint.font()
    font.setPointSizeF(font.pointSizeF() * 0.92)
    hint.setFont(font)
    hint.setContentsMargins(0, 0, 0, 10)   # a little air before the next setting
    return hint


class SettingsDialog(BusyDialog):
    """``saved`` carries the keys that changed, with their new values."""

    saved = Signal(dict)

    def __init__(self, ctx: Ctx, tasks: Tasks, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Clinic settings")
        self.ctx, self.tasks = ctx, tasks
        self.stored: dict[str, str] = {}
        self.loaded = False
        self.fields: dict[str, Field] = {}
        self.money_units: list[QLabel] = []
        intro = QLabel("These settings are shared by every workstation of the clinic.", self)
        intro.setWordWrap(True)
        self.tabs = QTabWidget(self)
        groups = list(GROUPS)
        placed = {key for _, keys in GROUPS for key in keys}
        rest = tuple(key for key in rules.SPECS if key not in placed)
        if rest:  # a key added later still gets a place
            groups.append(("Other", rest))
        for title, keys in groups:
            self.tabs.addTab(self._page(keys, self.tabs.count()), title)
        self.message = QLabel(self)
        self.message.setWordWrap(True)
        self.message.setAccessibleName("Message")
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel, self)
        self.defaults = self.buttons.addButton(
            "Restore defaults", QDialogButtonBox.ButtonRole.ResetRole)
        self.defaults.setToolTip("Put this tab's fields back to their defaults "
                                 "(nothing is saved until you press Save)")
        self.defaults.setAutoDefault(False)
        self.defaults.clicked.connect(self.restore_defaults)
        self.save = self.buttons.addButton("Save", QDialogButtonBox.ButtonRole.AcceptRole)
        self.save.setDefault(True)
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setAutoDefault(False)
        self.buttons.accepted.connect(self.submit)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(self.message)
        layout.addWidget(self.buttons)
        self.resize(680, 560)
        self._set_loading(True)
        set_note(self.message, "Loading…")
        tasks.run(clinic_settings.all_settings, self._loaded, self._load_failed)

    # -- building -----------------------------------------------------------------------

    def _page(self, keys: tuple[str, ...], tab: int) -> QWidget:
        """One tab: a label and a widget per setting, its explanation underneath."""
        page = QWidget()
        grid = QGridLayout(page)
        grid.setHorizontalSpacing(12)
        grid.setVerticalSpacing(3)
        grid.setColumnStretch(1, 1)
        for index, key in enumerate(keys):
            spec = rules.SPECS[key]
            field = self._field(spec, tab)
            self.fields[key] = field
            row = index * 2
            if spec.kind != "bool":
                label = QLabel(f"{label_of(key)}:", page)
                label.setBuddy(field.input)
                field.label = label
                grid.addWidget(label, row, 0)
            if spec.kind in ("text", "money"):
                grid.addWidget(field.widget, row, 1)
            else:   # combos, spin boxes and times as wide as their contents
                grid.addWidget(field.widget, row, 1, Qt.AlignmentFlag.AlignLeft)
            field.hint = _hint(EXPLAIN.get(key, spec.help), page)
            grid.addWidget(field.hint, row + 1, 1)
        grid.setRowStretch(len(keys) * 2, 1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setWidget(page)
        return scroll

    def _field(self, spec: rules.SettingSpec, tab: int) -> Field:
        key, name = spec.key, label_of(spec.key)
        if spec.kind == "bool":
            box = QCheckBox(name, self)
            return Field(key, box, lambda: "true" if box.isChecked() else "false",
                         lambda v: box.setChecked(rules.as_bool(v)), tab)
        if spec.kind == "int":
            spin = QSpinBox(self)
            spin.setRange(spec.minimum, spec.maximum)
            spin.setSuffix(_UNITS.get(key, ""))
            if key == "idle_lock_minutes":
                spin.setSpecialValueText("Never")
            spin.setMaximumWidth(160)
            spin.setAccessibleName(name)

            def read_spin() -> str:
                spin.interpretText()
                return str(spin.value())

            return Field(key, spin, read_spin, lambda v: spin.setValue(int(v)), tab)
        if spec.kind == "time":
            time = QTimeEdit(self)
            time.setDisplayFormat("HH:mm")
            time.setMaximumWidth(110)
            time.setAccessibleName(name)
            return Field(key, time, lambda: time.time().toString("HH:mm"),
                         lambda v: time.setTime(QTime.fromString(v, "HH:mm")), tab)
        if spec.kind in ("choice", "currency"):
            return self._combo(spec, tab)
        edit = QLineEdit(self)
        edit.setAccessibleName(name)
        if spec.kind == "money":
            edit.setPlaceholderText("0.00")
            edit.setMaximumWidth(140)
            unit = QLabel(self)
            self.money_units.append(unit)
            holder = QWidget(self)
            row = QHBoxLayout(holder)
            row.setContentsMargins(0, 0, 0, 0)
            row.addWidget(edit)
            row.addWidget(unit)
            row.addStretch(1)
            holder.setFocusProxy(edit)
            return Field(key, holder, edit.text, edit.setText, tab)
        edit.setMaxLength(500)
        return Field(key, edit, edit.text, edit.setText, tab)

    def _combo(self, spec: rules.SettingSpec, tab: int) -> Field:
        combo = QComboBox(self)
        combo.setAccessibleName(label_of(spec.key))
        if spec.kind == "currency":
            for code, name in CURRENCIES:
                combo.addItem(f"{code} — {name}", code)
            combo.currentIndexChanged.connect(lambda _i: self._currency_changed())
        else:
            for choice in spec.choices:
                text = f"{choice} minutes" if spec.key == "slot_minutes" else \
                    _CHOICE_TEXT.get(choice, choice)
                combo.addItem(text, choice)
        combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)

        def put(value: str) -> None:
            if combo.findData(value) < 0:   # a code set from the command line
                combo.addItem(value, value)
            combo.setCurrentIndex(combo.findData(value))

        return Field(spec.key, combo, lambda: str(combo.currentData() or ""), put, tab)

    # -- loading ------------------------------------------------------------------------

    def _set_loading(self, loading: bool) -> None:
        self.tabs.setEnabled(not loading)
        self.save.setEnabled(not loading and not self.busy)
        self.defaults.setEnabled(not loading and not self.busy)

    def _loaded(self, values: dict[str, str]) -> None:
        if not alive(self):
            return
        self.stored = dict(values)
        for key, field in self.fields.items():
            field.put(values[key])
        self._currency_changed()
        self.loaded = True
        self._set_loading(False)
        set_error(self.message, "")

    def _load_failed(self, exc: BaseException) -> None:
        if alive(self):
            set_error(self.message, f"The settings could not be read. {error_text(exc)}")

    def _currency_changed(self) -> None:
        code = self.fields["currency"].get() if "currency" in self.fields else ""
        for unit in self.money_units:
            unit.setText(code)

    def set_busy(self, busy: bool) -> None:
        super().set_busy(busy)
        if not self.loaded:   # nothing to save before the values are shown
            self.save.setEnabled(False)
            self.defaults.setEnabled(False)

    # -- saving -------------------------------------------------------------------------

    def values(self) -> dict[str, str]:
        """What each field holds now, as text (not yet validated)."""
        return {key: field.get() for key, field in self.fields.items()}

    def restore_defaults(self) -> None:
        """Put the current tab's fields back to their defaults (not saved yet)."""
        for field in self.fields.values():
            if field.tab == self.tabs.currentIndex():
                field.put(rules.SPECS[field.key].default)
        set_note(self.message, "Defaults restored on this tab; press Save to keep them.")

    def submit(self) -> None:
        if self.busy or not self.loaded:
            return
        parsed: dict[str, str] = {}
        try:
            for key, text in self.values().items():
                parsed[key] = rules.parse(key, text)
            rules.check_pair({**self.stored, **parsed})
        except BadInput as exc:
            self._refused(exc)
            return
        changed = {key: value for key, value in parsed.items() if value != self.stored[key]}
        if not changed:
            self.outcome = {}
            self.accept()
            return
        ctx = self.ctx
        self.run_save(self.tasks, lambda: clinic_settings.set_many(ctx, changed))

    def _refused(self, exc: BadInput) -> None:
        field = self.fields.get(exc.field)
        if field is None:
            set_error(self.message, error_text(exc))
            return
        set_error(self.message, f"{label_of(exc.field)}: {explained(exc.reason)}")
        self.tabs.setCurrentIndex(field.tab)
        field.input.setFocus()
        if isinstance(field.input, QLineEdit):
            field.input.selectAll()

    def _saved(self, outcome: Any) -> None:
        changed: dict[str, str] = dict(outcome)
        self.stored.update(changed)
        self.saved.emit(changed)
        super()._saved(changed)

    def _save_failed(self, exc: BaseException) -> None:
        if isinstance(exc, BadInput) and exc.field in self.fields:
            self.set_busy(False)
            self._refused(exc)
        else:
            super()._save_failed(exc)


def open_settings(ctx: Ctx, tasks: Tasks, parent: QWidget | None) -> SettingsDialog:
    """Open the settings window-modal without blocking (``open()``); it deletes itself
    when closed. Connect ``saved`` to reload what depends on the settings."""
    dialog = SettingsDialog(ctx, tasks, parent)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.open()
    return dialog
