"""First start on an empty clinic (offscreen Qt, SQLite and PostgreSQL): the owner types
the setup, or opens the demo clinic in its own file, or cancels."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt

from desk.data.models import Audit, Practitioner, Service, Setting, TokenKind, database_proxy
from desk.services import settings as clinic_settings
from desk.services import setup
from desk.services.context import Ctx
from desk.ui import app as app_module
from desk.ui.first_run import FirstRunDialog, default_currency
from desk.ui.tasks import Tasks
from tests.ui.conftest import retype

LEFT = Qt.MouseButton.LeftButton


def nothing_written() -> bool:
    return setup.needs_setup() and not Setting.select().exists() and not Audit.select().exists()


@pytest.fixture
def demo_file(tmp_path: Path) -> Path:
    return tmp_path / "data" / "demo.sqlite3"


@pytest.fixture
def dialog(qtbot: Any, ctx: Ctx, demo_file: Path) -> Iterator[FirstRunDialog]:
    tasks = Tasks()
    made = FirstRunDialog(ctx, tasks, stored=clinic_settings.all_settings(), demo=demo_file)
    qtbot.addWidget(made)
    made.show()
    yield made
    tasks.close(ctx.db.close)


def fill_in(qtbot: Any, dialog: FirstRunDialog, price: str = "95") -> None:
    """Type the setup the way the owner would, field by field."""
    qtbot.keyClicks(dialog.name, "Willow Street Acupuncture")
    retype(qtbot, dialog.currency.lineEdit(), "CAD")
    qtbot.keyClicks(dialog.phone, "(555) 010-2030")
    qtbot.keyClicks(dialog.practitioner, "Dr. Mara Quinn")
    qtbot.keyClicks(dialog.service, "Acupuncture 60")
    qtbot.keyClicks(dialog.minutes, "60")
    if price:  # keyClicks of nothing aborts Qt
        qtbot.keyClicks(dialog.price, price)


def test_the_form_shows_examples_not_values(dialog: FirstRunDialog) -> None:
    for edit in (dialog.name, dialog.practitioner, dialog.service, dialog.minutes,
                 dialog.price, dialog.token_kind):
        assert edit.text() == ""
        assert edit.placeholderText()
    assert dialog.currency.currentText() == default_currency("USD")  # or this computer's
    assert dialog.name.hasFocus()
    assert dialog.try_demo.isVisible()


def test_a_currency_set_before_is_kept(qtbot: Any, ctx: Ctx) -> None:
    clinic_settings.set_value(ctx, "currency", "GBP")
    clinic_settings.set_value(ctx, "clinic_name", "Typed at the command line")
    tasks = Tasks()
    made = FirstRunDialog(ctx, tasks, stored=clinic_settings.all_settings())
    qtbot.addWidget(made)
    assert made.currency.currentText() == "GBP"
    assert made.name.text() == "Typed at the command line"
    tasks.close()


def test_typed_setup_is_saved_and_opens_the_clinic(qtbot: Any, dialog: FirstRunDialog) -> None:
    fill_in(qtbot, dialog)
    assert dialog.token_kind.placeholderText() == "Acupuncture 60"
    assert dialog.price_unit.text() == "CAD"
    with qtbot.waitSignal(dialog.accepted, timeout=10_000):
        qtbot.mouseClick(dialog.start, LEFT)
    assert isinstance(dialog.outcome, setup.SetupDone)
    stored = clinic_settings.all_settings()
    assert (stored["clinic_name"], stored["currency"], stored["clinic_phone"],
            stored["clinic_address"]) == ("Willow Street Acupuncture", "CAD",
                                          "(555) 010-2030", "")
    assert [p.name for p in Practitioner.select()] == ["Dr. Mara Quinn"]
    [service] = Service.select()
    assert (service.name, service.duration_min, service.price_cents,
            service.token_kind.name) == ("Acupuncture 60", 60, 9500, "Acupuncture 60")
    assert not setup.needs_setup()


def test_enter_saves_with_a_token_kind_of_its_own(qtbot: Any, dialog: FirstRunDialog) -> None:
    fill_in(qtbot, dialog, price="0")
    qtbot.keyClicks(dialog.token_kind, "Acupuncture")
    with qtbot.waitSignal(dialog.accepted, timeout=10_000):
        qtbot.keyClick(dialog.token_kind, Qt.Key.Key_Return)
    assert [k.name for k in TokenKind.select()] == ["Acupuncture"]
    assert Service.get().price_cents == 0


@pytest.mark.parametrize(("price", "says"), [
    ("12.345", "Price: '12.345' has more than two decimals"),
    ("", "Price is empty"),
    ("-5", "Price: '-5' must be positive"),
    ("12,50", "Price: '12,50': use a dot for cents"),
])
def test_a_bad_price_is_named_and_nothing_is_written(qtbot: Any, dialog: FirstRunDialog,
                                                     price: str, says: str) -> None:
    fill_in(qtbot, dialog, price=price)
    qtbot.mouseClick(dialog.start, LEFT)
    assert dialog.message.text().startswith(says)
    assert dialog.isVisible() and not dialog.busy
    assert dialog.price.hasFocus()
    assert nothing_written()
    # Fixing it saves.
    retype(qtbot, dialog.price, "95.00")
    with qtbot.waitSignal(dialog.accepted, timeout=10_000):
        qtbot.mouseClick(dialog.start, LEFT)
    assert Service.get().price_cents == 9500


def test_the_first_problem_from_the_top_is_shown(qtbot: Any, dialog: FirstRunDialog) -> None:
    qtbot.keyClicks(dialog.minutes, "sixty")
    qtbot.mouseClick(dialog.start, LEFT)
    assert dialog.message.text() == "Clinic name is empty"
    assert dialog.name.hasFocus()
    qtbot.keyClicks(dialog.name, "Willow")
    retype(qtbot, dialog.currency.lineEdit(), "dollars")
    qtbot.mouseClick(dialog.start, LEFT)
    assert dialog.message.text().startswith("Currency: 'dollars' is not a three-letter")
    retype(qtbot, dialog.currency.lineEdit(), "USD")
    qtbot.keyClicks(dialog.practitioner, "Ann")
    qtbot.keyClicks(dialog.service, "Massage")
    qtbot.mouseClick(dialog.start, LEFT)
    assert dialog.message.text() == "Minutes: 'sixty' is not a whole number"
    assert dialog.minutes.hasFocus()
    assert nothing_written()


def test_cancel_writes_nothing(qtbot: Any, dialog: FirstRunDialog) -> None:
    fill_in(qtbot, dialog)
    with qtbot.waitSignal(dialog.rejected, timeout=5000):
        qtbot.mouseClick(dialog.cancel, LEFT)
    assert dialog.outcome is None
    assert nothing_written()


def test_when_another_desk_set_up_first_start_opens_that_clinic(
        qtbot: Any, ctx: Ctx, dialog: FirstRunDialog) -> None:
    fill_in(qtbot, dialog)
    setup.first_setup(ctx, clinic_name="Other desk", currency="USD", practitioner="Ben",
                      service_name="Massage 30", minutes=30, price_cents=5000)
    qtbot.mouseClick(dialog.start, LEFT)
    qtbot.waitUntil(lambda: "Another desk" in dialog.message.text(), timeout=10_000)
    assert dialog.isVisible()
    with qtbot.waitSignal(dialog.accepted, timeout=5000):
        qtbot.mouseClick(dialog.start, LEFT)
    assert [p.name for p in Practitioner.select()] == ["Ben"]
    assert clinic_settings.get("clinic_name") == "Other desk"


def demo_patients(path: Path) -> int:
    with closing(sqlite3.connect(path)) as conn:
        return int(conn.execute("SELECT count(*) FROM patient").fetchone()[0])


def test_the_demo_is_made_in_its_own_file(qtbot: Any, ctx: Ctx, dialog: FirstRunDialog,
                                          demo_file: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(setup, "DEMO_PATIENTS", 6)
    monkeypatch.setattr(setup, "DEMO_DAYS", 1)
    qtbot.keyClicks(dialog.name, "Half typed")
    with qtbot.waitSignal(dialog.accepted, timeout=20_000):
        qtbot.mouseClick(dialog.try_demo, LEFT)
        # Made on the worker: the window shows it is busy and takes no second try.
        assert dialog.busy and dialog.progress.isVisible()
        assert not dialog.start.isEnabled() and not dialog.try_demo.isEnabled()
        assert dialog.message.text().startswith("Making the demo clinic")
    assert isinstance(dialog.outcome, setup.DemoClinic)
    assert dialog.outcome.path == demo_file
    assert dialog.outcome.url == f"sqlite:///{demo_file}"
    assert demo_patients(demo_file) == 6
    assert database_proxy.obj is ctx.db
    assert nothing_written()  # the clinic's own database is still empty


def test_a_fresh_demo_is_opened_as_it_is(qtbot: Any, dialog: FirstRunDialog,
                                         demo_file: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    demo_file.parent.mkdir()
    demo_file.write_bytes(b"")

    def not_again(*_args: Any) -> None:
        raise AssertionError("a fresh demo is not made again")

    monkeypatch.setattr(setup.demo, "fill", not_again)
    with qtbot.waitSignal(dialog.accepted, timeout=10_000):
        qtbot.mouseClick(dialog.try_demo, LEFT)
    assert isinstance(dialog.outcome, setup.DemoClinic) and dialog.outcome.made is None


def test_no_demo_is_offered_when_the_clinic_file_is_the_demo_file(qtbot: Any, ctx: Ctx
                                                                   ) -> None:
    tasks = Tasks()
    made = FirstRunDialog(ctx, tasks, demo=None)
    qtbot.addWidget(made)
    made.show()
    assert not made.try_demo.isVisible()
    tasks.close()


# -- the hook in launch ----------------------------------------------------------------------

def test_an_existing_clinic_never_sees_the_setup(ctx: Ctx, db_url: str,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    setup.first_setup(ctx, clinic_name="Willow", currency="USD", practitioner="Ann",
                      service_name="Massage", minutes=60, price_cents=9000)

    def never(*_args: Any) -> None:
        raise AssertionError("the first-start dialog opened on a set-up clinic")

    monkeypatch.setattr(app_module, "first_run", never)
    assert app_module._first_start(ctx, db_url) == (ctx, db_url, db_url)


def test_cancelling_the_first_start_quits(qtbot: Any, db_url: str,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[str] = []

    def cancel(_ctx: Ctx, url: str) -> None:
        asked.append(url)

    def no_window(*_args: Any, **_kwargs: Any) -> None:
        raise AssertionError("the window opened after Cancel")

    monkeypatch.setattr(app_module, "first_run", cancel)
    monkeypatch.setattr(app_module, "MainWindow", no_window)
    assert app_module.launch(db_url, "tester", None) == 0
    assert asked == [db_url]


def test_choosing_the_demo_opens_its_file(ctx: Ctx, db_url: str, tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    demo_url = f"sqlite:///{tmp_path}/demo.sqlite3"
    monkeypatch.setattr(app_module, "first_run", lambda _ctx, _url: demo_url)
    try:
        started = app_module._first_start(ctx, db_url)
        assert started is not None
        opened, url, title = started
        assert url == demo_url and title == f"{demo_url} (demo clinic)"
        assert opened.db is not ctx.db and opened.staff == ctx.staff
        assert database_proxy.obj is opened.db
        opened.db.close()
    finally:
        database_proxy.initialize(ctx.db)
    assert (tmp_path / "demo.sqlite3").exists()
