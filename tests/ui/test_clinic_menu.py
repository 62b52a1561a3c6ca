"""The main window's Clinic menu (settings and catalog changes show on the schedule) and
its Patient file action."""

from __future__ import annotations

import datetime as dt
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QTimeEdit

from desk.data.models import Practitioner
from desk.ui.catalog_dialog import CatalogDialog
from desk.ui.patient_window import PatientWindow
from desk.ui.settings_dialog import SettingsDialog
from tests.ui.conftest import Clinic, block_point, wait_loaded
from tests.ui.test_catalog_dialog import act, click_row
from tests.ui.test_settings_dialog import go_to_tab, save, step_hours, widget

LEFT = Qt.MouseButton.LeftButton


def _child(window: Any, kind: type[Any]) -> Any:
    found = [w for w in QApplication.topLevelWidgets() if isinstance(w, kind) and w.isVisible()]
    assert len(found) == 1, found
    return found[0]


def test_settings_from_the_menu_reshape_the_grid(qtbot: Any, make_window: Any) -> None:
    window = make_window()
    assert window.view.grid.first_minute == 8 * 60
    window.act_settings.trigger()
    dialog = _child(window, SettingsDialog)
    qtbot.waitUntil(lambda: dialog.loaded, timeout=10_000)
    go_to_tab(qtbot, dialog, "Schedule")
    step_hours(qtbot, widget(dialog, "day_start", QTimeEdit), -1)
    loads = window.loads
    with qtbot.waitSignal(dialog.saved, timeout=10_000):
        save(qtbot, dialog)
    wait_loaded(qtbot, window, after=loads)
    assert window.view.grid.first_minute == 7 * 60


def test_the_catalog_from_the_menu_reorders_the_columns(qtbot: Any, make_window: Any,
                                                      clinic: Clinic) -> None:
    window = make_window()
    assert [c.title for c in window.view.grid.columns] == ["Ann Lee", "Ben Okafor"]
    window.act_catalog.trigger()
    dialog = _child(window, CatalogDialog)
    assert window.open_catalog() is dialog          # asked again: the same window
    qtbot.waitUntil(lambda: dialog.loads >= 1 and not dialog.tasks.pending, timeout=10_000)
    click_row(qtbot, dialog.practitioners, "Ben Okafor")
    loads = window.loads
    act(qtbot, dialog, dialog.practitioners.up_button)
    assert Practitioner.get_by_id(clinic.ben).sort_order == 0
    wait_loaded(qtbot, window, after=loads)
    assert [c.title for c in window.view.grid.columns] == ["Ben Okafor", "Ann Lee"]
    dialog.close()


def test_an_empty_clinic_points_to_the_catalog(qtbot: Any, make_window: Any,
                                               clinic: Clinic) -> None:
    Practitioner.update(active=False).execute()
    window = make_window(day=dt.date(2026, 3, 10))      # no visits that day
    assert "No practitioners yet" in window.header.text()
    window.header.linkActivated.emit("catalog")
    dialog = _child(window, CatalogDialog)
    dialog.close()



def test_patient_file_opens_the_selected_visits_patient(qtbot: Any, make_window: Any,
                                                        clinic: Clinic) -> None:
    window = make_window()
    qtbot.mouseClick(window.view.viewport(), LEFT,
                     pos=block_point(window, clinic.visits["zoe"]))
    assert window.view.selected_block() is not None
    window.act_patient.trigger()
    patient = _child(window, PatientWindow)
    assert patient.patient_id == clinic.zoe
    qtbot.waitUntil(lambda: patient.loads >= 1 and not patient.tasks.pending, timeout=10_000)
    assert "Zoë Adams" in patient.windowTitle()
    patient.close()
