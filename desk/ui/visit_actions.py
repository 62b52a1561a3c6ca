"""What the receptionist can do to a visit from the grid: book, move, check in,
cancel, reverse, open the patient, print the last receipt.

Dialogs open window-modal without blocking (``open()``), so live refresh and the
worker keep running; the open one is kept in ``dialog`` (tests drive it there).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, QPoint
from PySide6.QtWidgets import QDialog, QMenu, QMessageBox, QWidget

from desk.core import schedule
from desk.services import appointments, lookups, patients, receipts
from desk.services.appointments import BookResult
from desk.services.cancel_preview import CancelPreview, cancel_preview
from desk.services.checkin_form import CheckinForm, checkin_form
from desk.ui import printing
from desk.ui.booking_dialog import BookingDialog
from desk.ui.cells import Block
from desk.ui.checkin_dialog import CheckInDialog
from desk.ui.patient_window import open_patient_window
from desk.ui.receipt_preview import ReceiptPreview, send_to_printer
from desk.ui.sale_dialog import SaleDialog
from desk.ui.tasks import Tasks
from desk.ui.visit_dialogs import CancelDialog, MoveDialog, ReverseDialog
from desk.ui.widgets import DialogHost, error_text

if TYPE_CHECKING:
    from desk.ui.main_window import MainWindow


FEE_PAID = {"token": "paid with a token", "credit": "taken from credit", "owed": "left owed",
            "waived": "waived", "none": "not charged"}


def _ask(parent: QWidget, title: str, text: str) -> bool:
    answer = QMessageBox.question(parent, title, text)
    return answer == QMessageBox.StandardButton.Yes


class VisitActions(DialogHost, QObject):
    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.dialog: QDialog | None = None
        self.menu: QMenu | None = None
        self.confirm: Callable[[QWidget, str, str], bool] = _ask
        self.tell: Callable[[QWidget, str, str], Any] = QMessageBox.warning
        # Print jobs wait on the spooler, never on the GUI or the database worker.
        self.spooler = Tasks(self)

    @property
    def ctx(self) -> Any:
        return self.window.ctx

    def _say(self, text: str) -> None:
        self.window.status.setText(text)

    def _failed(self, what: str) -> Callable[[BaseException], None]:
        def show(exc: BaseException) -> None:
            self.tell(self.window, what, error_text(exc))
            self.window.schedule_reload()
        return show

    # -- booking and moving -----------------------------------------------------------

    def book(self, starts_at: dt.datetime, practitioner_id: int | None) -> None:
        self.window.tasks.run(lookups.booking_choices,
                              lambda choices: self._book_dialog(choices, starts_at,
                                                                practitioner_id),
                              self._failed("Book a visit"))

    def book_here(self) -> None:
        block = self.window.view.selected_block()
        if block is not None:
            self.book(block.ends_at, block.practitioner_id)
            return
        now = self.ctx.local_now()
        day = self.window.day
        slot = int(self.window.settings.get("slot_minutes", "15"))
        at = dt.datetime.combine(day, dt.time(now.hour, now.minute - now.minute % slot)) \
            if day == now.date() else dt.datetime.combine(day, dt.time(9, 0))
        self.book(at, None)

    def _book_dialog(self, choices: lookups.BookingChoices, starts_at: dt.datetime,
                     practitioner_id: int | None) -> None:
        dialog = BookingDialog(self.ctx, self.window.tasks, choices, starts_at, practitioner_id,
                               self.window.currency, self.window)
        self._show(dialog, lambda result: self._booked(
            result, dialog.practitioner.currentData()))

    def _booked(self, result: BookResult, practitioner_id: int | None) -> None:
        cover = {"token": "a token is held for it", "credit": "credit is held for it"}.get(
            result.hold or "", "covered" if result.covered else "NOT covered by a token or credit")
        self._say(f"Booked {result.starts_at:%a %d %b %H:%M} (appointment "
                  f"{result.appointment_id}); {cover}.")
        self.window.go_to(result.starts_at.date(), select=result.appointment_id,
                          practitioner_id=practitioner_id)

    def move(self, appointment_id: int, starts_at: dt.datetime,
             practitioner_id: int | None) -> None:
        block = self.window.view.grid.blocks.get(appointment_id)
        if block is None:
            return
        if block.status != schedule.BOOKED:
            self.tell(self.window, "Move visit",
                      f"This visit is {schedule.LABELS[block.status]}; only booked visits move.")
            return
        names = self._practitioner_names()
        who = names.get(practitioner_id or block.practitioner_id, "")
        text = (f"Move {block.patient_name}'s {block.service_name}\nfrom "
                f"{block.starts_at:%a %d %b %H:%M} to {starts_at:%a %d %b %H:%M}"
                + (f" with {who}" if who else "") + "?")
        if not self.confirm(self.window, "Move visit", text):
            return
        self.move_now(block, starts_at, practitioner_id)

    def move_now(self, block: Block, starts_at: dt.datetime,
                 practitioner_id: int | None) -> None:
        """Move without asking (the caller confirmed); refused if another desk moved
        the visit since the grid showed it."""
        ctx, appointment_id = self.ctx, block.appointment_id
        seen = (block.starts_at, block.practitioner_id)
        target = practitioner_id or block.practitioner_id

        def moved(result: BookResult) -> None:
            self._say(f"Moved to {result.starts_at:%a %d %b %H:%M}.")
            self.window.go_to(result.starts_at.date(), select=appointment_id,
                              practitioner_id=target)

        self.window.tasks.run(
            lambda: appointments.move(ctx, appointment_id, starts_at, practitioner_id,
                                      seen=seen),
            moved, self._failed("Move visit"))

    def move_dialog(self, block: Block) -> None:
        """Move with the keyboard: pick the day, time and practitioner."""
        dialog = MoveDialog(block, self._practitioner_names(), self.window)
        self._show(dialog, lambda target: self.move_now(block, *target))

    def _practitioner_names(self) -> dict[int | None, str]:
        combo = self.window.practitioner
        return {combo.itemData(i): combo.itemText(i) for i in range(combo.count())}

    # -- one visit ------------------------------------------------------------------------

    def check_in(self, block: Block) -> None:
        if block.status != schedule.BOOKED:
            self._say(f"{block.patient_name} is {schedule.LABELS[block.status]}; "
                      "nothing to check in.")
            return
        today = self.ctx.today()
        self.window.tasks.run(lambda: checkin_form(block.appointment_id, today),
                              self._check_in_dialog, self._failed("Check in"))

    def _check_in_dialog(self, form: CheckinForm) -> None:
        if form.status != schedule.BOOKED:  # changed on another desk since the grid showed it
            self._say(f"{form.patient_name} is {schedule.LABELS[form.status]}; "
                      "nothing to check in.")
            self.window.schedule_reload()
            return
        dialog = CheckInDialog(self.ctx, self.window.tasks, form, self.window)
        self._show(dialog, lambda outcome: self._done(
            f"Checked in {form.patient_name}; receipt {outcome.txn.receipt_no}.",
            receipt_txn=outcome.txn.txn_id if outcome.txn.receipt_no else None))

    def cancel(self, block: Block, status: str) -> None:
        ctx = self.ctx
        late, no_show = status == schedule.LATE_CANCELLED, status == schedule.NO_SHOW
        self.window.tasks.run(
            lambda: cancel_preview(ctx, block.appointment_id, late=late, no_show=no_show),
            lambda preview: self._cancel_dialog(block, status, preview),
            self._failed(CancelDialog.TITLES[status]))

    def _cancel_dialog(self, block: Block, status: str, preview: CancelPreview) -> None:
        dialog = CancelDialog(self.ctx, self.window.tasks, block, status, preview, self.window)
        self._show(dialog, lambda outcome: self._done(
            f"{block.patient_name}: {schedule.LABELS[outcome.status]}"
            + (f"; the fee was {FEE_PAID[outcome.paid_by]}" if outcome.fee_cents else "")
            + "."))

    def reverse(self, block: Block) -> None:
        dialog = ReverseDialog(self.ctx, self.window.tasks, block, self.window.currency,
                               self.window)
        self._show(dialog, lambda outcome: self._done(
            f"Check-in of {block.patient_name} reversed (transaction {outcome.txn_id})."))

    def _done(self, text: str, receipt_txn: int | None = None) -> None:
        self._say(text)
        self.window.load()
        if receipt_txn is not None:
            self.receipt(receipt_txn, auto=True)

    def sale(self) -> None:
        """A sale without a visit, for the selected visit's patient if there is one."""
        block = self.window.view.selected_block()
        pid = None if block is None else block.patient_id

        def load() -> tuple[lookups.SaleChoices, patients.PatientInfo | None]:
            return lookups.sale_choices(), None if pid is None else patients.get_patient(pid)

        self.window.tasks.run(load, lambda found: self._sale_dialog(*found),
                              self._failed("Sale"))

    def _sale_dialog(self, choices: lookups.SaleChoices,
                     patient: patients.PatientInfo | None) -> None:
        dialog = SaleDialog(self.ctx, self.window.tasks, choices, self.window.currency, patient,
                            self.window)
        self._show(dialog, lambda outcome: self._done(
            f"Sold to {dialog.search.patient.name if dialog.search.patient else 'the patient'}; "
            f"receipt {outcome.receipt_no}.", receipt_txn=outcome.txn_id))

    def open_patient(self, block: Block) -> None:
        """The patient's window (raised if it is open already)."""
        open_patient_window(self.ctx, self.window.tasks, block.patient_id, self, self.window)

    def print_receipt(self, block: Block) -> None:
        """The visit's receipt (else the patient's last one), marked COPY, in the
        preview."""
        txn_id, patient_id = block.checkin_txn_id, block.patient_id

        def find() -> int:
            found = txn_id if txn_id is not None else lookups.last_receipt_txn(patient_id)
            if found is None:
                raise LookupError(f"{patients.get_patient(patient_id).name} has no receipt yet")
            return found

        def failed(exc: BaseException) -> None:
            if isinstance(exc, LookupError):
                self._say(str(exc) + ".")
            else:
                self._failed("Print receipt")(exc)

        self.window.tasks.run(find, lambda found: self.receipt(found, copy=True), failed)

    def receipt(self, txn_id: int, *, copy: bool = False, auto: bool = False) -> None:
        """Build a transaction's receipt on the worker, then print it straight away
        (``auto`` and the clinic's ``auto_print``, with a remembered printer) or show
        the preview. A failed print never undoes anything."""

        def build() -> tuple[int, bytes, str]:
            from desk.printing.receipt import render_receipt  # reportlab: only when printing

            data = receipts.receipt_for(txn_id, copy=copy)
            return data.receipt_no or txn_id, render_receipt(data), data.paper

        def show(built: tuple[int, bytes, str]) -> None:
            number, pdf, paper = built
            title = f"Receipt {number}" + (" (copy)" if copy else "")
            if auto and self.window.settings.get("auto_print") == "true" \
                    and printing.remembered_printer():
                send_to_printer(pdf, title, paper, self.window, self.spooler,
                                lambda said, _printed: self._say(said), ask=False)
                return
            preview = ReceiptPreview(pdf, title, paper,
                                     f"receipt-{number}" + ("-copy" if copy else ""),
                                     self.spooler, self.window)
            self._show(preview, lambda _o: None)
            preview.finished.connect(lambda _r: self._say(preview.said) if preview.said
                                     else None)

        self.window.tasks.run(build, show, self._failed("Receipt"))

    def find_next_visit(self, info: patients.PatientInfo) -> None:
        after = dt.datetime.combine(self.ctx.today(), dt.time())
        self.window.tasks.run(lambda: lookups.next_appointment(info.id, after),
                              lambda found: self._jump(info, found),
                              self._failed("Find patient"))

    def _jump(self, info: patients.PatientInfo,
              found: tuple[int, dt.datetime, int] | None) -> None:
        if found is None:
            self._say(f"{info.name} has no visits. Click an empty slot to book one.")
            return
        appointment_id, starts_at, practitioner_id = found
        self._say(f"{info.name}: {starts_at:%a %d %b %H:%M}.")
        self.window.go_to(starts_at.date(), select=appointment_id,
                          practitioner_id=practitioner_id)
        self.window.view.setFocus()

    # -- the context menu -----------------------------------------------------------------

    def build_menu(self, block: Block) -> QMenu:
        menu = QMenu(self.window)
        booked = block.status == schedule.BOOKED
        started = block.starts_at <= self.ctx.local_now()
        entries: list[tuple[str, Callable[[], None], bool]] = [
            ("Check in…", lambda: self.check_in(block), booked),
            ("Move…", lambda: self.move_dialog(block), booked),
            ("Cancel…", lambda: self.cancel(block, schedule.CANCELLED), booked),
            ("Late cancel…", lambda: self.cancel(block, schedule.LATE_CANCELLED), booked),
            ("No-show…", lambda: self.cancel(block, schedule.NO_SHOW), booked and started),
            ("Reverse check-in…", lambda: self.reverse(block),
             block.status in (schedule.CHECKED_IN, schedule.COMPLETED)
             and block.checkin_txn_id is not None),
            ("Open patient…", lambda: self.open_patient(block), True),
            ("Print last receipt", lambda: self.print_receipt(block), True),
        ]
        for text, slot, enabled in entries:
            action = menu.addAction(text)
            action.setEnabled(enabled)
            action.triggered.connect(lambda _=False, s=slot: s())
            if text in ("No-show…", "Reverse check-in…"):
                menu.addSeparator()
        return menu

    def context_menu(self, block: Block, pos: QPoint) -> None:
        self.menu = self.build_menu(block)
        self.menu.popup(pos)
