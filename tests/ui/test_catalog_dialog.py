"""The catalog window on SQLite and PostgreSQL, used like a manager would: click Add,
type, click Save, double-click a row, Deactivate; the database is read back exactly.

The clinic is the one in ``tests/ui/conftest.py``: Ann Lee and Ben Okafor (both with
booked visits on Tuesday), "Acupuncture 45" (booked) and "Massage 60" (booked),
"Five acupuncture" (sold to Zoë).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractButton, QApplication, QDialogButtonBox, QLineEdit

from desk.data.models import Audit, Package, Practitioner, Service, TokenKind
from desk.services import catalog, lookups
from desk.services.context import Ctx
from desk.ui.catalog_dialog import CatalogDialog, open_catalog
from desk.ui.catalog_forms import CatalogForm, PackageForm, PractitionerForm, ServiceForm
from desk.ui.tasks import Tasks
from tests.ui.conftest import Clinic, choose, retype

LEFT = Qt.MouseButton.LeftButton
CTRL = Qt.KeyboardModifier.ControlModifier


@pytest.fixture
def tasks(ctx: Ctx) -> Iterator[Tasks]:
    worker = Tasks()
    yield worker
    worker.close(ctx.db.close)


@pytest.fixture
def window(qtbot: Any, clinic: Clinic, tasks: Tasks) -> CatalogDialog:
    dialog = CatalogDialog(clinic.ctx, tasks)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(lambda: dialog.loads >= 1 and not tasks.pending, timeout=10_000)
    return dialog


# -- helpers ------------------------------------------------------------------------------

def table_text(tab: Any) -> list[list[str]]:
    table = tab.table
    return [[table.item(r, c).text() for c in range(table.columnCount())]
            for r in range(table.rowCount())]


def go_to_tab(qtbot: Any, dialog: CatalogDialog, index: int) -> None:
    bar = dialog.tabs.tabBar()
    qtbot.mouseClick(bar, LEFT, pos=bar.tabRect(index).center())
    assert dialog.tabs.currentIndex() == index


def click_row(qtbot: Any, tab: Any, text: str, *, double: bool = False) -> None:
    table = tab.table
    row = next(r for r in range(table.rowCount()) if table.item(r, 0).text() == text
               or table.item(r, 1).text() == text)
    rect = table.visualRect(table.model().index(row, 1))
    qtbot.mouseClick(table.viewport(), LEFT, pos=rect.center())
    if double:   # the second click of a double click
        qtbot.mouseDClick(table.viewport(), LEFT, pos=rect.center())
    assert tab.selected() is not None


def press(qtbot: Any, button: QAbstractButton) -> None:
    assert button.isEnabled(), button.text()
    qtbot.mouseClick(button, LEFT)


def wait_form(qtbot: Any, dialog: CatalogDialog, kind: type[CatalogForm]) -> Any:
    qtbot.waitUntil(lambda: isinstance(dialog.form, kind), timeout=5000)
    form: Any = dialog.form
    qtbot.waitUntil(lambda: form.isVisible(), timeout=5000)
    form.activateWindow()   # offscreen windows are not activated by the window manager
    qtbot.waitUntil(form.isActiveWindow, timeout=5000)
    return form


def save_form(qtbot: Any, dialog: CatalogDialog, form: CatalogForm) -> None:
    """Click Save and wait until the window shows the catalog read back."""
    loads = dialog.loads
    press(qtbot, form.save)
    qtbot.waitUntil(lambda: dialog.form is None and dialog.loads > loads
                    and not dialog.tasks.pending, timeout=10_000)


def act(qtbot: Any, dialog: CatalogDialog, button: QAbstractButton) -> None:
    """Click a table button and wait for its write and the reload."""
    loads = dialog.loads
    press(qtbot, button)
    qtbot.waitUntil(lambda: not dialog.busy and not dialog.tasks.pending, timeout=10_000)
    if not dialog.message.styleSheet():   # it worked: the catalog is read again
        qtbot.waitUntil(lambda: dialog.loads > loads, timeout=10_000)


def type_in(qtbot: Any, edit: QLineEdit, text: str) -> None:
    qtbot.mouseClick(edit, LEFT)
    retype(qtbot, edit, text)


def service_row(service_id: int) -> tuple[Any, ...]:
    row = Service.get_by_id(service_id)
    return (row.name, row.duration_min, row.price_cents, row.colour, row.token_kind.name,
            row.late_cancel_fee_cents, row.no_show_fee_cents, row.active)


def last_audit(entity: str) -> tuple[str, Any, Any]:
    row = Audit.select().where(Audit.entity == entity).order_by(Audit.id.desc()).get()
    return row.action, json.loads(row.before or "null"), json.loads(row.after or "null")


# -- tables --------------------------------------------------------------------------------

def test_the_tables_show_the_whole_catalog(window: CatalogDialog, clinic: Clinic) -> None:
    catalog.add_practitioner(clinic.ctx, "Old Timer")
    assert window.windowTitle() == "Catalog"
    assert [window.tabs.tabText(i) for i in range(3)] == [
        "&Practitioners", "&Services", "Packages && &memberships"]
    assert table_text(window.practitioners) == [["1", "Ann Lee", "active"],
                                                ["2", "Ben Okafor", "active"]]
    assert table_text(window.services) == [
        ["Acupuncture 45", "45 min", "$95.00", "Acupuncture", "default ($0.00)",
         "default ($0.00)", "active"],
        ["Massage 60", "60 min", "$120.00", "Massage", "default ($0.00)", "default ($0.00)",
         "active"]]
    assert table_text(window.packages) == [
        ["Five acupuncture", "Acupuncture", "5", "$350.00", "after 90 days", "package", "—",
         "active"]]
    assert not window.services.edit_button.isEnabled()   # nothing selected yet


# -- practitioners -------------------------------------------------------------------------

def test_add_a_practitioner_move_the_column_and_deactivate(
        qtbot: Any, window: CatalogDialog, clinic: Clinic) -> None:
    tab = window.practitioners
    press(qtbot, tab.add_button)
    form = wait_form(qtbot, window, PractitionerForm)
    assert form.windowTitle() == "Add practitioner"
    qtbot.keyClicks(form.name, "  Cy   Park ")
    save_form(qtbot, window, form)

    cy = Practitioner.get(Practitioner.name == "Cy Park")
    assert (cy.sort_order, cy.active) == (2, True)
    assert window.message.text() == "Added Cy Park."
    assert tab.selected_id() == cy.id
    assert table_text(tab)[2] == ["3", "Cy Park", "active"]

    act(qtbot, window, tab.up_button)
    act(qtbot, window, tab.up_button)
    assert not tab.up_button.isEnabled()          # first column now
    assert {p.name: p.sort_order for p in Practitioner.select()} == {
        "Cy Park": 0, "Ann Lee": 1, "Ben Okafor": 2}
    assert [r[1] for r in table_text(tab)] == ["Cy Park", "Ann Lee", "Ben Okafor"]
    assert [name for _, name in lookups.booking_choices().practitioners] == [
        "Cy Park", "Ann Lee", "Ben Okafor"]
    assert window.message.text() == "Column order saved."

    assert tab.toggle_button.text() == "&Deactivate"
    act(qtbot, window, tab.toggle_button)
    assert Practitioner.get_by_id(cy.id).active is False
    assert table_text(tab)[0] == ["—", "Cy Park", "inactive"]
    assert table_text(tab)[1][0] == "1"           # Ann is the first column again
    name_cell = tab.table.item(0, 1)
    assert name_cell is not None and name_cell.font().italic()
    assert tab.toggle_button.text() == "&Reactivate"
    assert last_audit("practitioner") == ("update", {"active": True}, {"active": False})
    assert window.message.text().startswith("Cy Park is no longer on the schedule")

    act(qtbot, window, tab.toggle_button)
    assert Practitioner.get_by_id(cy.id).active is True


def test_a_practitioner_with_booked_visits_is_not_deactivated(
        qtbot: Any, window: CatalogDialog, clinic: Clinic) -> None:
    audits = Audit.select().count()
    click_row(qtbot, window.practitioners, "Ann Lee")
    act(qtbot, window, window.practitioners.toggle_button)
    assert window.message.text().startswith(
        "Ann Lee still has 2 booked visits (the first on Tue 03 Mar 2026 09:00)")
    assert "color" in window.message.styleSheet()
    assert Practitioner.get_by_id(clinic.ann).active is True
    assert Audit.select().count() == audits


def test_rename_a_practitioner_by_double_click(qtbot: Any, window: CatalogDialog,
                                               clinic: Clinic) -> None:
    click_row(qtbot, window.practitioners, "Ben Okafor", double=True)
    form = wait_form(qtbot, window, PractitionerForm)
    assert (form.windowTitle(), form.name.text()) == ("Edit practitioner", "Ben Okafor")
    retype(qtbot, form.name, "ann LEE")           # another's name, other letters
    press(qtbot, form.save)
    qtbot.waitUntil(lambda: not form.busy and not window.tasks.pending, timeout=10_000)
    assert form.isVisible()
    assert form.message.text() == (
        f"Name: a practitioner named 'Ann Lee' already exists (id {clinic.ann})")
    assert form.name.text() == "ann LEE"          # what was typed stays
    retype(qtbot, form.name, "Dr. Ben Okafor")
    save_form(qtbot, window, form)
    assert Practitioner.get_by_id(clinic.ben).name == "Dr. Ben Okafor"
    assert window.message.text() == "Saved Dr. Ben Okafor."


# -- services ------------------------------------------------------------------------------

def test_edit_a_service_price_fees_and_colour(qtbot: Any, window: CatalogDialog,
                                              clinic: Clinic) -> None:
    go_to_tab(qtbot, window, 1)
    click_row(qtbot, window.services, "Acupuncture 45", double=True)
    form = wait_form(qtbot, window, ServiceForm)
    assert (form.name.text(), form.minutes.value(), form.price.text(), form.colour.text(),
            form.late_fee.text()) == ("Acupuncture 45", 45, "95.00", "#3b82c4", "")
    assert form.late_fee.placeholderText() == "clinic default ($0.00)"
    assert not form.kind.isEnabled()              # visits are booked with it
    assert form.kind.currentText() == "Acupuncture"

    type_in(qtbot, form.price, "99.5")
    type_in(qtbot, form.late_fee, "10")
    type_in(qtbot, form.colour, "#A1B2C3")
    assert "background: #a1b2c3" in form.swatch.styleSheet()
    form.minutes.setFocus()
    qtbot.keyClick(form.minutes, Qt.Key.Key_A, CTRL)
    qtbot.keyClicks(form.minutes, "50")
    save_form(qtbot, window, form)

    assert service_row(clinic.acu) == ("Acupuncture 45", 50, 9950, "#a1b2c3", "Acupuncture",
                                       1000, None, True)
    assert last_audit("service") == (
        "update", {"duration_min": 45, "price_cents": 9500, "colour": "#3b82c4",
                   "late_cancel_fee_cents": None},
        {"duration_min": 50, "price_cents": 9950, "colour": "#a1b2c3",
         "late_cancel_fee_cents": 1000})
    assert table_text(window.services)[0] == [
        "Acupuncture 45", "50 min", "$99.50", "Acupuncture", "$10.00", "default ($0.00)",
        "active"]

    # the fee back to blank: the clinic default again
    click_row(qtbot, window.services, "Acupuncture 45", double=True)
    form = wait_form(qtbot, window, ServiceForm)
    type_in(qtbot, form.late_fee, "")
    save_form(qtbot, window, form)
    assert service_row(clinic.acu)[5] is None


def test_a_bad_service_field_is_named_and_nothing_is_written(
        qtbot: Any, window: CatalogDialog, clinic: Clinic) -> None:
    go_to_tab(qtbot, window, 1)
    click_row(qtbot, window.services, "Massage 60")
    press(qtbot, window.services.edit_button)
    form = wait_form(qtbot, window, ServiceForm)
    before, audits = service_row(clinic.msg), Audit.select().count()

    type_in(qtbot, form.price, "12,50")
    form.colour.setFocus()                          # leaving the field checks it
    assert form.message.text() == "Price: '12,50': use a dot for cents, e.g. 12.50"
    type_in(qtbot, form.price, "130")
    type_in(qtbot, form.no_show_fee, "-5")
    press(qtbot, form.save)
    assert form.message.text() == "No-show fee: '-5' must be positive"
    assert form.no_show_fee.hasFocus()
    type_in(qtbot, form.no_show_fee, "")
    type_in(qtbot, form.colour, "blue")
    press(qtbot, form.save)
    assert form.message.text() == "Colour: 'blue' is not a colour like #4a90d9"
    type_in(qtbot, form.colour, "#c47a3b")
    retype(qtbot, form.name, "ACUPUNCTURE 45")
    press(qtbot, form.save)
    qtbot.waitUntil(lambda: not form.busy and not window.tasks.pending, timeout=10_000)
    assert form.message.text() == (
        f"Name: a service named 'Acupuncture 45' already exists (id {clinic.acu})")
    assert form.isVisible() and form.price.text() == "130"

    assert service_row(clinic.msg) == before
    assert Audit.select().count() == audits
    press(qtbot, form.buttons.button(QDialogButtonBox.StandardButton.Cancel))
    qtbot.waitUntil(lambda: window.form is None, timeout=5000)
    assert service_row(clinic.msg) == before


def test_add_a_service_with_a_new_token_kind_and_a_picked_colour(
        qtbot: Any, window: CatalogDialog, clinic: Clinic) -> None:
    go_to_tab(qtbot, window, 1)
    press(qtbot, window.services.add_button)
    form = wait_form(qtbot, window, ServiceForm)
    assert form.kind.isEnabled()
    qtbot.keyClicks(form.name, "Cupping 20")
    form.minutes.setFocus()
    qtbot.keyClick(form.minutes, Qt.Key.Key_A, CTRL)
    qtbot.keyClicks(form.minutes, "20")
    type_in(qtbot, form.price, "40")
    kind = form.kind.lineEdit()
    assert kind is not None
    qtbot.mouseClick(kind, LEFT)
    qtbot.keyClicks(kind, "Cupping")
    type_in(qtbot, form.no_show_fee, "15")

    press(qtbot, form.pick)
    qtbot.waitUntil(lambda: form.picker is not None and form.picker.isVisible(),
                    timeout=5000)
    picker = form.picker
    assert picker is not None
    html = next(e for e in picker.findChildren(QLineEdit) if e.text().startswith("#"))
    retype(qtbot, html, "#aa5500")
    qtbot.keyClick(html, Qt.Key.Key_Return)        # leaves the hex field…
    ok = picker.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Ok)
    press(qtbot, ok)                                # …and OK takes the colour
    qtbot.waitUntil(lambda: not picker.isVisible(), timeout=5000)
    assert form.colour.text() == "#aa5500"

    save_form(qtbot, window, form)
    made = Service.get(Service.name == "Cupping 20")
    assert service_row(made.id) == ("Cupping 20", 20, 4000, "#aa5500", "Cupping", None, 1500,
                                    True)
    assert TokenKind.select().where(TokenKind.name == "Cupping").count() == 1
    assert window.message.text() == "Added Cupping 20."
    assert window.services.selected_id() == made.id
    assert "Cupping 20" in [s.name for s in lookups.booking_choices().services]


def test_deactivate_and_reactivate_a_service(qtbot: Any, window: CatalogDialog,
                                              clinic: Clinic) -> None:
    go_to_tab(qtbot, window, 1)
    click_row(qtbot, window.services, "Massage 60")
    act(qtbot, window, window.services.toggle_button)
    assert Service.get_by_id(clinic.msg).active is False
    assert table_text(window.services)[1][-1] == "inactive"
    assert [s.name for s in lookups.booking_choices().services] == ["Acupuncture 45"]
    assert window.message.text() == ("Massage 60 can no longer be booked; booked visits "
                                     "and history are unchanged.")
    act(qtbot, window, window.services.toggle_button)
    assert Service.get_by_id(clinic.msg).active is True


# -- packages ------------------------------------------------------------------------------

def test_add_a_monthly_membership(qtbot: Any, window: CatalogDialog, clinic: Clinic) -> None:
    go_to_tab(qtbot, window, 2)
    press(qtbot, window.packages.add_button)
    form = wait_form(qtbot, window, PackageForm)
    qtbot.keyClicks(form.name, "Massage club")
    choose(qtbot, form.kind, "Massage")
    form.tokens.setFocus()
    qtbot.keyClick(form.tokens, Qt.Key.Key_A, CTRL)
    qtbot.keyClicks(form.tokens, "2")
    type_in(qtbot, form.price, "199.99")
    form.expires.setFocus()
    qtbot.keyClick(form.expires, Qt.Key.Key_A, CTRL)
    qtbot.keyClicks(form.expires, "60")
    qtbot.mouseClick(form.monthly, LEFT, pos=form.monthly.rect().center())
    assert form.monthly.isChecked()
    save_form(qtbot, window, form)

    row = Package.get(Package.name == "Massage club")
    assert (row.token_kind.name, row.tokens, row.price_cents, row.expires_days, row.monthly,
            row.active) == ("Massage", 2, 19999, 60, True, True)
    assert table_text(window.packages)[1] == [
        "Massage club", "Massage", "2", "$199.99", "after 60 days", "monthly membership",
        "0", "active"]


def test_a_sold_package_keeps_its_kind_but_its_price_may_change(
        qtbot: Any, window: CatalogDialog, clinic: Clinic) -> None:
    go_to_tab(qtbot, window, 2)
    click_row(qtbot, window.packages, "Five acupuncture", double=True)
    form = wait_form(qtbot, window, PackageForm)
    assert not form.kind.isEnabled() and not form.monthly.isEnabled()
    assert any("Sold already" in label.text() for label in form.findChildren(type(
        window.message)))
    type_in(qtbot, form.price, "375")
    form.expires.setFocus()
    qtbot.keyClick(form.expires, Qt.Key.Key_A, CTRL)
    qtbot.keyClicks(form.expires, "0")               # Never
    save_form(qtbot, window, form)

    row = Package.get_by_id(Package.get(Package.name == "Five acupuncture").id)
    assert (row.token_kind.name, row.price_cents, row.expires_days, row.monthly) == (
        "Acupuncture", 37500, None, False)
    assert last_audit("package") == ("update", {"price_cents": 35000, "expires_days": 90},
                                     {"price_cents": 37500, "expires_days": None})
    assert table_text(window.packages)[0][3:5] == ["$375.00", "never"]

    act(qtbot, window, window.packages.toggle_button)
    assert Package.get_by_id(row.id).active is False
    assert lookups.sale_choices().packages == ()


def test_open_catalog_shows_it_and_it_deletes_itself(qtbot: Any, clinic: Clinic,
                                                     tasks: Tasks) -> None:
    dialog = open_catalog(clinic.ctx, tasks, None)
    assert dialog.isVisible() and not dialog.isModal()
    qtbot.waitUntil(lambda: dialog.loads >= 1, timeout=10_000)
    with qtbot.waitSignal(dialog.destroyed, timeout=5000):
        press(qtbot, dialog.buttons.button(QDialogButtonBox.StandardButton.Close))
        QApplication.processEvents()
