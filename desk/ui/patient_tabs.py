"""The patient window's pages other than the history: the editable profile, the
balances (tokens per kind, the lots behind them, holds, memberships) and the visits."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from html import escape

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desk.core import schedule
from desk.core.errors import BadInput
from desk.core.money import format_money
from desk.services.context import Ctx
from desk.services.patient_file import MembershipInfo, PatientFile, VisitInfo
from desk.services.patients import PatientInfo, Profile, check_profile
from desk.ui.history_model import RED, local_time

#: The service's option names, as the profile's labels say them.
PROFILE_FIELDS = {"--name": "Name", "--phone": "Phone", "--email": "Email",
                  "--dob": "Date of birth", "--notes": "Notes"}
HOW = {"sale": "sale", "adjustment": "adjustment", "transfer": "transfer",
       "renewal": "membership renewal", "checkin": "sale at check-in",
       "merge": "merged duplicate", "reversal": "reversal"}


def credit_words(cents: int, currency: str) -> str:
    if cents > 0:
        return f"{format_money(cents, currency)} credit"
    if cents < 0:
        return f"owes {format_money(-cents, currency)}"
    return "no credit"


def credit_html(cents: int, currency: str) -> str:
    """Credit, or what is owed in red and bold."""
    words = escape(credit_words(cents, currency))
    return f"<b style='color:{RED.name()}'>{words[:1].upper()}{words[1:]}</b>" if cents < 0 \
        else words[:1].upper() + words[1:]


def household_name(name: str) -> str:
    return name if name.lower().endswith(("household", "family")) else f"{name} household"


def shared_sentence(file: PatientFile) -> str:
    """"Shared wallet of the Adams household, with Zoë Adams, Bob Brown", or "" when
    the patient spends their own wallet."""
    household = file.household
    if file.balance.household_id is None or household is None:
        return ""
    others = [m.name for m in household.members if m.id != file.info.id]
    return (f"Shared wallet of the {household_name(household.name)}"
            + (f", with {', '.join(others)}" if others else ""))


def parse_dob(text: str) -> dt.date | None:
    """A typed date of birth (YYYY-MM-DD), or None when left blank."""
    typed = text.strip()
    if not typed:
        return None
    if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", typed):
        raise BadInput("Date of birth", f"{text!r} is not a date; type it as YYYY-MM-DD, "
                       "e.g. 1984-07-21")
    try:
        return dt.date.fromisoformat(typed)
    except ValueError:
        raise BadInput("Date of birth", f"{typed} is not a day of the calendar") from None


def _table(parent: QWidget, name: str, headers: Sequence[str], widths: Sequence[int],
           stretch: int) -> QTableWidget:
    """A read-only table; column ``stretch`` takes the room the others leave."""
    table = QTableWidget(0, len(headers), parent)
    table.setAccessibleName(name)
    table.setHorizontalHeaderLabels(list(headers))
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.verticalHeader().hide()
    table.setWordWrap(False)
    header = table.horizontalHeader()
    header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
    for column, width in enumerate(widths):
        header.resizeSection(column, width)
    header.setSectionResizeMode(stretch, QHeaderView.ResizeMode.Stretch)
    return table


def _fill(table: QTableWidget, rows: Sequence[Sequence[str]], empty: str,
          right: Sequence[int] = ()) -> None:
    table.setRowCount(len(rows) or 1)
    table.clearSpans()
    if not rows:
        item = QTableWidgetItem(empty)
        item.setFlags(Qt.ItemFlag.NoItemFlags)
        table.setItem(0, 0, item)
        table.setSpan(0, 0, 1, table.columnCount())
        return
    for c in right:
        header = table.horizontalHeaderItem(c)
        if header is not None:
            header.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    for r, row in enumerate(rows):
        for c, text in enumerate(row):
            item = QTableWidgetItem(text)
            if c in right:
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            table.setItem(r, c, item)


def _group(title: str, widget: QWidget, parent: QWidget) -> QGroupBox:
    box = QGroupBox(title, parent)
    layout = QVBoxLayout(box)
    layout.addWidget(widget)
    return box


class ProfileTab(QWidget):
    """Name, phone, email, date of birth, notes and the active flag, edited in place;
    the window saves them (``save_requested``) and refills the fields after a reload
    only when nothing typed is waiting to be saved."""

    save_requested = Signal()
    household_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.loaded: PatientInfo | None = None
        self.name = QLineEdit(self)
        self.name.setMaxLength(300)
        self.phone = QLineEdit(self)
        self.email = QLineEdit(self)
        self.dob = QLineEdit(self)
        self.dob.setPlaceholderText("YYYY-MM-DD")
        self.dob.setMaximumWidth(160)
        self.notes = QPlainTextEdit(self)
        self.notes.setMaximumHeight(160)
        self.notes.setTabChangesFocus(True)
        self.active = QCheckBox("Active (shown in searches and lists)", self)
        for widget, name in ((self.name, "Name"), (self.phone, "Phone"),
                             (self.email, "Email"), (self.dob, "Date of birth"),
                             (self.notes, "Notes"), (self.active, "Active")):
            widget.setAccessibleName(name)
        self.household = QLabel(self)
        self.household.setAccessibleName("Household")
        self.household.setWordWrap(True)
        self.household_button = QPushButton("Household…", self)
        self.household_button.setAutoDefault(False)
        self.household_button.clicked.connect(self.household_requested.emit)
        self.merged = QLabel(self)
        self.merged.setAccessibleName("Merged")
        self.merged.setWordWrap(True)
        self.message = QLabel(self)
        self.message.setAccessibleName("Profile message")
        self.message.setWordWrap(True)
        self.save = QPushButton("&Save profile", self)
        self.revert = QPushButton("Undo changes", self)
        self.revert.setAutoDefault(False)
        self.save.clicked.connect(self.save_requested.emit)
        self.revert.clicked.connect(lambda: self.fill(self.loaded, force=True))
        household_row = QHBoxLayout()
        household_row.addWidget(self.household, 1)
        household_row.addWidget(self.household_button)
        form = QFormLayout()
        form.addRow("&Name", self.name)
        form.addRow("Ph&one", self.phone)
        form.addRow("&Email", self.email)
        form.addRow("&Date of birth", self.dob)
        form.addRow("No&tes", self.notes)
        form.addRow("", self.active)
        form.addRow("Household", household_row)
        form.addRow("", self.merged)
        buttons = QHBoxLayout()
        buttons.addWidget(self.message, 1)
        buttons.addWidget(self.revert)
        buttons.addWidget(self.save)
        # A form as wide as the window reads badly: it keeps to the left.
        column = QWidget(self)
        column.setMaximumWidth(720)
        inner = QVBoxLayout(column)
        inner.setContentsMargins(0, 0, 0, 0)
        inner.addLayout(form)
        inner.addLayout(buttons)
        inner.addStretch(1)
        layout = QHBoxLayout(self)
        layout.addWidget(column, 1)
        layout.addStretch(0)

    def values(self) -> tuple[str, str, str, str, str, bool]:
        return (self.name.text(), self.phone.text(), self.email.text(), self.dob.text(),
                self.notes.toPlainText(), self.active.isChecked())

    def _values_of(self, info: PatientInfo) -> tuple[str, str, str, str, str, bool]:
        return (info.name, info.phone, info.email, info.dob.isoformat() if info.dob else "",
                info.notes, info.active)

    def dirty(self) -> bool:
        return self.loaded is not None and self.values() != self._values_of(self.loaded)

    def fill(self, info: PatientInfo | None, *, force: bool = False) -> None:
        """Show ``info``; typing not yet saved stays unless ``force``."""
        if info is None:
            return
        if force or not self.dirty():
            name, phone, email, dob, notes, active = self._values_of(info)
            self.name.setText(name)
            self.phone.setText(phone)
            self.email.setText(email)
            self.dob.setText(dob)
            self.notes.setPlainText(notes)
            self.active.setChecked(active)
        self.loaded = info

    def profile(self, ctx: Ctx) -> Profile:
        """The typed profile, validated; ``BadInput`` names the field as labelled."""
        try:
            return check_profile(ctx, self.name.text(), self.phone.text(), self.email.text(),
                                 parse_dob(self.dob.text()), self.notes.toPlainText())
        except BadInput as exc:
            raise BadInput(PROFILE_FIELDS.get(exc.field, exc.field), exc.reason) from None

    def focus_field(self, field: str) -> None:
        widgets = {"Name": self.name, "Phone": self.phone, "Email": self.email,
                   "Date of birth": self.dob, "Notes": self.notes}
        widget = widgets.get(field)
        if widget is not None:
            widget.setFocus()

    def show_file(self, file: PatientFile) -> None:
        self.fill(file.info)
        household = file.household
        if household is None:
            self.household.setText("Not in a household")
        else:
            others = [escape(m.name) for m in household.members if m.id != file.info.id]
            self.household.setText(
                f"{escape(household_name(household.name))}"
                + (" · one shared wallet" if household.shared_wallet else " · own wallets")
                + (f" · with {', '.join(others)}" if others else ""))
        merged = []       # "merged into" is the window's banner
        if file.merged_from:
            merged.append("Merged from: " + ", ".join(f"{escape(n)} (#{i})"
                                                      for i, n in file.merged_from))
        self.merged.setText("<br>".join(merged))
        self.merged.setVisible(bool(merged))


class BalancesTab(QWidget):
    #: (membership id, package name): the receptionist asked to end it.
    end_membership_requested = Signal(int, str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._memberships: tuple[MembershipInfo, ...] = ()
        self.summary = QLabel(self)
        self.summary.setAccessibleName("Balance")
        self.summary.setWordWrap(True)
        self.summary.setTextFormat(Qt.TextFormat.RichText)
        self.tokens = _table(self, "Tokens per kind",
                             ["Kind", "Tokens", "Held for bookings", "Available", "Next expiry"],
                             (200, 80, 140, 90, 120), 0)
        self.lots = _table(self, "Lots", ["Kind", "Bought on", "How", "Quantity", "Left",
                                          "Unit value", "Expires", "Expired"],
                           (200, 100, 160, 80, 60, 100, 100, 80), 0)
        self.holds = _table(self, "Holds", ["Visit", "Service", "Held"], (170, 200, 170), 1)
        self.memberships = _table(self, "Memberships", ["Package", "Since", "Ended"],
                                  (200, 100, 90), 0)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(_group("Tokens", self.tokens, self), 2)
        layout.addWidget(_group("Lots: what the tokens were bought as (the first to expire "
                                "is used first)", self.lots, self), 3)
        lower = QHBoxLayout()
        lower.addWidget(_group("Held for booked visits", self.holds, self), 3)
        self.end_membership = QPushButton("&End membership…", self)
        self.end_membership.setToolTip("No more monthly renewals from today; tokens "
                                       "already granted stay")
        self.end_membership.setEnabled(False)
        self.end_membership.clicked.connect(self._end_clicked)
        self.memberships.itemSelectionChanged.connect(self._membership_selected)
        members = _group("Memberships", self.memberships, self)
        members_layout = members.layout()
        assert members_layout is not None
        members_layout.addWidget(self.end_membership)
        lower.addWidget(members, 2)
        layout.addLayout(lower, 2)

    def _chosen_membership(self) -> MembershipInfo | None:
        row = self.memberships.currentRow()
        rows = self.memberships.selectionModel().selectedRows()
        if not rows or not 0 <= row < len(self._memberships):
            return None
        return self._memberships[row]

    def _membership_selected(self) -> None:
        chosen = self._chosen_membership()
        self.end_membership.setEnabled(chosen is not None and chosen.ended_on is None)

    def _end_clicked(self) -> None:
        chosen = self._chosen_membership()
        if chosen is not None and chosen.ended_on is None:
            self.end_membership_requested.emit(chosen.id, chosen.package)

    def show_file(self, file: PatientFile, currency: str, today: dt.date) -> None:
        bal = file.balance
        shared = shared_sentence(file)
        credit = credit_html(bal.credit_cents, currency)
        self.summary.setText(f"<span style='font-size:large'>{credit}</span>"
                             + (f"<br><b>{escape(shared)}</b>" if shared else ""))
        kinds = sorted(set(bal.tokens) | set(bal.held))
        _fill(self.tokens, [(k, str(bal.tokens.get(k, 0)), str(bal.held.get(k, 0)),
                             str(bal.tokens.get(k, 0) - bal.held.get(k, 0)),
                             str(bal.next_expiry.get(k, "") or "—")) for k in kinds],
              "No tokens", right=(1, 2, 3))
        _fill(self.lots, [(lot.kind, f"{local_time(lot.bought_at):%Y-%m-%d}",
                           HOW.get(lot.granted_by, lot.granted_by), str(lot.quantity),
                           str(lot.remaining), format_money(lot.unit_value_cents, currency),
                           lot.expires_on.isoformat() if lot.expires_on else "never",
                           "expired" if lot.expired(today) else "")
                          for lot in file.lots], "No lots with tokens left", right=(3, 4, 5))
        for row, lot in enumerate(file.lots):
            if lot.expired(today):
                for column in (6, 7):
                    item = self.lots.item(row, column)
                    if item is not None:
                        item.setForeground(QBrush(RED))
        _fill(self.holds, [(f"{h.starts_at:%a %Y-%m-%d %H:%M}", h.service,
                            format_money(h.quantity, currency) + " credit" if h.what == "credit"
                            else f"{h.quantity} {h.what} token{'s' if h.quantity != 1 else ''}")
                           for h in file.holds], "Nothing held")
        self._memberships = file.memberships
        _fill(self.memberships, [(m.package, m.started_on.isoformat(),
                                  m.ended_on.isoformat() if m.ended_on else "active")
                                 for m in file.memberships], "No memberships")
        self._membership_selected()


class VisitsTab(QWidget):
    """Upcoming and past visits; double-clicking one shows it on the schedule."""

    visit_activated = Signal(object)        # VisitInfo

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        headers = ["When", "Practitioner", "Service", "Status"]
        widths = (180, 180, 240, 130)
        self.upcoming = _table(self, "Upcoming visits", headers, widths, 2)
        self.past = _table(self, "Past visits", headers, widths, 2)
        self.visits: dict[int, list[VisitInfo]] = {}
        hint = QLabel("Double-click a visit to show it on the schedule.", self)
        layout = QVBoxLayout(self)
        layout.addWidget(hint)
        for table, title in ((self.upcoming, "Upcoming"), (self.past, "Past")):
            table.cellDoubleClicked.connect(
                lambda row, _c, t=table: self._activated(t, row))
            layout.addWidget(_group(title, table, self), 1)

    def _activated(self, table: QTableWidget, row: int) -> None:
        visits = self.visits.get(id(table), [])
        if 0 <= row < len(visits):
            self.visit_activated.emit(visits[row])

    def show_file(self, file: PatientFile) -> None:
        for table, visits, empty in ((self.upcoming, file.upcoming, "No upcoming visits"),
                                     (self.past, file.past, "No past visits")):
            self.visits[id(table)] = list(visits)
            _fill(table, [(f"{v.starts_at:%a %Y-%m-%d %H:%M}", v.practitioner, v.service,
                           schedule.LABELS.get(v.status, v.status)) for v in visits], empty)
