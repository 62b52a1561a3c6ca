"""Expiring tokens whose lot is past its expiry date (an idempotent job)."""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass

from desk.core.ledger import MONEY
from desk.data.models import Account, Lot, rows
from desk.data.tx import lock_accounts, run_write
from desk.services import accounts
from desk.services.context import Ctx
from desk.services.posting import Draft, commit, request_hash


@dataclass(frozen=True, slots=True)
class ExpireResult:
    as_of: dt.date
    txn_ids: tuple[int, ...]
    tokens_expired: int
    value_cents: int


def expire(ctx: Ctx, as_of: dt.date | None = None) -> ExpireResult:
    """Expire every lot whose ``expires_on`` is before ``as_of`` (default today).

    A lot marked to expire on a date is usable through that date. One transaction
    per patient token account; running it again finds nothing left to expire.
    """
    day = as_of or ctx.today()
    account_ids = sorted({int(a) for (a,) in rows(
        Lot.select(Lot.account).where(Lot.remaining > 0, Lot.expires_on < day).distinct())})
    txn_ids: list[int] = []
    tokens = value = 0
    for account_id in account_ids:
        done = run_write(ctx.db, functools.partial(_expire_account, ctx, account_id, day))
        if done is not None:
            txn_ids.append(done[0])
            tokens += done[1]
            value += done[2]
    return ExpireResult(day, tuple(txn_ids), tokens, value)


def _expire_account(ctx: Ctx, account_id: int, day: dt.date) -> tuple[int, int, int] | None:
    lock_accounts(ctx.db, [account_id])
    lots = list(Lot.select().where(Lot.account == account_id, Lot.remaining > 0,
                                   Lot.expires_on < day).order_by(Lot.id))
    if not lots:
        return None  # another process expired them first
    account = Account.get_by_id(account_id)
    assert account.token_kind_id is not None, "lots belong to token accounts"
    draft = Draft("expiry", account.patient_id, memo=f"tokens expired before {day}",
                  effective_on=day)
    count = value = 0
    for lot in lots:
        lot_value = lot.remaining * lot.unit_value_cents
        draft.moves.append((int(lot.id), -lot.remaining, -lot_value))
        count += lot.remaining
        value += lot_value
    memo = f"{count} tokens expired"
    draft.post(account_id, account.unit, count, memo)
    draft.post(accounts.tokens_issued(int(account.token_kind_id)), account.unit, -count, memo)
    draft.post(accounts.clinic_money(accounts.PREPAID), MONEY, value, memo)
    draft.post(accounts.clinic_money(accounts.REVENUE_EXPIRED), MONEY, -value, memo)
    req = request_hash({"op": "expire", "account": account_id, "as_of": day})
    txn = commit(ctx, draft, idem_key=None, req_hash=req)
    return int(txn.id), count, value
