"""The clinic settings (SPEC §4): keys, types, defaults and validation.

Values are stored as text in the database; ``parse`` turns typed text into the
canonical stored form or raises ``BadInput`` naming the key.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Literal

from desk.core.errors import BadInput
from desk.core.money import format_amount, parse_amount
from desk.core.text import clean_text

Kind = Literal["text", "bool", "int", "money", "time", "choice", "currency"]


@dataclass(frozen=True, slots=True)
class SettingSpec:
    key: str
    kind: Kind
    default: str
    help: str
    choices: tuple[str, ...] = ()
    minimum: int = 0
    maximum: int = 0


def _spec(key: str, kind: Kind, default: str, help_text: str, **kw: object) -> SettingSpec:
    return SettingSpec(key, kind, default, help_text, **kw)  # type: ignore[arg-type]


SPECS: dict[str, SettingSpec] = {s.key: s for s in [
    _spec("clinic_name", "text", "", "Clinic name printed at the top of receipts"),
    _spec("clinic_address", "text", "", "Address printed on receipts"),
    _spec("clinic_phone", "text", "", "Phone number printed on receipts"),
    _spec("tax_id", "text", "", "Tax or business number printed on receipts"),
    _spec("currency", "currency", "USD", "ISO 4217 code of the clinic currency"),
    _spec("receipt_footer", "text", "", "Text printed at the bottom of receipts"),
    _spec("receipt_paper", "choice", "roll80", "Receipt paper: 80 mm roll, Letter or A4",
          choices=("roll80", "letter", "a4")),
    _spec("auto_print", "bool", "false", "Print receipts on save instead of previewing"),
    _spec("use_credit_system", "bool", "true", "Show and use tokens and credit"),
    _spec("allow_double_booking", "bool", "false",
          "Allow overlapping appointments for one practitioner"),
    _spec("prevent_no_credit_booking", "bool", "false",
          "Refuse a booking without an available token or enough credit"),
    _spec("reserve_token_at_booking", "bool", "false",
          "A booking holds a token; check-in spends it"),
    _spec("restore_on_cancel", "bool", "true", "An on-time cancel releases the held token"),
    _spec("auto_apply_tokens", "bool", "true", "Check-in preselects a matching token"),
    _spec("auto_apply_credit", "bool", "true", "Check-in preselects credit up to the amount due"),
    _spec("allow_negative_tokens", "bool", "false", "Let a token balance go below zero"),
    _spec("late_cancel_hours", "int", "24", "A cancel inside this many hours is late",
          minimum=0, maximum=24 * 14),
    _spec("late_cancel_fee", "money", "0.00", "Fee for a late cancel"),
    _spec("no_show_fee", "money", "0.00", "Fee for a no-show"),
    _spec("day_start", "time", "08:00", "First hour shown on the schedule"),
    _spec("day_end", "time", "19:00", "Last hour shown on the schedule"),
    _spec("slot_minutes", "choice", "15", "Minutes per schedule row",
          choices=("5", "10", "15", "20", "30", "60")),
    _spec("idle_lock_minutes", "int", "10", "Lock the screen after this many idle minutes",
          minimum=0, maximum=24 * 60),
]}

_TRUE = {"true", "yes", "on", "1"}
_FALSE = {"false", "no", "off", "0"}


def spec_for(key: str) -> SettingSpec:
    try:
        return SPECS[key]
    except KeyError:
        raise BadInput("key", f"unknown setting {key!r}; known: {', '.join(SPECS)}") from None


def parse(key: str, text: str) -> str:
    """Validate ``text`` for ``key`` and return the canonical stored string."""
    spec = spec_for(key)
    value = text.strip()
    if spec.kind == "text":
        return clean_text(text, key, max_len=500)
    if spec.kind == "bool":
        if value.lower() in _TRUE:
            return "true"
        if value.lower() in _FALSE:
            return "false"
        raise BadInput(key, f"{text!r} is not true or false")
    if spec.kind == "int":
        if not re.fullmatch(r"[0-9]{1,6}", value):
            raise BadInput(key, f"{text!r} is not a whole number")
        number = int(value)
        if not spec.minimum <= number <= spec.maximum:
            raise BadInput(key, f"must be between {spec.minimum} and {spec.maximum}")
        return str(number)
    if spec.kind == "money":
        return format_amount(parse_amount(value, key, allow_zero=True))
    if spec.kind == "time":
        if not re.fullmatch(r"[0-9]{1,2}:[0-9]{2}", value):
            raise BadInput(key, f"{text!r} is not a time like 08:30")
        try:
            parsed = dt.datetime.strptime(value, "%H:%M").time()
        except ValueError:
            raise BadInput(key, f"{text!r} is not a time like 08:30") from None
        return parsed.strftime("%H:%M")
    if spec.kind == "choice":
        if value.lower() not in spec.choices:
            raise BadInput(key, f"{text!r} is not one of {', '.join(spec.choices)}")
        return value.lower()
    if not re.fullmatch(r"[A-Za-z]{3}", value):
        raise BadInput(key, f"{text!r} is not a three-letter currency code such as USD")
    return value.upper()


def as_bool(stored: str) -> bool:
    return stored == "true"


def check_pair(values: dict[str, str]) -> None:
    """Cross-key rules: the day must end after it starts."""
    if values["day_end"] <= values["day_start"]:
        raise BadInput("day_end", "must be later than day_start")
