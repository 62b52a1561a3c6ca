"""Book a visit: patient search with type-ahead, service, practitioner, day and time.

The booking policies' refusals (double booking, no token or credit) are shown in
the dialog, which stays open; when the clinic prevents bookings without credit,
the refusal offers the manager override.
"""

from __future__ import annotations

import datetime as dt
import uuid

from PySide6.QtCore import QDate, QEvent, QObject, Qt, QTime, QTimer
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateEdit,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QSpinBox,
    QTimeEdit,
    QVBoxLayout,
    QWidget,
)

from desk.core.errors import DeskError
from desk.core.money import format_money
from desk.services import appointments, patients
from desk.services.context import Ctx
from desk.services.lookups import BookingChoices
from desk.ui.tasks import Tasks
from desk.ui.widgets import BusyDialog, alive, error_text, set_error

SEARCH_DELAY_MS = 150


class PatientSearch(QWidget):
    """A line edit with a live list of matching patients (name or phone)."""

    def __init__(self, tasks: Tasks, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.tasks = tasks
        self.patient: patients.PatientInfo | None = None
        self._shown = ""            # the query whose matches the list shows
        self._pick_first = False    # Enter came before the matches: take the first
        self.edit = QLineEdit(self)
        self.edit.setPlaceholderText("Type a name or phone number")
        self.edit.setAccessibleName("Patient search")
        self.edit.setClearButtonEnabled(True)
        self.results = QListWidget(self)
        self.results.setAccessibleName("Matching patients")
        self.results.setMaximumHeight(150)
        self.results.hide()  # shown once there is something to pick from
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.edit)
        layout.addWidget(self.results)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(SEARCH_DELAY_MS)
        self._timer.timeout.connect(self._search)
        self.edit.textEdited.connect(self._typed)
        self.edit.installEventFilter(self)
        self.results.currentItemChanged.connect(self._picked)

    def _typed(self, text: str) -> None:
        self.patient = None
        self._pick_first = False
        self._timer.start()

    def _search(self) -> None:
        self._timer.stop()
        query = self.edit.text().strip()
        if not query:
            self.results.clear()
            self.results.hide()
            self._shown = ""
            return
        self.tasks.run(lambda: patients.find_patients(query, limit=20),
                       lambda found: self._show(query, found),
                       lambda exc: self._search_failed(query, exc))

    def _search_failed(self, query: str, exc: BaseException) -> None:
        if alive(self) and query == self.edit.text().strip():
            self.results.clear()
            item = QListWidgetItem(error_text(exc))
            item.setFlags(Qt.ItemFlag.NoItemFlags)
            self.results.addItem(item)
            self.results.show()

    def _show(self, query: str, found: list[patients.PatientInfo]) -> None:
        if not alive(self) or query != self.edit.text().strip():
            return  # the receptionist kept typing; a newer search is on its way
        self.results.blockSignals(True)
        self.results.clear()
        for info in found:
            label = info.name + (f"  ·  {info.phone}" if info.phone else "")
            item = QListWidgetItem(label)
            item.setData(Qt.ItemDataRole.UserRole, info)
            self.results.addItem(item)
        if not found:
            self.results.addItem(QListWidgetItem("No patient matches"))
            self.results.item(0).setFlags(Qt.ItemFlag.NoItemFlags)
        self.results.blockSignals(False)
        self.results.show()
        self._shown = query
        if self._pick_first:
            self._pick_first = False
            self._take_first()

    def _take_first(self) -> None:
        item = self.results.item(0)
        if item is not None and item.flags() & Qt.ItemFlag.ItemIsEnabled:
            self.results.setCurrentItem(item)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        # Enter before a patient is chosen takes the first match instead of booking;
        # Down moves into the list.
        if watched is self.edit and event.type() == QEvent.Type.KeyPress:
            assert isinstance(event, QKeyEvent)
            if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self.patient is None:
                if self._shown == self.edit.text().strip() and not self._timer.isActive():
                    self._take_first()
                else:  # the matches for what was typed are not shown yet
                    self._pick_first = True
                    self._search()
                return True
            if event.key() == Qt.Key.Key_Down and self.results.count():
                self.results.setFocus()
                self.results.setCurrentRow(0)
                return True
        return super().eventFilter(watched, event)

    def _picked(self, item: QListWidgetItem | None) -> None:
        info = None if item is None else item.data(Qt.ItemDataRole.UserRole)
        if info is not None:
            self.patient = info
            self.edit.setText(info.name)

    def set_patient(self, info: patients.PatientInfo) -> None:
        self.patient = info
        self.edit.setText(info.name)


class BookingDialog(BusyDialog):
    def __init__(self, ctx: Ctx, tasks: Tasks, choices: BookingChoices, starts_at: dt.datetime,
                 practitioner_id: int | None, currency: str,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Book a visit")
        self.ctx, self.tasks, self.choices = ctx, tasks, choices
        self._key = str(uuid.uuid4())  # one booking per dialog, even on a double click
        self.search = PatientSearch(tasks, self)
        self.service = QComboBox(self)
        self.service.setAccessibleName("Service")
        for svc in choices.services:
            self.service.addItem(f"{svc.name}  ·  {svc.duration_min} min  ·  "
                                 f"{format_money(svc.price_cents, currency)}", svc.id)
        self.practitioner = QComboBox(self)
        self.practitioner.setAccessibleName("Practitioner")
        for pid, name in choices.practitioners:
            self.practitioner.addItem(name, pid)
        if practitioner_id is not None:
            self.practitioner.setCurrentIndex(max(self.practitioner.findData(practitioner_id), 0))
        self.day = QDateEdit(QDate(starts_at.year, starts_at.month, starts_at.day), self)
        self.day.setCalendarPopup(True)
        self.day.setDisplayFormat("ddd d MMM yyyy")
        self.day.setAccessibleName("Day")
        self.time = QTimeEdit(QTime(starts_at.hour, starts_at.minute), self)
        self.time.setDisplayFormat("HH:mm")
        self.time.setAccessibleName("Start time")
        self.minutes = QSpinBox(self)
        self.minutes.setRange(5, 24 * 60)
        self.minutes.setSingleStep(5)
        self.minutes.setSuffix(" min")
        self.minutes.setAccessibleName("Duration")
        self.note = QLineEdit(self)
        self.note.setMaxLength(1000)
        self.note.setAccessibleName("Note")
        self.override = QCheckBox("Book anyway (manager override, recorded)", self)
        self.override.hide()
        self.message = QLabel(self)
        self.message.setWordWrap(True)
        self.message.setAccessibleName("Message")
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel, self)
        self.book_button = self.buttons.addButton("Book", QDialogButtonBox.ButtonRole.AcceptRole)
        self.book_button.setDefault(True)
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setAutoDefault(False)
        self.buttons.accepted.connect(self.submit)
        self.buttons.rejected.connect(self.reject)
        form = QFormLayout()
        form.addRow("&Patient", self.search)
        form.addRow("&Service", self.service)
        form.addRow("P&ractitioner", self.practitioner)
        form.addRow("&Day", self.day)
        form.addRow("&Time", self.time)
        form.addRow("D&uration", self.minutes)
        form.addRow("&Note", self.note)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.override)
        layout.addWidget(self.message)
        layout.addWidget(self.buttons)
        self.service.currentIndexChanged.connect(self._service_changed)
        self._service_changed()
        self.search.edit.setFocus()
        self.resize(460, self.sizeHint().height())

    def _service_changed(self) -> None:
        sid = self.service.currentData()
        for svc in self.choices.services:
            if svc.id == sid:
                self.minutes.setValue(svc.duration_min)

    def starts_at(self) -> dt.datetime:
        day, time = self.day.date(), self.time.time()
        return dt.datetime(day.year(), day.month(), day.day(), time.hour(), time.minute())

    def submit(self) -> None:
        patient = self.search.patient
        if patient is None:
            set_error(self.message, "Choose a patient from the list (type part of a name "
                                    "or phone number).")
            self.search.edit.setFocus()
            return
        if self.service.currentData() is None or self.practitioner.currentData() is None:
            set_error(self.message, "The clinic has no services or practitioners yet.")
            return
        args = (patient.id, int(self.service.currentData()),
                int(self.practitioner.currentData()), self.starts_at())
        minutes, note, override = self.minutes.value(), self.note.text(), \
            self.override.isChecked()
        key = self._key
        self.run_save(self.tasks, lambda: appointments.book(
            self.ctx, *args, duration_min=minutes, note=note, override=override,
            idem_key=key), "Booking…")

    def _save_failed(self, exc: BaseException) -> None:
        super()._save_failed(exc)
        if isinstance(exc, DeskError) and "manager may override" in exc.message:
            self.override.show()
