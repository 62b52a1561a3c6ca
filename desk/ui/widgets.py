"""Small shared pieces of the screens: how errors read, message labels."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import shiboken6
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QWidget

from desk.core.errors import DatabaseFault, DeskError

if TYPE_CHECKING:
    from desk.ui.tasks import Tasks

log = logging.getLogger(__name__)


def error_text(exc: BaseException) -> str:
    """What the receptionist reads for a failed operation."""
    if isinstance(exc, DatabaseFault):
        return f"The database could not be reached or written: {exc.message}"
    if isinstance(exc, DeskError):
        return exc.message[:1].upper() + exc.message[1:]
    log.error("unexpected error in a screen operation", exc_info=exc)
    return f"Something went wrong ({type(exc).__name__}: {exc}). Nothing was saved."


def set_error(label: QLabel, text: str) -> None:
    label.setStyleSheet("color: #b3261e;" if text else "")
    label.setText(text)


def set_note(label: QLabel, text: str) -> None:
    """A neutral message in the place errors appear ("Saving…")."""
    label.setStyleSheet("")
    label.setText(text)


def alive(widget: QWidget) -> bool:
    """False once Qt has deleted the widget (a callback arriving late must not touch it)."""
    return shiboken6.isValid(widget)


class BusyDialog(QDialog):
    """A dialog that saves through the worker and cannot be closed while its write is
    on its way: the outcome (written or refused) always comes back to it, a second
    try never starts, and a refusal keeps everything typed. Subclasses provide
    ``buttons`` and a ``message`` label."""

    buttons: QDialogButtonBox
    message: QLabel

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.busy = False
        self.outcome: Any = None

    def run_save(self, tasks: Tasks, work: Callable[[], Any], saying: str = "Saving…") -> None:
        """Run ``work`` on the worker; accept with its result as ``outcome``, or show
        why it failed and stay open."""
        if self.busy:
            return
        self.set_busy(True)
        set_note(self.message, saying)
        tasks.run(work, self._saved, self._save_failed)

    def _saved(self, outcome: Any) -> None:
        self.set_busy(False)
        self.outcome = outcome
        self.accept()

    def _save_failed(self, exc: BaseException) -> None:
        self.set_busy(False)
        set_error(self.message, error_text(exc))

    def set_busy(self, busy: bool) -> None:
        self.busy = busy
        for button in self.buttons.buttons():
            button.setEnabled(not busy)

    def reject(self) -> None:
        if not self.busy:
            super().reject()

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.busy:
            event.ignore()
        else:
            super().closeEvent(event)


class DialogHost:
    """Mixed into what opens action dialogs: the one open dialog is kept in ``dialog``
    (tests drive it there); ``done`` gets its outcome when it is accepted."""

    dialog: QDialog | None

    def _show(self, dialog: QDialog, done: Callable[[Any], None]) -> None:
        self.dialog = dialog
        dialog.accepted.connect(lambda: done(getattr(dialog, "outcome", None)))
        dialog.finished.connect(lambda _r: self._closed(dialog))
        dialog.open()

    def _closed(self, dialog: QDialog) -> None:
        if self.dialog is dialog:
            self.dialog = None
        dialog.deleteLater()
