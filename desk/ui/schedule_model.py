"""The schedule as a table model: rows are time slots, columns practitioners (or days).

``data()`` only reads the precomputed :class:`~desk.ui.cells.Grid`; a reload with
the same shape emits ``dataChanged`` for the cells that changed, so the view keeps
its scroll position and selection.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt

from desk.ui.cells import Cell, Grid

CellRole = Qt.ItemDataRole.UserRole + 1       # the Cell anchored here, or None
SlotRole = Qt.ItemDataRole.UserRole + 2       # the slot's start (datetime)
CoveredRole = Qt.ItemDataRole.UserRole + 3    # True when a block spanning from above covers it

Index = QModelIndex | QPersistentModelIndex


class ScheduleModel(QAbstractTableModel):
    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._grid = Grid(columns=(), first_minute=8 * 60, slot_minutes=15, rows=0)
        self._covered: set[tuple[int, int]] = set()

    @property
    def grid(self) -> Grid:
        return self._grid

    def set_grid(self, grid: Grid) -> bool:
        """Show ``grid``; return True when the shape changed (the model was reset)."""
        old = self._grid
        if (old.columns, old.first_minute, old.slot_minutes, old.rows) != (
                grid.columns, grid.first_minute, grid.slot_minutes, grid.rows):
            self.beginResetModel()
            self._grid = grid
            self._covered = _covered(grid)
            self.endResetModel()
            return True
        self._grid = grid
        self._covered = _covered(grid)
        changed = {key for key in old.cells.keys() | grid.cells.keys()
                   if old.cells.get(key) != grid.cells.get(key)}
        roles = [CellRole, CoveredRole, Qt.ItemDataRole.DisplayRole,
                 Qt.ItemDataRole.AccessibleTextRole]
        for row, column in sorted(changed):
            cell = old.cells.get((row, column)) or grid.cells[(row, column)]
            last = max(cell.row_span, grid.cells[(row, column)].row_span
                       if (row, column) in grid.cells else 1)
            self.dataChanged.emit(self.index(row, column),
                                  self.index(min(row + last, grid.rows) - 1, column), roles)
        return False

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else self._grid.rows

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._grid.columns)

    def cell(self, row: int, column: int) -> Cell | None:
        return self._grid.cells.get((row, column))

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        key = (index.row(), index.column())
        if role == CellRole:
            return self._grid.cells.get(key)
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole):
            cell = self._grid.cells.get(key)
            if cell is not None:
                return cell.text
            if role == Qt.ItemDataRole.AccessibleTextRole:
                column = self._grid.columns[index.column()]
                return f"{column.title}, {self._grid.slot_time(*key):%H:%M}, free"
            return None
        if role == SlotRole:
            return self._grid.slot_time(*key)
        if role == CoveredRole:
            return key in self._covered
        return None

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        if orientation == Qt.Orientation.Horizontal:
            if 0 <= section < len(self._grid.columns):
                return self._grid.columns[section].title
            return None
        if 0 <= section < self._grid.rows:
            minute = self._grid.first_minute + section * self._grid.slot_minutes
            hour, rest = divmod(minute, 60)
            return f"{hour:02d}:{rest:02d}" if rest in (0, 30) or section == 0 else ""
        return None

    def flags(self, index: Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable


def _covered(grid: Grid) -> set[tuple[int, int]]:
    return {(cell.row + i, cell.column) for cell in grid.cells.values()
            for i in range(1, cell.row_span)}
