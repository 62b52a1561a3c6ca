"""Small shared pieces of the screens: how errors read, message labels."""

from __future__ import annotations

import logging

import shiboken6
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QWidget

from desk.core.errors import DatabaseFault, DeskError

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


def alive(widget: QWidget) -> bool:
    """False once Qt has deleted the widget (a callback arriving late must not touch it)."""
    return shiboken6.isValid(widget)


class BusyDialog(QDialog):
    """A dialog that cannot be closed while its write is on its way: the outcome
    (written or refused) always comes back to it, and a second try never starts."""

    buttons: QDialogButtonBox

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.busy = False

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
