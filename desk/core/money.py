"""Money as integer cents: strict parsing at the edges, formatting for people.

Amounts enter as decimal strings ("12.50") and leave the same way; in between
they are ``int`` cents. No float ever touches a money path.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from desk.core.errors import BadInput

#: The largest amount desk accepts anywhere: 999,999,999.99 in major units.
MAX_CENTS = 99_999_999_999
#: The largest token count in one operation.
MAX_TOKENS = 100_000

_AMOUNT = re.compile(r"([+-]?)([0-9]+)(?:\.([0-9]{1,2}))?")
_COUNT = re.compile(r"([+-]?)([0-9]+)")

_SYMBOLS = {"USD": "$", "CAD": "$", "AUD": "$", "NZD": "$", "EUR": "€", "GBP": "£",
            "JPY": "¥", "CHF": "CHF ", "INR": "₹"}
_NO_MINOR_UNITS = {"JPY"}


@dataclass(frozen=True, order=True, slots=True)
class Money:
    """An amount of the clinic currency in integer cents. Adds only to Money."""

    cents: int

    def __post_init__(self) -> None:
        if type(self.cents) is not int:
            raise TypeError(f"Money needs integer cents, got {type(self.cents).__name__}")

    def __add__(self, other: object) -> Money:
        if not isinstance(other, Money):
            raise TypeError(f"cannot add Money and {type(other).__name__}")
        return Money(self.cents + other.cents)

    def __sub__(self, other: object) -> Money:
        if not isinstance(other, Money):
            raise TypeError(f"cannot subtract {type(other).__name__} from Money")
        return Money(self.cents - other.cents)

    def __neg__(self) -> Money:
        return Money(-self.cents)

    def __bool__(self) -> bool:
        return self.cents != 0


def _explain_bad_amount(text: str) -> str:
    stripped = text.strip()
    if not stripped:
        return "is empty; type an amount such as 12.50"
    if any(ch.isdigit() and not ch.isascii() for ch in stripped):
        return f"{text!r} has non-ASCII digits; type plain digits such as 12.50"
    low = stripped.lower()
    if low.lstrip("+-") in {"nan", "inf", "infinity"}:
        return f"{text!r} is not an amount"
    if "," in stripped and re.fullmatch(r"[+-]?[0-9]+,[0-9]{1,2}", stripped):
        return f"{text!r}: use a dot for cents, e.g. {stripped.replace(',', '.')}"
    if re.fullmatch(r"[+-]?[0-9]+\.[0-9]{3,}", stripped):
        return f"{text!r} has more than two decimals"
    if "e" in low or "^" in low:
        return f"{text!r}: exponents are not accepted; type the amount in full"
    return f"{text!r} is not an amount; type digits with an optional .cents, e.g. 12.50"


def parse_amount(text: str, field: str, *, allow_negative: bool = False,
                 allow_zero: bool = False) -> int:
    """Parse a decimal string into integer cents or raise ``BadInput`` naming ``field``.

    Accepts ASCII ``[+-]digits[.d[d]]`` only; surrounding spaces are ignored.
    """
    if text is None:
        raise BadInput(field, "is missing")
    if len(text) > 40:
        raise BadInput(field, f"{text[:20]!r}... is too long to be an amount")
    match = _AMOUNT.fullmatch(text.strip())
    if match is None:
        raise BadInput(field, _explain_bad_amount(text))
    sign, whole, frac = match.groups()
    if sign == "-" and not whole.strip("0") and not (frac or "").strip("0"):
        raise BadInput(field, f"{text!r}: zero has no sign; type 0 or a positive amount")
    if len(whole.lstrip("0")) > 9:
        raise BadInput(field, f"{text!r} is too large (at most {format_amount(MAX_CENTS)})")
    cents = int(whole) * 100 + int((frac or "0").ljust(2, "0"))
    if sign == "-":
        cents = -cents
    if cents < 0 and not allow_negative:
        raise BadInput(field, f"{text!r} must be positive")
    if cents == 0 and not allow_zero:
        if sign == "-" and not allow_negative:
            raise BadInput(field, f"{text!r} must be positive")
        raise BadInput(field, f"{text!r} must not be zero")
    return cents


def parse_count(text: str, field: str, *, allow_negative: bool = False,
                allow_zero: bool = False, maximum: int = MAX_TOKENS) -> int:
    """Parse a whole count of tokens (ASCII digits, optional sign) or raise ``BadInput``."""
    if text is None:
        raise BadInput(field, "is missing")
    stripped = text.strip()
    if len(stripped) > 40:
        raise BadInput(field, f"{stripped[:20]!r}... is too long to be a number")
    match = _COUNT.fullmatch(stripped)
    if match is None:
        if not stripped:
            raise BadInput(field, "is empty; type a whole number such as 5")
        if any(ch.isdigit() and not ch.isascii() for ch in stripped):
            raise BadInput(field, f"{text!r} has non-ASCII digits; type plain digits")
        raise BadInput(field, f"{text!r} is not a whole number")
    sign, digits = match.groups()
    if len(digits.lstrip("0")) > len(str(maximum)):
        raise BadInput(field, f"{text!r} is too large (at most {maximum})")
    value = int(digits) * (-1 if sign == "-" else 1)
    if abs(value) > maximum:
        raise BadInput(field, f"{text!r} is too large (at most {maximum})")
    if value < 0 and not allow_negative:
        raise BadInput(field, f"{text!r} must be positive")
    if value == 0 and not allow_zero:
        if sign == "-" and not allow_negative:
            raise BadInput(field, f"{text!r} must be positive")
        raise BadInput(field, f"{text!r} must not be zero")
    return value


def check_cents(value: int, field: str, *, allow_negative: bool = False,
                allow_zero: bool = True) -> int:
    """Range-check an amount that arrived as an int (from a dialog or a service caller)."""
    if type(value) is not int:
        raise BadInput(field, "must be a whole number of cents")
    if abs(value) > MAX_CENTS:
        raise BadInput(field, f"is too large (at most {format_amount(MAX_CENTS)})")
    if value < 0 and not allow_negative:
        raise BadInput(field, "must not be negative")
    if value == 0 and not allow_zero:
        raise BadInput(field, "must not be zero")
    return value


def check_count(value: int, field: str, *, allow_negative: bool = False,
                maximum: int = MAX_TOKENS) -> int:
    """Range-check a non-zero token count that arrived as an int."""
    if type(value) is not int:
        raise BadInput(field, "must be a whole number")
    if value == 0:
        raise BadInput(field, "must not be zero")
    if value < 0 and not allow_negative:
        raise BadInput(field, "must be positive")
    if abs(value) > maximum:
        raise BadInput(field, f"is too large (at most {maximum})")
    return value


def format_amount(cents: int) -> str:
    """Plain decimal string for JSON and CSV: ``1250 -> "12.50"``, ``-5 -> "-0.05"``."""
    sign = "-" if cents < 0 else ""
    whole, frac = divmod(abs(cents), 100)
    return f"{sign}{whole}.{frac:02d}"


def format_money(cents: int, currency: str = "USD") -> str:
    """Amount for people: ``1250 -> "$12.50"``, ``-2500 -> "-$25.00"``, thousands grouped."""
    symbol = _SYMBOLS.get(currency.upper(), currency.upper() + " ")
    sign = "-" if cents < 0 else ""
    whole, frac = divmod(abs(cents), 100)
    if currency.upper() in _NO_MINOR_UNITS:
        return f"{sign}{symbol}{whole:,}"
    return f"{sign}{symbol}{whole:,}.{frac:02d}"
