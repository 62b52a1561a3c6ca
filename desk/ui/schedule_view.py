"""The schedule grid: a table view with frozen time and practitioner headers.

Selection is one appointment (not a cell: a cell may hold several overlapping
blocks). The mouse books on an empty slot, selects, drags to move and opens the
context menu; the keyboard moves between blocks with the arrow keys and checks in
with Enter. The view only emits requests; the window runs them.
"""

from __future__ import annotations

import datetime as dt

from PySide6.QtCore import QMimeData, QModelIndex, QPoint, QRect, Qt, QTimer, Signal
from PySide6.QtGui import (
    QColor,
    QContextMenuEvent,
    QDrag,
    QDragEnterEvent,
    QDragLeaveEvent,
    QDragMoveEvent,
    QDropEvent,
    QFontMetrics,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPalette,
    QPen,
    QResizeEvent,
)
from PySide6.QtWidgets import QAbstractItemView, QApplication, QHeaderView, QTableView, QWidget

from desk.core import schedule
from desk.ui.cells import Block, Grid
from desk.ui.schedule_delegate import ScheduleDelegate
from desk.ui.schedule_model import ScheduleModel

MIME = "application/x-desk-appointment"
MIN_COLUMN_PX = 150


class ScheduleView(QTableView):
    block_selected = Signal(object)              # Block or None
    book_requested = Signal(object, object)      # slot start (datetime), practitioner id|None
    check_in_requested = Signal(object)          # Block
    context_requested = Signal(object, QPoint)   # Block, global position
    move_requested = Signal(int, object, object)  # appointment id, new start, practitioner|None

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.schedule = ScheduleModel(self)
        self.setModel(self.schedule)
        self.delegate = ScheduleDelegate(self)
        self.setItemDelegate(self.delegate)
        self.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setHorizontalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.setWordWrap(False)
        self.setCornerButtonEnabled(False)
        self.setMouseTracking(True)
        self.setAcceptDrops(True)
        self.viewport().setAcceptDrops(True)
        self.setDragDropMode(QAbstractItemView.DragDropMode.DragDrop)
        self.setAccessibleName("Schedule")
        horizontal = self.horizontalHeader()
        horizontal.setMinimumSectionSize(MIN_COLUMN_PX)
        horizontal.setDefaultSectionSize(MIN_COLUMN_PX)
        horizontal.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        horizontal.setHighlightSections(False)
        vertical = self.verticalHeader()
        vertical.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        vertical.setDefaultAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop)
        vertical.setHighlightSections(False)
        vertical.setFixedWidth(QFontMetrics(self.font()).horizontalAdvance("00:00") + 16)
        self.set_row_height()
        self.selected_id: int | None = None
        self.now: dt.datetime | None = None
        self._press: tuple[QPoint, Block | None, int] | None = None
        self._ghost: QRect | None = None

    # -- content ----------------------------------------------------------------------

    @property
    def grid(self) -> Grid:
        return self.schedule.grid

    def set_row_height(self, scale: float = 1.0) -> None:
        px = round((QFontMetrics(self.font()).height() + 5) * scale)
        self.verticalHeader().setDefaultSectionSize(px)
        self.verticalHeader().setMinimumSectionSize(min(px, 12))

    def apply(self, grid: Grid) -> None:
        """Show ``grid`` keeping scroll position and the selected appointment."""
        hbar, vbar = self.horizontalScrollBar().value(), self.verticalScrollBar().value()
        reset = self.schedule.set_grid(grid)
        self.clearSpans()
        for cell in grid.cells.values():
            if cell.row_span > 1:
                self.setSpan(cell.row, cell.column, cell.row_span, 1)
        self._fit_columns()
        if not reset:
            self.horizontalScrollBar().setValue(hbar)
            self.verticalScrollBar().setValue(vbar)
        if self.selected_id is not None and self.selected_id not in grid.blocks:
            self.select(None)
        elif self.selected_id is not None:
            self.block_selected.emit(grid.blocks[self.selected_id])
        self.viewport().update()

    def _fit_columns(self) -> None:
        count = self.schedule.columnCount()
        if not count:
            return
        width = max(self.viewport().width(), 1)
        stretch = count * MIN_COLUMN_PX <= width
        mode = QHeaderView.ResizeMode.Stretch if stretch else QHeaderView.ResizeMode.Fixed
        self.horizontalHeader().setSectionResizeMode(mode)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit_columns()

    # -- selection --------------------------------------------------------------------

    def selected_block(self) -> Block | None:
        return None if self.selected_id is None else self.grid.blocks.get(self.selected_id)

    def select(self, appointment_id: int | None, *, scroll: bool = False) -> None:
        block = None if appointment_id is None else self.grid.blocks.get(appointment_id)
        self.selected_id = None if block is None else block.appointment_id
        self.delegate.selected_id = self.selected_id
        if block is not None and scroll:
            cell = self.grid.cell_of(block.appointment_id)
            if cell is not None:
                self.scrollTo(self.schedule.index(cell.row, cell.column),
                              QAbstractItemView.ScrollHint.PositionAtCenter)
        if block is not None and scroll:
            # The keyboard's current cell (screen readers follow it); a mouse press
            # must not set it: that would scroll a tall block under the pointer.
            cell = self.grid.cell_of(block.appointment_id)
            if cell is not None:
                self.setCurrentIndex(self.schedule.index(cell.row, cell.column))
        self.viewport().update()
        self.block_selected.emit(block)

    def block_at(self, pos: QPoint) -> Block | None:
        index = self.indexAt(pos)
        cell = self.schedule.cell(index.row(), index.column()) if index.isValid() else None
        if cell is None:
            return None
        geo, _ = self.delegate.hit(cell, self.visualRect(index), self.font(), pos)
        return None if geo is None else geo.block

    def block_rect(self, appointment_id: int) -> QRect | None:
        """Where a block is painted, in viewport coordinates (for tests and drags)."""
        cell = self.grid.cell_of(appointment_id)
        if cell is None:
            return None
        rect = self.visualRect(self.schedule.index(cell.row, cell.column))
        for geo in self.delegate.layout(cell, rect, self.font()):
            if geo.block.appointment_id == appointment_id:
                return geo.rect
        return None

    def slot_at(self, pos: QPoint) -> tuple[dt.datetime, int | None] | None:
        row, column = self.rowAt(pos.y()), self.columnAt(pos.x())
        if row < 0 or column < 0:
            return None
        return self.grid.slot_time(row, column), self.grid.columns[column].practitioner_id

    # -- mouse ------------------------------------------------------------------------

    def mousePressEvent(self, event: QMouseEvent) -> None:
        pos = event.position().toPoint()
        block = self.block_at(pos)
        if event.button() == Qt.MouseButton.LeftButton:
            grab_rows = 0
            if block is not None:  # slot rows between the visit's start and the pointer
                grab_rows = max(self.rowAt(pos.y()) - int(self.grid.row_of(block.starts_at)),
                                0)
            self._press = (pos, block, grab_rows)
        if block is not None:
            self.select(block.appointment_id)
        self.setFocus(Qt.FocusReason.MouseFocusReason)
        event.accept()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        press = self._press
        if press is None or not event.buttons() & Qt.MouseButton.LeftButton:
            return
        start, block, grab_rows = press
        if block is None or block.status != schedule.BOOKED:
            return  # only booked visits move
        distance = (event.position().toPoint() - start).manhattanLength()
        if distance < QApplication.startDragDistance():
            return
        self._press = None
        self._start_drag(block, grab_rows)

    def _start_drag(self, block: Block, grab_rows: int) -> None:
        drag = QDrag(self)
        mime = QMimeData()
        mime.setData(MIME, f"{block.appointment_id}:{grab_rows}".encode())
        drag.setMimeData(mime)
        rect = self.block_rect(block.appointment_id)
        if rect is not None:
            drag.setPixmap(self.viewport().grab(rect))
        drag.exec(Qt.DropAction.MoveAction)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        press, self._press = self._press, None
        if press is None or event.button() != Qt.MouseButton.LeftButton:
            return
        start, block, _ = press
        pos = event.position().toPoint()
        if block is None and (pos - start).manhattanLength() < QApplication.startDragDistance():
            slot = self.slot_at(pos)
            if slot is not None and self.block_at(pos) is None:
                self.select(None)
                self.book_requested.emit(*slot)

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        block = self.block_at(event.position().toPoint())
        if block is not None and event.button() == Qt.MouseButton.LeftButton:
            self._press = None
            self.check_in_requested.emit(block)

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:
        block = self.block_at(event.pos()) if event.reason() == event.Reason.Mouse \
            else self.selected_block()
        if block is None:
            return
        self.select(block.appointment_id)
        pos = event.globalPos()
        if event.reason() != event.Reason.Mouse:
            rect = self.block_rect(block.appointment_id)
            if rect is not None:
                pos = self.viewport().mapToGlobal(rect.center())
        self.context_requested.emit(block, pos)

    # -- drag and drop ----------------------------------------------------------------

    def _drop_target(self, event: QDropEvent | QDragMoveEvent
                     ) -> tuple[int, dt.datetime, int | None, QRect] | None:
        mime = event.mimeData()
        if not mime.hasFormat(MIME):
            return None
        try:
            appointment_id, grab_rows = (int(x) for x in bytes(mime.data(MIME).data())
                                         .decode().split(":"))
        except ValueError:
            return None
        block = self.grid.blocks.get(appointment_id)
        pos = event.position().toPoint()
        row, column = self.rowAt(pos.y()), self.columnAt(pos.x())
        if block is None or row < 0 or column < 0:
            return None
        row = max(row - grab_rows, 0)
        # Keep the minutes past the slot start: a 13:10 visit moved one slot down
        # starts at 13:25, and dropped back in place it stays at 13:10.
        past_slot = block.starts_at.minute % self.grid.slot_minutes
        starts = self.grid.slot_time(row, column) + dt.timedelta(minutes=past_slot)
        slots = (block.ends_at - block.starts_at).total_seconds() / 60 / self.grid.slot_minutes
        row_h = self.rowHeight(row)
        top = self.rowViewportPosition(row) + round(past_slot / self.grid.slot_minutes * row_h)
        ghost = QRect(self.columnViewportPosition(column) + 2, top,
                      self.columnWidth(column) - 4, max(round(slots * row_h) - 1, 4))
        return appointment_id, starts, self.grid.columns[column].practitioner_id, ghost

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if event.mimeData().hasFormat(MIME):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:
        target = self._drop_target(event)
        self._ghost = None if target is None else target[3]
        self.viewport().update()
        if target is None:
            event.ignore()
        else:
            event.acceptProposedAction()

    def dragLeaveEvent(self, event: QDragLeaveEvent) -> None:
        self._ghost = None
        self.viewport().update()

    def dropEvent(self, event: QDropEvent) -> None:
        target = self._drop_target(event)
        self._ghost = None
        self.viewport().update()
        if target is None:
            event.ignore()
            return
        event.acceptProposedAction()
        appointment_id, starts, practitioner_id, _ = target
        block = self.grid.blocks[appointment_id]
        if starts == block.starts_at and practitioner_id in (None, block.practitioner_id):
            return
        # Asked once the drag is over: a modal question inside the drop misbehaves.
        QTimer.singleShot(0, lambda: self.move_requested.emit(appointment_id, starts,
                                                              practitioner_id))

    # -- keyboard ---------------------------------------------------------------------

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        if event.modifiers() & (Qt.KeyboardModifier.ControlModifier
                                | Qt.KeyboardModifier.AltModifier):
            super().keyPressEvent(event)
            return
        moves: dict[int, tuple[int, int]] = {Qt.Key.Key_Up: (0, -1), Qt.Key.Key_Down: (0, 1),
                 Qt.Key.Key_Left: (-1, 0), Qt.Key.Key_Right: (1, 0)}
        if key in moves:
            self._step(*moves[key])
        elif key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            block = self.selected_block()
            if block is not None:
                self.check_in_requested.emit(block)
        elif key == Qt.Key.Key_Home:
            ordered = self._ordered()
            if ordered:
                self.select(ordered[0].appointment_id, scroll=True)
        elif key == Qt.Key.Key_Escape:
            self.select(None)
        else:
            super().keyPressEvent(event)

    def _ordered(self) -> list[Block]:
        column = {b.appointment_id: self.grid.cell_of(b.appointment_id) for b in
                  self.grid.blocks.values()}
        return sorted(self.grid.blocks.values(), key=lambda b: (
            c.column if (c := column[b.appointment_id]) else 0, b.starts_at, b.lane))

    def _step(self, dx: int, dy: int) -> None:
        blocks = list(self.grid.blocks.values())
        if not blocks:
            return
        current = self.selected_block()
        cells = {b.appointment_id: self.grid.cell_of(b.appointment_id) for b in blocks}

        def col(b: Block) -> int:
            cell = cells[b.appointment_id]
            return cell.column if cell else 0

        if current is None:
            first = min(blocks, key=lambda b: (b.starts_at, col(b), b.lane))
            self.select(first.appointment_id, scroll=True)
            return
        here = col(current)
        if dy:
            same = sorted((b for b in blocks if col(b) == here),
                          key=lambda b: (b.starts_at, b.lane, b.appointment_id))
            at = same.index(current) + dy
            if 0 <= at < len(same):
                self.select(same[at].appointment_id, scroll=True)
            return
        columns = sorted({col(b) for b in blocks})
        after = [c for c in columns if (c - here) * dx > 0]
        if not after:
            return
        target = min(after, key=lambda c: abs(c - here))
        near = min((b for b in blocks if col(b) == target),
                   key=lambda b: (abs((b.starts_at - current.starts_at).total_seconds()),
                                  b.lane))
        self.select(near.appointment_id, scroll=True)

    # -- overlays ---------------------------------------------------------------------

    def paintEvent(self, event: QPaintEvent) -> None:
        super().paintEvent(event)
        painter = QPainter(self.viewport())
        try:
            self._paint_now(painter)
            if self._ghost is not None:
                pen = QPen(self.palette().color(QPalette.ColorRole.Highlight), 2,
                           Qt.PenStyle.DashLine)
                painter.setPen(pen)
                painter.drawRect(self._ghost)
        finally:
            painter.end()

    def _paint_now(self, painter: QPainter) -> None:
        now = self.now
        if now is None or not self.grid.rows:
            return
        row = self.grid.row_of(now)
        if not 0 <= row <= self.grid.rows:
            return
        y = self.rowViewportPosition(0) + round(row * self.rowHeight(0))
        painter.setPen(QPen(QColor("#d93025"), 2))
        for column, info in enumerate(self.grid.columns):
            if info.day == now.date():
                x = self.columnViewportPosition(column)
                painter.drawLine(x, y, x + self.columnWidth(column), y)


def index_of(view: ScheduleView, appointment_id: int) -> QModelIndex:
    cell = view.grid.cell_of(appointment_id)
    return QModelIndex() if cell is None else view.schedule.index(cell.row, cell.column)
