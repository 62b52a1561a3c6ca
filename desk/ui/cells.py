"""What the schedule grid paints, computed once per load (no Qt, no database).

A :class:`Grid` turns a :class:`~desk.services.day.DayView` into columns (one per
practitioner, or one per day in the week view), rows of ``slot_minutes`` and
cells. Appointments that overlap in a column (a cancelled visit and the booking
that replaced it, or a double booking) share one cell spanning their time, each in
its own lane, so the model's ``data()`` only hands out these ready-made structs.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from desk.core import schedule
from desk.core.money import format_money
from desk.services.day import DayAppointment, DayView, Wallet

TICKET, CREDIT, OWES, WARNING = "ticket", "credit", "owes", "warning"
INACTIVE = frozenset({schedule.CANCELLED, schedule.LATE_CANCELLED, schedule.NO_SHOW})
DONE = frozenset({schedule.CHECKED_IN, schedule.COMPLETED})
BADGES = {schedule.LATE_CANCELLED: "LATE CANCEL", schedule.NO_SHOW: "NO-SHOW"}


@dataclass(frozen=True, slots=True)
class Icon:
    kind: str        # TICKET, CREDIT, OWES or WARNING
    tooltip: str


@dataclass(frozen=True, slots=True)
class Block:
    """One appointment as painted: texts, icons, and where it sits in its cell."""

    appointment_id: int
    patient_id: int
    practitioner_id: int
    patient_name: str
    service_name: str
    colour: str
    price_cents: int
    token_kind: str
    status: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    time_text: str
    icons: tuple[Icon, ...]
    badge: str               # "" or a label such as "NO-SHOW"
    note: str
    checkin_txn_id: int | None
    receipt_no: int | None
    covered_by: str | None   # booked visits: "hold", "token", "credit" or None
    credit_cents: int        # the patient's signed credit (negative: owed)
    credit_held_cents: int   # credit held for bookings
    lane: int
    lanes: int
    top: float               # fraction of the cell's height where the block starts
    height: float            # fraction of the cell's height it covers

    @property
    def detail(self) -> str:
        """The block in words (status bar, side panel, screen readers)."""
        parts = [f"{self.time_text} {self.patient_name}", self.service_name,
                 schedule.LABELS.get(self.status, self.status)]
        if self.receipt_no is not None:
            parts.append(f"receipt {self.receipt_no}")
        parts += [icon.tooltip for icon in self.icons]
        if self.note:
            parts.append(f"note: {self.note}")
        return " · ".join(parts)

    @property
    def active(self) -> bool:
        return self.status not in INACTIVE


@dataclass(frozen=True, slots=True)
class Cell:
    row: int
    column: int
    row_span: int
    blocks: tuple[Block, ...]

    @property
    def text(self) -> str:
        return "; ".join(block.detail for block in self.blocks)


@dataclass(frozen=True, slots=True)
class Column:
    day: dt.date
    practitioner_id: int | None   # None: every practitioner (week view)
    title: str


@dataclass(frozen=True, slots=True)
class Grid:
    columns: tuple[Column, ...]
    first_minute: int          # minutes after midnight of row 0
    slot_minutes: int
    rows: int
    cells: dict[tuple[int, int], Cell] = field(default_factory=dict)
    blocks: dict[int, Block] = field(default_factory=dict)
    anchors: dict[int, tuple[int, int]] = field(default_factory=dict)  # id -> (row, column)

    def slot_time(self, row: int, column: int) -> dt.datetime:
        """The start of the slot at ``row`` in ``column``."""
        day = self.columns[column].day
        return dt.datetime.combine(day, dt.time()) + dt.timedelta(
            minutes=self.first_minute + row * self.slot_minutes)

    def row_of(self, at: dt.datetime) -> float:
        """Fractional row of a time (row 0 at the top of the grid)."""
        minutes = at.hour * 60 + at.minute + at.second / 60
        return (minutes - self.first_minute) / self.slot_minutes

    def cell_of(self, appointment_id: int) -> Cell | None:
        key = self.anchors.get(appointment_id)
        return None if key is None else self.cells[key]


@dataclass(frozen=True, slots=True)
class GridOptions:
    day_start: dt.time = dt.time(8, 0)
    day_end: dt.time = dt.time(19, 0)
    slot_minutes: int = 15
    currency: str = "USD"
    use_credit_system: bool = True
    show_cancelled: bool = True
    week: bool = False
    practitioner_id: int | None = None    # week view: one practitioner, or None for all


def build_grid(view: DayView, options: GridOptions) -> Grid:
    columns = _columns(view, options)
    slot = options.slot_minutes
    appts = [a for a in view.appointments
             if options.show_cancelled or a.status not in INACTIVE]
    first = _minutes(options.day_start)
    last = _minutes(options.day_end)
    for appt in appts:
        first = min(first, _minutes(appt.starts_at.time()))
        last = max(last, _end_minute(appt))
    first -= first % slot
    last = min(-(-last // slot) * slot, 24 * 60)
    rows = max((last - first) // slot, 1)
    index = {(c.day, c.practitioner_id): i for i, c in enumerate(columns)}
    by_column: dict[int, list[DayAppointment]] = {}
    for appt in appts:
        key = (appt.starts_at.date(), None if options.week and options.practitioner_id is None
               else appt.practitioner_id)
        column = index.get(key)
        if column is not None:
            by_column.setdefault(column, []).append(appt)
    cells: dict[tuple[int, int], Cell] = {}
    blocks: dict[int, Block] = {}
    anchors: dict[int, tuple[int, int]] = {}
    for column, items in by_column.items():
        for cluster in _clusters(items, first, slot):
            cell = _cell(cluster, column, first, slot, rows, view.wallets, options)
            cells[(cell.row, column)] = cell
            for block in cell.blocks:
                blocks[block.appointment_id] = block
                anchors[block.appointment_id] = (cell.row, column)
    return Grid(columns, first, slot, rows, cells, blocks, anchors)


def _columns(view: DayView, options: GridOptions) -> tuple[Column, ...]:
    if not options.week:
        return tuple(Column(view.first_day, pid, name) for pid, name in view.practitioners)
    days = [view.first_day + dt.timedelta(days=i) for i in range(view.days)]
    return tuple(Column(day, options.practitioner_id, day.strftime("%a %d %b")) for day in days)


def _minutes(t: dt.time) -> int:
    return t.hour * 60 + t.minute


def _end_minute(appt: DayAppointment) -> int:
    """Minutes after midnight of its day when the visit ends (a visit running past
    midnight ends at 24:00 on the grid)."""
    if appt.ends_at.date() != appt.starts_at.date():
        return 24 * 60
    return _minutes(appt.ends_at.time())


def _clusters(items: list[DayAppointment], first: int, slot: int
              ) -> list[list[DayAppointment]]:
    """Runs of appointments whose slot rows overlap (transitively): a cell spans whole
    slots, so two visits sharing a slot share a cell even when their times do not
    overlap (09:00-09:50 and 09:50-10:40 with 15-minute slots)."""
    out: list[list[DayAppointment]] = []
    end_row: int | None = None
    for appt in sorted(items, key=lambda a: (a.starts_at, a.status in INACTIVE, a.id)):
        start, end = _row_range(appt, first, slot)
        if end_row is not None and start < end_row:
            out[-1].append(appt)
            end_row = max(end_row, end)
        else:
            out.append([appt])
            end_row = end
    return out


def _row_range(appt: DayAppointment, first: int, slot: int) -> tuple[int, int]:
    """First row and one past the last row an appointment touches."""
    start, end = _minutes(appt.starts_at.time()), _end_minute(appt)
    return (start - first) // slot, max(-(-(end - first) // slot), (start - first) // slot + 1)


def _cell(cluster: list[DayAppointment], column: int, first: int, slot: int, rows: int,
          wallets: dict[int, Wallet], options: GridOptions) -> Cell:
    start_min = _minutes(cluster[0].starts_at.time())
    end_min = max(_end_minute(a) for a in cluster)
    row = max((start_min - first) // slot, 0)
    row_end = min(-(-(end_min - first) // slot), rows)
    span = max(row_end - row, 1)
    span_start = first + row * slot
    span_min = span * slot
    lane_ends: list[dt.datetime] = []
    placed: list[tuple[DayAppointment, int]] = []
    for appt in cluster:
        lane = next((i for i, e in enumerate(lane_ends) if e <= appt.starts_at), len(lane_ends))
        if lane == len(lane_ends):
            lane_ends.append(appt.ends_at)
        else:
            lane_ends[lane] = appt.ends_at
        placed.append((appt, lane))
    lanes = len(lane_ends)
    blocks = []
    for appt, lane in placed:
        top_min = _minutes(appt.starts_at.time()) - span_start
        end = _end_minute(appt)
        blocks.append(_block(appt, wallets.get(appt.patient_id), options, lane, lanes,
                             max(top_min, 0) / span_min,
                             max(min(end - span_start, span_min) - max(top_min, 0), 1)
                             / span_min))
    return Cell(row, column, span, tuple(blocks))


def _block(appt: DayAppointment, wallet: Wallet | None, options: GridOptions, lane: int,
           lanes: int, top: float, height: float) -> Block:
    icons = wallet_icons(wallet, options.currency) if options.use_credit_system else ()
    if (options.use_credit_system and appt.status == schedule.BOOKED
            and appt.covered_by is None):
        icons = (*icons, Icon(WARNING, not_covered_text(appt, options.currency)))
    time_text = f"{appt.starts_at:%H:%M}–{appt.ends_at:%H:%M}"
    return Block(appt.id, appt.patient_id, appt.practitioner_id, appt.patient_name,
                 appt.service_name, appt.colour, appt.price_cents,
                 appt.token_kind, appt.status, appt.starts_at, appt.ends_at,
                 time_text, icons, BADGES.get(appt.status, ""), appt.note,
                 appt.checkin_txn_id, appt.receipt_no, appt.covered_by,
                 wallet.credit_cents if wallet else 0,
                 wallet.credit_held_cents if wallet else 0, lane, lanes, top, height)


def wallet_icons(wallet: Wallet | None, currency: str) -> tuple[Icon, ...]:
    """Blue ticket with tokens, blue dollar with credit, red dollar when owing."""
    if wallet is None:
        return ()
    icons = []
    if any(count > 0 for count in wallet.tokens.values()):
        icons.append(Icon(TICKET, tokens_text(wallet)))
    if wallet.credit_cents > 0:
        text = f"{format_money(wallet.credit_cents, currency)} credit"
        if wallet.credit_held_cents:
            text += f", {format_money(wallet.credit_held_cents, currency)} held for bookings"
        icons.append(Icon(CREDIT, text))
    elif wallet.credit_cents < 0:
        icons.append(Icon(OWES, f"owes {format_money(-wallet.credit_cents, currency)}"))
    if wallet.household_id is not None:
        icons = [Icon(icon.kind, icon.tooltip + "\n(shared household wallet)") for icon in icons]
    return tuple(icons)


def tokens_text(wallet: Wallet) -> str:
    """``4 Acupuncture tokens, 1 held for Tue 24 Nov 10:00; 2 expire 2026-12-31``, one
    line per kind."""
    lines = []
    for kind in sorted(wallet.tokens):
        count = wallet.tokens[kind]
        if count <= 0:
            continue
        text = f"{count} {kind} token{'s' if count != 1 else ''}"
        holds = [h for h in wallet.holds if h.kind == kind]
        if holds:
            when = ", ".join(f"{h.starts_at:%a %d %b %H:%M}" for h in holds)
            text += f", {wallet.held.get(kind, 0)} held for {when}"
        expiry = wallet.next_expiry.get(kind)
        if expiry is not None:
            day, left = expiry
            text += f"; {left} expire{'s' if left == 1 else ''} {day.isoformat()}"
        lines.append(text)
    return "\n".join(lines)


def not_covered_text(appt: DayAppointment, currency: str) -> str:
    price = format_money(appt.price_cents, currency)
    return (f"Not covered: no {appt.token_kind} token free for this visit "
            f"and not enough credit for {price}")
