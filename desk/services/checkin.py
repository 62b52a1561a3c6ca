"""Checking a patient in (SPEC §3 Check in): one transaction for the whole visit."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field

from desk.core import schedule
from desk.core.checkin import CREDIT_ALL, CREDIT_NONE, CheckinInput, CheckinPlan, plan
from desk.core.errors import BadInput, Refused
from desk.core.ledger import MONEY, LotView, credit_of, token_unit
from desk.core.money import check_cents, format_money
from desk.core.text import clean_name
from desk.data.models import Appointment, Hold, Service, TokenKind, Txn
from desk.data.tx import lock_accounts, lock_row, run_write
from desk.services import accounts, audit, availability
from desk.services import settings as clinic_settings
from desk.services.appointments import get_appointment, snapshot
from desk.services.context import Ctx
from desk.services.posting import (
    Draft,
    commit,
    find_replay,
    lots_of,
    request_hash,
    setting_bool,
    spend_tokens,
    txn_result,
)
from desk.services.results import Tender, TxnResult
from desk.services.sales import (
    check_tenders,
    grant_tokens,
    post_tenders,
    sellable_package,
    start_membership,
)


@dataclass(frozen=True, slots=True)
class CheckinRequest:
    """What the receptionist chose. ``None`` means "the clinic's default"."""

    appointment_id: int
    price_cents: int | None = None
    items: tuple[tuple[str, int], ...] = ()
    use_token: bool | None = None
    use_credit: str | int | None = None
    tenders: tuple[Tender, ...] = field(default_factory=tuple)
    buy_package: str | None = None
    cash_given_cents: int | None = None
    auto: bool = False


@dataclass(frozen=True, slots=True)
class CheckinResult:
    appointment_id: int
    plan: CheckinPlan | None      # None when the key replayed an earlier check-in
    txn: TxnResult


def _validate(req: CheckinRequest) -> list[tuple[str, int]]:
    if req.price_cents is not None:
        check_cents(req.price_cents, "--price")
    items = []
    for desc, cents in req.items:
        items.append((clean_name(desc, "--item", max_len=120),
                      check_cents(cents, "--item", allow_zero=False)))
    if len(items) > 50:
        raise BadInput("--item", "at most 50 extra lines")
    check_tenders(req.tenders)
    if req.cash_given_cents is not None:
        check_cents(req.cash_given_cents, "--cash-given", allow_zero=False)
        if not any(t.method == "cash" for t in req.tenders):
            raise BadInput("--cash-given", "needs a cash payment (--pay cash:AMOUNT)")
    if isinstance(req.use_credit, int):
        check_cents(req.use_credit, "--use-credit")
    elif req.use_credit not in (None, CREDIT_ALL, CREDIT_NONE):
        raise BadInput("--use-credit", "is an amount, all or none")
    if req.auto and (req.use_token is not None or req.use_credit is not None):
        raise BadInput("--auto", "takes the defaults; do not combine it with token or credit "
                       "choices")
    return items


def check_in(ctx: Ctx, req: CheckinRequest, idem_key: str | None = None) -> CheckinResult:
    """Check a booked visit in: treatment (token or price), extra items, a package
    bought on the spot, credit, tenders; marks the appointment checked in."""
    items = _validate(req)
    key = idem_key or str(uuid.uuid4())
    req_hash = request_hash({"op": "checkin", "req": req})

    def work() -> CheckinResult:
        # Lock the visit first: a second desk (or a double click) waits here, then
        # sees the first check-in — as a replay of its key, or as "already checked in".
        lock_row(ctx.db, Appointment, req.appointment_id)
        replay = find_replay(key, req_hash)
        if replay is not None:
            return _replayed(req.appointment_id, replay)
        appt = _appointment_with_service(req.appointment_id)
        schedule.check_transition(appt.id, appt.status, schedule.CHECKED_IN)
        service = appt.service
        pid, kind_id = int(appt.patient_id), int(service.token_kind_id)
        accounts.preload([pid])
        credit_acct = accounts.patient_credit(pid)
        token_acct = accounts.patient_tokens(pid, kind_id)
        balances = lock_accounts(ctx.db, [credit_acct, token_acct])
        lots = lots_of(token_acct, ctx.today())
        holds = availability.open_holds([credit_acct, token_acct])
        package = sellable_package(req.buy_package) if req.buy_package else None
        from_package = package is not None and int(package.token_kind_id) == kind_id
        free_tokens = sum(lot.remaining for lot in lots) - availability.held_for_others(
            holds, token_acct, int(appt.id))
        use_token = _decide_token(req, free_tokens, from_package, service)
        price = req.price_cents if req.price_cents is not None else int(service.price_cents)
        cash = sum(t.amount_cents for t in req.tenders if t.method == "cash")
        credit = credit_of(balances[credit_acct])
        money_plan = plan(CheckinInput(
            treatment_cents=price, item_cents=[c for _, c in items],
            package_cents=int(package.price_cents) if package else 0, use_token=use_token,
            credit_before_cents=credit,
            credit_available_cents=max(credit - availability.held_for_others(
                holds, credit_acct, int(appt.id)), 0),
            use_credit=_decide_credit(req), tender_cents=[t.amount_cents for t in req.tenders],
            cash_kept_cents=cash, cash_given_cents=req.cash_given_cents))
        draft = Draft("checkin", pid, memo=f"{service.name} {appt.starts_at:%Y-%m-%d %H:%M}",
                      appointment_id=int(appt.id), receipt=True, allow_empty=True)
        if package is not None:
            grant_tokens(draft, ctx, pid, int(package.token_kind_id), int(package.tokens),
                         int(package.price_cents), package.expires_days,
                         f"{package.name} ({package.tokens} tokens)")
        _post_treatment(draft, service, token_acct, kind_id, price, use_token,
                        lots if not (from_package and free_tokens < 1) else None, ctx.today())
        for desc, cents in items:
            draft.post(accounts.clinic_money(accounts.REVENUE_ITEMS), MONEY, -cents, desc)
        post_tenders(draft, _with_change(req.tenders, req.cash_given_cents, money_plan))
        _post_credit(draft, credit_acct, money_plan)
        txn = commit(ctx, draft, idem_key=key, req_hash=req_hash)
        if package is not None:
            start_membership(ctx, pid, package, int(txn.id))
        own = [h for h in holds if h.appointment_id == appt.id]
        if own:
            token_hold = own[0].account_id == token_acct
            _close_hold(ctx, own[0].hold_id, posted=use_token or not token_hold)
        before = snapshot(appt)
        appt.status, appt.checkin_txn, appt.updated_at = schedule.CHECKED_IN, txn.id, ctx.now()
        appt.save(only=[Appointment.status, Appointment.checkin_txn, Appointment.updated_at])
        audit.record(ctx, "appointment", appt.id, "check in", before=before,
                     after=snapshot(appt))
        return CheckinResult(int(appt.id), money_plan, txn_result(txn, False, [pid]))

    return run_write(ctx.db, work)


def _decide_token(req: CheckinRequest, free: int, from_package: bool, service: Service) -> bool:
    can = free >= 1 or from_package
    if req.use_token is True and not can:
        raise Refused(f"no {service.token_kind.name} token available for this visit")
    if req.use_token is not None:
        return req.use_token
    if req.auto:
        return can
    return can and setting_bool("auto_apply_tokens", True)


def _decide_credit(req: CheckinRequest) -> str | int:
    if req.use_credit is not None:
        return req.use_credit
    if req.auto:
        return CREDIT_ALL
    return CREDIT_ALL if setting_bool("auto_apply_credit", True) else CREDIT_NONE


def _appointment_with_service(appointment_id: int) -> Appointment:
    """The appointment with its service and token kind (one query)."""
    row = (Appointment.select(Appointment, Service, TokenKind)
           .join(Service, on=(Appointment.service == Service.id))
           .join(TokenKind, on=(Service.token_kind == TokenKind.id))
           .where(Appointment.id == appointment_id).first())
    if row is None:
        get_appointment(appointment_id)  # raises NotFound naming --appointment
    return row  # type: ignore[no-any-return]


def _post_treatment(draft: Draft, service: Service, token_acct: int, kind_id: int,
                    price: int, use_token: bool, lots: list[LotView] | None,
                    today: dt.date) -> None:
    """The treatment line: its price, or one token (from ``lots``, or when None from
    the package bought in this same check-in)."""
    if not use_token:
        draft.post(accounts.service_revenue(int(service.id)), MONEY, -price, service.name)
        return
    memo = f"{service.name} — 1 {service.token_kind.name} token"
    earned = f"revenue:service:{service.id}"
    if lots is not None:
        spend_tokens(draft, token_acct, kind_id, 1, today=today, earned_code=earned,
                     memo=memo, lots=lots)
        return
    # The package bought in this same check-in pays for today: its new lot is named
    # -1 until the commit creates it.
    unit, value = token_unit(kind_id), draft.new_lots[0].unit_value_cents
    draft.moves.append((-1, -1, -value))
    draft.post(token_acct, unit, 1, memo)
    draft.post(accounts.tokens_issued(kind_id), unit, -1, memo)
    draft.post(accounts.clinic_money(accounts.PREPAID), MONEY, value, memo)
    draft.post(accounts.clinic_money(earned), MONEY, -value, memo)


def _with_change(tenders: Sequence[Tender], given: int | None, money: CheckinPlan
                 ) -> list[Tender]:
    if given is None:
        return list(tenders)
    out = []
    for tender in tenders:
        if tender.method == "cash":
            currency = clinic_settings.get("currency")
            note = (f"given {format_money(given, currency)}, change "
                    f"{format_money(money.cash_change_cents, currency)}")
            tender = Tender("cash", tender.amount_cents,
                            f"{tender.reference} {note}".strip())
        out.append(tender)
    return out


def _post_credit(draft: Draft, credit_acct: int, money: CheckinPlan) -> None:
    draft.post(credit_acct, MONEY, money.credit_applied_cents, "credit applied")
    draft.post(credit_acct, MONEY, money.owed_cents, "left owed")
    draft.post(credit_acct, MONEY, -money.credit_added_cents, "added to credit")


def _close_hold(ctx: Ctx, hold_id: int, *, posted: bool) -> None:
    """Posted: the visit spent what was held. Released: it was paid otherwise."""
    Hold.update(status="posted" if posted else "released", closed_at=ctx.now()).where(
        Hold.id == hold_id).execute()


def _replayed(appointment_id: int, txn: Txn) -> CheckinResult:
    return CheckinResult(appointment_id, None, txn_result(txn, True))


