"""Everything the patient window (and ``desk patient show``) shows about one patient:
profile, household, balances, the lots behind the tokens, holds, visits and
memberships, read in a fixed number of queries."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from peewee import JOIN

from desk.core.dates import as_date, as_datetime
from desk.data.models import (
    Account,
    Appointment,
    Hold,
    Lot,
    LotMove,
    Membership,
    Package,
    Patient,
    Practitioner,
    Service,
    TokenKind,
    Txn,
    rows,
)
from desk.services import accounts
from desk.services.households import HouseholdInfo, household_info
from desk.services.patients import PatientInfo, get_patient
from desk.services.results import Balance


@dataclass(frozen=True, slots=True)
class LotInfo:
    id: int
    kind: str
    txn_id: int
    bought_at: dt.datetime          # UTC, when the lot was granted
    granted_by: str                 # the transaction kind: sale, adjustment, transfer...
    quantity: int
    remaining: int
    unit_value_cents: int
    expires_on: dt.date | None

    def expired(self, today: dt.date) -> bool:
        return self.expires_on is not None and self.expires_on < today


@dataclass(frozen=True, slots=True)
class HoldInfo:
    appointment_id: int
    starts_at: dt.datetime
    service: str
    what: str                       # a token kind's name, or "credit"
    quantity: int                   # tokens, or cents for credit


@dataclass(frozen=True, slots=True)
class VisitInfo:
    id: int
    starts_at: dt.datetime
    practitioner: str
    service: str
    status: str
    checkin_txn_id: int | None


@dataclass(frozen=True, slots=True)
class MembershipInfo:
    id: int
    package: str
    started_on: dt.date
    ended_on: dt.date | None


@dataclass(frozen=True, slots=True)
class PatientFile:
    info: PatientInfo
    household: HouseholdInfo | None
    balance: Balance
    lots: tuple[LotInfo, ...]
    holds: tuple[HoldInfo, ...]
    upcoming: tuple[VisitInfo, ...]
    past: tuple[VisitInfo, ...]
    memberships: tuple[MembershipInfo, ...]
    merged_from: tuple[tuple[int, str], ...]   # duplicates merged into this patient


def patient_file(patient_id: int, now: dt.datetime, past_limit: int = 200) -> PatientFile:
    """The patient's file as of local time ``now`` (upcoming = from ``now`` on)."""
    info = get_patient(patient_id)
    household = None if info.household_id is None else household_info(info.household_id)
    balance = accounts.balance_of(patient_id)
    owner: accounts.Owner = (("h", balance.household_id) if balance.household_id is not None
                             else ("p", patient_id))
    mine = accounts.owner_accounts(owner)
    lot_rows = rows(Lot.select(Lot.id, TokenKind.name, Txn.id, Txn.created_at, Txn.kind,
                               Lot.quantity, Lot.remaining, Lot.unit_value_cents, Lot.expires_on)
                    .join(Account, on=(Lot.account == Account.id))
                    .join(TokenKind, on=(Account.token_kind == TokenKind.id))
                    .switch(Lot).join(Txn, on=(Lot.txn == Txn.id))
                    .where(mine, Lot.remaining > 0)
                    .order_by(TokenKind.name, Lot.expires_on.is_null(), Lot.expires_on, Lot.id))
    found = list(lot_rows)
    origin = _origins({int(r[0]): (int(r[2]), str(r[4])) for r in found})
    lots = tuple(LotInfo(int(i), str(k), int(t), *origin.get(int(i), (as_datetime(at), str(kind))),
                         int(q), int(r), int(v), None if e is None else as_date(e))
                 for i, k, t, at, kind, q, r, v, e in found)
    holds = tuple(HoldInfo(int(a), as_datetime(s), str(svc),
                           "credit" if kind == "patient_credit" else str(name), int(q))
                  for a, s, svc, kind, name, q in rows(
                      Hold.select(Appointment.id, Appointment.starts_at, Service.name,
                                  Account.kind, TokenKind.name, Hold.quantity)
                      .join(Account, on=(Hold.account == Account.id))
                      .join(TokenKind, JOIN.LEFT_OUTER, on=(Account.token_kind == TokenKind.id))
                      .switch(Hold).join(Appointment, on=(Hold.appointment == Appointment.id))
                      .join(Service, on=(Appointment.service == Service.id))
                      .where(mine, Hold.status == "open").order_by(Appointment.starts_at)))
    visits = (Appointment.select(Appointment.id, Appointment.starts_at, Practitioner.name,
                                 Service.name, Appointment.status, Appointment.checkin_txn)
              .join(Practitioner, on=(Appointment.practitioner == Practitioner.id))
              .switch(Appointment).join(Service, on=(Appointment.service == Service.id))
              .where(Appointment.patient == patient_id))
    upcoming = tuple(_visit(r) for r in rows(visits.where(Appointment.starts_at >= now)
                                                   .order_by(Appointment.starts_at)))
    past = tuple(_visit(r) for r in rows(visits.where(Appointment.starts_at < now)
                                               .order_by(Appointment.starts_at.desc())
                                               .limit(past_limit)))
    memberships = tuple(MembershipInfo(int(i), str(n), as_date(s), None if e is None else
                                       as_date(e)) for i, n, s, e in rows(
        Membership.select(Membership.id, Package.name, Membership.started_on,
                          Membership.ended_on)
        .join(Package, on=(Membership.package == Package.id))
        .where(Membership.patient == patient_id).order_by(Membership.started_on)))
    merged = tuple((int(i), str(n)) for i, n in rows(
        Patient.select(Patient.id, Patient.name).where(Patient.merged_into == patient_id)
        .order_by(Patient.id)))
    return PatientFile(info, household, balance, lots, holds, upcoming, past, memberships,
                       merged)


#: Transactions that carry tokens from one owner to another in new lots.
_MOVES = ("transfer", "merge")


def _origins(lots: dict[int, tuple[int, str]]) -> dict[int, tuple[dt.datetime, str]]:
    """When and how the tokens of lots made by a transfer or merge were first granted:
    such a transaction takes from its source lots (moves) and makes the new lots in the
    same order, so the i-th new lot comes from the i-th source. Followed back through
    several moves (3 queries per step)."""
    tracing = {lot_id: lot_id for lot_id, (_, kind) in lots.items() if kind in _MOVES}
    current = {lot_id: lots[lot_id][0] for lot_id in tracing}      # lot -> its txn
    out: dict[int, tuple[dt.datetime, str]] = {}
    for _ in range(20):
        if not current:
            break
        txns = sorted(set(current.values()))
        made: dict[int, list[int]] = {}
        for lot_id, txn_id in rows(Lot.select(Lot.id, Lot.txn).where(Lot.txn.in_(txns))
                                   .order_by(Lot.id)):
            made.setdefault(int(txn_id), []).append(int(lot_id))
        taken: dict[int, list[int]] = {}
        for txn_id, lot_id in rows(LotMove.select(LotMove.txn, LotMove.lot)
                                   .where(LotMove.txn.in_(txns), LotMove.quantity < 0)
                                   .order_by(LotMove.id)):
            taken.setdefault(int(txn_id), []).append(int(lot_id))
        source: dict[int, int] = {}
        for txn_id, new in made.items():
            old = taken.get(txn_id, [])
            if len(old) == len(new):
                source.update(zip(new, old, strict=True))
        granted = {int(i): (int(t), str(k), as_datetime(at)) for i, t, k, at in rows(
            Lot.select(Lot.id, Txn.id, Txn.kind, Txn.created_at)
            .join(Txn, on=(Lot.txn == Txn.id))
            .where(Lot.id.in_(sorted(set(source.values())))))}
        following: dict[int, int] = {}
        for start, lot_id in tracing.items():
            src = source.get(lot_id)
            if src is None or src not in granted or start not in current:
                continue
            txn_id, kind, at = granted[src]
            if kind in _MOVES:
                tracing[start] = src
                following[start] = txn_id
            else:
                out[start] = (at, kind)
        current = following
    return out


def _visit(row: tuple[object, ...]) -> VisitInfo:
    appt_id, starts, practitioner, service, status, txn = row
    return VisitInfo(int(str(appt_id)), as_datetime(starts), str(practitioner), str(service),
                     str(status), None if txn is None else int(str(txn)))
