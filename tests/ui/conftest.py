"""The schedule window on a small clinic, on SQLite and PostgreSQL (offscreen Qt).

The clinic (clock: Monday 2026-03-02 15:00, the conftest default):

* practitioners Ann Lee, Ben Okafor; services "Acupuncture 45" (45 min, 95.00,
  Acupuncture tokens, colour #3b82c4) and "Massage 60" (60 min, 120.00, Massage);
* Zoë Adams  — 4 Acupuncture tokens (5-pack bought, one used), no credit;
* Bob Brown  — 12.50 credit;
* Cat Diaz   — owes 25.00 (a sale left partly unpaid);
* Dan Evans  — nothing at all;
* visits on Tuesday 2026-03-03: Zoë 09:00 Ann (Acupuncture), Bob 10:00 Ann (Massage),
  Cat 09:00 Ben (Acupuncture), Dan 11:00 Ben (Acupuncture, not covered).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from PySide6.QtCore import QPoint, QSettings, QStandardPaths, Qt
from PySide6.QtWidgets import QComboBox, QLineEdit, QWidget

from desk.services import catalog, patients
from desk.services.appointments import book
from desk.services.checkin import CheckinRequest, check_in
from desk.services.context import Ctx
from desk.services.results import Tender
from desk.services.sales import SaleItem, sell
from desk.services.wallet import adjust
from desk.ui.main_window import MainWindow
from desk.ui.tasks import Tasks

TUESDAY = dt.date(2026, 3, 3)
ACU, MSG = "Acupuncture 45", "Massage 60"

QStandardPaths.setTestModeEnabled(True)  # QSettings of tests never touch the real config


@dataclass(frozen=True)
class Clinic:
    ctx: Ctx
    ann: int
    ben: int
    acu: int
    msg: int
    zoe: int
    bob: int
    cat: int
    dan: int
    visits: dict[str, int]     # patient first name -> Tuesday appointment id


def at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute))


@pytest.fixture
def clinic(ctx: Ctx) -> Clinic:
    acu = catalog.add_service(ctx, ACU, 45, 9500, token_kind="Acupuncture",
                              colour="#3b82c4").id
    msg = catalog.add_service(ctx, MSG, 60, 12000, token_kind="Massage", colour="#c47a3b").id
    catalog.add_package(ctx, "Five acupuncture", "Acupuncture", 5, 35000, expires_days=90)
    ann = catalog.add_practitioner(ctx, "Ann Lee").id
    ben = catalog.add_practitioner(ctx, "Ben Okafor").id
    zoe = patients.add_patient(ctx, "Zoë Adams", phone="555 0101").id
    bob = patients.add_patient(ctx, "Bob Brown", phone="555 0102").id
    cat = patients.add_patient(ctx, "Cat Diaz").id
    dan = patients.add_patient(ctx, "Dan Evans").id
    sell(ctx, zoe, SaleItem(package="Five acupuncture"), [Tender("card", 35000)])
    adjust(ctx, zoe, reason="used one", tokens=-1, token_kind="Acupuncture")
    adjust(ctx, bob, reason="prepaid", credit_cents=1250)
    adjust(ctx, cat, reason="unpaid balance", credit_cents=-2500)
    visits = {
        "zoe": book(ctx, zoe, acu, ann, at(TUESDAY, 9)).appointment_id,
        "bob": book(ctx, bob, msg, ann, at(TUESDAY, 10)).appointment_id,
        "cat": book(ctx, cat, acu, ben, at(TUESDAY, 9)).appointment_id,
        "dan": book(ctx, dan, acu, ben, at(TUESDAY, 11)).appointment_id,
    }
    return Clinic(ctx, ann, ben, acu, msg, zoe, bob, cat, dan, visits)


def wait_loaded(qtbot: Any, window: MainWindow, after: int | None = None,
                timeout_ms: int = 10_000) -> None:
    """Wait until a load newer than ``after`` is shown and the worker is idle."""
    target = (window.loads if after is None else after) + 1
    qtbot.waitUntil(lambda: window.loads >= target and not window.tasks.pending,
                    timeout=timeout_ms)


@pytest.fixture
def make_window(qtbot: Any, clinic: Clinic) -> Iterator[Any]:
    """``make_window(day=TUESDAY)`` opens a loaded window (closed after the test)."""
    made: list[tuple[MainWindow, Tasks]] = []

    def make(day: dt.date = TUESDAY, size: tuple[int, int] = (1280, 800)) -> MainWindow:
        tasks = Tasks()
        window = MainWindow(clinic.ctx, tasks, day)
        qtbot.addWidget(window)
        window.resize(*size)
        window.show()
        made.append((window, tasks))
        qtbot.waitUntil(lambda: window.loads >= 1 and not tasks.pending, timeout=10_000)
        return window

    yield make
    for window, tasks in made:
        window.close()
        tasks.close(clinic.ctx.db.close)


@pytest.fixture(autouse=True)
def workstation_settings(tmp_path: Any) -> Iterator[None]:
    """This workstation's QSettings (remembered payment method, printer, window size)
    start empty in each test, isolated from other tests and xdist workers."""
    formats = (QSettings.Format.NativeFormat, QSettings.Format.IniFormat)
    default = QStandardPaths.writableLocation(
        QStandardPaths.StandardLocation.GenericConfigLocation)
    for fmt in formats:
        QSettings.setPath(fmt, QSettings.Scope.UserScope, str(tmp_path / "config"))
    yield
    for fmt in formats:
        QSettings.setPath(fmt, QSettings.Scope.UserScope, default)


# -- helpers shared by the UI tests -----------------------------------------------------

def slot_point(window: MainWindow, when: dt.datetime, practitioner_id: int) -> QPoint:
    """The middle of the grid cell of ``when`` in the practitioner's column (viewport
    coordinates), asserting it is on screen so a click there is a real click."""
    view, grid = window.view, window.view.grid
    row = (when.hour * 60 + when.minute - grid.first_minute) // grid.slot_minutes
    column = next(i for i, c in enumerate(grid.columns)
                  if c.practitioner_id == practitioner_id and c.day == when.date())
    assert grid.slot_time(row, column) == when
    point = QPoint(view.columnViewportPosition(column) + view.columnWidth(column) // 2,
                   view.rowViewportPosition(row) + view.rowHeight(row) // 2)
    assert view.viewport().rect().contains(point)
    return point


def block_point(window: MainWindow, appointment_id: int) -> QPoint:
    """The middle of a visit's block, asserting it is on screen."""
    rect = window.view.block_rect(appointment_id)
    assert rect is not None
    assert window.view.viewport().rect().contains(rect.center())
    return rect.center()


def retype(qtbot: Any, edit: QLineEdit, text: str) -> None:
    """Select what the field holds and type over it ("": erase it)."""
    edit.setFocus()
    qtbot.keyClick(edit, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    if text:
        qtbot.keyClicks(edit, text)
    else:
        qtbot.keyClick(edit, Qt.Key.Key_Backspace)


def close_receipt(qtbot: Any, window: MainWindow, loads: int) -> str:
    """After a save: wait for the grid to reload and the receipt preview to open, close
    the preview and return its title."""
    from desk.ui.receipt_preview import ReceiptPreview

    qtbot.waitUntil(lambda: isinstance(window.actions_.dialog, ReceiptPreview),
                    timeout=10_000)
    wait_loaded(qtbot, window, loads)
    preview = window.actions_.dialog
    assert preview is not None
    title = preview.windowTitle()
    preview.reject()
    qtbot.waitUntil(lambda: window.actions_.dialog is None, timeout=5000)
    return title


def save_with_enter(qtbot: Any, window: MainWindow, dialog: QWidget) -> str:
    """Press Enter in a money dialog, then close the receipt preview (its title)."""
    loads = window.loads
    qtbot.keyClick(dialog, Qt.Key.Key_Return)
    return close_receipt(qtbot, window, loads)


def choose(qtbot: Any, combo: QComboBox, text: str) -> None:
    """Pick the entry starting with ``text`` with the arrow keys, as a keyboard user."""
    combo.setFocus()
    target = next(i for i in range(combo.count()) if combo.itemText(i).startswith(text))
    key = Qt.Key.Key_Down if target > combo.currentIndex() else Qt.Key.Key_Up
    while combo.currentIndex() != target:
        qtbot.keyClick(combo, key)


# Re-exported for the test modules.
__all__ = ["ACU", "MSG", "TUESDAY", "CheckinRequest", "Clinic", "at", "block_point",
           "check_in", "choose", "close_receipt", "retype", "save_with_enter", "slot_point",
           "wait_loaded"]
