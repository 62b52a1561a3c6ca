"""Dialogs for one visit: check in (the simple form), cancel / late cancel / no-show,
and reversing a check-in. Each runs its service on the worker and stays open with
the message when the service refuses."""

from __future__ import annotations

import datetime as dt
import uuid
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
from desk.core.checkin import CREDIT_ALL, CREDIT_NONE, CheckinInput, CheckinPlan, plan
from desk.core.errors import DeskError
from desk.core.money import format_amount, format_money, parse_amount
from desk.core.settings import as_bool
from desk.services import cancellation, checkin, reversal
from desk.services.context import Ctx
from desk.services.results import Tender
from desk.ui.cells import CREDIT, OWES, TICKET, Block
from desk.ui.tasks import Tasks
from desk.ui.widgets import BusyDialog, error_text, set_error


class _ServiceDialog(BusyDialog):
    """A dialog whose OK button runs one service call on the worker."""

    def __init__(self, ctx: Ctx, tasks: Tasks, title: str, ok_text: str,
                 parent: QWidget | None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.ctx, self.tasks = ctx, tasks
        self.key = str(uuid.uuid4())  # persisted with the write: a double click replays
        self.outcome: Any = None
        self.message = QLabel(self)
        self.message.setWordWrap(True)
        self.message.setAccessibleName("Message")
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel, self)
        self.ok = self.buttons.addButton(ok_text, QDialogButtonBox.ButtonRole.AcceptRole)
        self.ok.setDefault(True)
        self.buttons.accepted.connect(self.submit)
        self.buttons.rejected.connect(self.reject)
        self.form = QFormLayout()
        layout = QVBoxLayout(self)
        layout.addLayout(self.form)
        layout.addWidget(self.message)
        layout.addWidget(self.buttons)

    def call(self) -> Callable[[], Any] | None:
        """The service call for the current inputs, or None after showing an error."""
        raise NotImplementedError

    def submit(self) -> None:
        try:
            work = self.call()
        except DeskError as exc:
            set_error(self.message, error_text(exc))
            return
        if work is None or self.busy:
            return
        self.set_busy(True)
        set_error(self.message, "Saving…")
        self.tasks.run(work, self._done, self._failed)

    def _done(self, outcome: Any) -> None:
        self.set_busy(False)
        self.outcome = outcome
        self.accept()

    def _failed(self, exc: BaseException) -> None:
        self.set_busy(False)
        set_error(self.message, error_text(exc))


def _heading(block: Block, currency: str) -> QLabel:
    label = QLabel(f"<b>{escape(block.patient_name)}</b><br>{escape(block.service_name)} · "
                   f"{block.starts_at:%a %d %b %H:%M} · "
                   f"{format_money(block.price_cents, currency)}")
    label.setWordWrap(True)
    return label



class CheckInDialog(_ServiceDialog):
    """Check a visit in with a token and/or credit and one payment for the rest; the
    money line says before saving what is due, paid, left owed or added to credit."""

    def __init__(self, ctx: Ctx, tasks: Tasks, block: Block, currency: str,
                 settings: dict[str, str], parent: QWidget | None = None) -> None:
        super().__init__(ctx, tasks, "Check in", "Check in", parent)
        self.block, self.currency = block, currency
        self.form.addRow(_heading(block, currency))
        kinds = {icon.kind: icon.tooltip for icon in block.icons}
        wallet = "\n".join(kinds[k] for k in (TICKET, CREDIT, OWES) if k in kinds)
        self.form.addRow("Balance", QLabel(wallet or "no tokens, no credit"))
        has_token = block.covered_by in ("token", "hold")  # a token of this visit's kind
        self.use_token = QCheckBox(f"Use one {block.token_kind} token", self)
        self.use_token.setChecked(has_token and as_bool(settings.get("auto_apply_tokens",
                                                                      "true")))
        self.use_token.setEnabled(has_token)
        self.free_credit = max(block.credit_cents - block.credit_held_cents, 0)
        self.use_credit = QCheckBox("Use credit for what is due", self)
        self.use_credit.setChecked(self.free_credit > 0 and as_bool(
            settings.get("auto_apply_credit", "true")))
        self.use_credit.setEnabled(self.free_credit > 0)
        self.method = QComboBox(self)
        self.method.setAccessibleName("Payment method")
        for label, method in (("Nothing now (leave owed)", ""), ("Cash", "cash"),
                              ("Card", "card"), ("Check", "check")):
            self.method.addItem(label, method)
        self.amount = QLineEdit(self)
        self.amount.setPlaceholderText("0.00")
        self.amount.setAccessibleName("Amount paid")
        self.summary = QLabel(self)
        self.summary.setAccessibleName("What this check-in does")
        self.summary.setWordWrap(True)
        self.form.addRow(self.use_token)
        self.form.addRow(self.use_credit)
        self.form.addRow("Payment", self.method)
        self.form.addRow("Amount", self.amount)
        self.form.addRow(self.summary)
        self._suggested = ""
        for box in (self.use_token, self.use_credit):
            box.toggled.connect(self._suggest)
        self.method.currentIndexChanged.connect(self._suggest)
        self.amount.textEdited.connect(self._explain)
        self._suggest()

    def _plan(self, paid_cents: int) -> CheckinPlan:
        return plan(CheckinInput(
            treatment_cents=self.block.price_cents, item_cents=[], package_cents=0,
            use_token=self.use_token.isChecked(), credit_before_cents=self.block.credit_cents,
            credit_available_cents=self.free_credit,
            use_credit=CREDIT_ALL if self.use_credit.isChecked() else CREDIT_NONE,
            tender_cents=[paid_cents] if paid_cents else []))

    def _suggest(self) -> None:
        """Prefill what remains to pay, unless the receptionist typed their own amount."""
        paying = bool(self.method.currentData())
        self.amount.setEnabled(paying)
        if not paying:
            self.amount.clear()
        elif self.amount.text() in ("", self._suggested):
            left = self._plan(0).owed_cents
            self._suggested = format_amount(left) if left else ""
            self.amount.setText(self._suggested)
        self._explain()

    def _explain(self) -> None:
        try:
            paid = parse_amount(self.amount.text(), "Amount") if self.amount.text().strip() \
                else 0
            money = self._plan(paid)
        except DeskError as exc:
            set_error(self.summary, error_text(exc))
            return
        cur = self.currency
        parts = [f"Due {format_money(money.due_cents, cur)}"]
        if money.token_used:
            parts.append(f"one {self.block.token_kind} token")
        if money.credit_applied_cents:
            parts.append(f"credit applied {format_money(money.credit_applied_cents, cur)}")
        if money.paid_cents:
            parts.append(f"paid {format_money(money.paid_cents, cur)}")
        if money.owed_cents:
            parts.append(f"leaves {format_money(money.owed_cents, cur)} owed")
        if money.credit_added_cents:
            parts.append(f"adds {format_money(money.credit_added_cents, cur)} credit")
        set_error(self.summary, "")
        self.summary.setText(" · ".join(parts) + f". Credit after: "
                             f"{format_money(money.credit_after_cents, cur)}.")

    def call(self) -> Callable[[], Any] | None:
        method = str(self.method.currentData())
        tenders: tuple[Tender, ...] = ()
        if method:
            cents = parse_amount(self.amount.text(), "Amount")
            tenders = (Tender(method, cents),)
        req = checkin.CheckinRequest(
            self.block.appointment_id, use_token=self.use_token.isChecked(),
            use_credit=CREDIT_ALL if self.use_credit.isChecked() else CREDIT_NONE,
            tenders=tenders)
        ctx, key = self.ctx, self.key
        return lambda: checkin.check_in(ctx, req, idem_key=key)


class CancelDialog(_ServiceDialog):
    """Cancel on time, late cancel or no-show, with the fee optionally waived."""

    TITLES: ClassVar[dict[str, str]] = {
        schedule.CANCELLED: "Cancel visit", schedule.LATE_CANCELLED: "Late cancel",
              schedule.NO_SHOW: "No-show"}

    def __init__(self, ctx: Ctx, tasks: Tasks, block: Block, status: str, currency: str,
                 parent: QWidget | None = None) -> None:
        super().__init__(ctx, tasks, self.TITLES[status], self.TITLES[status], parent)
        self.block, self.status = block, status
        self.form.addRow(_heading(block, currency))
        if status == schedule.CANCELLED:
            text = ("Cancelling on time is free and frees any token held for it. Inside the "
                    "clinic's late-cancel window it counts as a late cancel.")
        else:
            text = ("The clinic's fee for this applies: it is paid with a token if you tick "
                    "below, else drawn from credit, else left owed.")
        info = QLabel(text)
        info.setWordWrap(True)
        self.form.addRow(info)
        self.take_token = QCheckBox(f"Pay the fee with one {block.token_kind} token", self)
        self.waive = QCheckBox("Waive the fee", self)
        self.reason = QLineEdit(self)
        self.reason.setPlaceholderText("Why the fee is waived (required)")
        self.reason.setAccessibleName("Reason")
        self.reason.setEnabled(False)
        self.waive.toggled.connect(self.reason.setEnabled)
        self.waive.toggled.connect(lambda on: self.take_token.setEnabled(not on))
        self.form.addRow(self.take_token)
        self.form.addRow(self.waive)
        self.form.addRow("Reason", self.reason)

    def call(self) -> Callable[[], Any] | None:
        waive = self.waive.isChecked()
        reason = self.reason.text().strip()
        if waive and not reason:
            set_error(self.message, "Say why the fee is waived.")
            self.reason.setFocus()
            return None
        ctx, key, appointment_id = self.ctx, self.key, self.block.appointment_id
        late, no_show = self.status == schedule.LATE_CANCELLED, self.status == schedule.NO_SHOW
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
