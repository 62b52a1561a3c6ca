"""``desk gui``: the screenshot a user or support asks for, and its bad arguments."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from PySide6.QtGui import QImage

from desk.data.database import open_database
from desk.data.models import Audit, Setting
from desk.services.setup import needs_setup
from tests.e2e.conftest import Clinic, Desk, Script


def test_screenshot_of_a_day_is_a_png_of_the_window(desk_script: Script, clinic: Clinic,
                                                     tmp_path: Path) -> None:
    out = tmp_path / "day.png"
    result = desk_script("--db", clinic.url, "gui", "--date", "2026-03-03", "--screenshot",
                         str(out), "--size", "1280x800")
    assert result.code == 0, result.describe()
    assert f"Screenshot of 2026-03-03 written to {out}" in result.out
    image = QImage(str(out))
    assert (image.width(), image.height()) == (1280, 800)
    # Not a blank image: the window painted more than one colour.
    colours = {image.pixel(x, y) for x in range(0, 1280, 37) for y in range(0, 800, 23)}
    assert len(colours) > 5


def test_week_screenshot(desk_script: Script, clinic: Clinic, tmp_path: Path) -> None:
    out = tmp_path / "week.png"
    result = desk_script("--db", clinic.url, "gui", "--week", "--screenshot", str(out))
    assert result.code == 0, result.describe()
    assert QImage(str(out)).width() == 1600
    assert dt.date.today().isoformat() in result.out


def test_screenshot_of_an_empty_clinic_asks_nothing_and_writes_nothing(
        desk_script: Script, db_url: str, tmp_path: Path) -> None:
    """The first-start setup waits for a person; a screenshot never does."""
    out = tmp_path / "empty.png"
    result = desk_script("--db", db_url, "gui", "--screenshot", str(out), timeout=30)
    assert result.code == 0, result.describe()
    assert QImage(str(out)).width() == 1600
    db = open_database(db_url)
    try:
        assert needs_setup()
        assert not Setting.select().exists() and not Audit.select().exists()
    finally:
        db.close()


@pytest.mark.parametrize(("args", "says"), [
    (["--size", "10x10"], "width 640-7680"),
    (["--size", "big"], "is not a size like 1600x1000"),
    (["--screenshot", "shot.jpg"], "ending in .png"),
    (["--date", "2026-13-01"], "--date"),
    (["--days", "3"], "unrecognized arguments"),
])
def test_bad_gui_arguments_are_refused(cli: Desk, args: list[str], says: str) -> None:
    result = cli.raw("gui", *args)
    assert result.code == 2, result.describe()
    assert says in result.err
    assert "Traceback" not in result.err


def test_no_display_is_a_clear_message(desk_script: Script, clinic: Clinic) -> None:
    desk_script.env.pop("QT_QPA_PLATFORM", None)
    desk_script.env.pop("DISPLAY", None)
    desk_script.env.pop("WAYLAND_DISPLAY", None)
    result = desk_script("--db", clinic.url, "gui")
    assert result.code == 1, result.describe()
    assert "no display" in result.err
    assert "Traceback" not in result.err
