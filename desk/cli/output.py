"""Turning service results into JSON (amounts as decimal strings) and plain text."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from desk.core.money import format_amount, format_money
from desk.printing.statement_data import StatementData
from desk.services.day import DayView
from desk.services.queries import TxnView
from desk.services.results import Balance, TxnResult


@dataclass(frozen=True)
class Output:
    data: Any
    text: str
    exit_code: int = 0


def balance_json(balance: Balance) -> dict[str, Any]:
    return {"patient_id": balance.patient_id, "credit": format_amount(balance.credit_cents),
            "tokens": dict(sorted(balance.tokens.items())),
            "held": dict(sorted(balance.held.items())),
            "next_expiry": {k: v.isoformat() for k, v in sorted(balance.next_expiry.items())}}


def balance_text(balance: Balance, currency: str) -> str:
    parts = [f"{n} {kind} token{'s' if abs(n) != 1 else ''}"
             for kind, n in sorted(balance.tokens.items())]
    for kind, first in sorted(balance.next_expiry.items()):
        parts.append(f"{kind} tokens expire from {first.isoformat()}")
    if balance.credit_cents > 0:
        parts.append(f"{format_money(balance.credit_cents, currency)} credit")
    elif balance.credit_cents < 0:
        parts.append(f"owes {format_money(-balance.credit_cents, currency)}")
    return ", ".join(parts) if parts else "no tokens, no credit"


def txn_output(result: TxnResult, currency: str, focus: int | None = None) -> Output:
    data: dict[str, Any] = {
        "txn_id": result.txn_id, "kind": result.kind, "receipt_no": result.receipt_no,
        "replayed": result.replayed,
        "balances": [balance_json(b) for b in result.balances]}
    if focus is not None:
        data["balance"] = balance_json(result.balance_of(focus))
    head = f"{result.kind.capitalize()} recorded as transaction {result.txn_id}"
    if result.receipt_no is not None:
        head += f", receipt {result.receipt_no}"
    if result.replayed:
        head = f"Already recorded (same key): transaction {result.txn_id}"
    lines = [head + "."]
    lines += [f"  patient {b.patient_id}: {balance_text(b, currency)}" for b in result.balances]
    return Output(data, "\n".join(lines))


def history_json(views: list[TxnView]) -> list[dict[str, Any]]:
    out = []
    for view in views:
        out.append({
            "txn_id": view.id, "kind": view.kind, "created_at": _iso(view.created_at),
            "staff": view.staff, "workstation": view.workstation, "memo": view.memo,
            "receipt_no": view.receipt_no, "reverses": view.reverses_id,
            "reversed_by": view.reversed_by, "appointment_id": view.appointment_id,
            "credit_change": format_amount(view.credit_change_cents),
            "token_changes": view.token_changes,
            "lines": [{"account": ln.account, "unit": ln.unit,
                       "amount": format_amount(ln.amount) if ln.unit == "money" else ln.amount,
                       "memo": ln.memo} for ln in view.lines]})
    return out


def history_text(views: list[TxnView], currency: str) -> str:
    if not views:
        return "No transactions."
    rows = []
    for view in views:
        changes = []
        if view.credit_change_cents:
            sign = "+" if view.credit_change_cents > 0 else "-"
            changes.append(f"credit {sign}{format_money(abs(view.credit_change_cents), currency)}")
        changes += [f"{kind} {n:+d}" for kind, n in sorted(view.token_changes.items())]
        receipt = f" receipt {view.receipt_no}" if view.receipt_no else ""
        flag = f" (reversed by {view.reversed_by})" if view.reversed_by else ""
        rows.append(f"{view.id:>6}  {_iso(view.created_at)[:16]}  {view.kind:<10} "
                    f"{', '.join(changes) or '-':<40} {view.staff}{receipt}{flag}"
                    + (f"  — {view.memo}" if view.memo else ""))
    return "\n".join(rows)


def _iso(value: object) -> str:
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ", timespec="seconds")
    return str(value)


def day_json(view: DayView) -> dict[str, Any]:
    return {
        "first_day": view.first_day.isoformat(), "days": view.days,
        "practitioners": [{"id": i, "name": n} for i, n in view.practitioners],
        "counts": view.counts(),
        "appointments": [{
            "id": a.id, "patient_id": a.patient_id, "patient": a.patient_name,
            "practitioner_id": a.practitioner_id, "service": a.service_name,
            "token_kind": a.token_kind, "price": format_amount(a.price_cents),
            "starts_at": a.starts_at.isoformat(), "ends_at": a.ends_at.isoformat(),
            "status": a.status, "note": a.note, "receipt_no": a.receipt_no,
            "covered_by": a.covered_by} for a in view.appointments],
        "wallets": {str(pid): {
            "credit": format_amount(w.credit_cents), "tokens": w.tokens, "held": w.held,
            "credit_held": format_amount(w.credit_held_cents),
            "next_expiry": {k: {"date": d.isoformat(), "tokens": n}
                            for k, (d, n) in w.next_expiry.items()}}
            for pid, w in view.wallets.items()},
    }


def day_text(view: DayView, currency: str) -> str:
    names = dict(view.practitioners)
    out = []
    for appt in view.appointments:
        wallet = view.wallets[appt.patient_id]
        flags = []
        if wallet.tokens:
            held = ", ".join(f"{k} {n}" for k, n in sorted(wallet.tokens.items()))
            flags.append(f"tokens {held}")
        if wallet.credit_cents > 0:
            flags.append(f"credit {format_money(wallet.credit_cents, currency)}")
        elif wallet.credit_cents < 0:
            flags.append(f"owes {format_money(-wallet.credit_cents, currency)}")
        if appt.status == "booked" and appt.covered_by is None:
            flags.append("NOT COVERED")
        out.append(f"{appt.starts_at:%a %d %H:%M}-{appt.ends_at:%H:%M}  "
                   f"{names.get(appt.practitioner_id, '?'):<16.16} {appt.id:>6}  "
                   f"{appt.patient_name:<22.22} {appt.service_name:<20.20} "
                   f"{appt.status:<14} {'; '.join(flags)}")
    counts = view.counts()
    out.append(f"{len(view.appointments)} appointments: {counts['booked']} booked, "
               f"{counts['checked_in']} checked in, {counts['cancelled']} cancelled, "
               f"{counts['late_cancelled']} late-cancelled, {counts['no_show']} no-shows, "
               f"{counts['not_covered']} not covered")
    return "\n".join(out)


def statement_json(data: StatementData, file: str) -> dict[str, Any]:
    return {
        "patient_id": data.patient_id, "file": file, "from": data.first.isoformat(),
        "to": data.last.isoformat(), "transactions": len(data.entries),
        "opening": {"credit": format_amount(data.opening_credit_cents),
                    "tokens": dict(data.opening_tokens)},
        "charges": format_amount(data.charges_cents), "paid": format_amount(data.paid_cents),
        "closing": {"credit": format_amount(data.closing_credit_cents),
                    "tokens": dict(data.closing_tokens)},
        "tokens_left": {t.kind: {"tokens": t.count, "next_expiry": t.next_expiry.isoformat()
                                 if t.next_expiry else None, "expiring": t.expiring}
                        for t in data.tokens_left}}


def statement_text(data: StatementData, file: str, currency: str) -> str:
    def wallet(credit: int, tokens: dict[str, int]) -> str:
        parts = [f"{n} {kind} token{'s' if abs(n) != 1 else ''}"
                 for kind, n in sorted(tokens.items())]
        if credit > 0:
            parts.append(f"{format_money(credit, currency)} credit")
        elif credit < 0:
            parts.append(f"owes {format_money(-credit, currency)}")
        return ", ".join(parts) or "no tokens, no credit"

    count = len(data.entries)
    return (f"Statement for {data.patient_name}, {data.first} to {data.last} "
            f"({count} transaction{'s' if count != 1 else ''}) written to {file}.\n"
            f"  opening: {wallet(data.opening_credit_cents, data.opening_tokens)}\n"
            f"  closing: {wallet(data.closing_credit_cents, data.closing_tokens)}")
