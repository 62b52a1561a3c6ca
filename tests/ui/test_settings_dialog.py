"""The clinic settings dialog (SPEC §4) on SQLite and PostgreSQL: typed and clicked
like a person; the database is read back exactly.

Every key has a widget and its explanation; Save writes the changed keys in one
transaction and a reopened dialog shows them; a bad value names the field, shows
its tab and writes nothing; a refusal from the database keeps what was typed.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QCheckBox, QComboBox, QLineEdit, QSpinBox, QTimeEdit

from desk.core import settings as rules
from desk.data.models import Audit, Setting
from desk.services import settings as clinic_settings
from desk.services.context import Ctx
from desk.ui.settings_dialog import GROUPS, SettingsDialog, open_settings
from desk.ui.tasks import Tasks
from tests.ui.conftest import choose, retype

LEFT = Qt.MouseButton.LeftButton
CTRL = Qt.KeyboardModifier.ControlModifier


@pytest.fixture
def tasks(ctx: Ctx) -> Iterator[Tasks]:
    worker = Tasks()
    yield worker
    worker.close(ctx.db.close)


def open_dialog(qtbot: Any, ctx: Ctx, tasks: Tasks) -> SettingsDialog:
    dialog = SettingsDialog(ctx, tasks)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(lambda: dialog.loaded, timeout=10_000)
    return dialog


def go_to_tab(qtbot: Any, dialog: SettingsDialog, title: str) -> None:
    bar = dialog.tabs.tabBar()
    index = next(i for i in range(bar.count()) if bar.tabText(i).replace("&&", "&") == title)
    qtbot.mouseClick(bar, LEFT, pos=bar.tabRect(index).center())
    assert dialog.tabs.currentIndex() == index


def widget(dialog: SettingsDialog, key: str, kind: type[Any]) -> Any:
    found = dialog.fields[key].input
    assert isinstance(found, kind), (key, found)
    return found


def click(qtbot: Any, box: QCheckBox) -> None:
    qtbot.mouseClick(box, LEFT, pos=box.rect().center())


def type_number(qtbot: Any, spin: QSpinBox, text: str) -> None:
    spin.setFocus()
    qtbot.keyClick(spin, Qt.Key.Key_A, CTRL)
    qtbot.keyClicks(spin, text)


def step_hours(qtbot: Any, time: QTimeEdit, hours: int) -> None:
    """Arrow keys on the hour section, as a keyboard user sets a time."""
    time.setFocus()
    qtbot.keyClick(time, Qt.Key.Key_Home)
    key = Qt.Key.Key_Up if hours > 0 else Qt.Key.Key_Down
    for _ in range(abs(hours)):
        qtbot.keyClick(time, key)


def paste(qtbot: Any, edit: QLineEdit, text: str) -> None:
    """Ctrl+V of ``text`` from the clipboard (how non-ASCII text arrives in tests)."""
    QApplication.clipboard().setText(text)
    qtbot.keyClick(edit, Qt.Key.Key_V, CTRL)


def save(qtbot: Any, dialog: SettingsDialog) -> None:
    qtbot.mouseClick(dialog.save, LEFT)


def stored() -> dict[str, str]:
    found: Any = Setting.select(Setting.key, Setting.value).tuples()
    return dict(found)


def setting_audits() -> list[tuple[str, Any, Any]]:
    return [(a.action, json.loads(a.before or ""), json.loads(a.after or ""))
            for a in Audit.select().where(Audit.entity == "setting").order_by(Audit.id)]


# -- tests ---------------------------------------------------------------------------------

def test_every_setting_has_a_widget_and_its_explanation(qtbot: Any, ctx: Ctx, tasks: Tasks
                                                        ) -> None:
    dialog = open_dialog(qtbot, ctx, tasks)
    assert dialog.windowTitle() == "Clinic settings"
    assert [dialog.tabs.tabText(i) for i in range(dialog.tabs.count())] == [
        "Clinic && receipts", "Payments && credit", "Booking && cancellation", "Schedule",
        "Security"]
    assert sorted(dialog.fields) == sorted(rules.SPECS)
    assert sorted(k for _, keys in GROUPS for k in keys) == sorted(rules.SPECS)
    kinds = {"text": QLineEdit, "money": QLineEdit, "bool": QCheckBox, "int": QSpinBox,
             "time": QTimeEdit, "choice": QComboBox, "currency": QComboBox}
    for key, spec in rules.SPECS.items():
        field = dialog.fields[key]
        assert isinstance(field.input, kinds[spec.kind]), key
        dialog.tabs.setCurrentIndex(field.tab)
        assert field.hint is not None and field.hint.isVisible(), key
        assert len(field.hint.text()) > 20, key
        assert field.get() == spec.default, key   # nothing stored: the defaults show
    hours = widget(dialog, "late_cancel_hours", QSpinBox)
    assert (hours.minimum(), hours.maximum(), hours.text()) == (0, 336, "24 hours")
    assert widget(dialog, "idle_lock_minutes", QSpinBox).minimum() == 0
    paper = widget(dialog, "receipt_paper", QComboBox)
    assert [paper.itemText(i) for i in range(paper.count())] == [
        "80 mm roll", "Letter (8.5 × 11 in)", "A4"]
    hint = dialog.fields["no_show_fee"].hint
    assert hint is not None and "A service may set its own fee" in hint.text()


def test_changes_are_saved_together_and_shown_when_reopened(
        qtbot: Any, ctx: Ctx, tasks: Tasks) -> None:
    clinic_settings.set_value(ctx, "clinic_name", "Calm")
    dialog = open_dialog(qtbot, ctx, tasks)
    name = widget(dialog, "clinic_name", QLineEdit)
    assert name.text() == "Calm"
    qtbot.mouseClick(name, LEFT)
    qtbot.keyClick(name, Qt.Key.Key_End)
    qtbot.keyClicks(name, " Waters Clinic")
    footer = widget(dialog, "receipt_footer", QLineEdit)
    qtbot.mouseClick(footer, LEFT)
    paste(qtbot, footer, "Merci — «à bientôt» 🌸")   # QTest types ASCII only
    choose(qtbot, widget(dialog, "receipt_paper", QComboBox), "A4")
    click(qtbot, widget(dialog, "auto_print", QCheckBox))

    go_to_tab(qtbot, dialog, "Payments & credit")
    choose(qtbot, widget(dialog, "currency", QComboBox), "EUR")
    click(qtbot, widget(dialog, "auto_apply_credit", QCheckBox))

    go_to_tab(qtbot, dialog, "Booking & cancellation")
    assert dialog.money_units[0].text() == "EUR"   # follows the currency chosen
    click(qtbot, widget(dialog, "reserve_token_at_booking", QCheckBox))
    type_number(qtbot, widget(dialog, "late_cancel_hours", QSpinBox), "48")
    retype(qtbot, widget(dialog, "late_cancel_fee", QLineEdit), "25.5")
    retype(qtbot, widget(dialog, "no_show_fee", QLineEdit), " 40 ")

    go_to_tab(qtbot, dialog, "Schedule")
    step_hours(qtbot, widget(dialog, "day_start", QTimeEdit), -1)
    step_hours(qtbot, widget(dialog, "day_end", QTimeEdit), 2)
    choose(qtbot, widget(dialog, "slot_minutes", QComboBox), "10 minutes")

    go_to_tab(qtbot, dialog, "Security")
    type_number(qtbot, widget(dialog, "idle_lock_minutes", QSpinBox), "0")

    with qtbot.waitSignal(dialog.saved, timeout=10_000) as saved:
        save(qtbot, dialog)

    expected = {
        "clinic_name": "Calm Waters Clinic", "receipt_footer": "Merci — «à bientôt» 🌸",
        "receipt_paper": "a4", "auto_print": "true", "currency": "EUR",
        "auto_apply_credit": "false", "reserve_token_at_booking": "true",
        "late_cancel_hours": "48", "late_cancel_fee": "25.50", "no_show_fee": "40.00",
        "day_start": "07:00", "day_end": "21:00", "slot_minutes": "10",
        "idle_lock_minutes": "0"}
    assert saved.args == [expected]
    assert not dialog.isVisible() and dialog.result() == dialog.DialogCode.Accepted
    assert stored() == expected
    changes = setting_audits()
    assert len(changes) == len(expected) + 1    # and the first "Calm"
    assert changes[1] == ("set clinic_name", {"clinic_name": "Calm"},
                          {"clinic_name": "Calm Waters Clinic"})
    assert ("set day_end", {"day_end": "19:00"}, {"day_end": "21:00"}) in changes

    again = open_dialog(qtbot, ctx, tasks)
    assert again.values() == {**{k: s.default for k, s in rules.SPECS.items()}, **expected}
    assert widget(again, "clinic_name", QLineEdit).text() == "Calm Waters Clinic"
    assert widget(again, "receipt_paper", QComboBox).currentText() == "A4"
    assert widget(again, "currency", QComboBox).currentText() == "EUR — Euro"
    assert widget(again, "late_cancel_fee", QLineEdit).text() == "25.50"
    assert widget(again, "day_end", QTimeEdit).text() == "21:00"
    assert widget(again, "auto_print", QCheckBox).isChecked()
    assert widget(again, "idle_lock_minutes", QSpinBox).text() == "Never"


def test_a_bad_amount_names_the_field_and_writes_nothing(qtbot: Any, ctx: Ctx, tasks: Tasks
                                                         ) -> None:
    dialog = open_dialog(qtbot, ctx, tasks)
    qtbot.keyClicks(widget(dialog, "clinic_name", QLineEdit), "Calm")
    go_to_tab(qtbot, dialog, "Booking & cancellation")
    fee = widget(dialog, "late_cancel_fee", QLineEdit)
    retype(qtbot, fee, "12,50")
    go_to_tab(qtbot, dialog, "Schedule")

    save(qtbot, dialog)

    assert dialog.message.text() == "Late cancel fee: '12,50': use a dot for cents, e.g. 12.50"
    assert dialog.tabs.tabText(dialog.tabs.currentIndex()) == "Booking && cancellation"
    assert fee.hasFocus() and fee.selectedText() == "12,50"
    assert dialog.isVisible()
    assert stored() == {} and Audit.select().count() == 0

    for bad, said in (("1e3", "exponents are not accepted"),
                      ("-0", "zero has no sign"),
                      ("１２", "non-ASCII digits"),
                      ("12.345", "more than two decimals"),
                      ("NaN", "is not an amount"),
                      ("", "is empty")):
        fee.setFocus()
        qtbot.keyClick(fee, Qt.Key.Key_A, CTRL)
        paste(qtbot, fee, bad) if bad else qtbot.keyClick(fee, Qt.Key.Key_Delete)
        assert fee.text() == bad
        save(qtbot, dialog)
        assert dialog.message.text().startswith("Late cancel fee: "), bad
        assert said in dialog.message.text(), bad
    assert stored() == {} and Audit.select().count() == 0

    retype(qtbot, fee, "12.50")
    with qtbot.waitSignal(dialog.saved, timeout=10_000):
        save(qtbot, dialog)
    assert stored() == {"clinic_name": "Calm", "late_cancel_fee": "12.50"}


def test_the_day_must_end_after_it_starts(qtbot: Any, ctx: Ctx, tasks: Tasks) -> None:
    dialog = open_dialog(qtbot, ctx, tasks)
    go_to_tab(qtbot, dialog, "Schedule")
    step_hours(qtbot, widget(dialog, "day_end", QTimeEdit), -11)   # 19:00 -> 08:00
    go_to_tab(qtbot, dialog, "Security")

    save(qtbot, dialog)

    assert dialog.message.text() == "Day ends: must be later than “Day starts”"
    assert dialog.tabs.tabText(dialog.tabs.currentIndex()) == "Schedule"
    assert widget(dialog, "day_end", QTimeEdit).hasFocus()
    assert stored() == {} and Audit.select().count() == 0


def test_a_refusal_from_the_database_keeps_what_was_typed(qtbot: Any, ctx: Ctx, tasks: Tasks
                                                          ) -> None:
    dialog = open_dialog(qtbot, ctx, tasks)
    # meanwhile another workstation ends the day at 09:00
    clinic_settings.set_many(ctx, {"day_start": "07:00", "day_end": "09:00"})
    audits = Audit.select().count()
    qtbot.keyClicks(widget(dialog, "clinic_name", QLineEdit), "Calm")
    go_to_tab(qtbot, dialog, "Schedule")
    step_hours(qtbot, widget(dialog, "day_start", QTimeEdit), 2)   # 08:00 -> 10:00

    save(qtbot, dialog)
    qtbot.waitUntil(lambda: not dialog.busy, timeout=10_000)

    assert dialog.isVisible()
    assert dialog.message.text() == "Day ends: must be later than “Day starts”"
    assert dialog.save.isEnabled()
    assert widget(dialog, "clinic_name", QLineEdit).text() == "Calm"
    assert widget(dialog, "day_start", QTimeEdit).text() == "10:00"
    assert stored() == {"day_start": "07:00", "day_end": "09:00"}
    assert Audit.select().count() == audits


def test_it_cannot_close_while_saving(qtbot: Any, ctx: Ctx, tasks: Tasks) -> None:
    dialog = open_dialog(qtbot, ctx, tasks)
    click(qtbot, widget(dialog, "auto_print", QCheckBox))
    gate = threading.Event()
    tasks.run(lambda: gate.wait(10))          # the worker is busy with something else

    save(qtbot, dialog)
    assert dialog.busy and not dialog.save.isEnabled()
    qtbot.keyClick(dialog, Qt.Key.Key_Escape)
    dialog.close()
    assert dialog.isVisible()

    with qtbot.waitSignal(dialog.saved, timeout=10_000):
        gate.set()
    assert not dialog.isVisible()
    assert stored() == {"auto_print": "true"}


def test_saving_nothing_changed_writes_nothing(qtbot: Any, ctx: Ctx, tasks: Tasks) -> None:
    dialog = open_settings(ctx, tasks, None)
    qtbot.waitUntil(lambda: dialog.loaded, timeout=10_000)
    with qtbot.waitSignal(dialog.finished, timeout=5000):
        save(qtbot, dialog)
    assert stored() == {} and Audit.select().count() == 0


def test_restore_defaults_resets_the_tab_shown_until_saved(qtbot: Any, ctx: Ctx, tasks: Tasks
                                                          ) -> None:
    clinic_settings.set_many(ctx, {"day_start": "07:00", "slot_minutes": "30",
                                   "clinic_name": "Calm"})
    dialog = open_dialog(qtbot, ctx, tasks)
    go_to_tab(qtbot, dialog, "Schedule")
    press = dialog.defaults
    qtbot.mouseClick(press, LEFT)
    assert (widget(dialog, "day_start", QTimeEdit).text(),
            widget(dialog, "slot_minutes", QComboBox).currentText()) == ("08:00", "15 minutes")
    assert widget(dialog, "clinic_name", QLineEdit).text() == "Calm"   # another tab
    assert stored()["day_start"] == "07:00"                            # not saved yet
    with qtbot.waitSignal(dialog.saved, timeout=10_000) as saved:
        save(qtbot, dialog)
    assert saved.args == [{"day_start": "08:00", "slot_minutes": "15"}]
    assert stored() == {"day_start": "08:00", "slot_minutes": "15", "clinic_name": "Calm"}
