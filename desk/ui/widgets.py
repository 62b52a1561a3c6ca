"""Small shared pieces of the screens: how errors read, message labels."""

from __future__ import annotations

import logging

from PySide6.QtWidgets import QLabel

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
