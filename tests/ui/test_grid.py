"""The schedule grid of the real window: icons, tooltips, selection, header, painting.

The clinic is the one of ``tests/ui/conftest.py`` (Tuesday 2026-03-03, clock Monday
2026-03-02 15:00); every test runs on SQLite and on PostgreSQL through its fixtures.
Tooltips are real ``QHelpEvent``s sent to the viewport; pixels come from grabbing it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from PySide6.QtCore import QEvent, QPoint, QRect, Qt
from PySide6.QtGui import QColor, QHelpEvent, QImage, QPalette
from PySide6.QtWidgets import QApplication, QToolTip

from desk.services.appointments import book
from desk.services.cancellation import cancel
from desk.ui.cells import Block
from desk.ui.main_window import MainWindow
from tests.conftest import Clock
from tests.ui.conftest import TUESDAY, CheckinRequest, Clinic, at, check_in, wait_loaded

# Showing a tooltip offscreen warns "This plugin does not support raise()", which the
# ini's qt_log_ignore pattern ("raise\(\) is not supported") does not match.
SHOWS_TOOLTIPS = pytest.mark.qt_log_ignore(r"This plugin does not support raise\(\)")
NOW_RED = 0xD93025
NOT_COVERED = ("Not covered: no {kind} token free for this visit and not enough credit "
               "for {price}")
ACU_NOT_COVERED = NOT_COVERED.format(kind="Acupuncture", price="$95.00")
MSG_NOT_COVERED = NOT_COVERED.format(kind="Massage", price="$120.00")


def zoe_tokens(clinic: Clinic, count: int = 4) -> str:
    """Zoë's ticket tooltip: her 5-pack (one used) of the 90-day package sold today."""
    sold_on = clinic.ctx.today()
    assert sold_on == dt.date(2026, 3, 2)
    return f"{count} Acupuncture tokens; {count} expire {sold_on + dt.timedelta(days=90)}"


# --------------------------------------------------------------------------- helpers


def block_geometry(window: MainWindow, appointment_id: int) -> Any:
    """The delegate's layout of one block, as painted in the viewport."""
    view = window.view
    cell = view.grid.cell_of(appointment_id)
    assert cell is not None, f"appointment {appointment_id} is not in the grid"
    rect = view.visualRect(view.schedule.index(cell.row, cell.column))
    for geo in view.delegate.layout(cell, rect, view.font()):
        if geo.block.appointment_id == appointment_id:
            return geo
    raise AssertionError(f"appointment {appointment_id} has no block in its cell")


def icon_rect(window: MainWindow, appointment_id: int, kind: str) -> QRect:
    rects = [r for r, item in block_geometry(window, appointment_id).icons if item.kind == kind]
    assert len(rects) == 1, f"{kind} icons of {appointment_id}: {rects}"
    return rects[0]


def help_at(window: MainWindow, pos: QPoint) -> str | None:
    """Send a tooltip request at ``pos`` (viewport coordinates); the tip shown, if any."""
    viewport = window.view.viewport()
    event = QHelpEvent(QEvent.Type.ToolTip, pos, viewport.mapToGlobal(pos))
    QApplication.sendEvent(viewport, event)
    return QToolTip.text() if QToolTip.isVisible() else None


def hide_tooltip(qtbot: Any) -> None:
    QToolTip.hideText()        # the tip fades out on a timer
    qtbot.waitUntil(lambda: not QToolTip.isVisible(), timeout=2000)


def icons_of(window: MainWindow) -> dict[str, list[tuple[str, str]]]:
    return {b.patient_name: [(i.kind, i.tooltip) for i in b.icons]
            for b in window.view.grid.blocks.values()}


def grab(window: MainWindow) -> QImage:
    return window.view.viewport().grab().toImage().convertToFormat(QImage.Format.Format_RGB32)


def rgb(image: QImage, x: int, y: int) -> int:
    return image.pixel(x, y) & 0xFFFFFF


def red_xs(window: MainWindow, when: dt.datetime) -> set[int]:
    """x of the now-line's red pixels in the rows around ``when``."""
    view = window.view
    view.now = when
    image = grab(window)
    y = view.rowViewportPosition(0) + round(view.grid.row_of(when) * view.rowHeight(0))
    assert 3 <= y < image.height() - 3
    return {x for x in range(image.width()) for dy in range(-3, 4)
            if rgb(image, x, y + dy) == NOW_RED}


def switch(qtbot: Any, window: MainWindow, change: Any) -> None:
    """Run ``change`` (which starts a load) and wait for the load to be shown."""
    before = window.loads
    change()
    wait_loaded(qtbot, window, before)


def mixed(a: QColor, b: QColor, amount_b: float) -> int:
    keep = 1.0 - amount_b
    r, g, bl = (round(x * keep + y * amount_b) for x, y in (
        (a.red(), b.red()), (a.green(), b.green()), (a.blue(), b.blue())))
    return (r << 16) | (g << 8) | bl


# --------------------------------------------------------------------------- icons


def test_icons_are_on_exactly_the_right_patients(make_window: Any, clinic: Clinic) -> None:
    window = make_window()
    assert icons_of(window) == {
        "Zoë Adams": [("ticket", zoe_tokens(clinic))],
        "Bob Brown": [("credit", "$12.50 credit"), ("warning", MSG_NOT_COVERED)],
        "Cat Diaz": [("owes", "owes $25.00"), ("warning", ACU_NOT_COVERED)],
        "Dan Evans": [("warning", ACU_NOT_COVERED)],
    }
    assert {window.view.grid.blocks[i].patient_name: window.view.grid.anchors[i]
            for i in clinic.visits.values()} == {
        "Zoë Adams": (4, 0), "Bob Brown": (8, 0), "Cat Diaz": (4, 1), "Dan Evans": (12, 1)}


@SHOWS_TOOLTIPS
def test_each_icon_answers_a_tooltip_with_its_text(qtbot: Any, make_window: Any,
                                                   clinic: Clinic) -> None:
    window = make_window()
    hide_tooltip(qtbot)
    v = clinic.visits
    # An empty slot (Ann, 08:00) shows nothing.
    empty = window.view.visualRect(window.view.schedule.index(0, 0)).center()
    assert window.view.block_at(empty) is None
    assert help_at(window, empty) is None
    expected = [
        (v["zoe"], "ticket", zoe_tokens(clinic)),
        (v["bob"], "credit", "$12.50 credit"),
        (v["bob"], "warning", MSG_NOT_COVERED),
        (v["cat"], "owes", "owes $25.00"),
        (v["cat"], "warning", ACU_NOT_COVERED),
        (v["dan"], "warning", ACU_NOT_COVERED),
    ]
    for appointment_id, kind, text in expected:
        pos = icon_rect(window, appointment_id, kind).center()
        assert help_at(window, pos) == text, (appointment_id, kind)
    # On a block but off its icons: the block's summary.
    geo = block_geometry(window, v["zoe"])
    middle = geo.rect.center()
    assert not any(r.adjusted(-1, -1, 1, 1).contains(middle) for r, _ in geo.icons)
    assert help_at(window, middle) == "Zoë Adams\n09:00–09:45  Acupuncture 45\nBooked"
    # Back on an empty slot the tip goes away (it fades out) and nothing replaces it.
    help_at(window, empty)
    qtbot.waitUntil(lambda: not QToolTip.isVisible(), timeout=2000)


def test_clicking_a_block_shows_its_balance_in_panel_and_status(qtbot: Any, make_window: Any,
                                                                clinic: Clinic) -> None:
    window = make_window()
    viewport = window.view.viewport()
    zoe = window.view.block_rect(clinic.visits["zoe"])
    assert zoe is not None
    qtbot.mouseClick(viewport, Qt.MouseButton.LeftButton, pos=zoe.center())
    assert window.view.selected_id == clinic.visits["zoe"]
    assert window.panel.text() == (
        "<b>Zoë Adams</b><br>09:00–09:45 Tue 03 Mar<br>Acupuncture 45<br>booked<br><br>"
        + zoe_tokens(clinic))
    assert window.status.text() == (
        f"09:00–09:45 Zoë Adams · Acupuncture 45 · booked · {zoe_tokens(clinic)}")

    cat = window.view.block_rect(clinic.visits["cat"])
    assert cat is not None
    qtbot.mouseClick(viewport, Qt.MouseButton.LeftButton, pos=cat.center())
    selected = window.view.selected_block()
    assert selected is not None and selected.patient_name == "Cat Diaz"
    assert window.panel.text() == (
        "<b>Cat Diaz</b><br>09:00–09:45 Tue 03 Mar<br>Acupuncture 45<br>booked<br><br>"
        f"owes $25.00<br>{ACU_NOT_COVERED}")
    assert window.status.text() == (
        f"09:00–09:45 Cat Diaz · Acupuncture 45 · booked · owes $25.00 · {ACU_NOT_COVERED}")


def test_header_counts(qtbot: Any, make_window: Any, clinic: Clinic) -> None:
    window = make_window()
    sep = " &nbsp;·&nbsp; "
    assert window.header.text() == sep.join([
        "<b>Tuesday 03 March 2026</b>", "4 booked", "0 checked in", "0 cancelled", "0 no-show",
        "<span style='color:#b3261e'>3 not covered</span>"])
    check_in(clinic.ctx, CheckinRequest(clinic.visits["zoe"], use_token=True))
    switch(qtbot, window, window.load)
    assert window.header.text() == sep.join([
        "<b>Tuesday 03 March 2026</b>", "3 booked", "1 checked in", "0 cancelled", "0 no-show",
        "<span style='color:#b3261e'>3 not covered</span>"])
    assert icons_of(window)["Zoë Adams"] == [("ticket", zoe_tokens(clinic, 3))]
    switch(qtbot, window, lambda: window.set_week(True))
    # The week of Ann Lee: Zoë (checked in) and Bob (not covered).
    assert window.header.text() == sep.join([
        "<b>Week of Mon 02 Mar 2026</b>", "1 booked", "1 checked in", "0 cancelled",
        "0 no-show", "<span style='color:#b3261e'>1 not covered</span>"])


# --------------------------------------------------------------------------- the model


def test_model_passes_the_model_tester_in_day_and_week_view(
        qtbot: Any, qtmodeltester: Any, make_window: Any, clinic: Clinic) -> None:
    window = make_window()
    model = window.view.schedule
    qtmodeltester.check(model)
    # Same shape, one cell more: dataChanged instead of a reset.
    book(clinic.ctx, clinic.dan, clinic.acu, clinic.ann, at(TUESDAY, 12))
    switch(qtbot, window, window.load)
    assert (model.rowCount(), model.columnCount(), len(window.view.grid.blocks)) == (44, 2, 5)
    qtmodeltester.check(model)
    switch(qtbot, window, lambda: window.set_week(True))
    assert [c.title for c in window.view.grid.columns] == [
        "Mon 02 Mar", "Tue 03 Mar", "Wed 04 Mar", "Thu 05 Mar", "Fri 06 Mar", "Sat 07 Mar",
        "Sun 08 Mar"]
    assert model.columnCount() == 7
    qtmodeltester.check(model)


# --------------------------------------------------------------------------- painting


def test_the_grid_survives_300_repaints(qtbot: Any, make_window: Any, clinic: Clinic) -> None:
    window = make_window()
    viewport = window.view.viewport()
    for _ in range(300):
        viewport.repaint()
    window.view.select(clinic.visits["bob"])
    assert window.view.delegate.selected_id == clinic.visits["bob"]
    for _ in range(300):
        viewport.repaint()
    switch(qtbot, window, lambda: window.set_week(True))
    assert len(window.view.grid.columns) == 7 and len(window.view.grid.blocks) == 2
    for _ in range(300):
        viewport.repaint()
    assert window.isVisible() and window.view.grid.rows == 44


def test_the_now_line_is_red_on_todays_column_only(qtbot: Any, make_window: Any) -> None:
    window = make_window()
    view = window.view
    monday = dt.datetime(2026, 3, 2, 15, 0)
    assert red_xs(window, monday) == set()               # Tuesday shown, now is Monday
    both = red_xs(window, dt.datetime(2026, 3, 3, 12, 30))
    width = view.columnWidth(0) + view.columnWidth(1)
    assert set(range(2, width - 2)) <= both               # across both practitioners
    switch(qtbot, window, lambda: window.set_week(True))
    wednesday = red_xs(window, dt.datetime(2026, 3, 4, 12, 30))
    left, right = view.columnViewportPosition(2), view.columnViewportPosition(3)
    assert set(range(left + 2, right - 2)) <= wednesday
    assert min(wednesday) >= left - 2 and max(wednesday) <= right + 2, \
        "the now line leaks into other days' columns"
    assert red_xs(window, dt.datetime(2026, 3, 9, 12, 30)) == set()   # next Monday


def test_dark_palette_paints_dark_blocks(make_window: Any, clinic: Clinic) -> None:
    window = make_window()
    view = window.view
    geo = block_geometry(window, clinic.visits["zoe"])
    inside = QPoint(geo.rect.right() - 6, geo.rect.bottom() - 6)
    empty = view.visualRect(view.schedule.index(0, 0)).center()
    service = QColor("#3b82c4")
    light_base = view.palette().color(QPalette.ColorRole.Base)
    image = grab(window)
    assert rgb(image, inside.x(), inside.y()) == mixed(service, light_base, 0.62)

    dark = QPalette(view.palette())
    for role, colour in [(QPalette.ColorRole.Base, "#1e1e1e"),
                         (QPalette.ColorRole.AlternateBase, "#262626"),
                         (QPalette.ColorRole.Window, "#2b2b2b"),
                         (QPalette.ColorRole.Text, "#e6e6e6"),
                         (QPalette.ColorRole.WindowText, "#e6e6e6"),
                         (QPalette.ColorRole.PlaceholderText, "#8c8c8c"),
                         (QPalette.ColorRole.Mid, "#444444"),
                         (QPalette.ColorRole.Highlight, "#3d7fd1")]:
        dark.setColor(role, QColor(colour))
    view.setPalette(dark)
    for _ in range(5):
        view.viewport().repaint()
    image = grab(window)
    fill = rgb(image, inside.x(), inside.y())
    assert fill == mixed(service, QColor("#1e1e1e"), 0.62)
    assert QColor(fill).lightness() < 100
    assert rgb(image, empty.x(), empty.y()) == 0x1E1E1E


# --------------------------------------------------------------------------- cancelled


@SHOWS_TOOLTIPS
def test_cancelled_visit_is_kept_or_hidden_by_show_cancelled(
        qtbot: Any, make_window: Any, clinic: Clinic, clock: Clock) -> None:
    dan = clinic.visits["dan"]
    clock.current = dt.datetime(2026, 3, 1, 9, 0)     # more than 24 h ahead: on time
    assert cancel(clinic.ctx, dan).status == "cancelled"
    clock.current = dt.datetime(2026, 3, 2, 15, 0)
    zoe_again = book(clinic.ctx, clinic.zoe, clinic.acu, clinic.ben,
                     at(TUESDAY, 11)).appointment_id
    window = make_window()
    grid = window.view.grid
    cell = grid.cell_of(dan)
    assert cell is not None and cell is grid.cell_of(zoe_again)
    assert [(b.appointment_id, b.status, b.lane, b.lanes) for b in cell.blocks] == [
        (zoe_again, "booked", 0, 2), (dan, "cancelled", 1, 2)]
    assert grid.blocks[dan].icons == () and not grid.blocks[dan].active
    assert "1 cancelled" in window.header.text()
    geo = block_geometry(window, dan)
    assert help_at(window, geo.rect.center()) == \
        "Dan Evans\n11:00–11:45  Acupuncture 45\nCancelled"
    hide_tooltip(qtbot)

    assert window.act_cancelled.isChecked()
    switch(qtbot, window, window.act_cancelled.trigger)
    assert not window.act_cancelled.isChecked()
    grid = window.view.grid
    assert dan not in grid.blocks and grid.cell_of(dan) is None
    assert [(b.appointment_id, b.lane, b.lanes) for b in grid.blocks.values()
            if b.practitioner_id == clinic.ben and b.starts_at.hour == 11] == [(zoe_again, 0, 1)]

    switch(qtbot, window, window.act_cancelled.trigger)
    assert window.act_cancelled.isChecked()
    assert window.view.grid.blocks[dan].status == "cancelled"


# --------------------------------------------------------------------------- a bug


@SHOWS_TOOLTIPS
def test_back_to_back_visits_off_the_slot_grid_are_both_drawn(
        make_window: Any, clinic: Clinic) -> None:
    # Bookings start on any minute: Bob 12:00–12:50 then Dan 12:50–13:35 with Ben.
    # Both share the 12:45 slot without overlapping; each must be drawn, clickable and
    # answer its own tooltip.
    bob = book(clinic.ctx, clinic.bob, clinic.acu, clinic.ben, at(TUESDAY, 12),
               duration_min=50).appointment_id
    dan = book(clinic.ctx, clinic.dan, clinic.acu, clinic.ben,
               at(TUESDAY, 12, 50)).appointment_id
    window = make_window()
    view = window.view
    for appointment_id, name, text in [
            (bob, "Bob Brown", "Bob Brown\n12:00–12:50  Acupuncture 45\nBooked"),
            (dan, "Dan Evans", "Dan Evans\n12:50–13:35  Acupuncture 45\nBooked")]:
        rect = view.block_rect(appointment_id)
        assert rect is not None
        found: Block | None = view.block_at(rect.center())
        assert found is not None and found.patient_name == name, \
            f"{name}'s block is hidden under another visit's cell"
        assert help_at(window, rect.center()) == text
