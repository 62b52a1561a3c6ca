"""Merging a duplicate patient (the same person entered twice) into the one kept.

One database transaction: the duplicate's appointments and memberships move to the
kept patient, its whole wallet (credit or debt, tokens with their lots' value and
expiry, holds) moves in a ledger transaction of kind ``merge`` with the reason, blank
profile fields of the kept patient are filled from the duplicate, and the duplicate
becomes inactive and points at the kept patient. Its past transactions are immutable
and stay as they were; the kept patient's history and statements include them.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from desk.core.errors import BadInput, Refused
from desk.core.text import clean_text
from desk.data.models import Appointment, Household, Membership, Patient
from desk.data.tx import lock_row, run_write
from desk.services import accounts, audit
from desk.services.context import Ctx
from desk.services.patients import live_patient
from desk.services.posting import Draft, commit, find_replay, request_hash
from desk.services.wallet_moves import move_all

#: Profile fields the kept patient takes from the duplicate when its own are blank.
FILLED = ("phone", "email", "dob", "notes")


@dataclass(frozen=True, slots=True)
class MergeResult:
    keep_id: int
    drop_id: int
    txn_id: int
    appointments_moved: int
    memberships_moved: int
    filled: tuple[str, ...]
    replayed: bool = False


def merge_patients(ctx: Ctx, keep_id: int, drop_id: int, reason: str, *,
                   idem_key: str | None = None) -> MergeResult:
    """Merge patient ``drop_id`` into ``keep_id`` (see the module docstring)."""
    if keep_id == drop_id:
        raise BadInput("--drop", "is the same patient as --keep")
    why = clean_text(reason, "--reason", max_len=500)
    if not why:
        raise BadInput("--reason", "is required: say why (e.g. the same person entered twice)")
    key = idem_key or str(uuid.uuid4())
    req = request_hash({"op": "merge", "keep": keep_id, "drop": drop_id, "reason": why})

    def work() -> MergeResult:
        replay = find_replay(key, req)
        if replay is not None:
            return MergeResult(keep_id, drop_id, int(replay.id), 0, 0, (), True)
        for pid in sorted((keep_id, drop_id)):
            lock_row(ctx.db, Patient, pid)
        keep, drop = live_patient(keep_id, "--keep"), live_patient(drop_id, "--drop")
        if drop.household_id is not None:
            household = Household.get_by_id(drop.household_id)
            if household.shared_wallet:
                raise Refused(f"{drop.name} (patient {drop_id}) spends the shared wallet of "
                              f"{household.name!r}; take them out of the household first")
        draft = Draft("merge", keep_id, allow_empty=True,
                      memo=f"merged patient {drop_id} ({drop.name}) into {keep_id}: {why}")
        move_all(ctx, draft, ("p", drop_id), lambda: accounts.patient_credit(keep_id),
                 lambda kind: accounts.patient_tokens(keep_id, kind),
                 f"from merged patient {drop_id}")
        txn = commit(ctx, draft, idem_key=key, req_hash=req)
        moved = [int(a.id) for a in Appointment.select(Appointment.id)
                 .where(Appointment.patient == drop_id).order_by(Appointment.id)]
        if moved:
            Appointment.update(patient=keep_id, updated_at=ctx.now()).where(
                Appointment.patient == drop_id).execute()
        memberships = [int(m.id) for m in Membership.select(Membership.id)
                       .where(Membership.patient == drop_id)]
        if memberships:
            Membership.update(patient=keep_id).where(Membership.patient == drop_id).execute()
        filled = {name: getattr(drop, name) for name in FILLED
                  if not getattr(keep, name) and getattr(drop, name)}
        if filled:
            changes: dict[str, object] = dict(filled)
            if "phone" in filled:
                changes["phone_digits"] = drop.phone_digits
            Patient.update(**changes).where(Patient.id == keep_id).execute()
        Patient.update(active=False, merged_into=keep_id, household=None).where(
            Patient.id == drop_id).execute()
        audit.record(ctx, "patient", drop_id, "merge",
                     before={"active": bool(drop.active), "household": drop.household_id},
                     after={"merged_into": keep_id, "txn": int(txn.id),
                            "appointments": moved, "memberships": memberships,
                            "reason": why})
        if filled:
            audit.record(ctx, "patient", keep_id, "update (merge)",
                         before={name: getattr(keep, name) for name in filled},
                         after=dict(filled))
        return MergeResult(keep_id, drop_id, int(txn.id), len(moved), len(memberships),
                           tuple(filled))

    return run_write(ctx.db, work)
