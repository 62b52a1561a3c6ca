"""The check-in dialog (SPEC §3): one visit's treatment, items, token, credit, a
package bought on the spot and the payments, with live totals and a sentence of
what it leaves on the patient's account.

Enter opens it and Enter saves it: a visit paid with a token, with credit or with
the default price and the last payment method needs nothing typed. The
idempotency key is made when the dialog opens, so a double Save writes once; a
refusal or a database error keeps everything typed.
"""

from __future__ import annotations

import uuid
from html import escape

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialogButtonBox,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desk.core.checkin import CREDIT_ALL, CREDIT_NONE, CheckinInput, CheckinPlan, plan
from desk.core.errors import BadInput, DeskError
from desk.core.money import format_amount, format_money
from desk.services import checkin
from desk.services.checkin_form import CheckinForm
from desk.services.context import Ctx
from desk.services.results import Tender
from desk.ui.money_rows import ItemRows, PaymentRows, amount_of
from desk.ui.tasks import Tasks
from desk.ui.widgets import BusyDialog, error_text, set_error

METHOD_KEY = "checkin/method"


def leaves_sentence(tokens_after: dict[str, int], credit_after_cents: int,
                    currency: str) -> str:
    """"Leaves 4 Acupuncture tokens and $15.00 credit", "Leaves $20.00 owed", ..."""
    parts = [f"{n} {kind} token{'s' if n != 1 else ''}"
             for kind, n in sorted(tokens_after.items()) if n]
    if credit_after_cents > 0:
        parts.append(f"{format_money(credit_after_cents, currency)} credit")
    elif credit_after_cents < 0:
        parts.append(f"{format_money(-credit_after_cents, currency)} owed")
    if not parts:
        return "Leaves nothing on account."
    head = ", ".join(parts[:-1])
    return f"Leaves {head + ' and ' if head else ''}{parts[-1]}."


class CheckInDialog(BusyDialog):
    def __init__(self, ctx: Ctx, tasks: Tasks, form: CheckinForm,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Check in — {form.patient_name}")
        self.ctx, self.tasks, self.form = ctx, tasks, form
        self.key = str(uuid.uuid4())
        cur = form.currency
        layout = QVBoxLayout(self)
        layout.addWidget(self._heading())
        # -- what is sold --------------------------------------------------------------
        sold = QGroupBox("Visit", self)
        grid = QGridLayout(sold)
        grid.addWidget(QLabel(escape(form.service_name)), 0, 0)
        self.price = QLineEdit(format_amount(form.price_cents), self)
        self.price.setAccessibleName("Treatment price")
        grid.addWidget(self.price, 0, 1)
        self.items = ItemRows(grid, 1, sold)
        add_item = QPushButton("Add item", self)
        add_item.setAutoDefault(False)
        add_item.clicked.connect(lambda: self.items.add().setFocus())
        self.package = QComboBox(self)
        self.package.setAccessibleName("Buy a package")
        self.package.addItem("No package bought today", None)
        for p in form.packages:
            self.package.addItem(f"Buy {p.name}: {p.tokens} {p.token_kind} tokens, "
                                 f"{format_money(p.price_cents, cur)}", p)
        extra = QHBoxLayout()
        extra.addWidget(add_item)
        extra.addWidget(self.package, 1)
        layout.addWidget(sold)
        layout.addLayout(extra)
        # -- how it is paid -------------------------------------------------------------
        paid = QGroupBox("Payment", self)
        pay = QVBoxLayout(paid)
        self.use_token = QCheckBox(f"Use one {form.token_kind} token "
                                   f"({form.free_tokens} free)", self)
        self.use_token.setChecked(form.free_tokens > 0 and form.auto_apply_tokens)
        self.use_token.setEnabled(form.free_tokens > 0)
        if form.free_tokens < 1:
            self.use_token.setText(f"Use one {form.token_kind} token — none free for this "
                                   "visit (buy a package below to use one of its tokens)")
        credit_row = QHBoxLayout()
        self.use_credit = QCheckBox(
            f"Use credit ({format_money(form.credit_free_cents, cur)} free)", self)
        self.use_credit.setChecked(form.credit_free_cents > 0 and form.auto_apply_credit)
        self.use_credit.setEnabled(form.credit_free_cents > 0)
        self.credit_amount = QLineEdit(self)
        self.credit_amount.setPlaceholderText("as much as needed")
        self.credit_amount.setAccessibleName("Credit to use")
        self.credit_amount.setEnabled(self.use_credit.isChecked())
        credit_row.addWidget(self.use_credit)
        credit_row.addWidget(self.credit_amount)
        pay.addWidget(self.use_token)
        pay.addLayout(credit_row)
        tender_grid = QGridLayout()
        self.payments = PaymentRows(tender_grid, 0, paid, remember=self._remember_method)
        pay.addLayout(tender_grid)
        add_payment = QPushButton("Add payment", self)
        add_payment.setAutoDefault(False)
        add_payment.clicked.connect(lambda: self.payments.add(self._method()).setFocus())
        cash_row = QHBoxLayout()
        self.cash_given = QLineEdit(self)
        self.cash_given.setPlaceholderText("cash handed over (for change)")
        self.cash_given.setAccessibleName("Cash handed over")
        cash_row.addWidget(add_payment)
        cash_row.addWidget(self.cash_given, 1)
        pay.addLayout(cash_row)
        layout.addWidget(paid)
        # -- totals and the result ------------------------------------------------------
        self.totals = QLabel(self)
        self.totals.setAccessibleName("Totals")
        self.result_line = QLabel(self)
        self.result_line.setAccessibleName("Result")
        self.result_line.setWordWrap(True)
        self.message = QLabel(self)
        self.message.setWordWrap(True)
        self.message.setAccessibleName("Message")
        for label in (self.totals, self.result_line, self.message):
            layout.addWidget(label)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel, self)
        self.save = self.buttons.addButton("Save", QDialogButtonBox.ButtonRole.AcceptRole)
        self.save.setDefault(True)
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setAutoDefault(False)
        self.buttons.accepted.connect(self.submit)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        self.payments.add(self._method())
        for signal in (self.price.textEdited, self.credit_amount.textEdited,
                       self.cash_given.textEdited):
            signal.connect(lambda _t: self.refresh())
        for box in (self.use_token, self.use_credit):
            box.toggled.connect(lambda _on: self.refresh())
        self.use_credit.toggled.connect(self.credit_amount.setEnabled)
        self.package.currentIndexChanged.connect(lambda _i: self.refresh())
        self.items.changed.connect(self.refresh)
        self.payments.changed.connect(self.refresh)
        self.refresh()
        self.save.setFocus()

    def _heading(self) -> QLabel:
        f, cur = self.form, self.form.currency
        wallet = [f"{n} {k} token{'s' if n != 1 else ''}" for k, n in sorted(f.tokens.items())
                  if n]
        if f.credit_cents > 0:
            wallet.append(f"{format_money(f.credit_cents, cur)} credit")
        elif f.credit_cents < 0:
            wallet.append(f"owes {format_money(-f.credit_cents, cur)}")
        label = QLabel(f"<b>{escape(f.patient_name)}</b> — {escape(f.service_name)}, "
                       f"{f.starts_at:%a %d %b %H:%M}<br>Now: "
                       f"{escape(', '.join(wallet) or 'no tokens, no credit')}", self)
        label.setAccessibleName("Patient and balances")
        return label

    # -- the money --------------------------------------------------------------------

    def _method(self) -> str:
        return str(QSettings().value(METHOD_KEY, "card"))

    def _remember_method(self, method: str) -> None:
        QSettings().setValue(METHOD_KEY, method)

    def request(self) -> checkin.CheckinRequest:
        """What the receptionist chose; BadInput names the field to fix."""
        price = amount_of(self.price, "Treatment price", allow_zero=True)
        credit: str | int = CREDIT_NONE
        if self.use_credit.isChecked():
            credit = CREDIT_ALL if not self.credit_amount.text().strip() else amount_of(
                self.credit_amount, "Credit to use")
        given = amount_of(self.cash_given, "Cash handed over") \
            if self.cash_given.text().strip() else None
        tenders = tuple(self.payments.values())
        if given is not None:
            cash = sum(t.amount_cents for t in tenders if t.method == "cash")
            if not cash:
                raise BadInput("Cash handed over", "is only for a cash payment; choose Cash as "
                               "the payment method or clear this field")
            if given < cash:
                raise BadInput("Cash handed over", f"{format_money(given, self.form.currency)} "
                               f"is less than the {format_money(cash, self.form.currency)} "
                               "paid in cash")
        package = self.package.currentData()
        return checkin.CheckinRequest(
            self.form.appointment_id,
            price_cents=None if price == self.form.price_cents else price,
            items=tuple(self.items.values()), use_token=self.use_token.isChecked(),
            use_credit=credit, tenders=tenders,
            buy_package=package.name if package else None, cash_given_cents=given)

    def _plan(self, req: checkin.CheckinRequest, tenders: list[Tender]) -> CheckinPlan:
        package = self.package.currentData()
        cash = sum(t.amount_cents for t in tenders if t.method == "cash")
        return plan(CheckinInput(
            treatment_cents=self.form.price_cents if req.price_cents is None else req.price_cents,
            item_cents=[c for _, c in req.items],
            package_cents=package.price_cents if package else 0,
            use_token=bool(req.use_token), credit_before_cents=self.form.credit_cents,
            credit_available_cents=self.form.credit_free_cents,
            use_credit=req.use_credit if req.use_credit is not None else CREDIT_NONE,
            tender_cents=[t.amount_cents for t in tenders], cash_kept_cents=cash,
            cash_given_cents=req.cash_given_cents))

    def _token_choice(self) -> None:
        """A package of this visit's kind bought today makes a token available."""
        package = self.package.currentData()
        from_package = package is not None and package.token_kind == self.form.token_kind
        can = self.form.free_tokens > 0 or from_package
        if can != self.use_token.isEnabled():
            self.use_token.setEnabled(can)
            self.use_token.blockSignals(True)
            self.use_token.setChecked(can and (from_package or self.form.auto_apply_tokens))
            self.use_token.blockSignals(False)

    def refresh(self) -> None:
        """Recompute totals; keep the first payment at what remains unless typed over."""
        self._token_choice()
        try:
            req = self.request()
            others = list(req.tenders)
            if self.payments.rows:
                first = self.payments.amount_edit(0)
                if not first.property("typed"):
                    rest = [t for t in self._tenders_after_first()]
                    left = self._plan(req, rest).owed_cents
                    first.setText(format_amount(left) if left else "")
                    req = self.request()
                    others = list(req.tenders)
            money = self._plan(req, others)
        except DeskError as exc:
            set_error(self.message, error_text(exc))
            self.totals.setText("")
            self.result_line.setText("")
            return
        set_error(self.message, "")
        cur = self.form.currency
        parts = [f"Due {format_money(money.due_cents, cur)}",
                 f"Paid {format_money(money.paid_cents, cur)}"]
        if money.credit_applied_cents:
            parts.insert(1, f"Credit {format_money(money.credit_applied_cents, cur)}")
        if money.cash_change_cents:
            parts.append(f"<b>Change {format_money(money.cash_change_cents, cur)}</b>")
        self.totals.setText(" · ".join(parts))
        self.result_line.setText(self._sentence(money))

    def _tenders_after_first(self) -> list[Tender]:
        out = []
        for index in range(1, len(self.payments.rows)):
            edit = self.payments.amount_edit(index)
            if edit.text().strip():
                cents = amount_of(edit, f"Payment {index + 1} amount", allow_zero=True)
                if cents:
                    out.append(Tender(self.payments.method(index), cents))
        return out

    def _sentence(self, money: CheckinPlan) -> str:
        tokens = dict(self.form.tokens)
        kind = self.form.token_kind
        package = self.package.currentData()
        if package is not None:
            tokens[package.token_kind] = tokens.get(package.token_kind, 0) + package.tokens
        if money.token_used:
            tokens[kind] = tokens.get(kind, 0) - 1
        extra = ""
        if money.credit_added_cents:
            extra = f" (adds {format_money(money.credit_added_cents, self.form.currency)} " \
                    "credit)"
        elif money.owed_cents:
            extra = f" (leaves {format_money(money.owed_cents, self.form.currency)} " \
                    "of this visit owed)"
        return leaves_sentence(tokens, money.credit_after_cents, self.form.currency) + extra

    # -- saving ---------------------------------------------------------------------------

    def submit(self) -> None:
        if self.busy:
            return
        try:
            req = self.request()
            self._plan(req, list(req.tenders))
        except DeskError as exc:
            set_error(self.message, error_text(exc))
            return
        ctx, key = self.ctx, self.key
        self.run_save(self.tasks, lambda: checkin.check_in(ctx, req, idem_key=key))
