"""The patient window's history as a table model: one row per transaction, its
cells precomputed, sortable by what each column means and filtered by kind and local
date range."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
)
from PySide6.QtGui import QBrush, QColor, QFont
from PySide6.QtWidgets import QWidget

from desk.core.dates import as_datetime
from desk.core.money import format_money
from desk.services.queries import TxnView
from desk.services.reversal import NOT_REVERSIBLE

SORT_ROLE = Qt.ItemDataRole.UserRole + 1
TXN_ROLE = Qt.ItemDataRole.UserRole + 2
RED = QColor("#b3261e")
GREY = QColor("#6b6b6b")
ModelIndex = QModelIndex | QPersistentModelIndex

KINDS = {"checkin": "Check-in", "sale": "Sale", "fee": "Fee", "renewal": "Renewal",
         "refund": "Refund", "cancel": "Cancellation", "adjustment": "Adjustment",
         "transfer": "Transfer", "expiry": "Expiry", "reversal": "Reversal",
         "merge": "Merge"}
COLUMNS = ("Date", "Kind", "Memo", "Paid", "Credit", "Tokens", "Staff", "Receipt")
HEADER_TIPS = {3: "Paid to the clinic by cash, card, check or other (negative: paid out)",
               4: "Change to the patient's credit (negative: used, or owed)",
               5: "Change to the patient's tokens per kind"}
RIGHT = (3, 4, 7)


def kind_label(kind: str) -> str:
    return KINDS.get(kind, kind.replace("_", " ").capitalize())


def local_time(utc: Any) -> dt.datetime:
    """A stored UTC timestamp as this computer's local wall-clock time."""
    return as_datetime(utc).replace(tzinfo=dt.UTC).astimezone().replace(tzinfo=None)


def signed_money(cents: int, currency: str) -> str:
    return ("+" if cents > 0 else "") + format_money(cents, currency) if cents else ""


def token_text(changes: dict[str, int]) -> str:
    return ", ".join(f"{n:+d} {kind}" for kind, n in sorted(changes.items()) if n)


def paid_cents(txn: TxnView) -> int:
    """Money the clinic took in (negative: paid out) by cash, card, check or other."""
    return sum(line.amount for line in txn.lines if line.account_kind == "tender")


def why_not_reversible(txn: TxnView) -> str:
    """Why the transaction cannot be reversed, or "" when it can."""
    if txn.reverses_id is not None:
        return f"This reverses transaction {txn.reverses_id}; a reversal cannot be reversed."
    if txn.reversed_by is not None:
        return f"Already reversed by transaction {txn.reversed_by}."
    if txn.kind in NOT_REVERSIBLE:
        text = NOT_REVERSIBLE[txn.kind]
        return f"A {kind_label(txn.kind).lower()} cannot be reversed: {text}."
    return ""


@dataclass(frozen=True, slots=True)
class HistoryRow:
    """One transaction, its cells precomputed (``data()`` never computes)."""

    txn: TxnView
    when: dt.datetime                    # local
    texts: tuple[str, ...]
    sort_keys: tuple[Any, ...]

    @classmethod
    def of(cls, txn: TxnView, currency: str) -> HistoryRow:
        when = local_time(txn.created_at)
        receipt = f"#{txn.receipt_no}" if txn.receipt_no else ""
        paid = paid_cents(txn)
        texts = (f"{when:%Y-%m-%d %H:%M}", kind_label(txn.kind), txn.memo,
                 format_money(paid, currency) if paid else "",
                 signed_money(txn.credit_change_cents, currency), token_text(txn.token_changes),
                 txn.staff, receipt)
        # Keys Qt compares itself (strings, integers): newest first sorts by time, then id.
        keys = (f"{when:%Y%m%d%H%M%S}{txn.id:012d}", texts[1], txn.memo.casefold(), paid,
                txn.credit_change_cents, sum(txn.token_changes.values()),
                txn.staff.casefold(), txn.receipt_no or 0)
        return cls(txn, when, texts, keys)


class HistoryModel(QAbstractTableModel):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.rows: list[HistoryRow] = []

    def set_history(self, txns: list[TxnView], currency: str) -> None:
        self.beginResetModel()
        self.rows = [HistoryRow.of(t, currency) for t in txns]
        self.endResetModel()

    def rowCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def data(self, index: ModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        row, column = self.rows[index.row()], index.column()
        txn = row.txn
        if role == Qt.ItemDataRole.DisplayRole:
            return row.texts[column]
        if role == SORT_ROLE:
            return row.sort_keys[column]
        if role == TXN_ROLE:
            return txn
        if role == Qt.ItemDataRole.ToolTipRole:
            if txn.reversed_by is not None:
                return f"Reversed by transaction {txn.reversed_by}"
            if txn.reverses_id is not None:
                return f"Reverses transaction {txn.reverses_id}"
            return row.texts[2] if column == 2 and row.texts[2] else None
        if role == Qt.ItemDataRole.ForegroundRole:
            if txn.reversed_by is not None:
                return QBrush(GREY)
            if column == 4 and txn.credit_change_cents < 0:
                return QBrush(RED)
            return None
        if role == Qt.ItemDataRole.FontRole and txn.reversed_by is not None:
            font = QFont()
            font.setStrikeOut(True)
            return font
        if role == Qt.ItemDataRole.TextAlignmentRole and column in RIGHT:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(COLUMNS):
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        if role == Qt.ItemDataRole.ToolTipRole:
            return HEADER_TIPS.get(section)
        return None


class HistoryFilter(QSortFilterProxyModel):
    """Rows of one kind (or all) between two local dates (both included)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.kind: str | None = None
        self.first: dt.date | None = None
        self.last: dt.date | None = None
        self.setSortRole(SORT_ROLE)

    def set_filter(self, kind: str | None, first: dt.date | None, last: dt.date | None) -> None:
        self.beginFilterChange()
        self.kind, self.first, self.last = kind, first, last
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def filterAcceptsRow(self, source_row: int, source_parent: ModelIndex) -> bool:
        model = self.sourceModel()
        assert isinstance(model, HistoryModel)
        row = model.rows[source_row]
        day = row.when.date()
        return ((self.kind is None or row.txn.kind == self.kind)
                and (self.first is None or day >= self.first)
                and (self.last is None or day <= self.last))
