"""Argument converters: each refuses bad input with a message naming the problem.

argparse prefixes the message with the argument's name and exits with 2.
"""

from __future__ import annotations

import argparse
import datetime as dt
import re
from collections.abc import Callable

from desk.core.dates import parse_date
from desk.core.errors import BadInput
from desk.core.money import parse_amount, parse_count
from desk.services.results import TENDER_METHODS, Tender

MAX_ID = 2**63 - 1


def record_id(text: str) -> int:
    """A database id: ASCII digits, positive."""
    value = text.strip()
    if not re.fullmatch(r"[0-9]{1,19}", value) or not 0 < int(value) <= MAX_ID:
        raise argparse.ArgumentTypeError(f"{text!r} is not an id (a positive whole number)")
    return int(value)


def _converter(parse: Callable[..., int], what: str, **options: object) -> Callable[[str], int]:
    """Wrap a core parser so its ``BadInput`` becomes argparse's error (exit 2)."""

    def convert(text: str) -> int:
        try:
            return parse(text, what, **options)
        except BadInput as exc:
            raise argparse.ArgumentTypeError(exc.reason) from None

    return convert


#: A positive amount such as 12.50, in cents.
amount = _converter(parse_amount, "amount")
amount_or_zero = _converter(parse_amount, "amount", allow_zero=True)
#: A non-zero signed amount (adjustments).
signed_amount = _converter(parse_amount, "amount", allow_negative=True)
count = _converter(parse_count, "count")
signed_count = _converter(parse_count, "count", allow_negative=True)


def bounded(low: int, high: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = parse_count(text, "number", maximum=high)
        except BadInput as exc:
            raise argparse.ArgumentTypeError(exc.reason) from None
        if value < low:
            raise argparse.ArgumentTypeError(f"must be at least {low}")
        return value
    return parse


def date(text: str) -> dt.date:
    try:
        return parse_date(text, "date")
    except BadInput as exc:
        raise argparse.ArgumentTypeError(exc.reason) from None


def when(text: str) -> dt.datetime:
    """``YYYY-MM-DDTHH:MM`` (a space instead of the T is fine), clinic local time."""
    value = text.strip().replace(" ", "T", 1)
    if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}", value):
        raise argparse.ArgumentTypeError(f"{text!r} is not a time like 2026-03-02T14:30")
    day = date(value[:10])
    try:
        clock = dt.time.fromisoformat(value[11:])
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} has no such time of day") from None
    return dt.datetime.combine(day, clock)


def item(text: str) -> tuple[str, int]:
    """``DESCRIPTION=AMOUNT``, e.g. ``Herbs=12.50``."""
    desc, sep, value = text.rpartition("=")
    if not sep or not desc.strip():
        raise argparse.ArgumentTypeError(f"{text!r} is not DESCRIPTION=AMOUNT (e.g. Herbs=12.50)")
    return desc.strip(), amount(value)


def credit_use(text: str) -> str | int:
    """``all``, ``none`` or an amount of credit to use."""
    value = text.strip().lower()
    if value in ("all", "none"):
        return value
    return amount_or_zero(text)


def text_arg(text: str) -> str:
    if "\x00" in text:
        raise argparse.ArgumentTypeError("contains a NUL character")
    return text


def tender(text: str) -> Tender:
    """``METHOD:AMOUNT[:REFERENCE]``, e.g. ``cash:50``, ``card:20.00:4242 auth 81A``."""
    parts = text.split(":", 2)
    if len(parts) < 2:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not METHOD:AMOUNT (e.g. cash:50.00, card:20:4242)")
    method = parts[0].strip().lower()
    if method not in TENDER_METHODS:
        raise argparse.ArgumentTypeError(
            f"unknown payment method {parts[0]!r}; use one of {', '.join(TENDER_METHODS)}")
    cents = amount(parts[1])
    reference = parts[2].strip() if len(parts) == 3 else ""
    if len(reference) > 100:
        raise argparse.ArgumentTypeError("the payment reference is too long (at most 100)")
    return Tender(method, cents, reference)


def png_path(text: str) -> str:
    if not text.strip() or not text.lower().endswith(".png"):
        raise argparse.ArgumentTypeError(f"{text!r} should be a file name ending in .png")
    return text


def window_size(text: str) -> tuple[int, int]:
    match = re.fullmatch(r"([0-9]{1,5})x([0-9]{1,5})", text.strip())
    if not match:
        raise argparse.ArgumentTypeError(f"{text!r} is not a size like 1600x1000")
    width, height = int(match[1]), int(match[2])
    if not (640 <= width <= 7680 and 480 <= height <= 4320):
        raise argparse.ArgumentTypeError(f"{text!r}: width 640-7680 and height 480-4320, please")
    return width, height
