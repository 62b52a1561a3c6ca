"""Memberships: monthly packages grant their tokens again each period (idempotent)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
from dataclasses import dataclass

from peewee import IntegrityError

from desk.core.errors import BadInput, NotFound, Refused
from desk.core.schedule import period_of
from desk.data.models import Membership, Package, Renewal
from desk.data.tx import RetryTransaction, lock_accounts, run_write
from desk.services import accounts, audit
from desk.services.context import Ctx
from desk.services.posting import Draft, commit, request_hash
from desk.services.sales import grant_tokens, settle_with_credit


@dataclass(frozen=True, slots=True)
class RenewResult:
    period: str
    txn_ids: tuple[int, ...]
    memberships: int


def renew(ctx: Ctx, as_of: dt.date | None = None) -> RenewResult:
    """Grant each active membership its tokens for the period containing ``as_of``
    and charge its price to the patient's credit (left owed if there is none).

    The month a membership starts is paid by its sale; running this again in the
    same period does nothing.
    """
    day = as_of or ctx.today()
    period = period_of(day)
    due = [int(m.id) for m in Membership.select(Membership.id).where(
        Membership.started_on <= day,
        Membership.ended_on.is_null() | (Membership.ended_on > day))]
    txn_ids = []
    for membership_id in due:
        txn_id = run_write(ctx.db, functools.partial(_renew_one, ctx, membership_id, day, period))
        if txn_id is not None:
            txn_ids.append(txn_id)
    return RenewResult(period, tuple(txn_ids), len(due))


def _renew_one(ctx: Ctx, membership_id: int, day: dt.date, period: str) -> int | None:
    member = Membership.get_by_id(membership_id)
    if period_of(member.started_on) == period:
        return None  # the sale paid for the first month
    if Renewal.select().where(Renewal.membership == membership_id,
                              Renewal.period == period).exists():
        return None
    package = Package.get_by_id(member.package_id)
    pid = int(member.patient_id)
    lock_accounts(ctx.db, [accounts.patient_credit(pid)])
    draft = Draft("renewal", pid, memo=f"{package.name} {period}", receipt=True,
                  effective_on=day)
    on_day = dataclasses.replace(ctx, today=lambda: day)  # lots expire counted from `day`
    grant_tokens(draft, on_day, pid, int(package.token_kind_id), int(package.tokens),
                 int(package.price_cents), package.expires_days,
                 f"{package.name} {period} ({package.tokens} tokens)")
    settle_with_credit(draft, pid, int(package.price_cents), 0)
    key = f"renewal:{membership_id}:{period}"
    txn = commit(ctx, draft, idem_key=key,
                 req_hash=request_hash({"op": "renew", "membership": membership_id,
                                        "period": period}))
    try:
        with ctx.db.atomic():
            Renewal.create(membership=membership_id, period=period, txn=txn.id)
    except IntegrityError as exc:
        raise RetryTransaction(key) from exc
    return int(txn.id)



def end_membership(ctx: Ctx, membership_id: int, ended_on: dt.date | None = None) -> dt.date:
    """Stop renewing a membership from ``ended_on`` (default today): no renewal for a
    period starting on or after that day. Tokens already granted stay. Audited."""
    day = ended_on or ctx.today()

    def work() -> dt.date:
        member = Membership.get_or_none(Membership.id == membership_id)
        if member is None:
            raise NotFound(f"--membership: no membership with id {membership_id}")
        if member.ended_on is not None:
            raise Refused(f"membership {membership_id} already ended on {member.ended_on}")
        if day < member.started_on:
            raise BadInput("--on", f"is before the membership started ({member.started_on})")
        Membership.update(ended_on=day).where(Membership.id == membership_id).execute()
        audit.record(ctx, "membership", membership_id, "end", before={"ended_on": None},
                     after={"ended_on": day})
        return day

    return run_write(ctx.db, work)
