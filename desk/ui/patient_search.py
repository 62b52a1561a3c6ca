"""Ctrl+F: find a patient by name or phone as you type, then jump to their next visit."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QStringListModel, Qt, QTimer, Signal
from PySide6.QtWidgets import QCompleter, QLineEdit, QWidget

from desk.services import patients
from desk.ui.tasks import Tasks
from desk.ui.widgets import error_text

SEARCH_DELAY_MS = 150
LIMIT = 15


class PatientSearchBox(QLineEdit):
    chosen = Signal(object)     # PatientInfo
    failed = Signal(str)        # a search could not run (the database is unreachable)

    def __init__(self, tasks: Tasks, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.tasks = tasks
        self.found: list[patients.PatientInfo] = []
        self._shown = ""            # the query whose matches ``found`` holds
        self._pick_first = False    # Enter came before the matches: take the first
        self.setPlaceholderText("Find patient (Ctrl+F)")
        self.setAccessibleName("Find patient")
        self.setClearButtonEnabled(True)
        self.setMinimumWidth(220)
        self.setMaximumWidth(320)
        self.names = QStringListModel(self)
        self.completer_ = QCompleter(self.names, self)
        self.completer_.setCompletionMode(QCompleter.CompletionMode.UnfilteredPopupCompletion)
        self.completer_.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.completer_.setMaxVisibleItems(LIMIT)
        self.completer_.setWidget(self)
        self.completer_.activated[QModelIndex].connect(  # type: ignore[index]
            self._activated)
        self._timer = QTimer(self, singleShot=True, interval=SEARCH_DELAY_MS)
        self._timer.timeout.connect(self._search)
        self.textEdited.connect(self._typed)
        self.returnPressed.connect(self._enter)

    def _hide_popup(self) -> None:
        popup = self.completer_.popup()
        if popup is not None:
            popup.hide()

    def _typed(self, _text: str) -> None:
        self._pick_first = False
        self._timer.start()

    def start(self) -> None:
        self.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.selectAll()

    def _search(self) -> None:
        self._timer.stop()
        query = self.text().strip()
        if len(query) < 2:
            self.names.setStringList([])
            self._hide_popup()
            return
        self.tasks.run(lambda: patients.find_patients(query, limit=LIMIT),
                       lambda found: self._show(query, found), self._failed)

    def _failed(self, exc: BaseException) -> None:
        self._pick_first = False
        self.failed.emit(error_text(exc))

    def _show(self, query: str, found: list[patients.PatientInfo]) -> None:
        if query != self.text().strip():
            return
        self.found, self._shown = found, query
        if self._pick_first:
            self._pick_first = False
            if found:
                self.pick(found[0])
                return
        labels = [p.name + (f"  ·  {p.phone}" if p.phone else "") for p in found]
        self.names.setStringList(labels or ["No patient matches"])
        self.completer_.complete()

    def _activated(self, index: QModelIndex) -> None:
        row = index.row()
        if 0 <= row < len(self.found):
            self.pick(self.found[row])

    def _enter(self) -> None:
        if self._timer.isActive() or self._shown != self.text().strip():
            self._pick_first = True  # jump as soon as the matches arrive
            self._search()
            return
        if self.found:
            self.pick(self.found[0])

    def pick(self, info: patients.PatientInfo) -> None:
        self._hide_popup()
        self.setText(info.name)
        self.chosen.emit(info)
