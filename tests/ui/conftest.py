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
from PySide6.QtCore import QStandardPaths

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


# Re-exported for the test modules.
__all__ = ["ACU", "MSG", "TUESDAY", "CheckinRequest", "Clinic", "at", "check_in",
           "wait_loaded"]
