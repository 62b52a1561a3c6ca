"""Opening patient windows and driving their dialogs like a receptionist (shared by the
patient window's test modules)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QLineEdit

from desk.data.models import Audit, Line, Txn
from desk.services import queries
from desk.ui.booking_dialog import PatientSearch
from desk.ui.main_window import MainWindow
from desk.ui.patient_window import PatientWindow, open_patient_window
from desk.ui.tasks import Tasks
from desk.ui.widgets import alive
from tests.ui.conftest import Clinic

LEFT = Qt.MouseButton.LeftButton


def settle(qtbot: Any, window: PatientWindow, after: int | None = None) -> None:
    """Wait for a load newer than ``after`` (default: the current one) to be shown."""
    target = (window.loads if after is None else after) + 1
    qtbot.waitUntil(lambda: window.loads >= target and not window.tasks.pending
                    and not window._loading, timeout=10_000)


@pytest.fixture
def patient_window(qtbot: Any, clinic: Clinic) -> Iterator[Any]:
    """``patient_window(pid, main=None)`` opens a loaded patient window (on its own
    worker, or belonging to the schedule window ``main``)."""
    made: list[PatientWindow] = []
    workers: list[Tasks] = []

    def make(patient_id: int, main: MainWindow | None = None) -> PatientWindow:
        if main is None:
            tasks = Tasks()
            workers.append(tasks)
            window = open_patient_window(clinic.ctx, tasks, patient_id)
        else:
            window = open_patient_window(clinic.ctx, main.tasks, patient_id, main.actions_,
                                         main)
        made.append(window)
        qtbot.waitUntil(lambda: window.loads >= 1 and not window.tasks.pending, timeout=10_000)
        window.actions_.confirm = lambda *_a: True
        return window

    yield make
    for window in made:
        if alive(window):
            window.close()
    for tasks in workers:
        tasks.close(clinic.ctx.db.close)


def counts() -> tuple[int, int, int]:
    """Rows of the ledger and the audit log (nothing written = unchanged)."""
    return Txn.select().count(), Line.select().count(), Audit.select().count()


def wallet(patient_id: int) -> tuple[int, dict[str, int]]:
    found = queries.balance(patient_id)
    return found.credit_cents, {k: n for k, n in found.tokens.items() if n}


def open_dialog(qtbot: Any, window: PatientWindow, action: Any, kind: type) -> Any:
    """Trigger a window action and wait for its dialog."""
    assert action.isEnabled(), action.toolTip()
    action.trigger()
    qtbot.waitUntil(lambda: isinstance(window.actions_.dialog, kind), timeout=5000)
    return window.actions_.dialog


def press_ok(qtbot: Any, window: PatientWindow, dialog: Any) -> None:
    """Click the dialog's OK button and wait until it has closed and the window has
    reloaded."""
    loads = window.loads
    qtbot.mouseClick(dialog.ok, LEFT)
    qtbot.waitUntil(lambda: window.actions_.dialog is not dialog, timeout=10_000)
    settle(qtbot, window, loads)


def press_refused(qtbot: Any, window: PatientWindow, dialog: Any) -> str:
    """Click OK on input that is refused: the dialog stays open; its message."""
    qtbot.mouseClick(dialog.ok, LEFT)
    qtbot.waitUntil(lambda: not window.tasks.pending and not dialog.busy, timeout=10_000)
    assert window.actions_.dialog is dialog and dialog.isVisible()
    return str(dialog.message.text())


def type_into(qtbot: Any, edit: QLineEdit, text: str) -> None:
    edit.setFocus()
    edit.selectAll()
    qtbot.keyClick(edit, Qt.Key.Key_Backspace)
    if text:
        qtbot.keyClicks(edit, text)


def pick_patient(qtbot: Any, search: PatientSearch, typed: str, name: str) -> None:
    """Type in a patient search and click the match named ``name``."""
    type_into(qtbot, search.edit, typed)

    def item() -> Any:
        for row in range(search.results.count()):
            found = search.results.item(row)
            if found.text().split("  ·  ")[0] == name:
                return found
        return None

    qtbot.waitUntil(lambda: search.results.isVisible() and item() is not None, timeout=5000)
    rect = search.results.visualItemRect(item())
    qtbot.mouseClick(search.results.viewport(), LEFT, pos=rect.center())
    assert search.patient is not None and search.patient.name == name


def close_preview(qtbot: Any, window: PatientWindow) -> QDialog:
    """Wait for the receipt or statement preview, close it; the preview."""
    from desk.ui.receipt_preview import ReceiptPreview

    qtbot.waitUntil(lambda: isinstance(window.actions_.dialog, ReceiptPreview), timeout=10_000)
    preview = window.actions_.dialog
    assert isinstance(preview, ReceiptPreview)
    assert preview.pdf.startswith(b"%PDF")
    preview.reject()
    qtbot.waitUntil(lambda: window.actions_.dialog is None, timeout=5000)
    return preview
