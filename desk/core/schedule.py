"""Appointment rules: statuses and their transitions, overlaps, late cancels, periods."""

from __future__ import annotations

import datetime as dt

from desk.core.errors import Refused

BOOKED = "booked"
CHECKED_IN = "checked_in"
COMPLETED = "completed"
CANCELLED = "cancelled"
LATE_CANCELLED = "late_cancelled"
NO_SHOW = "no_show"
STATUSES = (BOOKED, CHECKED_IN, COMPLETED, CANCELLED, LATE_CANCELLED, NO_SHOW)

#: What each status may become. Reversing a check-in goes back to booked.
TRANSITIONS: dict[str, frozenset[str]] = {
    BOOKED: frozenset({CHECKED_IN, CANCELLED, LATE_CANCELLED, NO_SHOW}),
    CHECKED_IN: frozenset({COMPLETED, BOOKED}),
    COMPLETED: frozenset({BOOKED}),
    CANCELLED: frozenset(),
    LATE_CANCELLED: frozenset(),
    NO_SHOW: frozenset(),
}
#: Statuses that occupy the practitioner's time.
OCCUPYING = frozenset({BOOKED, CHECKED_IN, COMPLETED})

LABELS = {BOOKED: "booked", CHECKED_IN: "checked in", COMPLETED: "completed",
          CANCELLED: "cancelled", LATE_CANCELLED: "late-cancelled", NO_SHOW: "no-show"}


def check_transition(appointment_id: int, old: str, new: str) -> None:
    """Refuse a status change the workflow does not allow, saying why."""
    if new not in TRANSITIONS[old]:
        raise Refused(f"appointment {appointment_id} is {LABELS[old]}; it cannot become "
                      f"{LABELS[new]}")


def overlaps(a_start: dt.datetime, a_end: dt.datetime, b_start: dt.datetime,
             b_end: dt.datetime) -> bool:
    """Half-open intervals: a visit ending at 10:00 does not clash with one at 10:00."""
    return a_start < b_end and b_start < a_end


def is_late(now: dt.datetime, starts_at: dt.datetime, window_hours: int) -> bool:
    """A cancel is late when made inside ``window_hours`` before the start (or after it)."""
    return now >= starts_at - dt.timedelta(hours=window_hours)


def period_of(day: dt.date) -> str:
    """The billing period of a membership: the calendar month, ``"2026-03"``."""
    return f"{day.year:04d}-{day.month:02d}"
