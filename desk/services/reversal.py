"""Reversing a transaction: the exact opposite lines, tokens back to their lots."""

from __future__ import annotations

import uuid

from desk.core import schedule
from desk.core.errors import BadInput, NotFound, Refused
from desk.core.text import clean_text
from desk.data.models import (
    Account,
    Appointment,
    Hold,
    Household,
    Line,
    Lot,
    LotMove,
    Membership,
    Patient,
    Txn,
)
from desk.data.tx import lock_accounts, run_write
from desk.services import accounts, audit
from desk.services.appointments import snapshot
from desk.services.context import Ctx
from desk.services.posting import Draft, commit, find_replay, request_hash, txn_result
from desk.services.results import TxnResult

NOT_REVERSIBLE = {"expiry": "expired tokens are given back with an adjustment",
                  "cancel": "a cancelled visit is booked again instead",
                  "merge": "a merge of duplicate patients cannot be undone; move visits "
                           "and balances back with transfers instead"}


def reverse(ctx: Ctx, txn_id: int, reason: str, idem_key: str | None = None) -> TxnResult:
    """Write the exact opposite of transaction ``txn_id``.

    Refused for a reversal, for a transaction already reversed, and when tokens
    the transaction granted were spent since (reverse those first).
    """
    why = clean_text(reason, "--reason", max_len=500)
    if not why:
        raise BadInput("--reason", "is required: say why the transaction is reversed")
    key = idem_key or str(uuid.uuid4())
    req = request_hash({"op": "reverse", "txn": txn_id, "reason": why})

    def work() -> TxnResult:
        replay = find_replay(key, req)
        if replay is not None:
            return txn_result(replay, True)
        original = Txn.get_or_none(Txn.id == txn_id)
        if original is None:
            raise NotFound(f"--txn: no transaction with id {txn_id}")
        _check_reversible(original)
        rows = list(Line.select(Line, Account.id, Account.unit, Account.patient,
                                Account.household)
                    .join(Account, on=(Line.account == Account.id))
                    .where(Line.txn == txn_id).order_by(Line.id))
        _check_wallets_in_use(rows)
        lock_accounts(ctx.db, [r.account_id for r in rows if r.account.patient_id is not None
                               or r.account.household_id is not None])
        draft = Draft("reversal", original.patient_id,
                      memo=f"reversal of transaction {txn_id}: {why}",
                      appointment_id=original.appointment_id, reverses_id=txn_id,
                      receipt=original.receipt_no is not None, allow_empty=not rows)
        for row in rows:
            draft.post(row.account_id, row.account.unit, -row.amount,
                       f"reversal: {row.memo}" if row.memo else "reversal")
        given_back: dict[int, int] = {}
        for move in LotMove.select().where(LotMove.txn == txn_id).order_by(LotMove.id):
            draft.moves.append((int(move.lot_id), -move.quantity, -move.value_cents))
            given_back[int(move.lot_id)] = given_back.get(int(move.lot_id), 0) - move.quantity
        for lot in Lot.select().where(Lot.txn == txn_id).order_by(Lot.id):
            # Tokens this same transaction took from its own new lot come back first
            # (a package bought at check-in and used for that visit).
            if lot.remaining + given_back.get(int(lot.id), 0) != lot.quantity:
                used = lot.quantity - lot.remaining - given_back.get(int(lot.id), 0)
                raise Refused(f"{used} of the {lot.quantity} tokens granted by transaction "
                              f"{txn_id} were already used, moved or expired; reverse those first")
            draft.moves.append((int(lot.id), -lot.quantity, -lot.quantity * lot.unit_value_cents))
        txn = commit(ctx, draft, idem_key=key, req_hash=req)
        if original.kind == "checkin":
            _reopen_visit(ctx, txn_id)
        # A monthly package whose sale is reversed is no membership any more.
        Membership.update(ended_on=ctx.today()).where(
            Membership.sale_txn == txn_id, Membership.ended_on.is_null()).execute()
        return txn_result(txn, False)

    return run_write(ctx.db, work)


def _reopen_visit(ctx: Ctx, checkin_txn_id: int) -> None:
    """A reversed check-in puts its appointment back to booked (and its hold back)."""
    appt = Appointment.get_or_none(Appointment.checkin_txn == checkin_txn_id)
    if appt is None:
        return
    before = snapshot(appt)
    schedule.check_transition(int(appt.id), appt.status, schedule.BOOKED)
    appt.status, appt.checkin_txn, appt.updated_at = schedule.BOOKED, None, ctx.now()
    appt.save()
    hold = Hold.get_or_none(Hold.appointment == appt.id, Hold.status == "posted")
    if hold is not None:
        hold.status, hold.closed_at = "open", None
        hold.save()
    audit.record(ctx, "appointment", appt.id, "check-in reversed", before=before,
                 after=snapshot(appt))


def _check_wallets_in_use(lines: list[Line]) -> None:
    """The opposite lines must land on wallets still spent: not on the own accounts of
    a patient merged away or now spending a household's shared wallet, nor on a
    household wallet no longer shared (the balance would be hidden there)."""
    for line in lines:
        account = line.account
        if account.patient_id is not None:
            patient = Patient.get_by_id(account.patient_id)
            if patient.merged_into_id is not None:
                raise Refused(f"patient {patient.id} was merged into patient "
                              f"{patient.merged_into_id}; correct it there with an adjustment")
            if accounts.shared_household(int(patient.id)) is not None:
                raise Refused(f"{patient.name} now spends a household's shared wallet, and this "
                              "transaction moved their own; correct it with an adjustment")
        elif account.household_id is not None and not Household.get_by_id(
                account.household_id).shared_wallet:
            raise Refused("the household no longer shares a wallet; correct it with an "
                          "adjustment on the member who received the balance")


def _check_reversible(original: Txn) -> None:
    if original.reverses_id is not None:
        raise Refused(f"transaction {original.id} is itself a reversal (of "
                      f"{original.reverses_id}); a reversal cannot be reversed")
    later = Txn.get_or_none(Txn.reverses == original.id)
    if later is not None:
        raise Refused(f"transaction {original.id} was already reversed by "
                      f"transaction {later.id}")
    if original.kind in NOT_REVERSIBLE:
        raise Refused(f"a {original.kind} cannot be reversed: {NOT_REVERSIBLE[original.kind]}")
