"""The base of the patient window's action dialogs: who they act on, a heading, a
form, a message line naming the field to fix, OK/Cancel, an idempotency key made when
the dialog opens, and the save on the worker (``BusyDialog``)."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from html import escape
from typing import Any, ClassVar

from PySide6.QtWidgets import QDialogButtonBox, QFormLayout, QLabel, QLineEdit, QVBoxLayout, QWidget

from desk.core.errors import BadInput, DeskError, NotFound, Refused
from desk.core.money import format_money
from desk.core.text import clean_text
from desk.services.context import Ctx
from desk.services.results import Balance
from desk.ui.checkin_dialog import leaves_sentence
from desk.ui.tasks import Tasks
from desk.ui.widgets import BusyDialog, error_text, set_error

#: The services' option names, as the dialogs label the fields.
FIELDS = {"--credit": "Amount", "--amount": "Amount", "--tokens": "Tokens",
          "--token-kind": "Token kind", "--reason": "Reason", "--memo": "Memo",
          "--reference": "Reference", "--method": "Method", "--to": "To patient",
          "--expires-days": "Expire after", "--from": "From", "--with": "Link with",
          "--name": "Household name", "--drop": "Duplicate", "--keep": "Kept patient",
          "--move-to": "Move the shared balance to"}


def in_words(exc: BaseException, fields: dict[str, str] = FIELDS) -> BaseException:
    """The error with the services' option names (``--credit``) replaced by the
    dialog's labels."""
    if isinstance(exc, BadInput):
        return BadInput(fields.get(exc.field, exc.field), exc.reason)
    if isinstance(exc, Refused | NotFound):
        text = re.sub(r"--[a-z-]+", lambda m: fields.get(m.group(0), m.group(0)), exc.message)
        return type(exc)(text)
    return exc


@dataclass(frozen=True, slots=True)
class Subject:
    """The patient a dialog acts on, as the window last loaded them."""

    patient_id: int
    name: str
    balance: Balance
    currency: str
    shared: str = ""          # "Shared wallet of the Adams household, with Bob Brown"
    credit_held_cents: int = 0   # held for booked visits

    @property
    def free_credit_cents(self) -> int:
        return max(self.balance.credit_cents - self.credit_held_cents, 0)

    def check_credit(self, cents: int) -> None:
        """``BadInput`` naming the amount when it is more than the credit free to move."""
        if cents <= self.free_credit_cents:
            return
        have = format_money(self.free_credit_cents, self.currency)
        held = format_money(self.credit_held_cents, self.currency)
        raise BadInput("Amount", f"is more than the {have} credit {self.name} has"
                       + (f" free ({held} held for booked visits)"
                          if self.credit_held_cents else ""))

    def heading(self) -> str:
        has = leaves_sentence(self.balance.tokens, self.balance.credit_cents, self.currency)
        has = "Has " + has.removeprefix("Leaves ")[:1].lower() + has.removeprefix("Leaves ")[1:]
        return (f"<b>{escape(self.name)}</b> (#{self.patient_id})<br>{escape(has)}"
                + (f"<br><i>{escape(self.shared)}</i>" if self.shared else ""))

    def available(self, kind: str) -> int:
        return self.balance.tokens.get(kind, 0) - self.balance.held.get(kind, 0)


class ActionDialog(BusyDialog):
    """Heading, a form, a message line and OK/Cancel; OK runs ``call()``'s work on the
    worker."""

    saying = "Saving…"
    fields: ClassVar[dict[str, str]] = FIELDS

    def __init__(self, ctx: Ctx, tasks: Tasks, title: str, ok_text: str,
                 parent: QWidget | None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.ctx, self.tasks = ctx, tasks
        self.key = str(uuid.uuid4())   # persisted with the write: a double click replays
        self.heading = QLabel(self)
        self.heading.setWordWrap(True)
        self.heading.setAccessibleName("Patient")
        self.message = QLabel(self)
        self.message.setWordWrap(True)
        self.message.setAccessibleName("Message")
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel, self)
        self.ok = self.buttons.addButton(ok_text, QDialogButtonBox.ButtonRole.AcceptRole)
        self.ok.setDefault(True)
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setAutoDefault(False)
        self.buttons.accepted.connect(self.submit)
        self.buttons.rejected.connect(self.reject)
        self.form = QFormLayout()
        layout = QVBoxLayout(self)
        layout.addWidget(self.heading)
        layout.addLayout(self.form)
        layout.addWidget(self.message)
        layout.addStretch(1)
        layout.addWidget(self.buttons)
        self.setMinimumWidth(460)

    def call(self) -> Callable[[], Any] | None:
        """The service call for what was typed (None: the receptionist changed their
        mind at a confirmation); ``DeskError`` names a bad field."""
        raise NotImplementedError

    def submit(self) -> None:
        if self.busy:
            return
        try:
            work = self.call()
        except DeskError as exc:
            set_error(self.message, error_text(in_words(exc, self.fields)))
            return
        if work is not None:
            self.run_save(self.tasks, work, self.saying)

    def _save_failed(self, exc: BaseException) -> None:
        super()._save_failed(in_words(exc, self.fields))

    def line_edit(self, name: str, placeholder: str = "") -> QLineEdit:
        edit = QLineEdit(self)
        edit.setAccessibleName(name)
        edit.setPlaceholderText(placeholder)
        return edit


def reason_of(edit: QLineEdit, why: str) -> str:
    text = clean_text(edit.text(), "Reason", max_len=500)
    if not text:
        edit.setFocus()
        raise BadInput("Reason", f"is required: {why}")
    return text
