"""The schedule grid's geometry and texts (desk/ui/cells.py), from hand-made day views.

Pure tests: no database, no Qt. Dates and month names use the C locale's ``%a %b``.
"""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from desk.core import schedule
from desk.services.day import DayAppointment, DayView, HeldToken, Wallet
from desk.ui.cells import (
    CREDIT,
    OWES,
    TICKET,
    WARNING,
    Block,
    Grid,
    GridOptions,
    Icon,
    build_grid,
    not_covered_text,
    tokens_text,
    wallet_icons,
)

MON = dt.date(2026, 3, 2)
TUE = dt.date(2026, 3, 3)
ANN, BEN = 1, 2
PRACTITIONERS = ((ANN, "Ann Lee"), (BEN, "Ben Okafor"))
NOT_COVERED_ACU = ("Not covered: no Acupuncture token free for this visit and not enough "
                   "credit for $95.00")


def at(day: dt.date, hhmm: str) -> dt.datetime:
    hour, minute = hhmm.split(":")
    return dt.datetime.combine(day, dt.time(int(hour), int(minute)))


def appt(appt_id: int, start: str, end: str | dt.datetime, *, status: str = schedule.BOOKED,
         practitioner: int = ANN, patient: int | None = None, day: dt.date = TUE,
         covered_by: str | None = "token", receipt_no: int | None = None,
         note: str = "") -> DayAppointment:
    """An Acupuncture visit (95.00); ``end`` "HH:MM" is on the same day."""
    ends_at = end if isinstance(end, dt.datetime) else at(day, end)
    return DayAppointment(
        appt_id, patient if patient is not None else 100 + appt_id, f"Patient {appt_id}",
        practitioner, 7, "Acupuncture 45", "#3b82c4", "Acupuncture", 9500, at(day, start),
        ends_at, status, note, None, receipt_no, covered_by)


def day(*appointments: DayAppointment, wallets: dict[int, Wallet] | None = None,
        first_day: dt.date = TUE, days: int = 1) -> DayView:
    return DayView(first_day, days, PRACTITIONERS, appointments, wallets or {})


def grid_of(*appointments: DayAppointment, **options: object) -> Grid:
    return build_grid(day(*appointments), GridOptions(**options))  # type: ignore[arg-type]


def placement(block: Block) -> tuple[int, int, float, float]:
    return block.lane, block.lanes, block.top, block.height


def kinds(block: Block) -> list[str]:
    return [icon.kind for icon in block.icons]


# --------------------------------------------------------------------------- rows


def test_empty_day_runs_from_day_start_to_day_end() -> None:
    grid = grid_of()
    assert (grid.first_minute, grid.slot_minutes, grid.rows) == (8 * 60, 15, 44)
    assert [(c.day, c.practitioner_id, c.title) for c in grid.columns] == [
        (TUE, ANN, "Ann Lee"), (TUE, BEN, "Ben Okafor")]
    assert grid.cells == {} and grid.blocks == {}


def test_rows_extend_to_visits_outside_the_day_and_round_to_slots() -> None:
    early, late = appt(1, "07:50", "08:40"), appt(2, "19:05", "19:20", practitioner=BEN)
    grid = grid_of(early, late)
    assert grid.first_minute == 7 * 60 + 45            # 07:50 rounded down to 07:45
    assert grid.rows == (19 * 60 + 30 - grid.first_minute) // 15  # 19:20 rounded up to 19:30
    assert grid.rows == 47
    assert grid.anchors == {1: (0, 0), 2: (45, 1)}
    assert (grid.cells[(0, 0)].row_span, grid.cells[(45, 1)].row_span) == (4, 2)
    assert placement(grid.blocks[1]) == (0, 1, 5 / 60, 50 / 60)
    assert placement(grid.blocks[2]) == (0, 1, 5 / 30, 15 / 30)

    half_hours = grid_of(early, late, slot_minutes=30)
    assert (half_hours.first_minute, half_hours.rows) == (7 * 60 + 30, 24)
    assert half_hours.anchors == {1: (0, 0), 2: (23, 1)}


def test_a_visit_past_midnight_stretches_the_grid_to_midnight_only() -> None:
    night = appt(1, "23:00", at(TUE + dt.timedelta(days=1), "00:30"))
    grid = grid_of(night)
    assert (grid.first_minute, grid.rows) == (8 * 60, 64)
    cell = grid.cells[(60, 0)]
    assert (cell.row, cell.row_span) == (60, 4)
    assert placement(grid.blocks[1]) == (0, 1, 0.0, 1.0)


def test_hidden_visits_do_not_stretch_the_grid() -> None:
    early = appt(1, "06:00", "06:45", status=schedule.CANCELLED)
    assert grid_of(early).first_minute == 6 * 60
    assert grid_of(early, show_cancelled=False).first_minute == 8 * 60


# --------------------------------------------------------------------------- overlaps


def test_cancelled_visit_and_its_replacement_share_one_cell() -> None:
    cancelled = appt(1, "10:00", "11:00", status=schedule.CANCELLED)
    replacement = appt(2, "10:00", "11:00", patient=200)
    grid = grid_of(cancelled, replacement)
    assert grid.anchors == {1: (8, 0), 2: (8, 0)}
    cell = grid.cells[(8, 0)]
    assert (cell.row, cell.column, cell.row_span) == (8, 0, 4)
    assert [b.appointment_id for b in cell.blocks] == [2, 1]  # the live booking first
    assert placement(grid.blocks[2]) == (0, 2, 0.0, 1.0)
    assert placement(grid.blocks[1]) == (1, 2, 0.0, 1.0)
    assert grid.cell_of(1) is cell and grid.cell_of(3) is None


def test_a_chain_of_overlaps_is_one_cell_with_lanes_reused() -> None:
    # A 09:00–10:00 overlaps B 09:30–10:30, which overlaps C 10:15–11:00; A and C
    # do not overlap, so C goes back to A's lane. D starts when C ends: its own cell.
    a, b, c = appt(1, "09:00", "10:00"), appt(2, "09:30", "10:30"), appt(3, "10:15", "11:00")
    d = appt(4, "11:00", "11:30")
    grid = grid_of(c, a, d, b)
    assert set(grid.cells) == {(4, 0), (12, 0)}
    cell = grid.cells[(4, 0)]
    assert cell.row_span == 8                             # 09:00–11:00
    assert [blk.appointment_id for blk in cell.blocks] == [1, 2, 3]
    assert placement(grid.blocks[1]) == (0, 2, 0.0, 0.5)
    assert placement(grid.blocks[2]) == (1, 2, 0.25, 0.5)
    assert placement(grid.blocks[3]) == (0, 2, 0.625, 0.375)
    assert grid.cells[(12, 0)].row_span == 2
    assert placement(grid.blocks[4]) == (0, 1, 0.0, 1.0)


def test_a_visit_off_the_slot_grid_sits_inside_its_rounded_cell() -> None:
    grid = grid_of(appt(1, "09:05", "09:50"))
    assert grid.anchors == {1: (4, 0)}
    assert grid.cells[(4, 0)].row_span == 4                # 09:00–10:00
    assert placement(grid.blocks[1]) == (0, 1, 5 / 60, 45 / 60)


def test_visits_sharing_a_slot_without_overlapping_get_disjoint_cells() -> None:
    # A 50-minute visit at 09:00 ends inside the 09:45 slot, where the next one
    # starts at 09:50 (bookings may start on any minute). Both must be drawn: cells
    # of a column may not cover the same rows (the view cannot draw overlapping
    # spans), and each visit must be in the cell it is anchored at.
    first, second = appt(1, "09:00", "09:50"), appt(2, "09:50", "10:40")
    check_cells(grid_of(first, second), {1, 2})
    # Shorter still: both start in the 09:00 slot and land on the same anchor row.
    tiny, next_one = appt(3, "09:00", "09:05"), appt(4, "09:10", "09:20")
    check_cells(grid_of(tiny, next_one), {3, 4})


# --------------------------------------------------------------------------- filters


def test_show_cancelled_off_hides_cancelled_late_cancelled_and_no_show() -> None:
    statuses = [schedule.BOOKED, schedule.CHECKED_IN, schedule.COMPLETED,
                schedule.CANCELLED, schedule.LATE_CANCELLED, schedule.NO_SHOW]
    visits = [appt(i + 1, f"{9 + i:02d}:00", f"{9 + i:02d}:45", status=s)
              for i, s in enumerate(statuses)]
    shown = grid_of(*visits)
    assert sorted(shown.blocks) == [1, 2, 3, 4, 5, 6]
    assert {i: (b.badge, b.active) for i, b in shown.blocks.items()} == {
        1: ("", True), 2: ("", True), 3: ("", True), 4: ("", False),
        5: ("LATE CANCEL", False), 6: ("NO-SHOW", False)}
    hidden = grid_of(*visits, show_cancelled=False)
    assert sorted(hidden.blocks) == [1, 2, 3]
    assert sorted(hidden.anchors.values()) == [(4, 0), (8, 0), (12, 0)]


def test_a_cancelled_visit_hidden_leaves_its_replacement_alone_in_its_cell() -> None:
    cancelled = appt(1, "10:00", "11:00", status=schedule.LATE_CANCELLED)
    replacement = appt(2, "10:00", "11:00")
    grid = grid_of(cancelled, replacement, show_cancelled=False)
    assert list(grid.blocks) == [2]
    assert placement(grid.blocks[2]) == (0, 1, 0.0, 1.0)


def test_without_the_credit_system_no_block_has_icons() -> None:
    rich = Wallet(101, 1250, {"Acupuncture": 3})
    owing = Wallet(102, -2500)
    view = day(appt(1, "09:00", "09:45"), appt(2, "10:00", "10:45", covered_by=None),
               wallets={101: rich, 102: owing})
    on = build_grid(view, GridOptions())
    assert {i: kinds(b) for i, b in on.blocks.items()} == {
        1: [TICKET, CREDIT], 2: [OWES, WARNING]}
    off = build_grid(view, GridOptions(use_credit_system=False))
    assert {i: b.icons for i, b in off.blocks.items()} == {1: (), 2: ()}


# --------------------------------------------------------------------------- icons


@pytest.mark.parametrize(
    ("wallet", "expected"),
    [
        (Wallet(1, 0, {"Acupuncture": 4}), [(TICKET, "4 Acupuncture tokens")]),
        (Wallet(1, 0, {"Acupuncture": 1}), [(TICKET, "1 Acupuncture token")]),
        (Wallet(1, 1250), [(CREDIT, "$12.50 credit")]),
        (Wallet(1, 1), [(CREDIT, "$0.01 credit")]),
        (Wallet(1, -2500), [(OWES, "owes $25.00")]),
        (Wallet(1, -123456), [(OWES, "owes $1,234.56")]),
        (Wallet(1, 0), []),
        (Wallet(1, 0, {"Acupuncture": 0}), []),
        (Wallet(1, 0, {"Acupuncture": -2}), []),
        (Wallet(1, -100, {"Acupuncture": -1}), [(OWES, "owes $1.00")]),
        (Wallet(1, 500, {"Acupuncture": 2}),
         [(TICKET, "2 Acupuncture tokens"), (CREDIT, "$5.00 credit")]),
        (Wallet(1, -100, {"Massage": 1, "Acupuncture": -1}),
         [(TICKET, "1 Massage token"), (OWES, "owes $1.00")]),
        (Wallet(1, 1250, credit_held_cents=500),
         [(CREDIT, "$12.50 credit, $5.00 held for bookings")]),
        (None, []),
    ],
    ids=["tokens", "one-token", "credit", "one-cent", "owes", "owes-thousands", "nothing",
         "zero-tokens", "negative-tokens", "negative-both", "tokens-and-credit",
         "one-kind-negative", "credit-held", "no-wallet"],
)
def test_icons_follow_the_balances(wallet: Wallet | None,
                                   expected: list[tuple[str, str]]) -> None:
    assert [(i.kind, i.tooltip) for i in wallet_icons(wallet, "USD")] == expected
    # The same icons on a covered booking of that patient in the grid.
    visit = appt(1, "09:00", "09:45", patient=1)
    grid = build_grid(day(visit, wallets={} if wallet is None else {1: wallet}),
                      GridOptions())
    assert [(i.kind, i.tooltip) for i in grid.blocks[1].icons] == expected


def test_euro_amounts() -> None:
    assert wallet_icons(Wallet(1, 1250), "EUR") == (Icon(CREDIT, "€12.50 credit"),)
    assert wallet_icons(Wallet(1, -2500), "eur") == (Icon(OWES, "owes €25.00"),)
    visit = appt(1, "09:00", "09:45", patient=1, covered_by=None)
    grid = build_grid(day(visit, wallets={1: Wallet(1, -2500)}), GridOptions(currency="EUR"))
    assert grid.blocks[1].icons == (
        Icon(OWES, "owes €25.00"),
        Icon(WARNING, "Not covered: no Acupuncture token free for this visit and not "
                      "enough credit for €95.00"))


def test_a_shared_household_wallet_says_so_in_every_tooltip() -> None:
    shared = Wallet(1, 1250, {"Acupuncture": 2}, household_id=7)
    assert [(i.kind, i.tooltip) for i in wallet_icons(shared, "USD")] == [
        (TICKET, "2 Acupuncture tokens\n(shared household wallet)"),
        (CREDIT, "$12.50 credit\n(shared household wallet)")]


@pytest.mark.parametrize(
    ("status", "covered_by", "warned"),
    [
        (schedule.BOOKED, None, True),
        (schedule.BOOKED, "hold", False),
        (schedule.BOOKED, "token", False),
        (schedule.BOOKED, "credit", False),
        (schedule.CHECKED_IN, None, False),
        (schedule.COMPLETED, None, False),
        (schedule.CANCELLED, None, False),
        (schedule.LATE_CANCELLED, None, False),
        (schedule.NO_SHOW, None, False),
    ],
)
def test_warning_only_on_a_booked_visit_not_covered(status: str, covered_by: str | None,
                                                    warned: bool) -> None:
    grid = grid_of(appt(1, "09:00", "09:45", status=status, covered_by=covered_by))
    expected = (Icon(WARNING, NOT_COVERED_ACU),) if warned else ()
    assert grid.blocks[1].icons == expected


def test_not_covered_text() -> None:
    assert not_covered_text(appt(1, "09:00", "09:45"), "USD") == NOT_COVERED_ACU


def test_tokens_text_with_a_hold_and_an_expiry() -> None:
    wallet = Wallet(1, 0, {"Acupuncture": 4}, {"Acupuncture": 1},
                    (HeldToken("Acupuncture", 1, at(TUE, "10:00")),),
                    next_expiry={"Acupuncture": (dt.date(2026, 12, 31), 2)})
    assert tokens_text(wallet) == "4 Acupuncture tokens, 1 held for Tue 03 Mar 10:00; " \
                                  "2 expire 2026-12-31"
    assert wallet_icons(wallet, "USD") == (Icon(TICKET, tokens_text(wallet)),)


def test_tokens_text_singular_several_holds_and_kinds() -> None:
    wallet = Wallet(
        1, 0, {"Massage": 1, "Acupuncture": 3, "Cupping": 0, "Tuina": -1},
        {"Acupuncture": 2},
        (HeldToken("Acupuncture", 1, at(TUE, "10:00")),
         HeldToken("Acupuncture", 1, at(dt.date(2026, 3, 5), "09:30"))),
        next_expiry={"Massage": (dt.date(2026, 5, 31), 1),
                     "Acupuncture": (dt.date(2026, 4, 1), 3)})
    assert tokens_text(wallet) == (
        "3 Acupuncture tokens, 2 held for Tue 03 Mar 10:00, Thu 05 Mar 09:30; "
        "3 expire 2026-04-01\n"
        "1 Massage token; 1 expires 2026-05-31")
    assert tokens_text(Wallet(1, 0, {"Acupuncture": 1})) == "1 Acupuncture token"


def test_block_detail_and_cell_text() -> None:
    visit = appt(1, "09:00", "09:45", covered_by=None, receipt_no=None, note="left knee",
                 patient=1)
    grid = build_grid(day(visit, wallets={1: Wallet(1, 1250)}), GridOptions())
    block = grid.blocks[1]
    assert block.time_text == "09:00–09:45"
    assert block.detail == ("09:00–09:45 Patient 1 · Acupuncture 45 · booked · $12.50 credit · "
                            f"{NOT_COVERED_ACU} · note: left knee")
    done = grid_of(appt(2, "09:00", "09:45", status=schedule.CHECKED_IN, receipt_no=17))
    assert done.blocks[2].detail == "09:00–09:45 Patient 2 · Acupuncture 45 · checked in · " \
                                    "receipt 17"
    assert done.cells[(4, 0)].text == done.blocks[2].detail


# --------------------------------------------------------------------------- week view


def test_week_view_has_seven_day_columns_for_one_practitioner() -> None:
    visits = (appt(1, "09:00", "09:45", day=TUE), appt(2, "09:00", "09:45", day=TUE,
                                                       practitioner=BEN),
              appt(3, "14:00", "14:45", day=dt.date(2026, 3, 5)),
              appt(4, "09:00", "09:45", day=dt.date(2026, 3, 9)))   # next Monday
    view = day(*visits, first_day=MON, days=7)
    grid = build_grid(view, GridOptions(week=True, practitioner_id=ANN))
    assert [(c.day, c.practitioner_id, c.title) for c in grid.columns] == [
        (MON + dt.timedelta(days=i), ANN, title) for i, title in enumerate(
            ["Mon 02 Mar", "Tue 03 Mar", "Wed 04 Mar", "Thu 05 Mar", "Fri 06 Mar",
             "Sat 07 Mar", "Sun 08 Mar"])]
    assert grid.anchors == {1: (4, 1), 3: (24, 3)}
    assert grid.slot_time(4, 1) == at(TUE, "09:00")
    assert grid.slot_time(24, 3) == at(dt.date(2026, 3, 5), "14:00")

    everyone = build_grid(view, GridOptions(week=True))
    assert {c.practitioner_id for c in everyone.columns} == {None}
    assert everyone.anchors == {1: (4, 1), 2: (4, 1), 3: (24, 3)}
    assert [placement(everyone.blocks[i]) for i in (1, 2)] == [(0, 2, 0.0, 1.0),
                                                               (1, 2, 0.0, 1.0)]


def test_slot_time_and_row_of_round_trip() -> None:
    grid = grid_of(appt(1, "07:50", "08:30"), slot_minutes=10)
    assert (grid.first_minute, grid.rows) == (7 * 60 + 50, 67)
    for column in range(len(grid.columns)):
        for row in range(grid.rows + 1):
            slot = grid.slot_time(row, column)
            assert slot.date() == TUE
            assert grid.row_of(slot) == row
    assert grid.slot_time(0, 1) == at(TUE, "07:50")
    assert grid.slot_time(grid.rows, 0) == at(TUE, "19:00")
    assert grid.row_of(dt.datetime(2026, 3, 3, 8, 5, 30)) == 1.55
    assert grid.row_of(at(TUE, "07:45")) == -0.5


# --------------------------------------------------------------------------- property


def check_cells(grid: Grid, ids: set[int]) -> None:
    """Every visit in exactly one cell (the one it is anchored at); cells of a column
    cover disjoint rows inside the grid; lanes never overlap in time; blocks sit at
    their times inside their cell."""
    seen = [b.appointment_id for cell in grid.cells.values() for b in cell.blocks]
    assert sorted(seen) == sorted(ids), "a visit is missing from the cells or drawn twice"
    assert set(grid.blocks) == ids
    for appointment_id, key in grid.anchors.items():
        assert appointment_id in [b.appointment_id for b in grid.cells[key].blocks]
    rows_taken: dict[int, set[int]] = {}
    for (row, column), cell in grid.cells.items():
        assert (cell.row, cell.column) == (row, column)
        assert row >= 0 and row + cell.row_span <= grid.rows and cell.row_span >= 1
        taken = rows_taken.setdefault(column, set())
        rows = set(range(row, row + cell.row_span))
        assert not taken & rows, f"cells of column {column} overlap on rows {taken & rows}"
        taken |= rows
        span_start = grid.slot_time(row, column)
        span_min = cell.row_span * grid.slot_minutes
        lanes = {b.lanes for b in cell.blocks}
        assert len(lanes) == 1 and all(0 <= b.lane < b.lanes for b in cell.blocks)
        for block in cell.blocks:
            assert block.top >= 0 and block.height > 0 and block.top + block.height <= 1
            start = (block.starts_at - span_start).total_seconds() / 60
            end = min((block.ends_at - span_start).total_seconds() / 60, span_min)
            assert block.top * span_min == pytest.approx(start)
            assert (block.top + block.height) * span_min == pytest.approx(end)
        for i, one in enumerate(cell.blocks):
            for other in cell.blocks[i + 1:]:
                if one.lane == other.lane:
                    assert not schedule.overlaps(one.starts_at, one.ends_at,
                                                 other.starts_at, other.ends_at)


VISIT = st.tuples(
    st.integers(6 * 12, 22 * 12),                 # start, in 5-minute steps
    st.integers(1, 36),                           # duration, in 5-minute steps
    st.sampled_from([ANN, BEN]),
    st.sampled_from(schedule.STATUSES),
)


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(visits=st.lists(VISIT, max_size=12),
       slot_minutes=st.sampled_from([5, 10, 15, 20, 30, 60]),
       show_cancelled=st.booleans())
def test_every_visit_is_in_exactly_one_cell(visits: list[tuple[int, int, int, str]],
                                            slot_minutes: int, show_cancelled: bool) -> None:
    midnight = dt.datetime.combine(TUE, dt.time())
    appointments = tuple(
        DayAppointment(i, 100 + i, f"P{i}", practitioner, 7, "Acupuncture 45", "#3b82c4",
                       "Acupuncture", 9500, midnight + dt.timedelta(minutes=5 * start),
                       midnight + dt.timedelta(minutes=5 * (start + length)), status, "",
                       None, None, "token")
        for i, (start, length, practitioner, status) in enumerate(visits, start=1))
    grid = build_grid(day(*appointments), GridOptions(slot_minutes=slot_minutes,
                                                      show_cancelled=show_cancelled))
    shown = {a.id for a in appointments
             if show_cancelled or a.status in schedule.OCCUPYING}
    check_cells(grid, shown)
