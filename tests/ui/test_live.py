"""Live refresh: another desk (here the CLI in another process) writes, and the open
schedule shows it without the receptionist losing the selected visit or scroll place."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from desk.data.changes import ChangeWatcher
from desk.services.queries import balance
from desk.ui.live import LiveRefresh
from desk.ui.main_window import MainWindow
from tests.ui.conftest import TUESDAY, Clinic, at

# Another connection's commit reaches the window within ~0.5 s (watcher) + 120 ms
# (reload delay) + the load; the margin is for a busy test machine.
LIVE_TIMEOUT_MS = 4000

Start = Callable[[MainWindow], LiveRefresh]


@pytest.fixture
def live(make_window: Any, db_url: str, qtbot: Any) -> Iterator[Start]:
    """``live(window)`` starts live refresh for the window, with its watcher open (so
    no later commit can be missed); stopped before the window closes."""
    started: list[LiveRefresh] = []

    def start(window: MainWindow) -> LiveRefresh:
        opened = threading.Event()

        def open_watcher() -> ChangeWatcher:
            watcher = ChangeWatcher.open(db_url)
            opened.set()
            return watcher

        refresh = LiveRefresh(open_watcher)
        refresh.changed.connect(window.schedule_reload)
        started.append(refresh)
        refresh.start()
        qtbot.waitUntil(opened.is_set, timeout=5000)
        return refresh

    yield start
    for refresh in started:
        refresh.stop()


def desk(db_url: str, *args: str) -> dict[str, Any]:
    """Run the desk CLI in another process (another workstation) and return its JSON."""
    done = subprocess.run([sys.executable, "-m", "desk", "--db", db_url, "--json",
                           "--staff", "other desk", *args],
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    return dict(json.loads(done.stdout))


def icon_kinds(window: MainWindow, appointment_id: int) -> list[str]:
    return [i.kind for i in window.view.grid.blocks[appointment_id].icons]


def scroll_and_select(window: MainWindow, appointment_id: int, scroll_px: int) -> None:
    bar = window.view.verticalScrollBar()
    assert bar.maximum() >= scroll_px
    window.view.select(appointment_id)
    bar.setValue(scroll_px)
    assert bar.value() == scroll_px


def test_a_booking_from_another_desk_appears_and_nothing_moves(
        make_window: Any, clinic: Clinic, live: Start, db_url: str, qtbot: Any) -> None:
    window = make_window()
    dan = clinic.visits["dan"]
    scroll_and_select(window, dan, 60)
    live(window)

    booked = desk(db_url, "book", "--patient", str(clinic.bob), "--service", "Acupuncture 45",
                  "--practitioner", "Ben Okafor", "--at", "2026-03-03T14:00")
    new = int(booked["id"])
    qtbot.waitUntil(lambda: new in window.view.grid.blocks, timeout=LIVE_TIMEOUT_MS)
    qtbot.waitUntil(lambda: not window.tasks.pending, timeout=5000)

    block = window.view.grid.blocks[new]
    assert (block.patient_id, block.practitioner_id, block.starts_at, block.ends_at,
            block.status) == (clinic.bob, clinic.ben, at(TUESDAY, 14), at(TUESDAY, 14, 45),
                              "booked")
    assert window.view.block_rect(new) is not None
    assert set(window.view.grid.blocks) == {*clinic.visits.values(), new}
    assert window.view.selected_id == dan
    assert window.view.verticalScrollBar().value() == 60
    assert window.panel.text().startswith("<b>Dan Evans</b>")


def test_credit_given_by_another_desk_changes_dans_icons(
        make_window: Any, clinic: Clinic, live: Start, db_url: str, qtbot: Any) -> None:
    window = make_window()
    dan = clinic.visits["dan"]
    assert icon_kinds(window, dan) == ["warning"]
    scroll_and_select(window, clinic.visits["bob"], 40)
    live(window)

    desk(db_url, "adjust", "--patient", str(clinic.dan), "--credit", "100.00",
         "--reason", "prepaid by phone")
    qtbot.waitUntil(lambda: icon_kinds(window, dan) == ["credit"], timeout=LIVE_TIMEOUT_MS)
    qtbot.waitUntil(lambda: not window.tasks.pending, timeout=5000)

    assert balance(clinic.dan).credit_cents == 10000
    assert [i.tooltip for i in window.view.grid.blocks[dan].icons] == ["$100.00 credit"]
    assert window.view.selected_id == clinic.visits["bob"]
    assert window.view.verticalScrollBar().value() == 40


def test_a_visit_that_lengthens_the_day_keeps_selection_and_scroll(
        make_window: Any, clinic: Clinic, live: Start, db_url: str, qtbot: Any) -> None:
    """A booking after the day's last row (19:00) adds rows to the grid: the rows the
    receptionist is looking at must not jump all the same."""
    window = make_window()
    rows = window.view.grid.rows
    scroll_and_select(window, clinic.visits["dan"], 60)
    live(window)

    booked = desk(db_url, "book", "--patient", str(clinic.cat), "--service", "Massage 60",
                  "--practitioner", "Ann Lee", "--at", "2026-03-03T19:00")
    new = int(booked["id"])
    qtbot.waitUntil(lambda: new in window.view.grid.blocks, timeout=LIVE_TIMEOUT_MS)
    qtbot.waitUntil(lambda: not window.tasks.pending, timeout=5000)

    assert window.view.grid.rows == rows + 4
    assert window.view.selected_id == clinic.visits["dan"]
    assert window.view.verticalScrollBar().value() == 60
