"""What a patient can spend now: usable tokens and credit, less what is held.

``available = balance - open holds`` (SPEC §1 hold). Tokens in lots past their
expiry date are not usable, even before the expiry job has run.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from peewee import fn

from desk.core.ledger import credit_of
from desk.data.models import Account, Hold, Lot, rows
from desk.services import accounts


@dataclass(frozen=True, slots=True)
class OpenHold:
    hold_id: int
    account_id: int
    appointment_id: int
    quantity: int


def open_holds(account_ids: list[int]) -> list[OpenHold]:
    """The open holds on these accounts (one query)."""
    return [OpenHold(int(h), int(a), int(ap), int(q)) for h, a, ap, q in rows(
        Hold.select(Hold.id, Hold.account, Hold.appointment, Hold.quantity)
        .where(Hold.account.in_(account_ids), Hold.status == "open"))]


def held_for_others(holds: list[OpenHold], account_id: int, appointment_id: int) -> int:
    return sum(h.quantity for h in holds
               if h.account_id == account_id and h.appointment_id != appointment_id)


def usable_tokens(account_id: int, today: dt.date) -> int:
    total = (Lot.select(fn.SUM(Lot.remaining))
             .where(Lot.account == account_id, Lot.remaining > 0,
                    Lot.expires_on.is_null() | (Lot.expires_on >= today)).scalar())
    return int(total or 0)


def held(account_id: int, *, except_appointment: int | None = None) -> int:
    query = Hold.select(fn.SUM(Hold.quantity)).where(Hold.account == account_id,
                                                     Hold.status == "open")
    if except_appointment is not None:
        query = query.where(Hold.appointment != except_appointment)
    return int(query.scalar() or 0)


def available_tokens(patient_id: int, kind_id: int, today: dt.date, *,
                     except_appointment: int | None = None) -> int:
    """Tokens of a kind the patient may spend or hold now (never below zero)."""
    account = accounts.patient_tokens(patient_id, kind_id)
    free = usable_tokens(account, today) - held(account, except_appointment=except_appointment)
    return max(free, 0)


def available_credit(patient_id: int, *, except_appointment: int | None = None) -> int:
    """Positive credit not held for other visits (0 when the patient owes)."""
    account = accounts.patient_credit(patient_id)
    balance = Account.get_by_id(account).balance
    free = credit_of(int(balance)) - held(account, except_appointment=except_appointment)
    return max(free, 0)
