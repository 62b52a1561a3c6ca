"""The patient window (SPEC §6): profile, balances, history and visits of one patient,
and what the desk does for them (sell, adjust, transfer, refund, reverse, statement,
household, merge a duplicate). One non-modal window per patient: opening a patient
already open raises their window.

Everything is read and written through the shared worker (``Tasks``); after a save
the window reloads and asks the schedule window, if any, to reload too.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from html import escape
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QPushButton,
    QTabWidget,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from desk.core.errors import BadInput
from desk.services import lookups, queries
from desk.services import settings as clinic_settings
from desk.services.appointments import get_appointment
from desk.services.context import Ctx
from desk.services.patient_file import PatientFile, VisitInfo, patient_file
from desk.services.patients import PatientInfo, update_patient
from desk.services.queries import TxnView
from desk.ui.patient_actions import PatientActions
from desk.ui.patient_dialogs import PatientPicker
from desk.ui.patient_history import HistoryTab
from desk.ui.patient_tabs import BalancesTab, ProfileTab, VisitsTab, credit_html, shared_sentence
from desk.ui.tasks import Tasks
from desk.ui.widgets import alive, error_text, set_error

if TYPE_CHECKING:
    from desk.ui.main_window import MainWindow
    from desk.ui.visit_actions import VisitActions

HISTORY_LIMIT = 2000


@dataclass(frozen=True, slots=True)
class Loaded:
    file: PatientFile
    history: list[TxnView]
    settings: dict[str, str]
    kinds: tuple[str, ...]          # every token kind, for adjustments

    @property
    def currency(self) -> str:
        return self.settings["currency"]


def load_patient(patient_id: int, now: dt.datetime) -> Loaded:
    """What the window shows (on the worker)."""
    return Loaded(patient_file(patient_id, now), queries.history(patient_id, HISTORY_LIMIT),
                  clinic_settings.all_settings(), lookups.sale_choices().token_kinds)


_open: dict[tuple[int, int], PatientWindow] = {}


def open_patient_window(ctx: Ctx, tasks: Tasks, patient_id: int,
                        actions: VisitActions | None = None,
                        parent: QWidget | None = None) -> PatientWindow:
    """Show the patient's window (raising it if it is open already). With ``actions``
    (the schedule window's), the window belongs to that schedule window: double-clicking
    a visit shows it there and saves reload its grid."""
    found = patient_window_of(ctx, patient_id)
    if found is not None:
        if found.isMinimized():
            found.showNormal()
        found.show()
        found.raise_()
        found.activateWindow()
        return found
    window = PatientWindow(ctx, tasks, patient_id, actions,
                           parent if parent is not None or actions is None else actions.window)
    window.show()
    return window


def patient_window_of(ctx: Ctx, patient_id: int) -> PatientWindow | None:
    """The open window of a patient, if any."""
    found = _open.get((id(ctx.db), patient_id))
    return found if found is not None and alive(found) else None


def open_patient_file(main: MainWindow) -> None:
    """The schedule window's "Patient file…": the selected visit's patient, else the
    patient chosen in a search."""
    block = main.view.selected_block()
    if block is not None:
        open_patient_window(main.ctx, main.tasks, block.patient_id, main.actions_, main)
        return
    picker = PatientPicker(main.tasks, main)
    picker.accepted.connect(lambda: open_patient_window(
        main.ctx, main.tasks, picker.search.patient.id, main.actions_, main)
        if picker.search.patient is not None else None)
    picker.finished.connect(lambda _r: picker.deleteLater())
    main.actions_.dialog = picker
    picker.finished.connect(lambda _r: setattr(main.actions_, "dialog", None)
                            if main.actions_.dialog is picker else None)
    picker.open()


class PatientWindow(QMainWindow):
    def __init__(self, ctx: Ctx, tasks: Tasks, patient_id: int,
                 actions: VisitActions | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.ctx, self.tasks, self.schedule_actions = ctx, tasks, actions
        self.patient_id = patient_id
        self.loaded: Loaded | None = None
        self.loads = 0                        # completed loads (tests wait on it)
        self._loading = self._again = self._saving = False
        self.actions_ = PatientActions(self, None if actions is None else actions.spooler)
        self._register(patient_id)
        self.setWindowTitle("Patient")
        self.header = QLabel("Loading…", self)
        self.header.setAccessibleName("Patient summary")
        self.header.setTextFormat(Qt.TextFormat.RichText)
        self.header.setWordWrap(True)
        self.banner = QLabel(self)
        self.banner.setAccessibleName("Merged into")
        self.open_kept = QPushButton("Open the kept patient", self)
        self.open_kept.clicked.connect(self._open_kept)
        self.profile = ProfileTab(self)
        self.balances = BalancesTab(self)
        self.history = HistoryTab(self)
        self.visits = VisitsTab(self)
        self.tabs = QTabWidget(self)
        for page, title in ((self.profile, "P&rofile"), (self.balances, "&Balances"),
                            (self.history, "&History"), (self.visits, "&Visits")):
            self.tabs.addTab(page, title)
        self.status = QLabel(self)
        self.status.setAccessibleName("Status")
        self.statusBar().addWidget(self.status, 1)
        self._build_layout()
        self._build_actions()
        self.profile.save_requested.connect(self.save_profile)
        self.profile.household_requested.connect(self.actions_.household)
        self.history.reprint_requested.connect(
            lambda txn: self.actions_.receipt(txn.id, copy=True))
        self.history.reverse_requested.connect(self.actions_.reverse)
        self.balances.end_membership_requested.connect(self.actions_.end_membership)
        self.visits.visit_activated.connect(self.go_to_visit)
        self.resize(1100, 760)
        self.load()

    def _register(self, patient_id: int) -> None:
        key = (id(self.ctx.db), patient_id)
        _open[key] = self
        self.destroyed.connect(lambda _o=None, k=key: _open.pop(k, None))

    def _build_layout(self) -> None:
        banner_row = QHBoxLayout()
        banner_row.addWidget(self.banner, 1)
        banner_row.addWidget(self.open_kept)
        self.banner_box = QWidget(self)
        self.banner_box.setLayout(banner_row)
        self.banner_box.setStyleSheet("background: #fdecea;")
        self.banner_box.hide()
        central = QWidget(self)
        layout = QVBoxLayout(central)
        layout.addWidget(self.header)
        layout.addWidget(self.banner_box)
        layout.addWidget(self.tabs, 1)
        self.setCentralWidget(central)

    def _action(self, text: str, slot: Callable[[], object], tip: str, *keys: str) -> QAction:
        action = QAction(text, self)
        action.setShortcuts([QKeySequence(k) for k in keys])
        action.setToolTip(tip + (f" ({keys[0]})" if keys else ""))
        action.setStatusTip(tip)
        action.triggered.connect(lambda _=False: slot())
        self.addAction(action)
        return action

    def _build_actions(self) -> None:
        acts = self.actions_
        self.act_sell = self._action("Sell…", acts.sell, "Sell a package, tokens or credit",
                                     "Ctrl+Shift+S")
        self.act_adjust = self._action("Adjust…", acts.adjust,
                                       "Add or remove credit or tokens, with a reason")
        self.act_transfer = self._action("Transfer…", acts.transfer,
                                         "Give credit or tokens to another patient")
        self.act_refund = self._action("Refund…", acts.refund, "Pay credit back")
        self.act_statement = self._action("Print statement…", acts.statement,
                                          "A statement of a period, to print or save", "Ctrl+P")
        self.act_household = self._action("Household…", acts.household,
                                          "Link family members, share one wallet")
        self.act_merge = self._action("Merge duplicate…", acts.merge,
                                      "The same person entered twice: merge the records")
        self.act_refresh = self._action("Refresh", self.load, "Read the patient again", "F5")
        self.act_close = self._action("Close", self.close, "Close this window", "Ctrl+W")
        bar = QToolBar("Patient", self)
        bar.setObjectName("patient")
        bar.setMovable(False)
        self.addToolBar(bar)
        menu = self.menuBar().addMenu("&Patient")
        groups = ((self.act_sell, self.act_adjust, self.act_transfer, self.act_refund),
                  (self.act_statement,), (self.act_household, self.act_merge),
                  (self.act_refresh,))
        for group in groups:
            for action in group:
                bar.addAction(action)
                menu.addAction(action)
            bar.addSeparator()
            menu.addSeparator()
        menu.addAction(self.act_close)

    # -- the schedule window ----------------------------------------------------------------

    @property
    def schedule(self) -> Any:
        """The schedule window this one belongs to (``go_to``, ``schedule_reload``), if
        any."""
        if self.schedule_actions is not None:
            return self.schedule_actions.window
        parent = self.parentWidget()
        return parent if hasattr(parent, "go_to") else None

    def reload_schedule(self) -> None:
        main = self.schedule
        if main is not None and hasattr(main, "schedule_reload"):
            main.schedule_reload()

    def go_to_visit(self, visit: VisitInfo) -> None:
        main = self.schedule
        if main is None:
            self.say("Open the patient from the schedule to jump to their visits.")
            return

        def found(practitioner_id: int) -> None:
            main.go_to(visit.starts_at.date(), select=visit.id, practitioner_id=practitioner_id)
            main.raise_()
            main.activateWindow()

        self.tasks.run(lambda: int(get_appointment(visit.id).practitioner_id), found,
                       self._failed)

    # -- loading ----------------------------------------------------------------------------

    def load(self) -> None:
        if self._loading:
            self._again = True
            return
        self._loading = True
        pid, now = self.patient_id, self.ctx.local_now()
        self.tasks.run(lambda: load_patient(pid, now), lambda got: self._loaded(pid, got),
                       self._load_failed)

    def _loaded(self, pid: int, got: Loaded) -> None:
        if not alive(self):
            return
        self._loading = False
        self.loads += 1
        if self._again or pid != self.patient_id:
            self._again = False
            self.load()
            if pid != self.patient_id:
                return
        self.loaded = got
        self.show_loaded(got)

    def _load_failed(self, exc: BaseException) -> None:
        if not alive(self):
            return
        self._loading = False
        self.loads += 1
        self.say(error_text(exc), error=True)
        if self._again:
            self._again = False
            self.load()

    def show_loaded(self, got: Loaded) -> None:
        file, currency, today = got.file, got.currency, self.ctx.today()
        info = file.info
        self.setWindowTitle(f"{info.name} (#{info.id}) — patient")
        self.header.setText(self._header(file, currency))
        merged = info.merged_into_id is not None
        self.banner_box.setVisible(merged)
        if merged:
            self.banner.setText(f"<b>Merged into #{info.merged_into_id}.</b> This record is "
                                "kept for its history; its visits and balances moved to the "
                                "patient kept.")
        self.profile.show_file(file)
        self.balances.show_file(file, currency, today)
        self.history.set_history(info.id, got.history, currency, today)
        self.visits.show_file(file)
        credit, tokens = file.balance.credit_cents, any(n > 0 for n in file.balance.tokens.values())
        for action, why in ((self.act_sell, ""), (self.act_adjust, ""),
                            (self.act_transfer, "" if credit > 0 or tokens else
                             "Nothing to transfer: no credit and no tokens"),
                            (self.act_refund, "" if credit > 0 else "No credit to refund"),
                            (self.act_household, ""), (self.act_merge, "")):
            if merged:
                why = f"Merged into #{info.merged_into_id}: act on the kept patient"
            action.setEnabled(not why)
            action.setToolTip(why or action.statusTip())

    def _header(self, file: PatientFile, currency: str) -> str:
        info, bal = file.info, file.balance
        contact = " · ".join(escape(x) for x in (info.phone, info.email) if x)
        tokens = ", ".join(
            f"{n} {escape(kind)} token{'s' if n != 1 else ''}"
            + (f" ({bal.held[kind]} held)" if bal.held.get(kind) else "")
            for kind, n in sorted(bal.tokens.items()) if n)
        shared = shared_sentence(file)
        inactive = " <i>(inactive)</i>" if not info.active else ""
        live = [v for v in file.upcoming if v.status == "booked"]
        nxt = (f"<br>Next visit: {live[0].starts_at:%a %d %b %Y %H:%M} · "
               f"{escape(live[0].service)} with {escape(live[0].practitioner)}"
               + (f" (and {len(live) - 1} more)" if len(live) > 1 else "") if live else "")
        return (f"<span style='font-size:x-large'><b>{escape(info.name)}</b></span> "
                f"#{info.id}{inactive}" + (f" &nbsp;·&nbsp; {contact}" if contact else "")
                + f"<br>{credit_html(bal.credit_cents, currency)}"
                + (f" &nbsp;·&nbsp; {tokens}" if tokens else " &nbsp;·&nbsp; no tokens")
                + (f"<br><b>{escape(shared)}</b>" if shared else "") + nxt)

    def show_patient(self, patient_id: int) -> None:
        """Show another patient in this window (the one kept after a merge)."""
        if patient_id == self.patient_id:
            self.load()
            return
        other = _open.get((id(self.ctx.db), patient_id))
        if other is not None and alive(other) and other is not self:
            other.load()
            other.raise_()
            other.activateWindow()
            self.close()
            return
        _open.pop((id(self.ctx.db), self.patient_id), None)
        self.patient_id = patient_id
        self._register(patient_id)
        self.profile.loaded = None
        self.load()

    def _open_kept(self) -> None:
        if self.loaded is not None and self.loaded.file.info.merged_into_id is not None:
            self.show_patient(self.loaded.file.info.merged_into_id)

    # -- messages and dialogs ---------------------------------------------------------------

    def say(self, text: str, *, error: bool = False) -> None:
        if error:
            set_error(self.status, text)
        else:
            self.status.setStyleSheet("")
            self.status.setText(text)

    def _failed(self, exc: BaseException) -> None:
        if alive(self):
            self.say(error_text(exc), error=True)

    # -- profile ----------------------------------------------------------------------------

    def save_profile(self) -> None:
        if self._saving or self.loaded is None:
            return
        try:
            profile = self.profile.profile(self.ctx)
        except BadInput as exc:
            set_error(self.profile.message, error_text(exc))
            self.profile.focus_field(exc.field)
            return
        active = self.profile.active.isChecked()
        ctx, pid = self.ctx, self.patient_id
        self._saving = True
        self.profile.save.setEnabled(False)
        set_error(self.profile.message, "Saving…")
        self.tasks.run(lambda: update_patient(ctx, pid, profile, active=active),
                       self._profile_saved, self._profile_failed)

    def _profile_saved(self, info: PatientInfo) -> None:
        if not alive(self):
            return
        self._saving = False
        self.profile.save.setEnabled(True)
        self.profile.fill(info, force=True)
        set_error(self.profile.message, "")
        self.actions_.saved(f"Profile of {info.name} saved.")

    def _profile_failed(self, exc: BaseException) -> None:
        if alive(self):
            self._saving = False
            self.profile.save.setEnabled(True)
            set_error(self.profile.message, error_text(exc))

    def closeEvent(self, event: QCloseEvent) -> None:
        if getattr(self.actions_.dialog, "busy", False):
            event.ignore()          # a save is on its way: its outcome comes back here
            return
        super().closeEvent(event)
