"""Check-in arithmetic (SPEC §3): what is due, what pays it, what remains. Pure.

Credit is one signed balance: whatever the tenders and the applied credit do not
cover is still drawn from it (leaving the patient owing), and anything tendered
above the amount due is added to it. Opting out of credit only changes how the
receipt names the same movement ("left owed" instead of "credit applied").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from desk.core.errors import BadInput, Refused
from desk.core.money import format_money

CREDIT_ALL = "all"
CREDIT_NONE = "none"


@dataclass(frozen=True, slots=True)
class CheckinInput:
    treatment_cents: int
    item_cents: Sequence[int]
    package_cents: int
    use_token: bool
    credit_before_cents: int        # the signed balance (negative = already owed)
    credit_available_cents: int     # credit not held for other visits (>= 0)
    use_credit: str | int           # "all", "none" or at most this many cents
    tender_cents: Sequence[int]
    cash_kept_cents: int = 0
    cash_given_cents: int | None = None


@dataclass(frozen=True, slots=True)
class CheckinPlan:
    due_cents: int
    token_used: bool
    credit_applied_cents: int
    paid_cents: int
    owed_cents: int
    credit_added_cents: int
    cash_change_cents: int
    credit_after_cents: int

    @property
    def credit_delta_cents(self) -> int:
        """How the patient's signed credit changes: ``paid - due``."""
        return self.paid_cents - self.due_cents


def plan(data: CheckinInput) -> CheckinPlan:
    """Work out a check-in's money. Raises ``BadInput``/``Refused`` for impossible asks."""
    due = (0 if data.use_token else data.treatment_cents) + sum(data.item_cents) \
        + data.package_cents
    paid = sum(data.tender_cents)
    uncovered = max(due - paid, 0)
    available = max(data.credit_available_cents, 0)
    if data.use_credit == CREDIT_NONE:
        applied = 0
    elif data.use_credit == CREDIT_ALL:
        applied = min(available, uncovered)
    else:
        asked = int(data.use_credit)
        if asked > available:
            raise Refused(f"only {format_money(available)} credit is available; "
                          f"cannot use {format_money(asked)}")
        if asked > due:
            raise BadInput("--use-credit", f"{format_money(asked)} is more than the "
                           f"{format_money(due)} due")
        applied = min(asked, uncovered)
    owed = max(due - paid - applied, 0)
    added = max(paid - due, 0)
    change = 0
    if data.cash_given_cents is not None:
        change = data.cash_given_cents - data.cash_kept_cents
        if change < 0:
            raise BadInput("--cash-given", f"{format_money(data.cash_given_cents)} handed over "
                           f"is less than the {format_money(data.cash_kept_cents)} cash payment")
    return CheckinPlan(due, data.use_token, applied, paid, owed, added, change,
                       data.credit_before_cents + paid - due)
