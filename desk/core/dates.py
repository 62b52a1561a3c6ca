"""Dates typed by people and read back from either database backend."""

from __future__ import annotations

import datetime as dt
import re

from desk.core.errors import BadInput

MIN_DATE = dt.date(1900, 1, 1)
MAX_DATE = dt.date(2200, 12, 31)


def parse_date(text: str, field: str) -> dt.date:
    """``YYYY-MM-DD`` between 1900 and 2200, or ``BadInput`` naming ``field``."""
    value = (text or "").strip()
    if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value):
        raise BadInput(field, f"{text!r} is not a date like 2026-03-31")
    try:
        parsed = dt.date.fromisoformat(value)
    except ValueError:
        raise BadInput(field, f"{text!r} is not a real date") from None
    if not MIN_DATE <= parsed <= MAX_DATE:
        raise BadInput(field, f"{text!r} is out of range (1900-01-01 to 2200-12-31)")
    return parsed


def as_date(value: object) -> dt.date:
    """A date from what a driver returned (SQLite gives text for aggregates)."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        return dt.date.fromisoformat(value[:10])
    raise TypeError(f"not a date: {value!r}")


def as_datetime(value: object) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value
    if isinstance(value, str):
        return dt.datetime.fromisoformat(value)
    raise TypeError(f"not a datetime: {value!r}")
