"""Households: family members linked together, optionally spending one shared wallet.

A shared wallet's credit and tokens sit on the household's own accounts, so the
grid, the check-in and every sale of any member use one balance. Linking, leaving
or switching the shared wallet never moves a balance silently: a member whose own
wallet is not empty joins a shared wallet only with ``move_balance``, which writes
an audited transfer; a shared wallet that still holds something cannot be left
empty-handed (its last member cannot leave, it cannot stop being shared) until
its balance is moved to a member with ``move_to``.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from desk.core.errors import BadInput, NotFound, Refused
from desk.core.text import clean_name
from desk.data.models import Account, Appointment, Hold, Household, Patient
from desk.data.tx import lock_row, run_write
from desk.services import accounts, audit
from desk.services.context import Ctx
from desk.services.patients import live_patient
from desk.services.posting import Draft, commit, find_replay, request_hash
from desk.services.wallet_moves import contents, move_all


@dataclass(frozen=True, slots=True)
class Member:
    id: int
    name: str
    active: bool


@dataclass(frozen=True, slots=True)
class HouseholdInfo:
    id: int
    name: str
    shared_wallet: bool
    members: tuple[Member, ...]


@dataclass(frozen=True, slots=True)
class HouseholdChange:
    """The household after a change (None when the patient left), and the ledger
    transactions written to move balances (none when nothing moved)."""

    household: HouseholdInfo | None
    txn_ids: tuple[int, ...] = ()


def household_info(household_id: int) -> HouseholdInfo:
    row = Household.get_or_none(Household.id == household_id)
    if row is None:
        raise NotFound(f"--household: no household with id {household_id}")
    members = tuple(Member(int(p.id), p.name, bool(p.active)) for p in
                    Patient.select(Patient.id, Patient.name, Patient.active)
                    .where(Patient.household == household_id).order_by(Patient.name, Patient.id))
    return HouseholdInfo(int(row.id), row.name, bool(row.shared_wallet), members)


def household_of(patient_id: int) -> HouseholdInfo | None:
    row = live_patient(patient_id, "--patient")
    return None if row.household_id is None else household_info(int(row.household_id))


def _own(patient_id: int) -> tuple[str, int]:
    return ("p", patient_id)


def _join_shared(ctx: Ctx, draft: Draft, patient: Patient, household_id: int,
                 move_balance: bool) -> None:
    """Bring a member's own wallet into the household's (or refuse when it is not
    empty and the move was not asked for)."""
    mine = contents(_own(int(patient.id)))
    if mine.empty:
        return
    if not move_balance:
        raise Refused(f"{patient.name} has {mine.describe()} of their own; joining a shared "
                      "wallet would hide it. Move it into the household wallet "
                      "(--move-balance) or settle it first")
    move_all(ctx, draft, _own(int(patient.id)), lambda: accounts.household_credit(household_id),
             lambda kind: accounts.household_tokens(household_id, kind),
             f"patient {patient.id} into the household wallet")


def link(ctx: Ctx, patient_id: int, with_id: int, *, shared_wallet: bool = False,
         move_balance: bool = False, name: str | None = None,
         idem_key: str | None = None) -> HouseholdChange:
    """Put ``patient_id`` in the household of ``with_id`` (made for them if they have
    none). ``shared_wallet`` makes the household share one wallet (it stays shared if
    it already was); ``name`` names a new household or renames it."""
    if patient_id == with_id:
        raise BadInput("--with", "is the same patient as --patient")
    new_name = clean_name(name, "--name") if name is not None else None
    key = idem_key or str(uuid.uuid4())
    req = request_hash({"op": "household link", "patient": patient_id, "with": with_id,
                        "shared": shared_wallet, "move": move_balance, "name": new_name})

    def work() -> HouseholdChange:
        replay = find_replay(key, req)
        for pid in sorted((patient_id, with_id)):
            lock_row(ctx.db, Patient, pid)
        patient, other = live_patient(patient_id, "--patient"), live_patient(with_id, "--with")
        if replay is not None:
            return HouseholdChange(household_of(patient_id), (int(replay.id),))
        if patient.household_id is not None and patient.household_id != other.household_id:
            current = Household.get_by_id(patient.household_id)
            raise Refused(f"{patient.name} is already in the household {current.name!r}; "
                          "unlink them first")
        if other.household_id is None:
            household = Household.create(name=new_name or f"{other.name} household",
                                         shared_wallet=False)
            Patient.update(household=household.id).where(Patient.id == other.id).execute()
            audit.record(ctx, "household", household.id, "create",
                         after={"name": household.name, "members": [int(other.id)]})
        else:
            household = Household.get_by_id(other.household_id)
            lock_row(ctx.db, Household, int(household.id))
            if new_name and new_name != household.name:
                audit.record(ctx, "household", household.id, "rename",
                             before={"name": household.name}, after={"name": new_name})
                Household.update(name=new_name).where(Household.id == household.id).execute()
        hid = int(household.id)
        draft = Draft("transfer", patient_id, memo="into the household wallet")
        shared = bool(household.shared_wallet) or shared_wallet
        if shared:
            # Switching sharing on brings in every member; else only the newcomer.
            members = [] if household.shared_wallet else [
                int(p.id) for p in Patient.select(Patient.id).where(Patient.household == hid)]
            for pid in sorted({*members, patient_id}):
                _join_shared(ctx, draft, Patient.get_by_id(pid), hid, move_balance)
            if not household.shared_wallet:
                Household.update(shared_wallet=True).where(Household.id == hid).execute()
                audit.record(ctx, "household", hid, "share wallet",
                             before={"shared_wallet": False}, after={"shared_wallet": True})
        if patient.household_id != hid:
            Patient.update(household=hid).where(Patient.id == patient_id).execute()
            audit.record(ctx, "patient", patient_id, "join household",
                         before={"household": patient.household_id}, after={"household": hid})
        txns: tuple[int, ...] = ()
        if draft.postings or draft.moves:
            txns = (int(commit(ctx, draft, idem_key=key, req_hash=req).id),)
        return HouseholdChange(household_info(hid), txns)

    return run_write(ctx.db, work)


def unlink(ctx: Ctx, patient_id: int) -> HouseholdChange:
    """Take a patient out of their household. A shared wallet stays with the household:
    refused while the patient's booked visits hold its tokens or credit, and for the
    last member while it still holds a balance."""

    def work() -> HouseholdChange:
        lock_row(ctx.db, Patient, patient_id)
        patient = live_patient(patient_id, "--patient")
        if patient.household_id is None:
            raise Refused(f"{patient.name} is not in a household")
        hid = int(patient.household_id)
        lock_row(ctx.db, Household, hid)
        household = Household.get_by_id(hid)
        if household.shared_wallet:
            held = (Hold.select().join(Account, on=(Hold.account == Account.id))
                    .switch(Hold).join(Appointment, on=(Hold.appointment == Appointment.id))
                    .where(Account.household == hid, Hold.status == "open",
                           Appointment.patient == patient_id).count())
            if held:
                raise Refused(f"{patient.name} has {held} booked visit"
                              f"{'s' if held != 1 else ''} holding the household's tokens or "
                              "credit; cancel or check them in first")
            others = (Patient.select().where(Patient.household == hid, Patient.id != patient_id)
                      .count())
            left = contents(("h", hid))
            if not others and not left.empty:
                raise Refused(f"the household wallet still holds {left.describe()}; move it to "
                              f"{patient.name} first (stop sharing the wallet)")
        Patient.update(household=None).where(Patient.id == patient_id).execute()
        audit.record(ctx, "patient", patient_id, "leave household",
                     before={"household": hid}, after={"household": None})
        return HouseholdChange(household_info(hid))

    return run_write(ctx.db, work)


def set_shared_wallet(ctx: Ctx, household_id: int, shared: bool, *,
                      move_balance: bool = False, move_to: int | None = None,
                      idem_key: str | None = None) -> HouseholdChange:
    """Start or stop sharing one wallet. Starting needs every member's own wallet
    empty, or ``move_balance`` to bring them in; stopping needs the shared wallet
    empty, or ``move_to`` (a member) to receive what it holds."""
    key = idem_key or str(uuid.uuid4())
    req = request_hash({"op": "household wallet", "household": household_id,
                        "shared": shared, "move": move_balance, "to": move_to})

    def work() -> HouseholdChange:
        replay = find_replay(key, req)
        lock_row(ctx.db, Household, household_id)
        info = household_info(household_id)
        if replay is not None:
            return HouseholdChange(info, (int(replay.id),))
        if info.shared_wallet == shared:
            return HouseholdChange(info)
        if shared:
            draft = Draft("transfer", None, memo="into the household wallet")
            for member in info.members:
                _join_shared(ctx, draft, Patient.get_by_id(member.id), household_id,
                             move_balance)
        else:
            draft = _stop_sharing(ctx, info, move_to)
        Household.update(shared_wallet=shared).where(Household.id == household_id).execute()
        audit.record(ctx, "household", household_id,
                     "share wallet" if shared else "stop sharing wallet",
                     before={"shared_wallet": not shared}, after={"shared_wallet": shared})
        txns: tuple[int, ...] = ()
        if draft.postings or draft.moves:
            txns = (int(commit(ctx, draft, idem_key=key, req_hash=req).id),)
        return HouseholdChange(household_info(household_id), txns)

    return run_write(ctx.db, work)


def _stop_sharing(ctx: Ctx, info: HouseholdInfo, move_to: int | None) -> Draft:
    left = contents(("h", info.id))
    if left.open_holds:
        raise Refused(f"{left.open_holds} booked visits hold the household's tokens or "
                      "credit; cancel or check them in first")
    if move_to is not None and move_to not in {m.id for m in info.members}:
        raise BadInput("--move-to", f"patient {move_to} is not a member of {info.name!r}")
    if left.empty:
        return Draft("transfer", move_to, memo="out of the household wallet")
    if move_to is None:
        raise Refused(f"the household wallet holds {left.describe()}; say which member "
                      "receives it (--move-to)")
    draft = Draft("transfer", move_to, memo="out of the household wallet")
    move_all(ctx, draft, ("h", info.id), lambda: accounts.own_credit(move_to),
             lambda kind: accounts.own_tokens(move_to, kind),
             f"household wallet to patient {move_to}")
    return draft


def rename(ctx: Ctx, household_id: int, name: str) -> HouseholdInfo:
    clean = clean_name(name, "--name")

    def work() -> HouseholdInfo:
        info = household_info(household_id)
        if info.name != clean:
            Household.update(name=clean).where(Household.id == household_id).execute()
            audit.record(ctx, "household", household_id, "rename", before={"name": info.name},
                         after={"name": clean})
        return household_info(household_id)

    return run_write(ctx.db, work)
