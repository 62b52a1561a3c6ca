"""``desk patient show|merge`` and ``desk household link|unlink|wallet``: support and
scripting access to patients' files, duplicates and households."""

from __future__ import annotations

import argparse
from typing import Any

from desk.cli.output import Output, balance_json, balance_text
from desk.core.money import format_amount
from desk.services import households, memberships, merge, patient_file
from desk.services import settings as clinic_settings
from desk.services.context import Ctx


def _household_json(info: households.HouseholdInfo | None) -> dict[str, Any] | None:
    if info is None:
        return None
    return {"id": info.id, "name": info.name, "shared_wallet": info.shared_wallet,
            "members": [{"id": m.id, "name": m.name} for m in info.members]}


def _household_text(info: households.HouseholdInfo | None) -> str:
    if info is None:
        return "no household"
    names = ", ".join(f"{m.name} ({m.id})" for m in info.members) or "no members left"
    wallet = "one shared wallet" if info.shared_wallet else "separate wallets"
    return f"{info.name} (household {info.id}, {wallet}): {names}"


def patient_show(ns: argparse.Namespace, ctx: Ctx) -> Output:
    found = patient_file.patient_file(ns.patient_id, ctx.local_now())
    info = found.info
    data = {
        "id": info.id, "name": info.name, "phone": info.phone, "email": info.email,
        "dob": info.dob.isoformat() if info.dob else None, "notes": info.notes,
        "active": info.active, "merged_into": info.merged_into_id,
        "merged_from": [{"id": i, "name": n} for i, n in found.merged_from],
        "household": _household_json(found.household),
        "balance": balance_json(found.balance),
        "lots": [{"id": lot.id, "token_kind": lot.kind, "txn_id": lot.txn_id,
                  "granted_at": lot.bought_at.isoformat(sep=" "), "granted_by": lot.granted_by,
                  "quantity": lot.quantity, "remaining": lot.remaining,
                  "unit_value": format_amount(lot.unit_value_cents),
                  "expires_on": lot.expires_on.isoformat() if lot.expires_on else None}
                 for lot in found.lots],
        "holds": [{"appointment_id": h.appointment_id, "starts_at": h.starts_at.isoformat(),
                   "service": h.service, "held": h.what,
                   "quantity": format_amount(h.quantity) if h.what == "credit" else h.quantity}
                  for h in found.holds],
        "upcoming": [{"appointment_id": v.id, "starts_at": v.starts_at.isoformat(),
                      "practitioner": v.practitioner, "service": v.service,
                      "status": v.status} for v in found.upcoming],
        "memberships": [{"id": m.id, "package": m.package,
                         "started_on": m.started_on.isoformat(),
                         "ended_on": m.ended_on.isoformat() if m.ended_on else None}
                        for m in found.memberships],
    }
    currency = clinic_settings.get("currency")
    lines = [f"{info.name} (patient {info.id}){'' if info.active else ', inactive'}"]
    if info.merged_into_id is not None:
        lines.append(f"  merged into patient {info.merged_into_id}")
    for label, value in (("phone", info.phone), ("email", info.email),
                         ("born", info.dob.isoformat() if info.dob else ""),
                         ("notes", info.notes)):
        if value:
            lines.append(f"  {label}: {value}")
    lines.append(f"  household: {_household_text(found.household)}")
    lines.append(f"  balance: {balance_text(found.balance, currency)}")
    for lot in found.lots:
        expiry = f", expires {lot.expires_on}" if lot.expires_on else ""
        lines.append(f"  lot {lot.id}: {lot.remaining}/{lot.quantity} {lot.kind} "
                     f"at {format_amount(lot.unit_value_cents)} ({lot.granted_by} "
                     f"{lot.bought_at:%Y-%m-%d}){expiry}")
    for hold in found.holds:
        lines.append(f"  held for visit {hold.appointment_id} on {hold.starts_at:%Y-%m-%d %H:%M}"
                     f": {hold.quantity if hold.what != 'credit' else format_amount(hold.quantity)}"
                     f" {hold.what}")
    for visit in found.upcoming:
        lines.append(f"  upcoming: {visit.starts_at:%Y-%m-%d %H:%M} {visit.service} with "
                     f"{visit.practitioner} (appointment {visit.id}, {visit.status})")
    return Output(data, "\n".join(lines))


def patient_merge(ns: argparse.Namespace, ctx: Ctx) -> Output:
    done = merge.merge_patients(ctx, ns.keep, ns.drop, ns.reason, idem_key=ns.key)
    data = {"txn_id": done.txn_id, "keep": done.keep_id, "drop": done.drop_id,
            "appointments_moved": done.appointments_moved,
            "memberships_moved": done.memberships_moved, "filled": list(done.filled),
            "replayed": done.replayed}
    if done.replayed:
        return Output(data, f"Already merged (same key): transaction {done.txn_id}.")
    return Output(data, f"Merged patient {done.drop_id} into {done.keep_id} (transaction "
                        f"{done.txn_id}): {done.appointments_moved} appointments and "
                        f"{done.memberships_moved} memberships moved"
                        + (f"; filled in {', '.join(done.filled)}" if done.filled else "")
                        + ".")


def _change(change: households.HouseholdChange, head: str) -> Output:
    data = {"household": _household_json(change.household), "txn_ids": list(change.txn_ids)}
    text = head + "\n  " + _household_text(change.household)
    if change.txn_ids:
        text += f"\n  balances moved in transaction {', '.join(map(str, change.txn_ids))}"
    return Output(data, text)


def household_link(ns: argparse.Namespace, ctx: Ctx) -> Output:
    change = households.link(ctx, ns.patient, ns.with_id, shared_wallet=ns.shared_wallet,
                             move_balance=ns.move_balance, name=ns.name, idem_key=ns.key)
    return _change(change, f"Patient {ns.patient} linked with patient {ns.with_id}.")


def household_unlink(ns: argparse.Namespace, ctx: Ctx) -> Output:
    change = households.unlink(ctx, ns.patient)
    data: dict[str, Any] = {"left": _household_json(change.household), "txn_ids": []}
    assert change.household is not None
    return Output(data, f"Patient {ns.patient} left {change.household.name!r}.")


def household_wallet(ns: argparse.Namespace, ctx: Ctx) -> Output:
    change = households.set_shared_wallet(ctx, ns.household, ns.shared,
                                          move_balance=ns.move_balance, move_to=ns.move_to,
                                          idem_key=ns.key)
    return _change(change, "The household shares one wallet." if ns.shared
                   else "Household members have their own wallets again.")


def membership_end(ns: argparse.Namespace, ctx: Ctx) -> Output:
    day = memberships.end_membership(ctx, ns.membership, ns.on)
    return Output({"id": ns.membership, "ended_on": day.isoformat()},
                  f"Membership {ns.membership} ends on {day.isoformat()}: no more renewals.")


HANDLERS = {"patient show": patient_show, "patient merge": patient_merge,
            "membership end": membership_end, "household link": household_link,
            "household unlink": household_unlink, "household wallet": household_wallet}
