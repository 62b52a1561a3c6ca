"""What the receptionist can do to a visit from the grid: book, move, check in,
cancel, reverse, open the patient, print the last receipt.

Dialogs open window-modal without blocking (``open()``), so live refresh and the
worker keep running; the open one is kept in ``dialog`` (tests drive it there).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import platformdirs
from PySide6.QtCore import QObject, QPoint, QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QDialog, QMenu, QMessageBox, QWidget

from desk.core import schedule
from desk.services import appointments, lookups, patients, receipts
from desk.services.appointments import BookResult
from desk.ui.booking_dialog import BookingDialog
from desk.ui.cells import Block
from desk.ui.patient_summary import PatientSummaryDialog
from desk.ui.visit_dialogs import CancelDialog, CheckInDialog, MoveDialog, ReverseDialog
from desk.ui.widgets import error_text

if TYPE_CHECKING:
    from desk.ui.main_window import MainWindow


FEE_PAID = {"token": "paid with a token", "credit": "taken from credit", "owed": "left owed",
            "waived": "waived", "none": "not charged"}


def _ask(parent: QWidget, title: str, text: str) -> bool:
    answer = QMessageBox.question(parent, title, text)
    return answer == QMessageBox.StandardButton.Yes


def _open_file(path: Path) -> None:
    QDesktopServices.openUrl(QUrl.fromLocalFile(str(path)))


def receipts_dir() -> Path:
    return Path(platformdirs.user_data_dir("desk", appauthor=False)) / "receipts"


class VisitActions(QObject):
    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.dialog: QDialog | None = None
        self.menu: QMenu | None = None
        self.confirm: Callable[[QWidget, str, str], bool] = _ask
        self.open_file: Callable[[Path], None] = _open_file
        self.tell: Callable[[QWidget, str, str], Any] = QMessageBox.warning

    @property
    def ctx(self) -> Any:
        return self.window.ctx

    def _say(self, text: str) -> None:
        self.window.status.setText(text)

    def _show(self, dialog: QDialog, done: Callable[[Any], None]) -> None:
        self.dialog = dialog
        dialog.accepted.connect(lambda: done(getattr(dialog, "outcome", None)
                                             or getattr(dialog, "result_", None)))
        dialog.finished.connect(lambda _r: self._closed(dialog))
        dialog.open()

    def _closed(self, dialog: QDialog) -> None:
        if self.dialog is dialog:
            self.dialog = None
        dialog.deleteLater()

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
        dialog = CheckInDialog(self.ctx, self.window.tasks, block, self.window.currency,
                               self.window.settings, self.window)
        self._show(dialog, lambda outcome: self._done(
            f"Checked in {block.patient_name}; receipt {outcome.txn.receipt_no}."))

    def cancel(self, block: Block, status: str) -> None:
        dialog = CancelDialog(self.ctx, self.window.tasks, block, status, self.window.currency,
                              self.window)
        self._show(dialog, lambda outcome: self._done(
            f"{block.patient_name}: {schedule.LABELS[outcome.status]}"
            + (f"; the fee was {FEE_PAID[outcome.paid_by]}" if outcome.fee_cents else "")
            + "."))

    def reverse(self, block: Block) -> None:
        dialog = ReverseDialog(self.ctx, self.window.tasks, block, self.window.currency,
                               self.window)
        self._show(dialog, lambda outcome: self._done(
            f"Check-in of {block.patient_name} reversed (transaction {outcome.txn_id})."))

    def _done(self, text: str) -> None:
        self._say(text)
        self.window.load()

    def open_patient(self, block: Block) -> None:
        dialog = PatientSummaryDialog(self.window.tasks, block.patient_id, self.window.currency,
                                      self.window)
        self._show(dialog, lambda _o: None)

    def print_receipt(self, block: Block) -> None:
        txn_id, patient_id = block.checkin_txn_id, block.patient_id

        def work() -> tuple[int, bytes]:
            from desk.printing.receipt import render_receipt  # reportlab: only when printing

            found = txn_id if txn_id is not None else lookups.last_receipt_txn(patient_id)
            if found is None:
                name = patients.get_patient(patient_id).name
                raise LookupError(f"{name} has no receipt yet")
            data = receipts.receipt_for(found, copy=True)
            return data.receipt_no or found, render_receipt(data)

        def done(result: tuple[int, bytes]) -> None:
            number, pdf = result
            folder = receipts_dir()
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / f"receipt-{number}-copy.pdf"
            path.write_bytes(pdf)
            self._say(f"Receipt {number} saved to {path}.")
            self.open_file(path)

        def failed(exc: BaseException) -> None:
            if isinstance(exc, LookupError):
                self._say(str(exc) + ".")
            else:
                self._failed("Print receipt")(exc)

        self.window.tasks.run(work, done, failed)

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
