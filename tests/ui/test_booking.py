"""Booking from the schedule window as a receptionist does it: click an empty slot,
find the patient as you type, press Book; then check what the database holds."""

from __future__ import annotations

import datetime as dt
from typing import Any

from PySide6.QtCore import Qt

from desk.data.models import Audit
from desk.services import settings
from desk.services.appointments import get_appointment
from desk.services.day import day_view
from desk.ui.booking_dialog import BookingDialog
from desk.ui.main_window import MainWindow
from tests.ui.conftest import TUESDAY, Clinic, at, slot_point, wait_loaded

Row = tuple[int, int, int, dt.datetime, dt.datetime, str]




def tuesday(clinic: Clinic) -> set[Row]:
    """Tuesday's visits as (patient, service, practitioner, start, end, status)."""
    view = day_view(TUESDAY, today=clinic.ctx.today())
    return {(a.patient_id, a.service_id, a.practitioner_id, a.starts_at, a.ends_at, a.status)
            for a in view.appointments}


def initial(clinic: Clinic) -> set[Row]:
    c = clinic
    return {(c.zoe, c.acu, c.ann, at(TUESDAY, 9), at(TUESDAY, 9, 45), "booked"),
            (c.bob, c.msg, c.ann, at(TUESDAY, 10), at(TUESDAY, 11), "booked"),
            (c.cat, c.acu, c.ben, at(TUESDAY, 9), at(TUESDAY, 9, 45), "booked"),
            (c.dan, c.acu, c.ben, at(TUESDAY, 11), at(TUESDAY, 11, 45), "booked")}


def open_booking(qtbot: Any, window: MainWindow, when: dt.datetime,
                 practitioner_id: int) -> BookingDialog:
    """Click the empty slot and wait for the booking dialog."""
    qtbot.mouseClick(window.view.viewport(), Qt.MouseButton.LeftButton,
                     pos=slot_point(window, when, practitioner_id))
    qtbot.waitUntil(lambda: isinstance(window.actions_.dialog, BookingDialog), timeout=5000)
    dialog = window.actions_.dialog
    assert isinstance(dialog, BookingDialog)
    return dialog


def type_patient(qtbot: Any, dialog: BookingDialog, text: str) -> list[str]:
    """Type into the patient search and wait for the list of matches."""
    qtbot.keyClicks(dialog.search.edit, text)
    results = dialog.search.results
    qtbot.waitUntil(lambda: results.count() > 0, timeout=5000)
    return [results.item(i).text() for i in range(results.count())]


def pick_first(qtbot: Any, dialog: BookingDialog) -> None:
    qtbot.keyClick(dialog.search.edit, Qt.Key.Key_Return)


def wait_closed(qtbot: Any, window: MainWindow) -> None:
    """Wait until the dialog has closed (it is deleted then: read results from the
    database, not from the dialog)."""
    qtbot.waitUntil(lambda: window.actions_.dialog is None, timeout=5000)


def new_ids(clinic: Clinic) -> list[int]:
    """Ids of Tuesday's visits the clinic fixture did not book."""
    return [a.id for a in day_view(TUESDAY, today=clinic.ctx.today()).appointments
            if a.id not in clinic.visits.values()]


def test_click_on_an_empty_slot_books_the_patient_found_by_name(
        make_window: Any, clinic: Clinic, qtbot: Any) -> None:
    window = make_window()
    dialog = open_booking(qtbot, window, at(TUESDAY, 14), clinic.ben)

    assert dialog.starts_at() == at(TUESDAY, 14)
    assert dialog.practitioner.currentData() == clinic.ben
    assert dialog.practitioner.currentText() == "Ben Okafor"
    assert dialog.service.currentData() == clinic.acu
    assert dialog.minutes.value() == 45
    assert dialog.override.isHidden()

    assert type_patient(qtbot, dialog, "dan") == ["Dan Evans"]
    pick_first(qtbot, dialog)
    assert dialog.search.patient is not None and dialog.search.patient.id == clinic.dan
    assert dialog.search.edit.text() == "Dan Evans"
    assert dialog.isVisible()       # Enter picked the patient; it did not book yet
    assert tuesday(clinic) == initial(clinic)

    loads = window.loads
    qtbot.mouseClick(dialog.book_button, Qt.MouseButton.LeftButton)
    wait_closed(qtbot, window)
    wait_loaded(qtbot, window, loads)

    new = initial(clinic) | {(clinic.dan, clinic.acu, clinic.ben, at(TUESDAY, 14),
                              at(TUESDAY, 14, 45), "booked")}
    assert tuesday(clinic) == new
    [booked] = new_ids(clinic)
    row = get_appointment(booked)
    assert (row.patient_id, row.service_id, row.practitioner_id, row.starts_at,
            row.duration_min, row.status) == (clinic.dan, clinic.acu, clinic.ben,
                                              at(TUESDAY, 14), 45, "booked")
    # The grid shows the new visit, selected, and says whether it is covered.
    assert booked in window.view.grid.blocks
    assert window.view.selected_id == booked
    assert window.view.selected_block().starts_at == at(TUESDAY, 14)
    assert window.view.block_rect(booked) is not None
    assert window.status.text() == window.view.grid.blocks[booked].detail


def test_phone_digits_find_the_patient_and_the_service_can_change(
        make_window: Any, clinic: Clinic, qtbot: Any) -> None:
    window = make_window()
    dialog = open_booking(qtbot, window, at(TUESDAY, 14), clinic.ben)

    assert type_patient(qtbot, dialog, "0102") == ["Bob Brown  ·  555 0102"]
    pick_first(qtbot, dialog)
    assert dialog.search.patient is not None and dialog.search.patient.id == clinic.bob
    dialog.service.setCurrentIndex(dialog.service.findData(clinic.msg))
    assert dialog.minutes.value() == 60
    loads = window.loads
    qtbot.mouseClick(dialog.book_button, Qt.MouseButton.LeftButton)
    wait_closed(qtbot, window)
    wait_loaded(qtbot, window, loads)

    assert tuesday(clinic) == initial(clinic) | {
        (clinic.bob, clinic.msg, clinic.ben, at(TUESDAY, 14), at(TUESDAY, 15), "booked")}
    [booked] = new_ids(clinic)
    assert window.view.selected_id == booked


def test_a_booking_over_another_visit_is_refused_in_the_dialog(
        make_window: Any, clinic: Clinic, qtbot: Any) -> None:
    window = make_window()
    # 10:30–11:15 with Ben runs into Dan's 11:00 visit.
    dialog = open_booking(qtbot, window, at(TUESDAY, 10, 30), clinic.ben)
    type_patient(qtbot, dialog, "zo")
    pick_first(qtbot, dialog)
    assert dialog.search.patient is not None and dialog.search.patient.id == clinic.zoe

    qtbot.mouseClick(dialog.book_button, Qt.MouseButton.LeftButton)
    expected = (f"Ben Okafor already has Dan Evans 11:00–11:45 that day (appointment "
                f"{clinic.visits['dan']}); double booking is off")
    qtbot.waitUntil(lambda: dialog.message.text() == expected, timeout=5000)
    qtbot.waitUntil(lambda: not window.tasks.pending, timeout=5000)
    assert dialog.isVisible()
    assert window.actions_.dialog is dialog
    assert dialog.book_button.isEnabled()      # the receptionist can change the time
    assert dialog.override.isHidden()          # no override for a double booking
    assert dialog.outcome is None
    assert tuesday(clinic) == initial(clinic)


def test_prevent_no_credit_booking_refuses_until_the_override_is_ticked(
        make_window: Any, clinic: Clinic, qtbot: Any) -> None:
    settings.set_value(clinic.ctx, "prevent_no_credit_booking", "true")
    window = make_window()
    dialog = open_booking(qtbot, window, at(TUESDAY, 14), clinic.ben)
    type_patient(qtbot, dialog, "dan")
    pick_first(qtbot, dialog)

    qtbot.mouseClick(dialog.book_button, Qt.MouseButton.LeftButton)
    expected = ("Dan Evans has no Acupuncture token and only $0.00 credit for Acupuncture 45 "
                "($95.00); a manager may override")
    qtbot.waitUntil(lambda: dialog.message.text() == expected, timeout=5000)
    qtbot.waitUntil(lambda: not window.tasks.pending, timeout=5000)
    assert dialog.isVisible()
    assert not dialog.override.isHidden()
    assert not dialog.override.isChecked()
    assert tuesday(clinic) == initial(clinic)

    loads = window.loads
    qtbot.mouseClick(dialog.override, Qt.MouseButton.LeftButton)
    assert dialog.override.isChecked()
    qtbot.mouseClick(dialog.book_button, Qt.MouseButton.LeftButton)
    wait_closed(qtbot, window)
    wait_loaded(qtbot, window, loads)

    assert tuesday(clinic) == initial(clinic) | {
        (clinic.dan, clinic.acu, clinic.ben, at(TUESDAY, 14), at(TUESDAY, 14, 45), "booked")}
    [booked] = new_ids(clinic)
    assert window.view.selected_id == booked
    overrides = Audit.select().where(Audit.entity == "appointment", Audit.entity_id == booked,
                                     Audit.action == "override: booked without credit")
    assert overrides.count() == 1


def test_book_without_a_patient_asks_for_one_and_writes_nothing(
        make_window: Any, clinic: Clinic, qtbot: Any) -> None:
    window = make_window()
    dialog = open_booking(qtbot, window, at(TUESDAY, 14), clinic.ben)

    qtbot.mouseClick(dialog.book_button, Qt.MouseButton.LeftButton)
    assert dialog.message.text() == ("Choose a patient from the list (type part of a name "
                                     "or phone number).")
    assert dialog.isVisible()
    assert window.tasks.pending == 0
    # Typed but not picked from the list is still no patient.
    qtbot.keyClicks(dialog.search.edit, "Dan Evans")
    qtbot.mouseClick(dialog.book_button, Qt.MouseButton.LeftButton)
    assert dialog.message.text().startswith("Choose a patient")
    qtbot.waitUntil(lambda: dialog.search.results.count() > 0, timeout=5000)
    qtbot.waitUntil(lambda: not window.tasks.pending, timeout=5000)
    assert dialog.isVisible()
    assert dialog.outcome is None
    assert tuesday(clinic) == initial(clinic)


def test_double_click_on_book_writes_one_appointment(
        make_window: Any, clinic: Clinic, qtbot: Any) -> None:
    window = make_window()
    dialog = open_booking(qtbot, window, at(TUESDAY, 14), clinic.ben)
    type_patient(qtbot, dialog, "dan")
    pick_first(qtbot, dialog)

    loads = window.loads
    # What a mouse sends for a double click (QTest's mouseDClick alone sends only the
    # double-click event), then an impatient third click.
    left = Qt.MouseButton.LeftButton
    qtbot.mouseClick(dialog.book_button, left)
    qtbot.mouseDClick(dialog.book_button, left)
    qtbot.mouseRelease(dialog.book_button, left)
    qtbot.mouseClick(dialog.book_button, left)
    wait_closed(qtbot, window)
    wait_loaded(qtbot, window, loads)

    assert tuesday(clinic) == initial(clinic) | {
        (clinic.dan, clinic.acu, clinic.ben, at(TUESDAY, 14), at(TUESDAY, 14, 45), "booked")}
    assert len(day_view(TUESDAY, today=clinic.ctx.today()).appointments) == 5


def test_enter_straight_after_typing_does_not_pick_a_stale_match(
        make_window: Any, clinic: Clinic, qtbot: Any) -> None:
    """A fast typist: the list still shows the matches of an earlier query when Enter
    comes before the search of the new text has run. Enter must never pick a patient
    whose name does not match what is typed."""
    window = make_window()
    dialog = open_booking(qtbot, window, at(TUESDAY, 14), clinic.ben)
    assert type_patient(qtbot, dialog, "zo") == ["Zoë Adams  ·  555 0101"]
    qtbot.keyClick(dialog.search.edit, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClicks(dialog.search.edit, "dan")      # types over the selected "zo"
    assert dialog.search.edit.text() == "dan"
    pick_first(qtbot, dialog)           # within the 150 ms debounce
    qtbot.waitUntil(lambda: not window.tasks.pending, timeout=5000)
    qtbot.wait(200)                     # let a debounced search (if any) run
    qtbot.waitUntil(lambda: not window.tasks.pending, timeout=5000)
    picked = dialog.search.patient
    assert picked is None or picked.id == clinic.dan, (
        f"Enter with 'dan' typed picked {picked.name} from the previous query's list")
    assert dialog.search.edit.text() in ("dan", "Dan Evans")
