"""Start the window: Qt application, database, worker, live refresh, main window."""

from __future__ import annotations

import datetime as dt
import getpass
import os
import sys
import time
from pathlib import Path

from PySide6.QtCore import (
    QCoreApplication,
    QEventLoop,
    QMessageLogContext,
    QtMsgType,
    qInstallMessageHandler,
)
from PySide6.QtWidgets import QApplication

from desk.core.errors import DeskError
from desk.data.changes import ChangeWatcher
from desk.data.database import default_url, describe, open_database, recover_connection
from desk.data.migrations import migrate
from desk.services.context import Ctx
from desk.services.setup import needs_setup
from desk.ui.first_run import first_run
from desk.ui.icons import icon
from desk.ui.live import LiveRefresh
from desk.ui.main_window import MainWindow
from desk.ui.tasks import Tasks

SCREENSHOT_TIMEOUT_S = 60.0


def _quiet_offscreen(kind: QtMsgType, context: QMessageLogContext, message: str) -> None:
    """The offscreen platform warns about window features it lacks; nobody can act
    on that, so a screenshot run keeps quiet about it (everything else is shown)."""
    if "This plugin does not support" not in message:
        sys.stderr.write(message + "\n")


def _has_display() -> bool:
    if os.environ.get("QT_QPA_PLATFORM") or sys.platform in ("win32", "darwin"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def application() -> QApplication:
    app = QApplication.instance()
    if not isinstance(app, QApplication):
        app = QApplication(sys.argv[:1])
    QCoreApplication.setOrganizationName("desk")
    QCoreApplication.setApplicationName("desk")
    app.setApplicationDisplayName("desk")
    app.setWindowIcon(icon("app"))
    return app


def staff_name() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return "desk"


def launch(db_url: str | None, staff: str | None, day: dt.date | None, *, week: bool = False,
           screenshot: str | None = None, size: tuple[int, int] = (1600, 1000)) -> int:
    """Open the schedule window (or render it to ``screenshot`` and return)."""
    if screenshot:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
        qInstallMessageHandler(_quiet_offscreen)
    elif not _has_display():
        raise DeskError("no display to open the window on (DISPLAY is not set); run a command "
                        "such as `desk day`, or `desk gui --screenshot FILE.png`")
    url = db_url or default_url()
    app = application()
    db = open_database(url)
    migrate(db)
    ctx = Ctx(db, staff=staff or staff_name())
    where = describe(url)
    if not screenshot:  # a screenshot never waits for anyone: it shows the empty clinic
        started = _first_start(ctx, url)
        if started is None:
            return 0
        ctx, url, where = started
        db = ctx.db
    tasks = Tasks(recover=lambda exc: recover_connection(db, exc))
    window = MainWindow(ctx, tasks, day, where=where)
    if week:
        window.set_week(True)
    live = LiveRefresh(lambda: ChangeWatcher.open(url))
    live.changed.connect(window.schedule_reload)
    live.trouble.connect(window.set_live_trouble)
    try:
        if screenshot:
            window.remember_geometry = False
            window.resize(*size)
            window.show()
            wait_until_loaded(window)
            window.grab().save(str(Path(screenshot)))
            print(f"Screenshot of {window.day.isoformat()} written to {screenshot}")
            return 0
        live.start()
        window.show()
        return app.exec()
    finally:
        live.stop()
        window.close()
        window.actions_.spooler.close()
        tasks.close(db.close)
        db.close()


def _first_start(ctx: Ctx, url: str) -> tuple[Ctx, str, str] | None:
    """On an empty clinic, the first-start dialog (setup or the demo clinic); what to
    open next (context, URL, title), or None when the owner cancelled (the database
    is closed then)."""
    try:
        chosen = first_run(ctx, url) if needs_setup() else url
    except BaseException:
        ctx.db.close()
        raise
    if chosen == url:
        return ctx, url, describe(url)
    ctx.db.close()
    if chosen is None:
        return None
    db = open_database(chosen)  # the demo clinic, in its own file
    migrate(db)
    return Ctx(db, staff=ctx.staff), chosen, f"{describe(chosen)} (demo clinic)"


def wait_until_loaded(window: MainWindow, timeout_s: float = SCREENSHOT_TIMEOUT_S) -> None:
    """Process events until the first load has been shown and the worker is idle."""
    app = QApplication.instance()
    assert app is not None
    deadline = time.monotonic() + timeout_s
    while (window.loads < 1 or window.tasks.pending) and time.monotonic() < deadline:
        app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)
        time.sleep(0.005)
    for _ in range(3):
        app.processEvents()
