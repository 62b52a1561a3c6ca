"""The schedule window: navigation, the grid, the selected visit, live refresh."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from html import escape

from PySide6.QtCore import QDate, QSettings, Qt, QTimer
from PySide6.QtGui import QAction, QActionGroup, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QDockWidget,
    QLabel,
    QMainWindow,
    QMessageBox,
    QSizePolicy,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from desk.core import settings as rules
from desk.services import day as day_service
from desk.services import settings as clinic_settings
from desk.services.context import Ctx
from desk.ui.catalog_dialog import CatalogDialog, open_catalog
from desk.ui.cells import Block, Grid, GridOptions, build_grid
from desk.ui.icons import icon
from desk.ui.patient_search import PatientSearchBox
from desk.ui.patient_window import open_patient_file
from desk.ui.schedule_view import ScheduleView
from desk.ui.settings_dialog import SettingsDialog, open_settings
from desk.ui.tasks import Tasks
from desk.ui.visit_actions import VisitActions
from desk.ui.widgets import alive, error_text

RELOAD_DELAY_MS = 120
MIN_WIDTH, MIN_HEIGHT = 800, 500
CLOCK_MS = 30_000

LoadResult = tuple[day_service.DayView, dict[str, str]]


def _time(text: str) -> dt.time:
    hour, minute = text.split(":")
    return dt.time(int(hour), int(minute))


def options_from(settings: dict[str, str], *, week: bool, practitioner_id: int | None,
                 show_cancelled: bool) -> GridOptions:
    return GridOptions(day_start=_time(settings["day_start"]), day_end=_time(settings["day_end"]),
                       slot_minutes=int(settings["slot_minutes"]),
                       currency=settings["currency"],
                       use_credit_system=rules.as_bool(settings["use_credit_system"]),
                       show_cancelled=show_cancelled, week=week,
                       practitioner_id=practitioner_id)


class MainWindow(QMainWindow):
    def __init__(self, ctx: Ctx, tasks: Tasks, first_day: dt.date | None = None,
                 where: str = "") -> None:
        super().__init__()
        self.ctx, self.tasks = ctx, tasks
        self.setWindowTitle(f"desk — {where}" if where else "desk")
        self.setWindowIcon(icon("app"))
        self.day = first_day or ctx.today()
        self.week = False
        self.settings: dict[str, str] = {}
        self.currency = "USD"
        self.loads = 0                          # completed loads (tests wait on it)
        self._loading = False
        self._again = False
        self._pending_select: int | None = None
        self._status_for: int | None = None
        self.live_trouble = ""
        self.remember_geometry = True   # off for screenshots: they must not move the window
        self._last: LoadResult | None = None
        self._catalog: CatalogDialog | None = None
        self.view = ScheduleView(self)
        self.actions_ = VisitActions(self)
        self.status = QLabel(self)
        self.status.setAccessibleName("Status")
        self.statusBar().addWidget(self.status, 1)
        self.live_label = QLabel(self)
        self.statusBar().addPermanentWidget(self.live_label)
        self._build_toolbar()
        self._build_header()
        self._build_panel()
        self._build_menus()
        self.view.block_selected.connect(self._selected)
        self.view.book_requested.connect(self.actions_.book)
        self.view.check_in_requested.connect(self.actions_.check_in)
        self.view.context_requested.connect(self.actions_.context_menu)
        self.view.move_requested.connect(self.actions_.move)
        self._reload_timer = QTimer(self, singleShot=True, interval=RELOAD_DELAY_MS)
        self._reload_timer.timeout.connect(self.load)
        self._clock = QTimer(self, interval=CLOCK_MS)
        self._clock.timeout.connect(self._tick)
        self._clock.start()
        self._restore()
        self._tick()
        self.load()

    # -- building -----------------------------------------------------------------------

    def _action(self, text: str, slot: Callable[[], object], *keys: str | QKeySequence) -> QAction:
        action = QAction(text, self)
        action.setShortcuts([QKeySequence(k) for k in keys])
        action.triggered.connect(lambda _=False: slot())
        self.addAction(action)
        return action

    def _build_toolbar(self) -> None:
        bar = QToolBar("Navigation", self)
        bar.setObjectName("navigation")
        bar.setMovable(False)
        self.addToolBar(bar)
        self.act_today = self._action("Today", self.go_today, "Ctrl+T")
        self.act_prev = self._action("◀", lambda: self.step(-1), "Alt+Left", "Ctrl+PgUp")
        self.act_prev.setToolTip("Previous day (Alt+Left)")
        self.act_next = self._action("▶", lambda: self.step(1), "Alt+Right", "Ctrl+PgDown")
        self.act_next.setToolTip("Next day (Alt+Right)")
        self.date_edit = QDateEdit(self)
        self.date_edit.setCalendarPopup(True)
        self.date_edit.setDisplayFormat("ddd d MMM yyyy")
        self.date_edit.setAccessibleName("Date")
        self.date_edit.dateChanged.connect(self._date_picked)
        self.act_goto = self._action("Go to date…", self._focus_date, "Ctrl+G")
        views = QActionGroup(self)
        self.act_day = self._action("Day", lambda: self.set_week(False), "Ctrl+1")
        self.act_week = self._action("Week", lambda: self.set_week(True), "Ctrl+2")
        for action in (self.act_day, self.act_week):
            action.setCheckable(True)
            views.addAction(action)
        self.act_day.setChecked(True)
        self.practitioner = QComboBox(self)
        self.practitioner.setAccessibleName("Practitioner shown in the week")
        self.practitioner.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.practitioner.activated.connect(lambda _i: self.load())
        self.act_cancelled = self._action("Show cancelled", self.load, "Ctrl+H")
        self.act_cancelled.setCheckable(True)
        self.act_cancelled.setChecked(True)
        self.search = PatientSearchBox(self.tasks, self)
        self.search.chosen.connect(self.actions_.find_next_visit)
        self.search.failed.connect(self.status.setText)
        self.act_find = self._action("Find patient…", self.search.start, "Ctrl+F")
        self.act_patient = self._action("Patient file…", lambda: open_patient_file(self),
                                        "Ctrl+Shift+P")
        self.act_patient.setToolTip("The selected visit's patient, or one you search for: "
                                    "balances, history, household (Ctrl+Shift+P)")
        self.act_sale = self._action("Sale…", self.actions_.sale, "Ctrl+Shift+S")
        self.act_sale.setToolTip("Sell a package, tokens or credit without a visit "
                                 "(Ctrl+Shift+S)")
        for item in (self.act_today, self.act_prev, self.date_edit, self.act_next, None,
                     self.act_day, self.act_week, self.practitioner, None, self.act_cancelled,
                     None, self.search, self.act_patient, None, self.act_sale):
            if item is None:
                bar.addSeparator()
            elif isinstance(item, QAction):
                bar.addAction(item)
            else:
                bar.addWidget(item)
        self._practitioner_action = bar.actions()[[a.text() for a in bar.actions()].index(
            "Week") + 1]
        self._practitioner_action.setVisible(False)

    def _build_header(self) -> None:
        self.header = QLabel(self)
        self.header.linkActivated.connect(lambda _link: self.open_catalog())
        self.header.setAccessibleName("Day summary")
        self.header.setContentsMargins(8, 4, 8, 4)
        # Long counts must not widen the window: the label is clipped instead.
        self.header.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        central = QWidget(self)
        layout = QVBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.header)
        layout.addWidget(self.view, 1)
        self.setCentralWidget(central)

    def _build_panel(self) -> None:
        self.panel = QLabel(self)
        self.panel.setWordWrap(True)
        self.panel.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.panel.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.panel.setAccessibleName("Selected visit")
        self.panel.setContentsMargins(8, 8, 8, 8)
        self.panel.setMinimumWidth(220)
        dock = QDockWidget("Selected visit", self)
        dock.setObjectName("selected")
        dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetClosable
                         | QDockWidget.DockWidgetFeature.DockWidgetMovable)
        dock.setWidget(self.panel)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)
        self.dock = dock
        self._selected(None)

    def _build_menus(self) -> None:
        bar = self.menuBar()
        visit = bar.addMenu("&Schedule")
        self.act_book = self._action("Book…", self.actions_.book_here, "Ctrl+N")
        self.act_refresh = self._action("Refresh", self.load, "F5")
        self.act_quit = self._action("Quit", self.close, "Ctrl+Q")
        for action in (self.act_book, self.act_sale, self.act_find, self.act_patient,
                       self.act_refresh, self.act_quit):
            visit.addAction(action)
        view = bar.addMenu("&View")
        for action in (self.act_today, self.act_prev, self.act_next, self.act_goto,
                       self.act_day, self.act_week, self.act_cancelled,
                       self.dock.toggleViewAction()):
            view.addAction(action)
        clinic = bar.addMenu("&Clinic")
        self.act_catalog = self._action("Practitioners, services and packages…",
                                        self.open_catalog)
        self.act_settings = self._action("Settings…", self.open_settings, "Ctrl+,")
        clinic.addAction(self.act_catalog)
        clinic.addAction(self.act_settings)
        help_menu = bar.addMenu("&Help")
        help_menu.addAction(self._action("Keyboard shortcuts", self._shortcuts, "F1"))

    # -- clinic windows -----------------------------------------------------------------

    def open_settings(self) -> SettingsDialog:
        dialog = open_settings(self.ctx, self.tasks, self)
        dialog.saved.connect(lambda _changed: self.schedule_reload())
        return dialog

    def open_catalog(self) -> CatalogDialog:
        """One catalog window: asking again raises it."""
        if self._catalog is not None and alive(self._catalog):
            self._catalog.raise_()
            self._catalog.activateWindow()
            return self._catalog
        self._catalog = open_catalog(self.ctx, self.tasks, self)
        self._catalog.changed.connect(self.schedule_reload)
        return self._catalog

    # -- navigation ---------------------------------------------------------------------

    def first_day(self) -> dt.date:
        return self.day - dt.timedelta(days=self.day.weekday()) if self.week else self.day

    def go_to(self, day: dt.date, select: int | None = None,
              practitioner_id: int | None = None) -> None:
        """Show ``day`` (its week in the week view, for ``practitioner_id`` if given)
        and select the visit ``select`` once it is loaded."""
        self._pending_select = select
        if self.week and practitioner_id is not None:
            index = self.practitioner.findData(practitioner_id)
            if index >= 0 and index != self.practitioner.currentIndex():
                self.practitioner.setCurrentIndex(index)
                self.view.select(None)
        if day != self.day:
            self.day = day
            self.view.select(None)
        elif select is not None and select in self.view.grid.blocks:
            self._pending_select = None
            self.view.select(select, scroll=True)
        self._sync_date_edit()
        self.load()

    def go_today(self) -> None:
        self.go_to(self.ctx.today())

    def step(self, direction: int) -> None:
        self.go_to(self.day + dt.timedelta(days=7 * direction if self.week else direction))

    def set_week(self, week: bool) -> None:
        """Week view shows one practitioner: the selected visit's, else the one picked."""
        if week != self.week:
            block = self.view.selected_block()
            if week and block is not None:
                self.practitioner.setCurrentIndex(
                    max(self.practitioner.findData(block.practitioner_id), 0))
            self.week = week
            self.act_week.setChecked(week)
            self.act_day.setChecked(not week)
            self._practitioner_action.setVisible(week)
            self.view.select(None)
            self.load()

    def _date_picked(self, value: QDate) -> None:
        picked = dt.date(value.year(), value.month(), value.day())
        if picked != self.day:
            self.go_to(picked)

    def _focus_date(self) -> None:
        self.date_edit.setFocus()
        self.date_edit.setSelectedSection(QDateEdit.Section.DaySection)

    def _sync_date_edit(self) -> None:
        self.date_edit.blockSignals(True)
        self.date_edit.setDate(QDate(self.day.year, self.day.month, self.day.day))
        self.date_edit.blockSignals(False)

    # -- loading --------------------------------------------------------------------------

    def schedule_reload(self) -> None:
        """Reload soon (changes arriving together cause one load)."""
        if not self._reload_timer.isActive():
            self._reload_timer.start()

    def load(self) -> None:
        if self._loading:
            self._again = True
            return
        self._loading = True
        first, days = self.first_day(), 7 if self.week else 1
        today = self.ctx.today()
        self.tasks.run(lambda: (day_service.day_view(first, days, today=today),
                                clinic_settings.all_settings()),
                       lambda result: self._loaded(first, days, result), self._load_failed)

    def _loaded(self, first: dt.date, days: int, result: LoadResult) -> None:
        self._loading = False
        self.loads += 1
        wanted = (self.first_day(), 7 if self.week else 1)
        if self._again or (first, days) != wanted:
            self._again = False
            self.load()
            if (first, days) != wanted:
                return
        self._last = result
        self.show_result(result)

    def show_result(self, result: LoadResult) -> None:
        view, self.settings = result
        self.currency = self.settings["currency"]
        self._fill_practitioners(view)
        grid = build_grid(view, options_from(
            self.settings, week=self.week, practitioner_id=self.practitioner.currentData(),
            show_cancelled=self.act_cancelled.isChecked()))
        self.view.apply(grid)
        self._header(grid, view)
        if self._pending_select is not None and self._pending_select in grid.blocks:
            self.view.select(self._pending_select, scroll=True)
        self._pending_select = None  # meant for this load only
        self._live_text()

    def set_live_trouble(self, text: str) -> None:
        """Live refresh paused (``text`` says why) or back (``""``)."""
        self.live_trouble = text
        self._live_text()

    def _live_text(self) -> None:
        updated = f"Updated {self.ctx.local_now():%H:%M:%S}"
        self.live_label.setText(f"{self.live_trouble} · {updated}" if self.live_trouble
                                else updated)
        self.live_label.setStyleSheet("color: #b3261e;" if self.live_trouble else "")

    def _load_failed(self, exc: BaseException) -> None:
        self._loading = False
        self.loads += 1
        self.status.setText(error_text(exc))
        if self._again:
            self._again = False
            self.schedule_reload()

    def _fill_practitioners(self, view: day_service.DayView) -> None:
        current = self.practitioner.currentData()
        wanted = list(view.practitioners)
        have = [(self.practitioner.itemData(i), self.practitioner.itemText(i))
                for i in range(self.practitioner.count())]
        if have != wanted:
            self.practitioner.clear()
            for pid, name in wanted:
                self.practitioner.addItem(name, pid)
            self.practitioner.setCurrentIndex(max(self.practitioner.findData(current), 0))

    def _header(self, grid: Grid, view: day_service.DayView) -> None:
        """Counts of what the grid covers (hidden cancelled visits still count)."""
        who = self.practitioner.currentData() if self.week else None
        shown = [a for a in view.appointments if who is None or a.practitioner_id == who]
        count = {s: sum(1 for a in shown if a.status == s) for s in
                 ("booked", "checked_in", "completed", "cancelled", "late_cancelled", "no_show")}
        uncovered = sum(1 for a in shown if a.status == "booked" and a.covered_by is None) \
            if rules.as_bool(self.settings["use_credit_system"]) else 0
        when = (f"Week of {self.first_day():%a %d %b %Y}" if self.week
                else f"{self.day:%A %d %B %Y}")
        parts = [f"<b>{when}</b>", f"{count['booked']} booked",
                 f"{count['checked_in'] + count['completed']} checked in",
                 f"{count['cancelled'] + count['late_cancelled']} cancelled",
                 f"{count['no_show']} no-show"]
        if uncovered:
            parts.append(f"<span style='color:#b3261e'>{uncovered} not covered</span>")
        if not view.practitioners:
            parts.append("No practitioners yet: <a href='catalog'>add them in Clinic ▸ "
                         "Practitioners, services and packages…</a>")
        self.header.setText(" &nbsp;·&nbsp; ".join(parts))

    # -- selection, clock, settings -----------------------------------------------------

    def _selected(self, block: Block | None) -> None:
        """The panel follows the selected visit (also when a reload refreshes it); the
        status bar only when the selection changes, so a message such as "Checked
        in …" stays until the receptionist moves on."""
        new = None if block is None else block.appointment_id
        changed, self._status_for = new != self._status_for, new
        if block is None:
            self.panel.setText("<i>Select a visit to see it here.</i><br><br>"
                               "Click an empty slot to book. Drag a visit to move it. "
                               "Double-click or press Enter to check in. Right-click for "
                               "more.")
            if changed:
                self.status.setText("")
            return
        lines = "<br>".join(escape(icon_.tooltip).replace("\n", "<br>") for icon_ in block.icons)
        status = block.status.replace("_", " ")
        receipt = f" · receipt {block.receipt_no}" if block.receipt_no else ""
        note = f"<br><i>{escape(block.note)}</i>" if block.note else ""
        self.panel.setText(f"<b>{escape(block.patient_name)}</b><br>{block.time_text} "
                           f"{block.starts_at:%a %d %b}<br>{escape(block.service_name)}<br>"
                           f"{status}{receipt}{note}<br><br>{lines}")
        if changed:
            self.status.setText(block.detail)

    def _tick(self) -> None:
        self.view.now = self.ctx.local_now()
        self.view.viewport().update()

    def _shortcuts(self) -> None:
        rows = [(a.text(), ", ".join(s.toString(QKeySequence.SequenceFormat.NativeText)
                                     for s in a.shortcuts())) for a in self.actions()
                if a.shortcuts()]
        rows += [("Move between visits", "Arrow keys"), ("Check in the selected visit", "Enter"),
                 ("Visit menu", "Menu key or Shift+F10")]
        text = "".join(f"<tr><td>{escape(t)}</td><td><b>{escape(k)}</b></td></tr>" for t, k in rows)
        QMessageBox.information(self, "Keyboard shortcuts", f"<table>{text}</table>")

    def _restore(self) -> None:
        """This workstation's last window size and place; a first run (or a saved
        size too small to work in) gets 1280x800, or the screen if it is smaller."""
        geometry = QSettings().value("window/geometry")
        if geometry is None or not self.restoreGeometry(geometry) \
                or self.width() < MIN_WIDTH or self.height() < MIN_HEIGHT:
            screen = self.screen().availableGeometry()
            self.resize(min(1280, screen.width()), min(800, screen.height()))
        self._sync_date_edit()

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.remember_geometry and self.isVisible():
            QSettings().setValue("window/geometry", self.saveGeometry())
        super().closeEvent(event)

