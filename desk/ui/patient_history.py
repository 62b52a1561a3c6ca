"""The patient window's history page: every transaction in a sortable table filtered
by kind and local date range, the selected one's ledger lines, and what can be done
with it (reprint its receipt, reverse it)."""

from __future__ import annotations

import datetime as dt
from html import escape
from typing import Any

from PySide6.QtCore import QDate, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDateEdit,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSplitter,
    QTableView,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desk.core.money import format_money
from desk.services.queries import LineView, TxnView
from desk.ui.history_model import (
    KINDS,
    TXN_ROLE,
    HistoryFilter,
    HistoryModel,
    kind_label,
    local_time,
    signed_money,
    token_text,
    why_not_reversible,
)


def _qdate(day: dt.date) -> QDate:
    return QDate(day.year, day.month, day.day)


def _date(value: QDate) -> dt.date:
    return dt.date(value.year(), value.month(), value.day())


def account_label(line: LineView, patient_id: int) -> str:
    """A ledger account as people name it: "Credit", "Acupuncture tokens of patient
    #4", "Household wallet credit", "Cash", "Revenue: fees"..."""
    parts = line.account.split(":")
    what = "credit" if line.unit == "money" else f"{line.unit} tokens"
    if parts[0] == "patient" and len(parts) > 1:
        mine = parts[1] == str(patient_id)
        return what.capitalize() if mine else f"{what.capitalize()} of patient #{parts[1]}"
    if parts[0] == "household":
        return f"Household wallet {what}"
    if parts[0] == "tender" and len(parts) > 1:
        return f"Paid by {parts[1]}"
    if parts[0] == "issued":
        return f"{line.unit} tokens issued"
    if parts[0] == "revenue":
        return "Revenue: " + ("service" if parts[1:2] == ["service"] else " ".join(parts[1:]))
    return {"prepaid": "Prepaid treatments (owed to patients)",
            "adjustments": "Adjustments"}.get(line.account, line.account)


class HistoryTab(QWidget):
    """The table, its filters, the selected transaction's lines and actions."""

    reprint_requested = Signal(object)      # TxnView
    reverse_requested = Signal(object)      # TxnView

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.patient_id = 0
        self.currency = "USD"
        self.today = dt.date.today()
        self._range_set = False           # the receptionist picked dates: keep them
        self.model = HistoryModel(self)
        self.proxy = HistoryFilter(self)
        self.proxy.setSourceModel(self.model)
        self.kind = QComboBox(self)
        self.kind.setAccessibleName("Kind of transaction shown")
        self.kind.addItem("All kinds", None)
        for kind, label in sorted(KINDS.items(), key=lambda kv: kv[1]):
            self.kind.addItem(label, kind)
        self.first = self._date_edit("Shown from")
        self.last = self._date_edit("Shown until")
        self.whole = QPushButton("Whole history", self)
        self.whole.setToolTip("Show every date again")
        self.whole.setAutoDefault(False)
        self.count = QLabel(self)
        self.count.setAccessibleName("Transactions shown")
        bar = QHBoxLayout()
        for text, widget in (("&Kind", self.kind), ("&From", self.first),
                             ("Un&til", self.last)):
            buddy = QLabel(text, self)
            buddy.setBuddy(widget)
            bar.addSpacing(8)
            bar.addWidget(buddy)
            bar.addWidget(widget)
        bar.addWidget(self.whole)
        bar.addStretch(1)
        bar.addWidget(self.count)
        self.table = QTableView(self)
        self.table.setAccessibleName("Transactions")
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(0, Qt.SortOrder.DescendingOrder)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setWordWrap(False)
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        for column, width in enumerate((130, 100, 300, 90, 90, 140, 90, 70)):
            header.resizeSection(column, width)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.detail = QLabel(self)
        self.detail.setWordWrap(True)
        self.detail.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.detail.setAccessibleName("Selected transaction")
        self.lines = QTableWidget(0, 4, self)
        self.lines.setAccessibleName("Ledger lines of the selected transaction")
        self.lines.setHorizontalHeaderLabels(["Account", "Debit", "Credit", "Memo"])
        self.lines.setToolTip("Each line is one side of the double entry: per unit, debits "
                              "equal credits.")
        self.lines.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.lines.verticalHeader().hide()
        self.lines.horizontalHeader().resizeSection(0, 240)
        self.lines.horizontalHeader().setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        self.reprint = QPushButton("Reprint receipt", self)
        self.reverse = QPushButton("Reverse…", self)
        for button in (self.reprint, self.reverse):
            button.setAutoDefault(False)
            button.setEnabled(False)
        self.reprint.clicked.connect(lambda: self._request(self.reprint_requested))
        self.reverse.clicked.connect(lambda: self._request(self.reverse_requested))
        below = QWidget(self)
        below_layout = QVBoxLayout(below)
        below_layout.setContentsMargins(0, 0, 0, 0)
        top = QHBoxLayout()
        top.addWidget(self.detail, 1)
        top.addWidget(self.reprint, 0, Qt.AlignmentFlag.AlignTop)
        top.addWidget(self.reverse, 0, Qt.AlignmentFlag.AlignTop)
        below_layout.addLayout(top)
        below_layout.addWidget(self.lines, 1)
        split = QSplitter(Qt.Orientation.Vertical, self)
        split.addWidget(self.table)
        split.addWidget(below)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        split.setChildrenCollapsible(False)
        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(split, 1)
        self.kind.currentIndexChanged.connect(lambda _i: self._filter())
        self.first.userDateChanged.connect(lambda _d: self._picked())
        self.last.userDateChanged.connect(lambda _d: self._picked())
        self.whole.clicked.connect(self._whole)
        self.table.selectionModel().selectionChanged.connect(lambda *_: self._selected())
        self._selected()

    def _date_edit(self, name: str) -> QDateEdit:
        edit = QDateEdit(self)
        edit.setCalendarPopup(True)
        edit.setDisplayFormat("yyyy-MM-dd")
        edit.setAccessibleName(name)
        return edit

    # -- data --------------------------------------------------------------------------

    def set_history(self, patient_id: int, txns: list[TxnView], currency: str,
                    today: dt.date) -> None:
        """Show ``txns`` (newest first), keeping the selection and the dates picked."""
        selected = self.selected()
        self.patient_id, self.currency, self.today = patient_id, currency, today
        self.model.set_history(txns, currency)
        if not self._range_set:
            days = [r.when.date() for r in self.model.rows]
            self._set_range(min(days, default=today), max([today, *days]))
        self._filter()
        if selected is not None:
            self.select_txn(selected.id)
        else:
            self._selected()

    def _set_range(self, first: dt.date, last: dt.date) -> None:
        for edit, day in ((self.first, first), (self.last, last)):
            edit.blockSignals(True)
            edit.setDate(_qdate(day))
            edit.blockSignals(False)

    def _picked(self) -> None:
        self._range_set = True
        self._filter()

    def _whole(self) -> None:
        self._range_set = False
        days = [r.when.date() for r in self.model.rows]
        self._set_range(min(days, default=self.today), max([self.today, *days]))
        self._filter()

    def _filter(self) -> None:
        self.proxy.set_filter(self.kind.currentData(), _date(self.first.date()),
                              _date(self.last.date()))
        shown, total = self.proxy.rowCount(), self.model.rowCount()
        self.count.setText(f"{shown} of {total} transactions" if shown != total
                           else f"{total} transaction{'s' if total != 1 else ''}")
        self._selected()

    def select_txn(self, txn_id: int) -> bool:
        for row in range(self.proxy.rowCount()):
            index = self.proxy.index(row, 0)
            if index.data(TXN_ROLE).id == txn_id:
                self.table.setCurrentIndex(index)
                self.table.selectRow(row)
                return True
        return False

    def selected(self) -> TxnView | None:
        rows = self.table.selectionModel().selectedRows()
        txn = rows[0].data(TXN_ROLE) if rows else None
        return txn if isinstance(txn, TxnView) else None

    def _request(self, signal: Any) -> None:
        txn = self.selected()
        if txn is not None:
            signal.emit(txn)

    def _selected(self) -> None:
        txn = self.selected()
        self.lines.setRowCount(0)
        if txn is None:
            self.detail.setText("<i>Select a transaction to see its lines.</i>")
            self.reprint.setEnabled(False)
            self.reprint.setToolTip("")
            self.reverse.setEnabled(False)
            self.reverse.setToolTip("")
            return
        self._show_detail(txn)
        self.reprint.setEnabled(txn.receipt_no is not None)
        self.reprint.setToolTip(f"Print receipt #{txn.receipt_no} again, marked COPY"
                                if txn.receipt_no else "This transaction has no receipt.")
        why = why_not_reversible(txn)
        self.reverse.setEnabled(not why)
        self.reverse.setToolTip(why or "Write the exact opposite transaction (a reason is "
                                "required).")

    def _show_detail(self, txn: TxnView) -> None:
        when = local_time(txn.created_at)
        extra = []
        if txn.receipt_no:
            extra.append(f"receipt #{txn.receipt_no}")
        if txn.reverses_id is not None:
            extra.append(f"reverses transaction {txn.reverses_id}")
        if txn.reversed_by is not None:
            extra.append(f"<b>reversed by transaction {txn.reversed_by}</b>")
        changes = [c for c in (signed_money(txn.credit_change_cents, self.currency) and
                               f"credit {signed_money(txn.credit_change_cents, self.currency)}",
                               token_text(txn.token_changes)) if c]
        self.detail.setText(
            f"<b>{escape(kind_label(txn.kind))}</b> · transaction {txn.id} · "
            f"{when:%a %d %b %Y %H:%M} · {escape(txn.staff)} at {escape(txn.workstation)}"
            + "".join(f" · {e}" for e in extra)
            + (f"<br>{escape(txn.memo)}" if txn.memo else "")
            + (f"<br>For this patient: {escape(', '.join(changes))}" if changes else ""))
        self.lines.setRowCount(len(txn.lines))
        for row, line in enumerate(txn.lines):
            amount = (format_money(abs(line.amount), self.currency) if line.unit == "money"
                      else f"{abs(line.amount)} {line.unit}")
            cells = (account_label(line, self.patient_id),
                     amount if line.amount > 0 else "", amount if line.amount < 0 else "",
                     line.memo)
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if column in (1, 2):
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight
                                          | Qt.AlignmentFlag.AlignVCenter)
                self.lines.setItem(row, column, item)
