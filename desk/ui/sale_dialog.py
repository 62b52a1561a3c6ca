"""A sale without a visit (SPEC §3 Sell): a package, some tokens or prepaid credit,
paid by one or more tenders; paying less leaves the rest owed, more adds credit."""

from __future__ import annotations

import uuid
from html import escape

from PySide6.QtWidgets import (
    QComboBox,
    QDialogButtonBox,
    QFormLayout,
    QGridLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from desk.core.errors import BadInput, DeskError
from desk.core.money import format_amount, format_money
from desk.services import queries, sales
from desk.services.context import Ctx
from desk.services.lookups import SaleChoices
from desk.services.patients import PatientInfo
from desk.services.results import Balance
from desk.ui.booking_dialog import PatientSearch
from desk.ui.checkin_dialog import leaves_sentence
from desk.ui.money_rows import PaymentRows, amount_of
from desk.ui.tasks import Tasks
from desk.ui.widgets import BusyDialog, alive, error_text, set_error

PACKAGE, TOKENS, CREDIT = "package", "tokens", "credit"


def _page(widget: QWidget) -> QWidget:
    """``widget`` at the top of a page of the stack (not stretched to its height)."""
    page = QWidget()
    layout = QVBoxLayout(page)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.addWidget(widget)
    layout.addStretch(1)
    return page


class SaleDialog(BusyDialog):
    def __init__(self, ctx: Ctx, tasks: Tasks, choices: SaleChoices, currency: str,
                 patient: PatientInfo | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Sale")
        self.ctx, self.tasks, self.choices, self.currency = ctx, tasks, choices, currency
        self.key = str(uuid.uuid4())
        self.wallet: Balance | None = None
        self.search = PatientSearch(tasks, self)
        self.search.results.currentItemChanged.connect(lambda *_: self._patient_changed())
        self.what = QComboBox(self)
        self.what.setAccessibleName("What is sold")
        self.what.addItem("A package", PACKAGE)
        self.what.addItem("Tokens", TOKENS)
        self.what.addItem("Prepaid credit", CREDIT)
        self.pages = QStackedWidget(self)
        self.package = QComboBox(self)
        self.package.setAccessibleName("Package")
        for name, kind, tokens, price in choices.packages:
            self.package.addItem(f"{name}: {tokens} {kind} tokens, "
                                 f"{format_money(price, currency)}", name)
        self.pages.addWidget(_page(self.package))
        tokens_page = QWidget(self)
        tokens_form = QFormLayout(tokens_page)
        self.kind = QComboBox(self)
        self.kind.setAccessibleName("Token kind")
        self.kind.addItems(list(choices.token_kinds))
        self.count = QSpinBox(self)
        self.count.setRange(1, 1000)
        self.count.setAccessibleName("Number of tokens")
        self.token_price = QLineEdit(self)
        self.token_price.setPlaceholderText("price for all of them")
        self.token_price.setAccessibleName("Price of the tokens")
        tokens_form.addRow("Kind", self.kind)
        tokens_form.addRow("Tokens", self.count)
        tokens_form.addRow("Price", self.token_price)
        self.pages.addWidget(tokens_page)
        self.credit = QLineEdit(self)
        self.credit.setPlaceholderText("0.00")
        self.credit.setAccessibleName("Credit amount")
        self.pages.addWidget(_page(self.credit))
        form = QFormLayout()
        form.addRow("&Patient", self.search)
        form.addRow("&Sell", self.what)
        form.addRow("", self.pages)
        grid = QGridLayout()
        self.payments = PaymentRows(grid, 0, self)
        add = QPushButton("Add payment", self)
        add.setAutoDefault(False)
        add.clicked.connect(lambda: self.payments.add().setFocus())
        self.totals = QLabel(self)
        self.totals.setAccessibleName("Totals")
        self.message = QLabel(self)
        self.message.setWordWrap(True)
        self.message.setAccessibleName("Message")
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel, self)
        self.save = self.buttons.addButton("Sell", QDialogButtonBox.ButtonRole.AcceptRole)
        self.save.setDefault(True)
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setAutoDefault(False)
        self.buttons.accepted.connect(self.submit)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(QLabel("Payment"))
        layout.addLayout(grid)
        layout.addWidget(add)
        layout.addWidget(self.totals)
        layout.addWidget(self.message)
        layout.addWidget(self.buttons)
        self.payments.add()
        self.what.currentIndexChanged.connect(self._what_changed)
        for combo in (self.package, self.kind):
            combo.currentIndexChanged.connect(lambda _i: self.refresh())
        self.count.valueChanged.connect(lambda _v: self.refresh())
        for edit in (self.token_price, self.credit):
            edit.textEdited.connect(lambda _t: self.refresh())
        self.payments.changed.connect(self.refresh)
        if patient is not None:
            self.search.set_patient(patient)
            self._patient_changed()
        self.refresh()

    def _what_changed(self, index: int) -> None:
        self.pages.setCurrentIndex(index)
        self.refresh()

    def _patient_changed(self) -> None:
        patient = self.search.patient
        self.wallet = None
        if patient is not None:
            pid = patient.id
            self.tasks.run(lambda: queries.balance(pid),
                           lambda wallet: self._wallet_loaded(pid, wallet), lambda _e: None)
        self.refresh()

    def _wallet_loaded(self, pid: int, wallet: Balance) -> None:
        if alive(self) and self.search.patient is not None and self.search.patient.id == pid:
            self.wallet = wallet
            self.refresh()

    def item(self) -> tuple[sales.SaleItem, int, dict[str, int], int]:
        """(the sale, its price, tokens it grants, credit it grants); BadInput names the
        field."""
        what = self.what.currentData()
        if what == PACKAGE:
            name = self.package.currentData()
            if name is None:
                raise BadInput("Package", "none are on sale yet (add them in the catalog)")
            _, kind, tokens, price = next(p for p in self.choices.packages if p[0] == name)
            return sales.SaleItem(package=name), price, {kind: tokens}, 0
        if what == TOKENS:
            if not self.kind.currentText():
                raise BadInput("Token kind", "there are no token kinds yet")
            price = amount_of(self.token_price, "Price of the tokens", allow_zero=True)
            count = self.count.value()
            return (sales.SaleItem(tokens=count, token_kind=self.kind.currentText(),
                                   price_cents=price), price,
                    {self.kind.currentText(): count}, 0)
        cents = amount_of(self.credit, "Credit amount")
        return sales.SaleItem(credit_cents=cents), cents, {}, cents

    def refresh(self) -> None:
        try:
            _, price, tokens, granted = self.item()
            if self.payments.rows:
                first = self.payments.amount_edit(0)
                if not first.property("typed"):
                    first.setText(format_amount(price) if price else "")
            paid = sum(t.amount_cents for t in self.payments.values())
        except DeskError as exc:
            set_error(self.message, error_text(exc))
            self.totals.setText("")
            return
        set_error(self.message, "")
        cur = self.currency
        text = f"Price {format_money(price, cur)} · Paid {format_money(paid, cur)}"
        if paid < price:
            text += f" · <b>{format_money(price - paid, cur)} left owed</b>"
        elif paid > price:
            text += f" · adds {format_money(paid - price, cur)} credit"
        if self.wallet is not None:
            after = dict(self.wallet.tokens)
            for kind, n in tokens.items():
                after[kind] = after.get(kind, 0) + n
            credit = self.wallet.credit_cents + granted + paid - price
            text += "<br>" + escape(leaves_sentence(after, credit, cur))
        self.totals.setText(text)

    def submit(self) -> None:
        if self.busy:
            return
        patient = self.search.patient
        try:
            if patient is None:
                raise BadInput("Patient", "choose one from the list (type a name or phone)")
            item, _, _, _ = self.item()
            tenders = self.payments.values()
            if item.credit_cents is not None and not tenders:
                raise BadInput("Payment 1 amount", "prepaid credit must be paid for")
        except DeskError as exc:
            set_error(self.message, error_text(exc))
            return
        ctx, key, pid = self.ctx, self.key, patient.id
        self.run_save(self.tasks, lambda: sales.sell(ctx, pid, item, tenders, idem_key=key))
