"""What a patient statement says, as plain data (built by ``services.statements``,
drawn by ``statement.py``).

Money is integer cents in the clinic currency; credit is signed (positive: the
patient's prepaid credit, negative: what the patient owes). Tokens are counts per
token kind.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from desk.printing.receipt_data import ClinicHeader


@dataclass(frozen=True, slots=True)
class StatementEntry:
    """One transaction of the period, seen from the patient's side."""

    txn_id: int
    at: dt.datetime                 # local time
    kind: str                       # in plain words: "Visit", "Sale", "Reversal of #12"
    memo: str
    receipt_no: int | None
    charge_cents: int               # what was charged (0: nothing, or not a charge)
    paid_cents: int                 # paid at the counter (negative: paid out)
    credit_change_cents: int        # + added to credit, - taken from it or left owed
    token_changes: dict[str, int] = field(default_factory=dict)   # per kind, signed
    balance_cents: int = 0          # the running credit balance after this entry


@dataclass(frozen=True, slots=True)
class TokensLeft:
    """Tokens of one kind at the end of the period and the first lot to expire."""

    kind: str
    count: int
    next_expiry: dt.date | None = None
    expiring: int = 0               # how many of them expire on ``next_expiry``


@dataclass(frozen=True, slots=True)
class StatementData:
    clinic: ClinicHeader
    patient_id: int
    patient_name: str
    patient_phone: str
    patient_email: str
    first: dt.date                  # the period, both days included (local dates)
    last: dt.date
    issued_on: dt.date
    opening_credit_cents: int
    opening_tokens: dict[str, int]
    entries: tuple[StatementEntry, ...]
    closing_credit_cents: int
    closing_tokens: dict[str, int]
    tokens_left: tuple[TokensLeft, ...]
    charges_cents: int = 0          # totals of the period
    paid_cents: int = 0
    paper: str = "letter"           # letter or a4
