"""Frozen results that services return: what changed, for screens and the CLI."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

TENDER_METHODS = ("cash", "card", "check", "other")


@dataclass(frozen=True, slots=True)
class Tender:
    """A payment the clinic keeps: method, amount in cents, optional reference."""

    method: str
    amount_cents: int
    reference: str = ""


@dataclass(frozen=True, slots=True)
class TokenLotInfo:
    lot_id: int
    remaining: int
    quantity: int
    unit_value_cents: int
    expires_on: dt.date | None


@dataclass(frozen=True, slots=True)
class Balance:
    """A patient's wallet: signed credit (negative = owed) and tokens per kind."""

    patient_id: int
    credit_cents: int
    tokens: dict[str, int] = field(default_factory=dict)
    held: dict[str, int] = field(default_factory=dict)
    next_expiry: dict[str, dt.date] = field(default_factory=dict)
    #: The household whose shared wallet these balances are, if any.
    household_id: int | None = None


@dataclass(frozen=True, slots=True)
class TxnResult:
    """The outcome of a ledger write (or of replaying its idempotency key)."""

    txn_id: int
    kind: str
    receipt_no: int | None
    replayed: bool
    balances: tuple[Balance, ...] = ()

    def balance_of(self, patient_id: int) -> Balance:
        for balance in self.balances:
            if balance.patient_id == patient_id:
                return balance
        raise KeyError(patient_id)
