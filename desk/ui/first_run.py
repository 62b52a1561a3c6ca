"""First start on an empty clinic: a one-page setup, or the demo clinic instead.

The owner types the clinic's name and currency, the first practitioner and the
first service; Start writes them in one transaction (``services.setup``). "Try the
demo clinic instead" opens the demo clinic in its own file (made on the worker,
with a busy bar, when it is missing or stale); the clinic's own database stays
empty. Cancel writes nothing and quits.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from PySide6.QtCore import QLocale, Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desk.core.errors import BadInput, Refused
from desk.core.settings import SPECS
from desk.data.database import backend_of, recover_connection, sqlite_path
from desk.services import settings as clinic_settings
from desk.services import setup
from desk.services.context import Ctx
from desk.ui.tasks import Tasks
from desk.ui.widgets import BusyDialog, set_error

CURRENCIES = ("USD", "EUR", "GBP", "CAD", "AUD", "NZD", "CHF", "JPY", "CNY", "HKD", "SGD",
              "INR", "SEK", "NOK", "DKK", "PLN", "CZK", "ZAR", "BRL", "MXN", "ILS", "AED")

#: Each field ``services.setup`` may name, as the owner sees it on the form.
LABELS = {"clinic_name": "Clinic name", "currency": "Currency", "phone": "Phone",
          "address": "Address", "practitioner": "Practitioner", "service_name": "Service name",
          "minutes": "Minutes", "price": "Price", "token_kind": "Token kind"}


def problem_text(exc: BadInput) -> str:
    """``BadInput`` as a sentence naming the field as it is labelled on the form."""
    label = LABELS.get(exc.field, exc.field)
    joins = exc.reason.startswith(("is ", "must ", "contains "))
    return f"{label}{' ' if joins else ': '}{exc.reason}"


def default_currency(stored: str) -> str:
    """The stored currency when someone set one, else this computer's, else USD."""
    if stored != SPECS["currency"].default:
        return stored
    local = QLocale.system().currencySymbol(QLocale.CurrencySymbolFormat.CurrencyIsoCode)
    return local if len(local) == 3 and local.isalpha() else stored


def _edit(parent: QWidget, name: str, placeholder: str, text: str = "") -> QLineEdit:
    edit = QLineEdit(text, parent)
    edit.setAccessibleName(name)
    edit.setPlaceholderText(placeholder)
    return edit


class FirstRunDialog(BusyDialog):
    """``outcome`` after Start: ``setup.SetupDone``; after the demo: ``setup.DemoClinic``."""

    def __init__(self, ctx: Ctx, tasks: Tasks, *, stored: Mapping[str, str] | None = None,
                 demo: Path | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx, self.tasks, self.demo = ctx, tasks, demo
        self.setWindowTitle("Welcome to desk")
        self.setMinimumWidth(540)
        stored = stored or {key: spec.default for key, spec in SPECS.items()}
        self.taken = False  # another desk set the clinic up while this one was open
        heading = QLabel("<b style='font-size:15pt'>Welcome to desk</b>", self)
        intro = QLabel("Tell desk about your clinic and it opens the schedule. "
                       "You can change all of this later.", self)
        intro.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addWidget(heading)
        layout.addWidget(intro)
        layout.addLayout(self._form(stored))
        self.message = QLabel(self)
        self.message.setWordWrap(True)
        self.message.setAccessibleName("Message")
        layout.addWidget(self.message)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel, self)
        self.start = self.buttons.addButton("Start", QDialogButtonBox.ButtonRole.AcceptRole)
        self.start.setDefault(True)
        self.cancel = self.buttons.button(QDialogButtonBox.StandardButton.Cancel)
        self.cancel.setAutoDefault(False)
        self.buttons.accepted.connect(self.submit)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        self.progress = QProgressBar(self)
        self.progress.setRange(0, 0)  # a busy bar: the demo does not report how far it is
        self.progress.setTextVisible(False)
        self.progress.setAccessibleName("Making the demo clinic")
        policy = self.progress.sizePolicy()
        policy.setRetainSizeWhenHidden(True)  # the dialog does not jump when it shows
        self.progress.setSizePolicy(policy)
        self.progress.hide()
        self.try_demo = QPushButton("Try the demo clinic instead", self)
        self.try_demo.setAutoDefault(False)
        self.try_demo.clicked.connect(self.open_demo)
        demo_box = self._demo_box()
        demo_box.setVisible(demo is not None)
        layout.addWidget(demo_box)
        self.name.setFocus()

    # -- layout ---------------------------------------------------------------------------

    def _heading(self, form: QFormLayout, text: str) -> None:
        label = QLabel(f"<b>{text}</b>", self)
        if form.rowCount():
            label.setContentsMargins(0, 10, 0, 0)
        form.addRow(label)

    def _form(self, stored: Mapping[str, str]) -> QFormLayout:
        """One form (its labels line up) in three parts: clinic, practitioner, service."""
        self.name = _edit(self, "Clinic name", "e.g. Willow Street Acupuncture",
                          stored["clinic_name"])
        self.currency = QComboBox(self)
        self.currency.setEditable(True)
        self.currency.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.currency.setAccessibleName("Currency")
        self.currency.setToolTip("The ISO code of the money the clinic takes, e.g. USD, EUR")
        self.currency.addItems(list(CURRENCIES))
        self.currency.setCurrentText(default_currency(stored["currency"]))
        self.currency.setMaximumWidth(120)
        self.phone = _edit(self, "Clinic phone", "optional, printed on receipts",
                           stored["clinic_phone"])
        self.address = _edit(self, "Clinic address", "optional, printed on receipts",
                             stored["clinic_address"])
        self.practitioner = _edit(self, "Practitioner", "e.g. Dr. Mara Quinn")
        self.service = _edit(self, "Service name", "e.g. Acupuncture 60")
        self.minutes = _edit(self, "Minutes", "e.g. 60")
        self.price = _edit(self, "Price", "e.g. 95.00")
        self.token_kind = _edit(self, "Token kind", "the service name")
        self.token_kind.setToolTip("Prepaid packages hold tokens of a kind; a visit for this "
                                   "service uses one. Several services may share a kind.")
        self.service.textChanged.connect(
            lambda text: self.token_kind.setPlaceholderText(text.strip() or "the service name"))
        self.price_unit = QLabel(self.currency.currentText(), self)
        self.currency.currentTextChanged.connect(
            lambda text: self.price_unit.setText(text.strip().upper()))
        for edit in (self.minutes, self.price):
            edit.setMaximumWidth(120)
        price_row = QHBoxLayout()
        price_row.addWidget(self.price)
        price_row.addWidget(self.price_unit)
        price_row.addStretch(1)
        price_label = QLabel("P&rice", self)
        price_label.setBuddy(self.price)
        form = QFormLayout()
        self._heading(form, "Your clinic")
        form.addRow("Clinic &name", self.name)
        form.addRow("C&urrency", self.currency)
        form.addRow("&Phone", self.phone)
        form.addRow("&Address", self.address)
        self._heading(form, "First practitioner")
        form.addRow("Na&me", self.practitioner)
        self._heading(form, "First service")
        form.addRow("&Service name", self.service)
        form.addRow("M&inutes", self.minutes)
        form.addRow(price_label, price_row)
        form.addRow("&Token kind", self.token_kind)
        return form

    def _demo_box(self) -> QWidget:
        box = QWidget(self)
        line = QFrame(box)
        line.setFrameShape(QFrame.Shape.HLine)
        line.setFrameShadow(QFrame.Shadow.Sunken)
        about = QLabel("Just looking around? The demo is a made-up clinic with "
                       f"{setup.DEMO_PATIENTS} patients and two weeks of visits, kept in its "
                       "own file: your clinic stays empty.", box)
        about.setWordWrap(True)
        row = QHBoxLayout()
        row.addWidget(about, 1)
        row.addWidget(self.try_demo, 0, Qt.AlignmentFlag.AlignTop)
        layout = QVBoxLayout(box)
        layout.setContentsMargins(0, 6, 0, 0)
        layout.addWidget(line)
        layout.addLayout(row)
        layout.addWidget(self.progress)
        return box

    def _fields(self) -> dict[str, QWidget]:
        return {"clinic_name": self.name, "currency": self.currency, "phone": self.phone,
                "address": self.address, "practitioner": self.practitioner,
                "service_name": self.service, "minutes": self.minutes, "price": self.price,
                "token_kind": self.token_kind}

    # -- actions --------------------------------------------------------------------------

    def submit(self) -> None:
        """Check the form here; write it on the worker."""
        if self.busy:
            return
        if self.taken:  # nothing to write: open the clinic the other desk set up
            self.accept()
            return
        try:
            form = setup.read_setup(
                clinic_name=self.name.text(), currency=self.currency.currentText(),
                phone=self.phone.text(), address=self.address.text(),
                practitioner=self.practitioner.text(), service_name=self.service.text(),
                minutes=self.minutes.text(), price=self.price.text(),
                token_kind=self.token_kind.text())
        except BadInput as exc:
            self.show_problem(exc)
            return
        ctx = self.ctx
        self.run_save(self.tasks, lambda: setup.apply_setup(ctx, form),
                      "Setting up your clinic…")

    def show_problem(self, exc: BadInput) -> None:
        set_error(self.message, problem_text(exc))
        widget = self._fields().get(exc.field)
        if widget is not None:
            widget.setFocus()
            if isinstance(widget, QLineEdit):
                widget.selectAll()

    def open_demo(self) -> None:
        if self.busy or self.demo is None:
            return
        target, staff = self.demo, self.ctx.staff
        fresh = setup.demo_is_fresh(target)
        self.run_save(self.tasks, lambda: setup.make_demo(target, staff),
                      "Opening the demo clinic…" if fresh else
                      "Making the demo clinic; this takes a few seconds…")
        self.progress.setVisible(not fresh)

    def set_busy(self, busy: bool) -> None:
        super().set_busy(busy)
        self.try_demo.setEnabled(not busy)
        for widget in self._fields().values():
            widget.setEnabled(not busy)
        if not busy:
            self.progress.hide()

    def _save_failed(self, exc: BaseException) -> None:
        super()._save_failed(exc)
        if isinstance(exc, BadInput):
            self.show_problem(exc)
        elif isinstance(exc, Refused):
            # Another desk finished its setup first: open that clinic, unchanged.
            self.taken = True
            set_error(self.message, "Another desk has just set this clinic up, so what you "
                                    "typed here was not saved. Start opens the clinic.")


def first_run(ctx: Ctx, url: str) -> str | None:
    """Show the first-start dialog on the empty clinic at ``url``; the URL to open
    next (``url`` itself, or the demo clinic's), or None when the owner cancelled."""
    demo = setup.demo_path()
    # When this empty file is where the demo would go, there is no separate demo to offer.
    own_file = backend_of(url) == "sqlite" and sqlite_path(url).resolve() == demo.resolve()
    tasks = Tasks(recover=lambda exc: recover_connection(ctx.db, exc))
    try:
        dialog = FirstRunDialog(ctx, tasks, stored=clinic_settings.all_settings(),
                                 demo=None if own_file else demo)
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return None
        if isinstance(dialog.outcome, setup.DemoClinic):
            return dialog.outcome.url
        return url
    finally:
        tasks.close(ctx.db.close)
