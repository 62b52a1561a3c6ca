"""The patient window's money dialogs: adjust, transfer, refund, reverse a transaction
and the statement's period. Each checks what was typed (messages name the field as
labelled), carries an idempotency key made when it opens, and cannot be closed while
its write is on its way; a refusal keeps everything typed."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from html import escape
from typing import Any, ClassVar

from PySide6.QtCore import QDate
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from desk.core.errors import BadInput, DeskError
from desk.core.money import format_money, parse_amount, parse_count
from desk.core.text import clean_text
from desk.services import reversal, wallet
from desk.services.context import Ctx
from desk.services.queries import TxnView
from desk.services.sales import MAX_EXPIRY_DAYS
from desk.ui.action_dialog import FIELDS, ActionDialog, Subject, reason_of
from desk.ui.booking_dialog import PatientSearch
from desk.ui.checkin_dialog import leaves_sentence
from desk.ui.history_model import kind_label, local_time, signed_money, token_text
from desk.ui.tasks import Tasks
from desk.ui.widgets import set_error

REFUND_METHODS = (("Cash", "cash"), ("Card", "card"), ("Check", "check"), ("Other", "other"))
CREDIT, TOKENS = "credit", "tokens"


class AdjustDialog(ActionDialog):
    """Add or remove credit or tokens of a kind, with a mandatory reason."""

    def __init__(self, ctx: Ctx, tasks: Tasks, who: Subject, kinds: tuple[str, ...],
                 parent: QWidget | None = None) -> None:
        super().__init__(ctx, tasks, "Adjust balance", "Adjust", parent)
        self.who = who
        self.heading.setText(who.heading())
        self.what = QComboBox(self)
        self.what.setAccessibleName("What to adjust")
        self.what.addItem("Credit", CREDIT)
        self.what.addItem("Tokens", TOKENS)
        self.amount = self.line_edit("Amount", "+10.00 adds, -10.00 removes")
        self.kind = QComboBox(self)
        self.kind.setAccessibleName("Token kind")
        self.kind.addItems(list(kinds))
        self.count = self.line_edit("Tokens", "+2 adds, -1 removes")
        self.expires = QSpinBox(self)
        self.expires.setAccessibleName("Expire after")
        self.expires.setRange(0, MAX_EXPIRY_DAYS)
        self.expires.setSpecialValueText("never")
        self.expires.setSuffix(" days")
        self.expires.setToolTip("Tokens added expire this many days from today")
        self.reason = self.line_edit("Reason", "goodwill, correction, opening balance… "
                                     "(required)")
        self.reason.setMaxLength(500)
        self.after = QLabel(self)
        self.after.setAccessibleName("Balance after")
        self.form.addRow("&Adjust", self.what)
        self.form.addRow("A&mount", self.amount)
        self.form.addRow("&Kind", self.kind)
        self.form.addRow("&Tokens", self.count)
        self.form.addRow("&Expire after", self.expires)
        self.form.addRow("&Reason", self.reason)
        self.form.addRow("", self.after)
        self.what.currentIndexChanged.connect(lambda _i: self.refresh())
        self.kind.currentIndexChanged.connect(lambda _i: self.refresh())
        for edit in (self.amount, self.count):
            edit.textEdited.connect(lambda _t: self.refresh())
        self.refresh()

    def _tokens(self) -> bool:
        return bool(self.what.currentData() == TOKENS)

    def refresh(self) -> None:
        tokens = self._tokens()
        for widget, shown in ((self.amount, not tokens), (self.kind, tokens),
                              (self.count, tokens), (self.expires, tokens)):
            self.form.setRowVisible(widget, shown)
        bal = self.who.balance
        try:
            if tokens:
                change = parse_count(self.count.text(), "Tokens", allow_negative=True)
                after = dict(bal.tokens)
                kind = self.kind.currentText()
                after[kind] = after.get(kind, 0) + change
                credit = bal.credit_cents
                self.expires.setEnabled(change > 0)
            else:
                change = parse_amount(self.amount.text(), "Amount", allow_negative=True)
                after, credit = dict(bal.tokens), bal.credit_cents + change
        except DeskError:
            self.after.setText("")
            return
        self.after.setText(leaves_sentence(after, credit, self.who.currency))

    def call(self) -> Callable[[], Any]:
        ctx, key, pid = self.ctx, self.key, self.who.patient_id
        if self._tokens():
            kind = self.kind.currentText()
            if not kind:
                raise BadInput("Kind", "there are no token kinds yet (add a service first)")
            tokens = parse_count(self.count.text(), "Tokens", allow_negative=True)
            days = (self.expires.value() or None) if tokens > 0 else None
            why = reason_of(self.reason, "say why the tokens change")
            return lambda: wallet.adjust(ctx, pid, reason=why, tokens=tokens, token_kind=kind,
                                         expires_days=days, idem_key=key)
        cents = parse_amount(self.amount.text(), "Amount", allow_negative=True)
        why = reason_of(self.reason, "say why the credit changes")
        return lambda: wallet.adjust(ctx, pid, reason=why, credit_cents=cents, idem_key=key)


class TransferDialog(ActionDialog):
    """Move credit or tokens of a kind to another patient found by name or phone."""

    def __init__(self, ctx: Ctx, tasks: Tasks, who: Subject,
                 parent: QWidget | None = None) -> None:
        super().__init__(ctx, tasks, "Transfer", "Transfer", parent)
        self.who = who
        self.heading.setText(who.heading())
        self.search = PatientSearch(tasks, self)
        self.search.edit.setAccessibleName("Transfer to patient")
        self.what = QComboBox(self)
        self.what.setAccessibleName("What to transfer")
        self.what.addItem("Credit", CREDIT)
        self.what.addItem("Tokens", TOKENS)
        free = format_money(who.free_credit_cents, who.currency)
        self.amount = self.line_edit("Amount", f"up to {free}")
        self.kind = QComboBox(self)
        self.kind.setAccessibleName("Token kind")
        for kind, count in sorted(who.balance.tokens.items()):
            if count > 0:
                self.kind.addItem(f"{kind} ({count})", kind)
        self.count = self.line_edit("Tokens", "how many")
        self.memo = self.line_edit("Memo", "optional, printed on statements")
        self.memo.setMaxLength(500)
        self.form.addRow("To &patient", self.search)
        self.form.addRow("T&ransfer", self.what)
        self.form.addRow("A&mount", self.amount)
        self.form.addRow("&Kind", self.kind)
        self.form.addRow("T&okens", self.count)
        self.form.addRow("M&emo", self.memo)
        if who.balance.tokens and not who.balance.credit_cents > 0:
            self.what.setCurrentIndex(1)
        self.what.currentIndexChanged.connect(lambda _i: self._what_changed())
        self._what_changed()

    def _tokens(self) -> bool:
        return bool(self.what.currentData() == TOKENS)

    def _what_changed(self) -> None:
        tokens = self._tokens()
        self.form.setRowVisible(self.amount, not tokens)
        self.form.setRowVisible(self.kind, tokens)
        self.form.setRowVisible(self.count, tokens)

    def call(self) -> Callable[[], Any]:
        to = self.search.patient
        if to is None:
            raise BadInput("To patient", "choose one from the list (type a name or phone)")
        if to.id == self.who.patient_id:
            raise BadInput("To patient", "choose another patient than the one giving")
        memo = clean_text(self.memo.text(), "Memo", max_len=500)
        ctx, key, pid = self.ctx, self.key, self.who.patient_id
        if self._tokens():
            kind = self.kind.currentData()
            if kind is None:
                raise BadInput("Kind", f"{self.who.name} has no tokens to transfer")
            tokens = parse_count(self.count.text(), "Tokens")
            have, free = self.who.balance.tokens.get(kind, 0), self.who.available(kind)
            if tokens > free:
                held = f" ({have - free} held for booked visits)" if have > free else ""
                raise BadInput("Tokens", f"{self.who.name} has only {free} {kind} token"
                               f"{'s' if free != 1 else ''} free{held}")
            return lambda: wallet.transfer(ctx, pid, to.id, tokens=tokens, token_kind=kind,
                                           memo=memo, idem_key=key)
        cents = parse_amount(self.amount.text(), "Amount")
        self.who.check_credit(cents)
        return lambda: wallet.transfer(ctx, pid, to.id, credit_cents=cents, memo=memo,
                                       idem_key=key)


class RefundDialog(ActionDialog):
    """Pay credit back to the patient: cash, card, check or other, with a reference."""

    def __init__(self, ctx: Ctx, tasks: Tasks, who: Subject,
                 parent: QWidget | None = None) -> None:
        super().__init__(ctx, tasks, "Refund credit", "Refund", parent)
        self.who = who
        self.heading.setText(who.heading())
        free = format_money(who.free_credit_cents, who.currency)
        self.amount = self.line_edit("Amount", f"up to {free}")
        self.method = QComboBox(self)
        self.method.setAccessibleName("Method")
        for label, method in REFUND_METHODS:
            self.method.addItem(label, method)
        self.reference = self.line_edit("Reference", "check number, card slip… (optional)")
        self.reference.setMaxLength(100)
        self.memo = self.line_edit("Memo", "optional")
        self.memo.setMaxLength(500)
        self.form.addRow("A&mount", self.amount)
        self.form.addRow("Me&thod", self.method)
        self.form.addRow("&Reference", self.reference)
        self.form.addRow("M&emo", self.memo)

    def call(self) -> Callable[[], Any]:
        cents = parse_amount(self.amount.text(), "Amount")
        self.who.check_credit(cents)
        ref = clean_text(self.reference.text(), "Reference", max_len=100)
        memo = clean_text(self.memo.text(), "Memo", max_len=500)
        ctx, key, pid, method = self.ctx, self.key, self.who.patient_id, self.method.currentData()
        return lambda: wallet.refund(ctx, pid, cents, method, reference=ref, memo=memo,
                                     idem_key=key)


class ReverseTxnDialog(ActionDialog):
    """Reverse one transaction from the history, with a mandatory reason."""

    def __init__(self, ctx: Ctx, tasks: Tasks, txn: TxnView, who: Subject,
                 parent: QWidget | None = None) -> None:
        super().__init__(ctx, tasks, "Reverse transaction", "Reverse", parent)
        self.txn = txn
        receipt = f" · receipt #{txn.receipt_no}" if txn.receipt_no else ""
        changes = ", ".join(c for c in (signed_money(txn.credit_change_cents, who.currency),
                                        token_text(txn.token_changes)) if c)
        self.heading.setText(
            f"<b>{escape(kind_label(txn.kind))}</b> of {escape(who.name)} · transaction "
            f"{txn.id}{receipt} · {local_time(txn.created_at):%a %d %b %Y %H:%M}"
            + (f"<br>{escape(txn.memo)}" if txn.memo else "")
            + (f"<br>For {escape(who.name)}: {escape(changes)}" if changes else ""))
        info = QLabel("A new transaction writes the exact opposite lines: tokens and money go "
                      "back where they came from"
                      + (", and the visit is booked again." if txn.kind == "checkin" else ".")
                      + (" A reversal receipt is printed." if txn.receipt_no else ""), self)
        info.setWordWrap(True)
        self.reason = self.line_edit("Reason", "why (required)")
        self.reason.setMaxLength(500)
        self.form.addRow(info)
        self.form.addRow("&Reason", self.reason)

    def call(self) -> Callable[[], Any]:
        why = reason_of(self.reason, "say why the transaction is reversed")
        ctx, key, txn_id = self.ctx, self.key, self.txn.id
        return lambda: reversal.reverse(ctx, txn_id, why, idem_key=key)


def _qdate(day: dt.date) -> QDate:
    return QDate(day.year, day.month, day.day)


class StatementDialog(ActionDialog):
    """The period of a statement; OK builds the PDF on the worker (``outcome`` is
    ``build(first, last)``'s result) for the window to preview."""

    saying = "Preparing the statement…"
    fields: ClassVar[dict[str, str]] = {**FIELDS, "--to": "Until"}

    def __init__(self, ctx: Ctx, tasks: Tasks, who: Subject, first: dt.date,
                 build: Callable[[dt.date, dt.date], Any],
                 parent: QWidget | None = None) -> None:
        super().__init__(ctx, tasks, "Print statement", "Preview", parent)
        self.build = build
        self.heading.setText(f"<b>{escape(who.name)}</b> (#{who.patient_id}): opening "
                             "balance, every transaction of the period, closing balance "
                             "and tokens left.")
        today = ctx.today()
        self.period = QComboBox(self)
        self.period.setAccessibleName("Period")
        month = today.replace(day=1)
        last_month_end = month - dt.timedelta(days=1)
        self.presets: list[tuple[str, dt.date, dt.date]] = [
            ("Whole history", min(first, today), today),
            ("This month", month, today),
            ("Last month", last_month_end.replace(day=1), last_month_end),
            ("This year", today.replace(month=1, day=1), today),
        ]
        for label, _first, _last in self.presets:
            self.period.addItem(label)
        self.period.addItem("Other dates")
        self.first = QDateEdit(self)
        self.last = QDateEdit(self)
        for edit, name in ((self.first, "From"), (self.last, "Until")):
            edit.setCalendarPopup(True)
            edit.setDisplayFormat("yyyy-MM-dd")
            edit.setAccessibleName(name)
            edit.userDateChanged.connect(lambda _d: self.period.setCurrentIndex(
                len(self.presets)))
        self.form.addRow("&Period", self.period)
        self.form.addRow("&From", self.first)
        self.form.addRow("Un&til", self.last)
        self.period.currentIndexChanged.connect(self._preset)
        self._preset(0)

    def _preset(self, index: int) -> None:
        if 0 <= index < len(self.presets):
            _label, first, last = self.presets[index]
            for edit, day in ((self.first, first), (self.last, last)):
                edit.blockSignals(True)
                edit.setDate(_qdate(day))
                edit.blockSignals(False)

    def dates(self) -> tuple[dt.date, dt.date]:
        first, last = self.first.date(), self.last.date()
        return (dt.date(first.year(), first.month(), first.day()),
                dt.date(last.year(), last.month(), last.day()))

    def call(self) -> Callable[[], Any]:
        first, last = self.dates()
        if first > last:
            raise BadInput("From", f"{first} is after Until {last}; a period starts before it "
                           "ends")
        build = self.build
        return lambda: build(first, last)


class PatientPicker(QDialog):
    """Choose a patient by name or phone (``search.patient`` once accepted)."""

    def __init__(self, tasks: Tasks, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Patient file")
        self.search = PatientSearch(tasks, self)
        self.message = QLabel(self)
        self.message.setAccessibleName("Message")
        self.message.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel, self)
        self.ok = buttons.addButton("Open", QDialogButtonBox.ButtonRole.AcceptRole)
        self.ok.setDefault(True)
        buttons.accepted.connect(self._open)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("Whose file? Type part of a name or a phone number:", self))
        layout.addWidget(self.search)
        layout.addWidget(self.message)
        layout.addWidget(buttons)
        self.setMinimumWidth(420)

    def _open(self) -> None:
        if self.search.patient is None:
            set_error(self.message, "Patient: choose one from the list.")
            return
        self.accept()
