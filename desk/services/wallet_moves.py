"""Moving a whole wallet (credit, tokens with their lots, open holds) from one owner to
another inside a ledger transaction: a patient's own balance into their household's
shared wallet and back, or a duplicate patient's balance into the one kept.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from peewee import JOIN

from desk.core.ledger import MONEY, LotView, credit_of, token_unit, tokens_of
from desk.core.money import format_money
from desk.data.models import Account, Hold, Lot, TokenKind, rows
from desk.data.tx import lock_accounts
from desk.services import accounts
from desk.services.accounts import Owner
from desk.services.context import Ctx
from desk.services.posting import Draft, NewLot, take_tokens


@dataclass(frozen=True, slots=True)
class WalletContents:
    """What an owner's accounts hold now: signed credit, tokens per kind, open holds."""

    credit_cents: int
    tokens: dict[str, int]
    open_holds: int

    @property
    def empty(self) -> bool:
        return not self.credit_cents and not any(self.tokens.values()) and not self.open_holds

    def describe(self, currency: str = "USD") -> str:
        parts = []
        if self.credit_cents > 0:
            parts.append(f"{format_money(self.credit_cents, currency)} credit")
        elif self.credit_cents < 0:
            parts.append(f"{format_money(-self.credit_cents, currency)} owed")
        parts += [f"{n} {kind} token{'s' if abs(n) != 1 else ''}"
                  for kind, n in sorted(self.tokens.items()) if n]
        if self.open_holds:
            parts.append(f"{self.open_holds} booked visit{'s' if self.open_holds != 1 else ''} "
                         "holding a token or credit")
        return ", ".join(parts) or "nothing"


def contents(owner: Owner) -> WalletContents:
    """The balances on one owner's accounts (2 queries)."""
    credit, tokens = 0, {}
    for kind, balance, name in rows(
            Account.select(Account.kind, Account.balance, TokenKind.name)
            .join(TokenKind, on=(Account.token_kind == TokenKind.id), join_type=JOIN.LEFT_OUTER)
            .where(accounts.owner_accounts(owner))):
        if kind == "patient_credit":
            credit += credit_of(int(balance))
        elif tokens_of(int(balance)):
            tokens[str(name)] = tokens_of(int(balance))
    holds = (Hold.select().join(Account, on=(Hold.account == Account.id))
             .where(accounts.owner_accounts(owner), Hold.status == "open").count())
    return WalletContents(credit, tokens, int(holds))


def move_all(ctx: Ctx, draft: Draft, source: Owner, credit_to: Callable[[], int],
             tokens_to: Callable[[int], int], memo: str) -> bool:
    """Post everything on ``source``'s accounts to the accounts ``credit_to()`` and
    ``tokens_to(kind_id)`` name: credit (also owed credit), tokens with their lots'
    value and expiry (also lots past expiry the expiry job has not reached yet), and
    re-point open holds. Returns whether anything moved. Inside ``run_write``."""
    found = list(Account.select(Account.id, Account.kind, Account.token_kind)
                 .where(accounts.owner_accounts(source),
                        Account.kind.in_(["patient_credit", "patient_tokens"]))
                 .order_by(Account.id))
    if not found:
        return False
    target = {int(a.id): credit_to() if a.kind == "patient_credit"
              else tokens_to(_kind(a)) for a in found}
    balances = lock_accounts(ctx.db, [*target, *target.values()])
    moved = False
    for account in found:
        src, dst = int(account.id), target[int(account.id)]
        balance = balances[src]
        if account.kind == "patient_credit":
            if balance:
                draft.post(src, MONEY, -balance, memo)
                draft.post(dst, MONEY, balance, memo)
                moved = True
        elif balance > 0:      # tokens owed (negative tokens allowed): no lots to carry
            unit = token_unit(_kind(account))
            draft.post(src, unit, -balance, memo)
            draft.post(dst, unit, balance, memo)
            moved = True
        elif balance < 0:
            _move_tokens(ctx, draft, src, dst, _kind(account), -balance, memo)
            moved = True
    held = list(Hold.select(Hold.id, Hold.account)
                .where(Hold.account.in_(list(target)), Hold.status == "open"))
    for hold in held:
        Hold.update(account=target[int(hold.account_id)]).where(Hold.id == hold.id).execute()
    return moved or bool(held)


def _kind(account: Account) -> int:
    assert account.token_kind_id is not None
    return int(account.token_kind_id)


def _move_tokens(ctx: Ctx, draft: Draft, src: int, dst: int, kind_id: int, quantity: int,
                 memo: str) -> None:
    unit = token_unit(kind_id)
    lots = [LotView(int(lot.id), int(lot.remaining), int(lot.unit_value_cents), lot.expires_on)
            for lot in Lot.select().where(Lot.account == src, Lot.remaining > 0)]
    allocations = take_tokens(draft, src, unit, quantity, today=ctx.today(),
                              allow_short=False, memo=memo, lots=lots)
    draft.post(dst, unit, -quantity, memo)
    expiry = {lot.lot_id: lot.expires_on for lot in lots}
    for alloc in allocations:
        draft.new_lots.append(NewLot(dst, alloc.quantity, alloc.value_cents // alloc.quantity,
                                     expiry[alloc.lot_id]))
