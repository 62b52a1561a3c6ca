"""Clinic settings stored in the database, shared by every workstation."""

from __future__ import annotations

from desk.core import settings as rules
from desk.data.models import Setting
from desk.data.tx import run_write
from desk.services import audit
from desk.services.context import Ctx


def all_settings() -> dict[str, str]:
    """Every key with its stored value, or its default."""
    stored = {row.key: row.value for row in Setting.select()}
    return {key: stored.get(key, spec.default) for key, spec in rules.SPECS.items()}


def get(key: str) -> str:
    rules.spec_for(key)
    return all_settings()[key]


def get_bool(key: str) -> bool:
    return rules.as_bool(get(key))


def set_value(ctx: Ctx, key: str, text: str) -> str:
    """Validate and store one setting; return the canonical stored value."""
    return set_many(ctx, {key: text})[key]


def set_many(ctx: Ctx, values: dict[str, str]) -> dict[str, str]:
    """Validate every value first (``BadInput`` names the first bad key, in the order
    given; nothing is written), then store them in one transaction, checking the
    cross-key rules against what is stored, and audit each key that changed.

    Returns the canonical value of every key given.
    """
    parsed = {key: rules.parse(key, text) for key, text in values.items()}

    def work() -> dict[str, str]:
        current = all_settings()
        rules.check_pair({**current, **parsed})
        for key, value in parsed.items():
            if current[key] == value:
                continue
            (Setting.insert(key=key, value=value)
             .on_conflict(conflict_target=[Setting.key], update={Setting.value: value})
             .execute())
            audit.record(ctx, "setting", None, f"set {key}", before={key: current[key]},
                         after={key: value})
        return parsed

    return run_write(ctx.db, work)
