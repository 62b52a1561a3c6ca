"""Getting around the schedule with the keyboard: days, weeks, the date picker, moving
between visits, and finding a patient's next visit."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from PySide6.QtCore import QDate, Qt
from PySide6.QtWidgets import QApplication

from desk.ui.main_window import MainWindow
from tests.ui.conftest import TUESDAY, Clinic, wait_loaded

# The completer's popup warns offscreen that the platform cannot raise windows or grab
# the keyboard (harmless, like propagateSizeHints in pyproject's list).
POPUP = pytest.mark.qt_log_ignore(r"does not support raise\(\)",
                                  "does not support grabbing the keyboard")
MONDAY = dt.date(2026, 3, 2)          # the clock's today
CTRL, ALT = Qt.KeyboardModifier.ControlModifier, Qt.KeyboardModifier.AltModifier


def active(qtbot: Any, window: MainWindow) -> MainWindow:
    """Window shortcuts only fire in the active window."""
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=5000)
    window.view.setFocus()
    return window


def press(qtbot: Any, window: MainWindow, key: Qt.Key,
          modifier: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier) -> None:
    """Press a key where the keyboard focus is, then wait for the reload it causes."""
    loads = window.loads
    target = QApplication.focusWidget() or window
    qtbot.keyClick(target, key, modifier)
    wait_loaded(qtbot, window, loads)


def shown(window: MainWindow) -> list[tuple[dt.date, int | None]]:
    return [(c.day, c.practitioner_id) for c in window.view.grid.columns]


def date_edit_day(window: MainWindow) -> dt.date:
    value = window.date_edit.date()
    return dt.date(value.year(), value.month(), value.day())


def test_alt_arrows_and_ctrl_t_change_the_day(make_window: Any, clinic: Clinic, qtbot: Any
                                              ) -> None:
    window = active(qtbot, make_window())
    both = [clinic.ann, clinic.ben]
    assert shown(window) == [(TUESDAY, p) for p in both]

    press(qtbot, window, Qt.Key.Key_Right, ALT)
    wednesday = dt.date(2026, 3, 4)
    assert window.day == wednesday == date_edit_day(window)
    assert shown(window) == [(wednesday, p) for p in both]
    assert window.view.grid.blocks == {}
    assert window.header.text().startswith("<b>Wednesday 04 March 2026</b>")

    press(qtbot, window, Qt.Key.Key_Left, ALT)
    press(qtbot, window, Qt.Key.Key_Left, ALT)
    assert window.day == MONDAY == date_edit_day(window)
    assert shown(window) == [(MONDAY, p) for p in both]

    press(qtbot, window, Qt.Key.Key_Right, ALT)
    assert window.day == TUESDAY
    assert set(window.view.grid.blocks) == set(clinic.visits.values())

    window.go_to(dt.date(2026, 4, 20))
    wait_loaded(qtbot, window, window.loads)
    press(qtbot, window, Qt.Key.Key_T, CTRL)
    assert window.day == MONDAY == date_edit_day(window)
    assert shown(window) == [(MONDAY, p) for p in both]


def test_ctrl_2_shows_one_practitioners_week_and_ctrl_1_returns(
        make_window: Any, clinic: Clinic, qtbot: Any) -> None:
    window = active(qtbot, make_window())

    press(qtbot, window, Qt.Key.Key_2, CTRL)
    week = [MONDAY + dt.timedelta(days=i) for i in range(7)]
    assert window.week and window.act_week.isChecked() and not window.act_day.isChecked()
    assert shown(window) == [(day, clinic.ann) for day in week]
    assert [c.title for c in window.view.grid.columns] == [
        "Mon 02 Mar", "Tue 03 Mar", "Wed 04 Mar", "Thu 05 Mar", "Fri 06 Mar", "Sat 07 Mar",
        "Sun 08 Mar"]
    assert set(window.view.grid.blocks) == {clinic.visits["zoe"], clinic.visits["bob"]}
    assert all(window.view.grid.cell_of(i).column == 1 for i in window.view.grid.blocks)

    press(qtbot, window, Qt.Key.Key_Right, ALT)      # a week at a time
    assert window.day == TUESDAY + dt.timedelta(days=7)
    assert shown(window)[0] == (dt.date(2026, 3, 9), clinic.ann)
    press(qtbot, window, Qt.Key.Key_Left, ALT)
    assert window.day == TUESDAY

    press(qtbot, window, Qt.Key.Key_1, CTRL)
    assert not window.week and window.act_day.isChecked()
    assert shown(window) == [(TUESDAY, clinic.ann), (TUESDAY, clinic.ben)]
    assert set(window.view.grid.blocks) == set(clinic.visits.values())


def test_week_view_follows_the_selected_visits_practitioner(
        make_window: Any, clinic: Clinic, qtbot: Any) -> None:
    window = active(qtbot, make_window())
    window.view.select(clinic.visits["dan"])
    press(qtbot, window, Qt.Key.Key_2, CTRL)
    assert [pid for _, pid in shown(window)] == [clinic.ben] * 7
    assert set(window.view.grid.blocks) == {clinic.visits["cat"], clinic.visits["dan"]}


def test_picking_a_date_goes_there(make_window: Any, clinic: Clinic, qtbot: Any) -> None:
    window = active(qtbot, make_window())
    loads = window.loads
    window.date_edit.setDate(QDate(2026, 3, 10))
    wait_loaded(qtbot, window, loads)
    assert window.day == dt.date(2026, 3, 10)
    assert shown(window) == [(dt.date(2026, 3, 10), clinic.ann),
                             (dt.date(2026, 3, 10), clinic.ben)]
    assert window.view.grid.blocks == {}


def test_arrow_keys_move_between_visits_and_escape_clears(
        make_window: Any, clinic: Clinic, qtbot: Any) -> None:
    window = active(qtbot, make_window())
    view, v = window.view, clinic.visits
    assert view.selected_id is None

    def key(k: Qt.Key) -> int | None:
        qtbot.keyClick(view, k)
        return view.selected_id

    assert key(Qt.Key.Key_Down) == v["zoe"]      # nothing selected: the day's first visit
    assert key(Qt.Key.Key_Down) == v["bob"]      # down the column by time
    assert key(Qt.Key.Key_Down) == v["bob"]      # the last in Ann's column stays
    assert key(Qt.Key.Key_Up) == v["zoe"]
    assert key(Qt.Key.Key_Right) == v["cat"]     # Ben's visit nearest 09:00
    assert key(Qt.Key.Key_Right) == v["cat"]     # no column further right
    assert key(Qt.Key.Key_Down) == v["dan"]
    assert key(Qt.Key.Key_Left) == v["bob"]      # 10:00 is nearer 11:00 than 09:00
    assert window.panel.text().startswith("<b>Bob Brown</b>")
    assert window.status.text() == view.grid.blocks[v["bob"]].detail
    assert key(Qt.Key.Key_Escape) is None
    assert window.status.text() == ""
    assert window.panel.text().startswith("<i>Select a visit")


@POPUP
def test_ctrl_f_finds_zoe_and_jumps_to_her_next_visit(
        make_window: Any, clinic: Clinic, qtbot: Any) -> None:
    window = active(qtbot, make_window(day=dt.date(2026, 2, 24)))   # the week before
    assert window.view.grid.blocks == {}

    qtbot.keyClick(window.view, Qt.Key.Key_F, CTRL)
    assert window.search.hasFocus()
    qtbot.keyClicks(window.search, "zoe")
    qtbot.waitUntil(lambda: [p.id for p in window.search.found] == [clinic.zoe], timeout=5000)
    assert window.search.names.stringList() == ["Zoë Adams  ·  555 0101"]

    loads = window.loads
    qtbot.keyClick(window.search, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.day == TUESDAY, timeout=5000)
    wait_loaded(qtbot, window, loads)
    qtbot.waitUntil(lambda: window.view.selected_id == clinic.visits["zoe"], timeout=5000)
    assert date_edit_day(window) == TUESDAY
    assert window.search.text() == "Zoë Adams"
    assert window.view.hasFocus()
    assert window.panel.text().startswith("<b>Zoë Adams</b>")


@POPUP
def test_ctrl_f_on_the_same_day_selects_without_changing_day(
        make_window: Any, clinic: Clinic, qtbot: Any) -> None:
    window = active(qtbot, make_window())
    qtbot.keyClick(window.view, Qt.Key.Key_F, CTRL)
    qtbot.keyClicks(window.search, "dan")
    qtbot.waitUntil(lambda: [p.id for p in window.search.found] == [clinic.dan], timeout=5000)
    qtbot.keyClick(window.search, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.view.selected_id == clinic.visits["dan"], timeout=5000)
    qtbot.waitUntil(lambda: not window.tasks.pending, timeout=5000)
    assert window.day == TUESDAY


@POPUP
def test_enter_straight_after_typing_jumps_to_the_visit(
        make_window: Any, clinic: Clinic, qtbot: Any) -> None:
    """A receptionist types "zoe" and Enter without waiting for the list to appear
    (inside the 150 ms debounce): Enter still finds Zoë and jumps to her visit."""
    window = active(qtbot, make_window(day=dt.date(2026, 2, 24)))
    qtbot.keyClick(window.view, Qt.Key.Key_F, CTRL)
    qtbot.keyClicks(window.search, "zoe")
    qtbot.keyClick(window.search, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: [p.id for p in window.search.found] == [clinic.zoe], timeout=5000)
    # Picking, finding the visit and loading its day chain from one worker callback to
    # the next, so an idle worker means the jump is over.
    qtbot.waitUntil(lambda: not window.tasks.pending, timeout=5000)
    assert (window.day, window.view.selected_id) == (TUESDAY, clinic.visits["zoe"]), (
        "Enter during the search delay only searched; it did not pick Zoë")


@POPUP
def test_ctrl_f_in_the_week_view_switches_to_the_visits_practitioner(
        make_window: Any, clinic: Clinic, qtbot: Any) -> None:
    """Ann's week is shown; Dan's visit is with Ben: the week view turns to Ben's week
    so the visit found is on screen and selected."""
    window = active(qtbot, make_window())
    loads = window.loads
    window.set_week(True)
    wait_loaded(qtbot, window, loads)
    assert window.practitioner.currentData() == clinic.ann
    qtbot.keyClick(window.view, Qt.Key.Key_F, CTRL)
    qtbot.keyClicks(window.search, "dan")
    qtbot.keyClick(window.search, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.view.selected_id == clinic.visits["dan"], timeout=5000)
    assert window.practitioner.currentData() == clinic.ben
    assert {c.practitioner_id for c in window.view.grid.columns} == {clinic.ben}
