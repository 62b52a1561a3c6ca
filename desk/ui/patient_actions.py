"""What the desk does from a patient's window: sell, adjust, transfer, refund,
reverse a transaction, reprint a receipt, print a statement, households and merging
a duplicate.

Dialogs open window-modal without blocking (``open()``), so the worker keeps
running; the open one is kept in ``dialog`` (tests drive it there). After a save
the window reloads, the schedule window (if any) reloads its grid, and a receipt is
printed or previewed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QDialog, QMessageBox, QWidget

from desk.services import lookups, memberships, receipts, statements
from desk.services.merge import MergeResult
from desk.services.patient_previews import HouseholdPreview, household_preview
from desk.services.queries import TxnView
from desk.ui import printing
from desk.ui.action_dialog import Subject
from desk.ui.history_model import local_time
from desk.ui.household_dialogs import HouseholdDialog, MergeDialog
from desk.ui.patient_dialogs import (
    AdjustDialog,
    RefundDialog,
    ReverseTxnDialog,
    StatementDialog,
    TransferDialog,
)
from desk.ui.patient_tabs import shared_sentence
from desk.ui.receipt_preview import ReceiptPreview, send_to_printer
from desk.ui.sale_dialog import SaleDialog
from desk.ui.tasks import Tasks
from desk.ui.widgets import DialogHost, alive, error_text

if TYPE_CHECKING:
    from desk.ui.patient_window import PatientWindow


def _ask(parent: QWidget, title: str, text: str) -> bool:
    return QMessageBox.question(parent, title, text) == QMessageBox.StandardButton.Yes


class PatientActions(DialogHost, QObject):
    def __init__(self, window: PatientWindow, spooler: Tasks | None) -> None:
        super().__init__(window)
        self.window = window
        self.dialog: QDialog | None = None
        self.confirm: Callable[[QWidget, str, str], bool] = _ask
        # Print jobs wait on a spooler (the schedule window's when there is one), never
        # on the database worker.
        self.spooler = spooler if spooler is not None else Tasks(self)

    @property
    def ctx(self) -> Any:
        return self.window.ctx

    @property
    def tasks(self) -> Tasks:
        return self.window.tasks

    def _failed(self, exc: BaseException) -> None:
        if alive(self.window):
            self.window.say(error_text(exc), error=True)

    def saved(self, text: str, receipt_txn: int | None = None) -> None:
        """After a write: say what happened, reload here and on the schedule, and
        print or preview the receipt."""
        self.window.say(text)
        self.window.load()
        self.window.reload_schedule()
        if receipt_txn is not None:
            self.receipt(receipt_txn, auto=True)

    def end_membership(self, membership_id: int, package: str) -> None:
        if not self.confirm(self.window, "End membership",
                            f"End the {package} membership? It will not renew from today; "
                            "tokens already granted stay."):
            return
        ctx = self.ctx
        self.tasks.run(lambda: memberships.end_membership(ctx, membership_id),
                       lambda day: self.saved(f"{package} membership ends on {day}: no more "
                                              "renewals."),
                       self._failed)

    def subject(self) -> Subject | None:
        loaded = self.window.loaded
        if loaded is None:
            return None
        file = loaded.file
        held = sum(h.quantity for h in file.holds if h.what == "credit")
        return Subject(file.info.id, file.info.name, file.balance, loaded.currency,
                       shared_sentence(file), held)

    # -- money --------------------------------------------------------------------------

    def sell(self) -> None:
        loaded = self.window.loaded
        if loaded is None:
            return
        info, currency = loaded.file.info, loaded.currency

        def opened(choices: lookups.SaleChoices) -> None:
            if not alive(self.window):
                return
            dialog = SaleDialog(self.ctx, self.tasks, choices, currency, info, self.window)
            self._show(dialog, lambda outcome: self.saved(
                f"Sold; receipt {outcome.receipt_no}.", receipt_txn=outcome.txn_id))

        self.tasks.run(lookups.sale_choices, opened, self._failed)

    def adjust(self) -> None:
        who, loaded = self.subject(), self.window.loaded
        if who is not None and loaded is not None:
            dialog = AdjustDialog(self.ctx, self.tasks, who, loaded.kinds, self.window)
            self._show(dialog, lambda outcome: self.saved(
                f"Adjusted (transaction {outcome.txn_id})."))

    def transfer(self) -> None:
        who = self.subject()
        if who is not None:
            dialog = TransferDialog(self.ctx, self.tasks, who, self.window)
            self._show(dialog, lambda outcome: self.saved(
                f"Transferred to {dialog.search.patient.name if dialog.search.patient else ''}"
                f" (transaction {outcome.txn_id})."))

    def refund(self) -> None:
        who = self.subject()
        if who is not None:
            dialog = RefundDialog(self.ctx, self.tasks, who, self.window)
            self._show(dialog, lambda outcome: self.saved(
                f"Refunded; receipt {outcome.receipt_no}.", receipt_txn=outcome.txn_id))

    def reverse(self, txn: TxnView) -> None:
        who = self.subject()
        if who is not None:
            dialog = ReverseTxnDialog(self.ctx, self.tasks, txn, who, self.window)
            self._show(dialog, lambda outcome: self.saved(
                f"Transaction {txn.id} reversed (transaction {outcome.txn_id}).",
                receipt_txn=outcome.txn_id if outcome.receipt_no else None))

    # -- printing -------------------------------------------------------------------------

    def receipt(self, txn_id: int, *, copy: bool = False, auto: bool = False) -> None:
        """Build a receipt on the worker; print it straight away (``auto`` with the
        clinic's ``auto_print`` and a remembered printer) or preview it."""

        def build() -> tuple[int, bytes, str]:
            from desk.printing.receipt import render_receipt  # reportlab: only when printing

            data = receipts.receipt_for(txn_id, copy=copy)
            return data.receipt_no or txn_id, render_receipt(data), data.paper

        def show(built: tuple[int, bytes, str]) -> None:
            if not alive(self.window):
                return
            number, pdf, paper = built
            title = f"Receipt {number}" + (" (copy)" if copy else "")
            loaded = self.window.loaded
            settings = loaded.settings if loaded is not None else {}
            if auto and settings.get("auto_print") == "true" and printing.remembered_printer():
                send_to_printer(pdf, title, paper, self.window, self.spooler,
                                lambda said, _printed: self.window.say(said), ask=False)
                return
            self.preview(pdf, title, paper, f"receipt-{number}" + ("-copy" if copy else ""))

        self.tasks.run(build, show, self._failed)

    def preview(self, pdf: bytes, title: str, paper: str, stem: str) -> None:
        preview = ReceiptPreview(pdf, title, paper, stem, self.spooler, self.window)
        self._show(preview, lambda _o: None)
        preview.finished.connect(lambda _r: self.window.say(preview.said) if preview.said
                                 else None)

    def statement(self) -> None:
        who, loaded = self.subject(), self.window.loaded
        if who is None or loaded is None:
            return
        pid, today = who.patient_id, self.ctx.today()
        oldest = min((local_time(t.created_at).date() for t in loaded.history), default=today)

        def build(first: dt.date, last: dt.date) -> tuple[bytes, str, dt.date, dt.date]:
            from desk.printing.statement import render_statement  # reportlab

            data = statements.statement_for(pid, first, last, today=today)
            return render_statement(data), data.paper, first, last

        def built(outcome: tuple[bytes, str, dt.date, dt.date]) -> None:
            pdf, paper, first, last = outcome
            self.preview(pdf, f"Statement of {who.name}, {first} to {last}", paper,
                         f"statement-{pid}-{first}-{last}")

        dialog = StatementDialog(self.ctx, self.tasks, who, oldest, build, self.window)
        self._show(dialog, built)

    # -- household and merge --------------------------------------------------------------

    def household(self) -> None:
        loaded = self.window.loaded
        if loaded is None or loaded.file.info.merged_into_id is not None:
            return
        pid, currency = loaded.file.info.id, loaded.currency

        def opened(preview: HouseholdPreview) -> None:
            if not alive(self.window):
                return
            dialog = HouseholdDialog(self.ctx, self.tasks, preview, currency, self.confirm,
                                     self.window)
            self._show(dialog, lambda _o: self.saved(dialog.said))

        self.tasks.run(lambda: household_preview(pid), opened, self._failed)

    def merge(self) -> None:
        loaded = self.window.loaded
        if loaded is None:
            return
        dialog = MergeDialog(self.ctx, self.tasks, loaded.file.info, loaded.currency,
                             self.confirm, self.window)

        def merged(result: MergeResult) -> None:
            self.window.say(f"Merged patient #{result.drop_id} into #{result.keep_id}: "
                            f"{result.appointments_moved} visits moved.")
            self.window.reload_schedule()
            self.window.show_patient(result.keep_id)

        self._show(dialog, merged)
