"""Paints appointment blocks and answers tooltips from the same geometry.

Status is never colour alone (SPEC §5): checked in = a check mark and a muted
fill; cancelled = struck through and greyed; late cancel and no-show = a labelled
badge. Colours derive from the palette, so dark mode works.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from PySide6.QtCore import QEvent, QModelIndex, QPersistentModelIndex, QPoint, QRect, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QHelpEvent, QPainter, QPalette, QPen
from PySide6.QtWidgets import QAbstractItemView, QStyledItemDelegate, QStyleOptionViewItem, QToolTip

from desk.core import schedule
from desk.ui.cells import DONE, Block, Cell, Icon
from desk.ui.icons import icon
from desk.ui.schedule_model import CellRole

ICON_PX = 16
PAD = 4
BAR_PX = 4


@dataclass(slots=True)
class BlockGeometry:
    block: Block
    rect: QRect
    icons: list[tuple[QRect, Icon]] = field(default_factory=list)
    check: QRect | None = None
    badge: QRect | None = None
    icons_below: bool = False     # icons on their own line rather than after the name


class Fonts:
    """The fonts a block uses, derived once per base font (painting is hot)."""

    def __init__(self, base: QFont) -> None:
        self.normal = QFont(base)
        self.bold = QFont(base)
        self.bold.setBold(True)
        self.struck = QFont(base)
        self.struck.setStrikeOut(True)
        self.struck_bold = QFont(self.bold)
        self.struck_bold.setStrikeOut(True)
        self.italic = QFont(base)
        self.italic.setItalic(True)
        self.metrics = {id(f): QFontMetrics(f) for f in (self.normal, self.bold, self.struck,
                                                         self.struck_bold, self.italic)}
        self.fm = self.metrics[id(self.normal)]
        self.fmb = self.metrics[id(self.bold)]
        self.line_h = self.fm.height()


def mix(a: QColor, b: QColor, amount_b: float) -> QColor:
    """``a`` blended towards ``b`` by ``amount_b`` (0..1)."""
    keep = 1.0 - amount_b
    return QColor(round(a.red() * keep + b.red() * amount_b),
                  round(a.green() * keep + b.green() * amount_b),
                  round(a.blue() * keep + b.blue() * amount_b))


class ScheduleDelegate(QStyledItemDelegate):
    def __init__(self, parent: QAbstractItemView | None = None) -> None:
        super().__init__(parent)
        self.selected_id: int | None = None
        self._fonts: dict[str, Fonts] = {}

    def fonts(self, base: QFont) -> Fonts:
        key = base.key()
        found = self._fonts.get(key)
        if found is None:
            found = self._fonts[key] = Fonts(base)
        return found

    # -- geometry shared by paint() and helpEvent() -------------------------------

    def layout(self, cell: Cell, rect: QRect, font: QFont) -> list[BlockGeometry]:
        fonts = self.fonts(font)
        out = []
        lane_w = rect.width() / max(cell.blocks[0].lanes if cell.blocks else 1, 1)
        for block in cell.blocks:
            x = rect.x() + round(block.lane * lane_w)
            w = round((block.lane + 1) * lane_w) - round(block.lane * lane_w)
            y = rect.y() + round(block.top * rect.height())
            h = max(round(block.height * rect.height()), 8)
            geo = BlockGeometry(block, QRect(x + 1, y + 1, max(w - 3, 4), h - 3))
            self._place_marks(geo, fonts)
            out.append(geo)
        return out

    @staticmethod
    def _lines(geo: BlockGeometry, fonts: Fonts) -> int:
        return max((geo.rect.height() - 2) // fonts.line_h, 1)

    def _place_marks(self, geo: BlockGeometry, fonts: Fonts) -> None:
        fm, fmb = fonts.fm, fonts.fmb
        block, r = geo.block, geo.rect
        left = r.x() + BAR_PX + PAD
        right = r.right() - PAD
        line_h = fonts.line_h
        lines = self._lines(geo, fonts)
        name_line = 1 if lines >= 3 else 0
        y_name = r.y() + 1 + name_line * line_h
        icon_y = y_name + (max(fmb.height(), line_h) - ICON_PX) // 2
        if block.status in DONE:
            geo.check = QRect(right - ICON_PX + 1, r.y() + 2, ICON_PX, ICON_PX)
            right = geo.check.x() - 2
        if block.badge:
            width = fm.horizontalAdvance(block.badge) + 8
            geo.badge = QRect(max(right - width + 1, left), r.y() + 2, width, line_h - 1)
            right = geo.badge.x() - 2 if name_line == 0 else right
        prefix = f"{block.starts_at:%H:%M} " if lines == 1 else ""
        name_w = fmb.horizontalAdvance(prefix + block.patient_name)
        icons_w = len(block.icons) * (ICON_PX + 2)
        x = min(left + name_w + 4, max(right - icons_w, left))
        if lines >= 4 and left + name_w + 4 + icons_w > right:
            # A tall block whose name would be cut by its icons: keep the whole name
            # and put the icons on their own line under the service.
            geo.icons_below = True
            icon_y = r.y() + 1 + 3 * line_h + 1
            x = left
        for item in block.icons:
            geo.icons.append((QRect(x, icon_y, ICON_PX, ICON_PX), item))
            x += ICON_PX + 2

    # -- painting -------------------------------------------------------------------

    def paint(self, painter: QPainter, option: QStyleOptionViewItem,
              index: QModelIndex | QPersistentModelIndex) -> None:
        cell = index.data(CellRole)
        if cell is None:
            return
        painter.save()
        try:
            for geo in self.layout(cell, option.rect, option.font):
                self._paint_block(painter, option, geo)
        finally:
            painter.restore()

    def _paint_block(self, painter: QPainter, option: QStyleOptionViewItem,
                     geo: BlockGeometry) -> None:
        block, r = geo.block, geo.rect
        pal = option.palette
        base = pal.color(QPalette.ColorRole.Base)
        colour = QColor(block.colour)
        if not colour.isValid():
            colour = pal.color(QPalette.ColorRole.Highlight)
        text = pal.color(QPalette.ColorRole.Text)
        if not block.active:
            fill = mix(base, pal.color(QPalette.ColorRole.Mid), 0.18)
            bar = mix(colour, pal.color(QPalette.ColorRole.Mid), 0.7)
            text = pal.color(QPalette.ColorRole.PlaceholderText)
        elif block.status in DONE:
            fill, bar = mix(colour, base, 0.86), mix(colour, base, 0.35)
        else:
            fill, bar = mix(colour, base, 0.62), colour
        selected = block.appointment_id == self.selected_id
        border = pal.color(QPalette.ColorRole.Highlight) if selected else mix(bar, text, 0.25)
        # Plain rectangles: antialiased rounded ones cost ~5x as much to paint.
        painter.fillRect(r, fill)
        painter.fillRect(QRect(r.x(), r.y(), BAR_PX + 1, r.height()), bar)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        if selected:
            painter.setPen(QPen(border, 2.0))
            painter.drawRect(r.adjusted(1, 1, -1, -1))
        else:
            painter.setPen(QPen(border, 1.0))
            painter.drawRect(r.adjusted(0, 0, -1, -1))
        self._paint_text(painter, option, geo, text)
        for rect, item in geo.icons:
            icon(item.kind).paint(painter, rect)
        if geo.check is not None:
            icon("check").paint(painter, geo.check)
        if geo.badge is not None:
            self._paint_badge(painter, option, geo)

    def _paint_text(self, painter: QPainter, option: QStyleOptionViewItem,
                    geo: BlockGeometry, colour: QColor) -> None:
        block, r = geo.block, geo.rect
        fonts = self.fonts(option.font)
        struck = block.status == schedule.CANCELLED
        font = fonts.struck if struck else fonts.normal
        bold = fonts.struck_bold if struck else fonts.bold
        line_h = fonts.line_h
        left = r.x() + BAR_PX + PAD
        lines = self._lines(geo, fonts)
        first_icon = geo.icons[0][0].x() if geo.icons and not geo.icons_below \
            else r.right() - PAD
        marks = [m.x() for m in (geo.check, geo.badge) if m is not None]
        top_right = min([r.right() - PAD, *marks])
        painter.setPen(colour)
        y = r.y() + 1
        if lines >= 3:
            self._text(painter, fonts, font, QRect(left, y, top_right - left, line_h),
                       block.time_text)
            y += line_h
        prefix = f"{block.starts_at:%H:%M} " if lines == 1 else ""
        name_right = min(first_icon - 2, top_right if lines < 3 else r.right() - PAD)
        self._text(painter, fonts, bold, QRect(left, y, name_right - left, line_h + 1),
                   prefix + block.patient_name)
        y += line_h + 1
        second = block.service_name if lines >= 3 else f"{block.time_text} · {block.service_name}"
        if lines >= 2:
            self._text(painter, fonts, font, QRect(left, y, r.right() - PAD - left, line_h),
                       second)
            y += line_h
        if lines >= 5 and block.note:
            self._text(painter, fonts, fonts.italic,
                       QRect(left, y, r.right() - PAD - left, line_h), block.note)

    @staticmethod
    def _text(painter: QPainter, fonts: Fonts, font: QFont, rect: QRect, text: str) -> None:
        if rect.width() <= 4:
            return
        painter.setFont(font)
        shown = fonts.metrics[id(font)].elidedText(text, Qt.TextElideMode.ElideRight, rect.width())
        painter.drawText(rect, int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter),
                         shown)

    def _paint_badge(self, painter: QPainter, option: QStyleOptionViewItem,
                     geo: BlockGeometry) -> None:
        assert geo.badge is not None
        pal = option.palette
        warn = QColor("#b3261e") if geo.block.status == schedule.NO_SHOW else QColor("#8a5a00")
        painter.setPen(QPen(warn, 1.0))
        painter.setBrush(mix(warn, pal.color(QPalette.ColorRole.Base), 0.85))
        painter.drawRect(geo.badge)
        painter.setPen(warn)
        painter.setFont(option.font)
        painter.drawText(geo.badge, int(Qt.AlignmentFlag.AlignCenter), geo.block.badge)

    # -- tooltips ---------------------------------------------------------------------

    def hit(self, cell: Cell, rect: QRect, font: QFont, pos: QPoint
            ) -> tuple[BlockGeometry | None, Icon | None]:
        """The block and the icon (if any) under ``pos``."""
        for geo in self.layout(cell, rect, font):
            if geo.rect.contains(pos):
                for icon_rect, item in geo.icons:
                    if icon_rect.adjusted(-1, -1, 1, 1).contains(pos):
                        return geo, item
                return geo, None
        return None, None

    def helpEvent(self, event: QHelpEvent, view: QAbstractItemView,
                  option: QStyleOptionViewItem,
                  index: QModelIndex | QPersistentModelIndex) -> bool:
        if event.type() != QEvent.Type.ToolTip or not index.isValid():
            return super().helpEvent(event, view, option, index)
        cell = index.data(CellRole)
        geo, item = (None, None) if cell is None else self.hit(cell, option.rect, option.font,
                                                               event.pos())
        if geo is None:
            QToolTip.hideText()
            event.ignore()
            return False
        text = item.tooltip if item is not None else block_summary(geo.block)
        QToolTip.showText(event.globalPos(), text, view.viewport(), geo.rect)
        return True


def block_summary(block: Block) -> str:
    lines = [block.patient_name, f"{block.time_text}  {block.service_name}",
             schedule.LABELS.get(block.status, block.status).capitalize()]
    if block.receipt_no is not None:
        lines[-1] += f" (receipt {block.receipt_no})"
    if block.note:
        lines.append(f"Note: {block.note}")
    return "\n".join(lines)
