"""What a household change or a merge of duplicates would move, read before the
receptionist confirms it (the patient window's dialogs). Nothing is written."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from desk.data.models import Account, Appointment, Line, Membership, Txn
from desk.services import accounts
from desk.services.households import HouseholdInfo, household_info
from desk.services.patients import PatientInfo, get_patient
from desk.services.wallet_moves import WalletContents, contents


@dataclass(frozen=True, slots=True)
class HouseholdPreview:
    """A patient, their household, the own wallet of each of them (what joining a
    shared wallet would move) and the household's shared wallet, if it shares one."""

    patient: PatientInfo
    household: HouseholdInfo | None
    own: dict[int, WalletContents]
    shared: WalletContents | None

    def members(self) -> list[tuple[int, str]]:
        """(id, name) of the patient and of every other member of their household."""
        if self.household is None:
            return [(self.patient.id, self.patient.name)]
        return [(m.id, m.name) for m in self.household.members]


def household_preview(patient_id: int) -> HouseholdPreview:
    info = get_patient(patient_id)
    household = None if info.household_id is None else household_info(info.household_id)
    ids = [patient_id] if household is None else [m.id for m in household.members]
    own = {pid: contents(("p", pid)) for pid in sorted({patient_id, *ids})}
    shared = (contents(("h", household.id))
              if household is not None and household.shared_wallet else None)
    return HouseholdPreview(info, household, own, shared)


@dataclass(frozen=True, slots=True)
class MergePreview:
    """What merging ``drop`` into ``keep`` moves: the duplicate's visits, memberships,
    own wallet, and the transactions its history brings along."""

    keep: PatientInfo
    drop: PatientInfo
    visits: int
    upcoming: int
    memberships: int
    transactions: int
    wallet: WalletContents
    #: The name of the household whose shared wallet the duplicate spends (a merge is
    #: refused until they leave it), else None.
    shared_household: str | None


def merge_preview(keep_id: int, drop_id: int, now: dt.datetime) -> MergePreview:
    """The preview of merging ``drop_id`` into ``keep_id``; ``now`` (local) splits
    upcoming visits from past ones."""
    keep, drop = get_patient(keep_id, "--keep"), get_patient(drop_id, "--drop")
    visits = Appointment.select().where(Appointment.patient == drop_id)
    upcoming = visits.where(Appointment.starts_at >= now)
    memberships = Membership.select().where(Membership.patient == drop_id)
    theirs = accounts.merged_ids(drop_id)
    touched = (Line.select(Line.txn).join(Account, on=(Line.account == Account.id))
               .where(Account.patient.in_(theirs)))
    txns = Txn.select().where(Txn.id.in_(touched) | Txn.patient.in_(theirs))
    shared = None
    if drop.household_id is not None:
        household = household_info(drop.household_id)
        shared = household.name if household.shared_wallet else None
    return MergePreview(keep, drop, visits.count(), upcoming.count(), memberships.count(),
                        txns.count(), contents(("p", drop_id)), shared)
