"""Ledger arithmetic: units, postings, balance checks, lot allocation.

Sign convention (ordinary double entry): a line's amount is a *debit* when
positive and a *credit* when negative, and every transaction's lines sum to zero
per unit. Clinic assets (cash drawer, card clearing) grow with debits; what the
clinic owes a patient (their credit, their prepaid tokens) grows with credits.
So a patient's money account balance is the negative of their credit
(``credit = -balance``: positive credit is prepaid, negative credit is owed), and a
patient's token account balance is the negative of the tokens they hold.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

MONEY = "money"
_TOKEN_PREFIX = "tok:"


def token_unit(kind_id: int) -> str:
    """The unit of tokens of one kind; different kinds never add up."""
    return f"{_TOKEN_PREFIX}{kind_id}"


def is_token_unit(unit: str) -> bool:
    return unit.startswith(_TOKEN_PREFIX)


@dataclass(frozen=True, slots=True)
class Posting:
    """One line to write: ``amount`` (debit-positive) of ``unit`` on an account."""

    account_id: int
    unit: str
    amount: int
    memo: str = ""

    def __post_init__(self) -> None:
        if type(self.amount) is not int:
            raise TypeError("ledger amounts are integers")


def imbalances(postings: Iterable[Posting]) -> dict[str, int]:
    """Per unit, the non-zero sums of ``postings`` (empty when balanced)."""
    sums: dict[str, int] = {}
    for posting in postings:
        sums[posting.unit] = sums.get(posting.unit, 0) + posting.amount
    return {unit: total for unit, total in sums.items() if total != 0}


def credit_of(balance: int) -> int:
    """A patient's credit (positive) or debt (negative) from their money account balance."""
    return -balance


def tokens_of(balance: int) -> int:
    """Tokens a patient holds from their token account balance."""
    return -balance


@dataclass(frozen=True, slots=True)
class LotView:
    """What allocation needs to know about one lot."""

    lot_id: int
    remaining: int
    unit_value_cents: int
    expires_on: dt.date | None


@dataclass(frozen=True, slots=True)
class Allocation:
    lot_id: int
    quantity: int
    value_cents: int


def fefo_order(lots: Iterable[LotView]) -> list[LotView]:
    """First-expiring-first; lots that never expire last; ties by age (lot id)."""
    return sorted(lots, key=lambda lot: (lot.expires_on is None,
                                         lot.expires_on or dt.date.max, lot.lot_id))


def allocate_fefo(lots: Sequence[LotView], quantity: int) -> tuple[list[Allocation], int]:
    """Take ``quantity`` tokens from ``lots`` first-expiring-first.

    Returns the allocations and the shortfall (tokens that no lot could give).
    """
    if quantity < 0:
        raise ValueError("quantity must not be negative")
    allocations: list[Allocation] = []
    left = quantity
    for lot in fefo_order(lots):
        if left == 0:
            break
        take = min(left, lot.remaining)
        if take > 0:
            allocations.append(Allocation(lot.lot_id, take, take * lot.unit_value_cents))
            left -= take
    return allocations, left


def split_price(price_cents: int, tokens: int) -> tuple[int, int]:
    """Split a package price into a per-token value and the cents left over.

    ``split_price(10000, 3) == (3333, 1)``: each token carries 33.33 of prepaid
    value and the odd cent is recognised as revenue at the sale.
    """
    if tokens <= 0:
        raise ValueError("a package grants at least one token")
    return divmod(price_cents, tokens)
