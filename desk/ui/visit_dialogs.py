"""Dialogs for one visit: check in (the simple form), cancel / late cancel / no-show,
and reversing a check-in. Each runs its service on the worker and stays open with
the message when the service refuses."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from html import escape
from typing import Any, ClassVar

from PySide6.QtCore import QDate, QTime
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QTimeEdit,
    QVBoxLayout,
    QWidget,
)

from desk.core import schedule
from desk.core.money import format_money
from desk.services import cancellation, reversal
from desk.services.cancel_preview import CancelPreview
from desk.services.context import Ctx
from desk.ui.action_dialog import ActionDialog
from desk.ui.cells import Block
from desk.ui.tasks import Tasks
from desk.ui.widgets import set_error


class _ServiceDialog(ActionDialog):
    """An action dialog about a visit: the visit's heading sits in the form instead of
    the patient's, and errors keep the services' own field names."""

    fields: ClassVar[dict[str, str]] = {}

    def __init__(self, ctx: Ctx, tasks: Tasks, title: str, ok_text: str,
                 parent: QWidget | None) -> None:
        super().__init__(ctx, tasks, title, ok_text, parent)
        self.heading.hide()


def _heading(block: Block, currency: str) -> QLabel:
    label = QLabel(f"<b>{escape(block.patient_name)}</b><br>{escape(block.service_name)} · "
                   f"{block.starts_at:%a %d %b %H:%M} · "
                   f"{format_money(block.price_cents, currency)}")
    label.setWordWrap(True)
    return label



class CancelDialog(_ServiceDialog):
    """Cancel on time, late cancel or no-show: the fee and how it will be paid (a
    token, credit, or left owed) are shown before saving; it may be waived with a
    reason."""

    TITLES: ClassVar[dict[str, str]] = {
        schedule.CANCELLED: "Cancel visit", schedule.LATE_CANCELLED: "Late cancel",
        schedule.NO_SHOW: "No-show"}

    def __init__(self, ctx: Ctx, tasks: Tasks, block: Block, asked: str,
                 preview: CancelPreview, parent: QWidget | None = None) -> None:
        super().__init__(ctx, tasks, self.TITLES[asked], self.TITLES[preview.status], parent)
        self.block, self.asked, self.preview = block, asked, preview
        cur = preview.currency
        self.form.addRow(_heading(block, cur))
        fee = format_money(preview.fee_cents, cur)
        lines = []
        if asked == schedule.CANCELLED and preview.status == schedule.LATE_CANCELLED:
            lines.append(f"This is inside the clinic's {preview.late_window_hours}-hour "
                         "window, so it counts as a <b>late cancel</b>.")
        if preview.fee_cents:
            how = (f"taken from credit ({format_money(preview.free_credit_cents, cur)} free)"
                   if preview.from_credit else "left owed (not enough free credit)")
            lines.append(f"Fee <b>{fee}</b>: it will be {how}, unless paid with a token "
                         "or waived below.")
        else:
            lines.append("No fee: nothing is charged. A token held for this visit is "
                         "released (per the clinic's settings).")
        info = QLabel("<br>".join(lines))
        info.setWordWrap(True)
        info.setAccessibleName("What this cancel does")
        self.form.addRow(info)
        self.take_token = QCheckBox(f"Pay the fee with one {preview.token_kind} token "
                                    f"({preview.free_tokens} free)", self)
        self.take_token.setEnabled(preview.fee_cents > 0 and preview.free_tokens > 0)
        self.waive = QCheckBox(f"Waive the {fee} fee", self)
        self.waive.setEnabled(preview.fee_cents > 0)
        self.reason = QLineEdit(self)
        self.reason.setPlaceholderText("Why the fee is waived (required)")
        self.reason.setAccessibleName("Reason")
        self.reason.setEnabled(False)
        self.waive.toggled.connect(self.reason.setEnabled)
        self.waive.toggled.connect(lambda on: self.take_token.setEnabled(
            not on and preview.fee_cents > 0 and preview.free_tokens > 0))
        if preview.fee_cents:
            self.form.addRow(self.take_token)
            self.form.addRow(self.waive)
            self.form.addRow("Reason", self.reason)
        else:  # nothing to pay or waive: the controls stay out of sight
            for widget in (self.take_token, self.waive, self.reason):
                widget.hide()

    def call(self) -> Callable[[], Any] | None:
        waive = self.waive.isChecked()
        reason = self.reason.text().strip()
        if waive and not reason:
            set_error(self.message, "Reason: say why the fee is waived.")
            self.reason.setFocus()
            return None
        ctx, key, appointment_id = self.ctx, self.key, self.block.appointment_id
        late = self.asked == schedule.LATE_CANCELLED
        no_show = self.asked == schedule.NO_SHOW
        token = self.take_token.isChecked() and not waive
        return lambda: cancellation.cancel(ctx, appointment_id, late=late, no_show=no_show,
                                           take_token=token, waive=waive, reason=reason,
                                           idem_key=key)


class ReverseDialog(_ServiceDialog):
    """Reverse a check-in: every line undone by a new transaction; the visit is booked
    again."""

    def __init__(self, ctx: Ctx, tasks: Tasks, block: Block, currency: str,
                 parent: QWidget | None = None) -> None:
        super().__init__(ctx, tasks, "Reverse check-in", "Reverse", parent)
        self.block = block
        self.form.addRow(_heading(block, currency))
        info = QLabel(f"Receipt {block.receipt_no} will be reversed by a new transaction: "
                      "tokens and money go back where they came from and the visit is "
                      "booked again.")
        info.setWordWrap(True)
        self.form.addRow(info)
        self.reason = QLineEdit(self)
        self.reason.setPlaceholderText("Why (required)")
        self.reason.setAccessibleName("Reason")
        self.form.addRow("Reason", self.reason)

    def call(self) -> Callable[[], Any] | None:
        reason = self.reason.text().strip()
        if not reason:
            set_error(self.message, "Say why the check-in is reversed.")
            self.reason.setFocus()
            return None
        if self.block.checkin_txn_id is None:
            set_error(self.message, "This visit has no check-in to reverse.")
            return None
        ctx, key, txn = self.ctx, self.key, self.block.checkin_txn_id
        return lambda: reversal.reverse(ctx, txn, reason, idem_key=key)


class MoveDialog(QDialog):
    """Pick a new day, time and practitioner for a booked visit (the keyboard's drag
    and drop). ``outcome`` is ``(start, practitioner id)`` once accepted."""

    def __init__(self, block: Block, practitioners: dict[int | None, str],
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Move visit")
        self.block = block
        self.outcome: tuple[dt.datetime, int] | None = None
        start = block.starts_at
        self.day = QDateEdit(QDate(start.year, start.month, start.day), self)
        self.day.setCalendarPopup(True)
        self.day.setDisplayFormat("ddd d MMM yyyy")
        self.day.setAccessibleName("Day")
        self.time = QTimeEdit(QTime(start.hour, start.minute), self)
        self.time.setDisplayFormat("HH:mm")
        self.time.setAccessibleName("Start time")
        self.practitioner = QComboBox(self)
        self.practitioner.setAccessibleName("Practitioner")
        for pid, name in practitioners.items():
            if pid is not None:
                self.practitioner.addItem(name, pid)
        self.practitioner.setCurrentIndex(max(self.practitioner.findData(
            block.practitioner_id), 0))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel, self)
        ok = buttons.addButton("Move", QDialogButtonBox.ButtonRole.AcceptRole)
        ok.setDefault(True)
        buttons.accepted.connect(self._move)
        buttons.rejected.connect(self.reject)
        self.message = QLabel(self)
        self.message.setWordWrap(True)
        form = QFormLayout()
        form.addRow(QLabel(f"<b>{escape(block.patient_name)}</b><br>"
                           f"{escape(block.service_name)} · now {block.starts_at:%a %d %b %H:%M}"))
        form.addRow("&Day", self.day)
        form.addRow("&Time", self.time)
        form.addRow("&Practitioner", self.practitioner)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.message)
        layout.addWidget(buttons)

    def _move(self) -> None:
        day, time = self.day.date(), self.time.time()
        starts = dt.datetime(day.year(), day.month(), day.day(), time.hour(), time.minute())
        pid = self.practitioner.currentData()
        if starts == self.block.starts_at and pid == self.block.practitioner_id:
            set_error(self.message, "That is where the visit is now.")
            return
        self.outcome = (starts, int(pid))
        self.accept()
