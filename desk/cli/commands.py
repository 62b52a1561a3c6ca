"""One handler per subcommand: arguments in, a service call, an ``Output`` back."""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from pathlib import Path

from desk.cli import patient_commands
from desk.cli.output import (
    Output,
    balance_json,
    balance_text,
    day_json,
    day_text,
    history_json,
    history_text,
    statement_json,
    statement_text,
    txn_output,
)
from desk.core import schedule
from desk.core.errors import BadInput, DeskError
from desk.core.money import format_amount, format_money
from desk.core.settings import SPECS
from desk.data import backup as backups
from desk.data.database import describe, open_database
from desk.data.migrations import current_version, migrate
from desk.printing.receipt import render_receipt
from desk.printing.statement import render_statement
from desk.services import (
    appointments,
    cancellation,
    catalog,
    checkin,
    day,
    demo,
    expiry,
    memberships,
    patients,
    queries,
    receipts,
    reversal,
    sales,
    statements,
    verify,
    wallet,
)
from desk.services import settings as clinic_settings
from desk.services.context import Ctx

Handler = Callable[[argparse.Namespace, Ctx], Output]


def dispatch(ns: argparse.Namespace) -> Output:
    db = open_database(ns.db)
    try:
        applied = migrate(db)
        ctx = Ctx(db, staff=ns.staff or "cli")
        if ns.command == "init":
            version = current_version(db)
            return Output({"database": describe(ns.db or _default()), "schema_version": version,
                           "applied": applied},
                          f"Database ready at schema version {version}"
                          + (f" (applied {applied})." if applied else " (already current)."))
        key = ns.command + (f" {ns.action}" if getattr(ns, "action", None) else "")
        return HANDLERS[key](ns, ctx)
    finally:
        db.close()


def _default() -> str:
    from desk.data.database import default_url

    return default_url()


def _currency() -> str:
    return clinic_settings.get("currency")


def _created(kind: str, row_id: int, name: str) -> Output:
    return Output({"id": row_id, "name": name}, f"Added {kind} {name!r} (id {row_id}).")


def practitioner_add(ns: argparse.Namespace, ctx: Ctx) -> Output:
    made = catalog.add_practitioner(ctx, ns.name)
    return _created("practitioner", made.id, made.name)


def service_add(ns: argparse.Namespace, ctx: Ctx) -> Output:
    made = catalog.add_service(ctx, ns.name, ns.minutes, ns.price, ns.token_kind, ns.colour)
    return _created("service", made.id, made.name)


def package_add(ns: argparse.Namespace, ctx: Ctx) -> Output:
    made = catalog.add_package(ctx, ns.name, ns.token_kind, ns.tokens, ns.price,
                               ns.expires_days, ns.monthly)
    return _created("package", made.id, made.name)


def patient_add(ns: argparse.Namespace, ctx: Ctx) -> Output:
    info = patients.add_patient(ctx, ns.name, ns.phone, ns.email, ns.dob, ns.notes)
    return _created("patient", info.id, info.name)


def patient_find(ns: argparse.Namespace, ctx: Ctx) -> Output:
    found = patients.find_patients(ns.query, ns.limit)
    data = [{"id": p.id, "name": p.name, "phone": p.phone, "email": p.email,
             "dob": p.dob.isoformat() if p.dob else None} for p in found]
    text = "\n".join(f"{p.id:>7}  {p.name}  {p.phone}" for p in found) or "No patient found."
    return Output(data, text)


def _with_receipt(out: Output, txn_id: int, target: Path | None) -> Output:
    """Write the receipt after the commit; a failure never undoes the transaction."""
    if target is None:
        return out
    try:
        target.write_bytes(render_receipt(receipts.receipt_for(txn_id)))
    except OSError as exc:
        out.data["receipt_error"] = str(exc)
        return Output(out.data, f"{out.text}\nThe transaction is recorded, but the receipt "
                      f"could not be written: {exc}", 1)
    out.data["receipt_file"] = str(target)
    return Output(out.data, f"{out.text}\nReceipt written to {target}.")


def sell(ns: argparse.Namespace, ctx: Ctx) -> Output:
    target = _receipt_target(ns.receipt)
    item = sales.SaleItem(package=ns.package, tokens=ns.tokens, token_kind=ns.token_kind,
                          price_cents=ns.price, credit_cents=ns.credit,
                          expires_days=ns.expires_days)
    result = sales.sell(ctx, ns.patient, item, ns.pay, idem_key=ns.key, memo=ns.memo)
    return _with_receipt(txn_output(result, _currency(), focus=ns.patient), result.txn_id,
                         target)


def book(ns: argparse.Namespace, ctx: Ctx) -> Output:
    done = appointments.book(ctx, ns.patient, ns.service, ns.practitioner, ns.at,
                             duration_min=ns.minutes, note=ns.note, override=ns.override,
                             idem_key=ns.key)
    data = {"id": done.appointment_id, "starts_at": done.starts_at.isoformat(),
            "ends_at": done.ends_at.isoformat(), "hold": done.hold, "covered": done.covered,
            "overridden": done.overridden, "replayed": done.replayed}
    text = (f"Booked appointment {done.appointment_id}: {done.starts_at:%a %Y-%m-%d %H:%M}"
            f"–{done.ends_at:%H:%M}.")
    if done.hold:
        text += f" Holding a {done.hold} for it."
    if not done.covered:
        text += " Not covered: no token and not enough credit."
    return Output(data, text)


def move(ns: argparse.Namespace, ctx: Ctx) -> Output:
    done = appointments.move(ctx, ns.appointment, ns.at, ns.practitioner)
    return Output({"id": done.appointment_id, "starts_at": done.starts_at.isoformat(),
                   "ends_at": done.ends_at.isoformat()},
                  f"Moved appointment {done.appointment_id} to "
                  f"{done.starts_at:%a %Y-%m-%d %H:%M}.")


def checkin_cmd(ns: argparse.Namespace, ctx: Ctx) -> Output:
    target = _receipt_target(ns.receipt)
    request = checkin.CheckinRequest(
        appointment_id=ns.appointment, price_cents=ns.price, items=tuple(ns.item),
        use_token=ns.use_token, use_credit=ns.use_credit, tenders=tuple(ns.pay),
        buy_package=ns.buy_package, cash_given_cents=ns.cash_given, auto=ns.auto)
    done = checkin.check_in(ctx, request, idem_key=ns.key)
    appt = appointments.get_appointment(ns.appointment)
    out = txn_output(done.txn, _currency(), focus=int(appt.patient_id))
    out.data["appointment_id"] = done.appointment_id
    if done.plan is not None:
        plan = done.plan
        out.data.update({
            "due": format_amount(plan.due_cents), "token_used": plan.token_used,
            "credit_applied": format_amount(plan.credit_applied_cents),
            "paid": format_amount(plan.paid_cents), "owed": format_amount(plan.owed_cents),
            "credit_added": format_amount(plan.credit_added_cents),
            "change": format_amount(plan.cash_change_cents)})
        if plan.cash_change_cents:
            out = Output(out.data, out.text + "\n  change to give: "
                         + format_money(plan.cash_change_cents, _currency()))
    return _with_receipt(out, done.txn.txn_id, target)


def cancel_cmd(ns: argparse.Namespace, ctx: Ctx) -> Output:
    done = cancellation.cancel(ctx, ns.appointment, late=ns.late, no_show=ns.no_show,
                               take_token=ns.take_token, waive=ns.waive, reason=ns.reason,
                               idem_key=ns.key)
    data: dict[str, object] = {"appointment_id": done.appointment_id, "status": done.status,
                               "fee": format_amount(done.fee_cents), "paid_by": done.paid_by,
                               "txn_id": done.txn.txn_id if done.txn else None}
    text = f"Appointment {done.appointment_id} is now {schedule.LABELS[done.status]}"
    if done.txn is not None:
        data.update(txn_output(done.txn, _currency()).data)
    if done.fee_cents or done.paid_by == "token":
        assert done.txn is not None
        how = {"token": "paid with a token", "credit": "taken from credit",
               "owed": "left owed"}.get(done.paid_by, done.paid_by)
        text += (f"; fee {format_money(done.fee_cents, _currency())} {how} "
                 f"(receipt {done.txn.receipt_no})")
    elif done.paid_by == "waived":
        text += "; fee waived"
    return Output(data, text + ".")


def renew(ns: argparse.Namespace, ctx: Ctx) -> Output:
    done = memberships.renew(ctx, ns.as_of)
    return Output({"period": done.period, "txn_ids": list(done.txn_ids),
                   "memberships": done.memberships},
                  f"Renewed {len(done.txn_ids)} of {done.memberships} memberships for "
                  f"{done.period}.")


def day_cmd(ns: argparse.Namespace, ctx: Ctx) -> Output:
    first = ns.date or ctx.today()
    view = day.day_view(first, ns.days, today=ctx.today())
    return Output(day_json(view), day_text(view, _currency()))


def receipt_cmd(ns: argparse.Namespace, ctx: Ctx) -> Output:
    target = _pdf_target(ns.out, "--out")
    _write_whole(target, render_receipt(receipts.receipt_for(ns.txn, copy=ns.copy)), "--out")
    return Output({"txn_id": ns.txn, "file": str(target)}, f"Receipt written to {target}.")


def _receipt_target(path: str | None, option: str = "--receipt") -> Path | None:
    """Check an optional --receipt path before anything is written."""
    return None if path is None else _pdf_target(path, option)


def _pdf_target(path: str, option: str) -> Path:
    """Check an output path (--receipt, --out) before anything is read or written."""
    if not path.strip():
        raise BadInput(option, "is empty; give a file name such as statement.pdf")
    target = Path(path).expanduser()
    if target.is_dir():
        raise BadInput(option, f"{target} is a folder; give a file name")
    if not target.parent.is_dir():
        raise BadInput(option, f"the folder {target.parent} does not exist")
    return target


def _write_whole(target: Path, content: bytes, option: str) -> None:
    """Write ``content`` to ``target`` whole or not at all (a temporary file beside it,
    then a rename), so a full disk never leaves half a PDF behind."""
    temp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        temp.write_bytes(content)
        os.replace(temp, target)
    except OSError as exc:
        temp.unlink(missing_ok=True)
        reason = exc.strerror or str(exc)
        if isinstance(exc, PermissionError | IsADirectoryError | NotADirectoryError):
            raise BadInput(option, f"cannot write {target}: {reason}") from None
        raise DeskError(f"{option}: cannot write {target}: {reason}") from None


def statement_cmd(ns: argparse.Namespace, ctx: Ctx) -> Output:
    target = _pdf_target(ns.out, "--out")
    last = ns.last or ctx.today()
    first = ns.first or last.replace(day=1)
    data = statements.statement_for(ns.patient, first, last, today=ctx.today())
    _write_whole(target, render_statement(data), "--out")
    return Output(statement_json(data, str(target)),
                  statement_text(data, str(target), data.clinic.currency))


def adjust(ns: argparse.Namespace, ctx: Ctx) -> Output:
    result = wallet.adjust(ctx, ns.patient, reason=ns.reason, credit_cents=ns.credit,
                           tokens=ns.tokens, token_kind=ns.token_kind,
                           expires_days=ns.expires_days, idem_key=ns.key)
    return txn_output(result, _currency(), focus=ns.patient)


def transfer(ns: argparse.Namespace, ctx: Ctx) -> Output:
    result = wallet.transfer(ctx, ns.from_id, ns.to_id, credit_cents=ns.credit,
                             tokens=ns.tokens, token_kind=ns.token_kind, memo=ns.memo,
                             idem_key=ns.key)
    return txn_output(result, _currency())


def refund(ns: argparse.Namespace, ctx: Ctx) -> Output:
    result = wallet.refund(ctx, ns.patient, ns.amount, ns.method, reference=ns.reference,
                           idem_key=ns.key)
    return txn_output(result, _currency(), focus=ns.patient)


def reverse(ns: argparse.Namespace, ctx: Ctx) -> Output:
    result = reversal.reverse(ctx, ns.txn, ns.reason, idem_key=ns.key)
    return txn_output(result, _currency())


def expire(ns: argparse.Namespace, ctx: Ctx) -> Output:
    done = expiry.expire(ctx, ns.as_of)
    data = {"as_of": done.as_of.isoformat(), "txn_ids": list(done.txn_ids),
            "tokens_expired": done.tokens_expired, "value": format_amount(done.value_cents)}
    text = (f"Expired {done.tokens_expired} tokens worth "
            f"{format_money(done.value_cents, _currency())} in {len(done.txn_ids)} "
            f"transactions (lots ending before {done.as_of})." if done.txn_ids
            else f"Nothing to expire before {done.as_of}.")
    return Output(data, text)


def balance(ns: argparse.Namespace, ctx: Ctx) -> Output:
    found = queries.balance(ns.patient)
    name = patients.get_patient(ns.patient).name
    return Output(balance_json(found), f"{name}: {balance_text(found, _currency())}")


def history(ns: argparse.Namespace, ctx: Ctx) -> Output:
    views = queries.history(ns.patient, ns.limit)
    return Output(history_json(views), history_text(views, _currency()))


def settings_get(ns: argparse.Namespace, ctx: Ctx) -> Output:
    values = clinic_settings.all_settings()
    if ns.key is not None:
        value = clinic_settings.get(ns.key)
        return Output({ns.key: value}, value)
    width = max(len(k) for k in values)
    text = "\n".join(f"{k:<{width}}  {v!r:<12}  {SPECS[k].help}" for k, v in values.items())
    return Output(values, text)


def settings_set(ns: argparse.Namespace, ctx: Ctx) -> Output:
    value = clinic_settings.set_value(ctx, ns.key, ns.value)
    return Output({ns.key: value}, f"{ns.key} = {value}")


def db_backup(ns: argparse.Namespace, ctx: Ctx) -> Output:
    path = backups.backup(ctx.db, Path(ns.file))
    return Output({"backup": str(path), "bytes": path.stat().st_size},
                  f"Backed up to {path} ({path.stat().st_size:,} bytes).")


def db_restore(ns: argparse.Namespace, ctx: Ctx) -> Output:
    backups.restore(ctx.db, Path(ns.file))
    migrate(ctx.db)
    report = verify.verify()
    out = _verify_output(report)
    text = f"Restored from {ns.file}.\n{out.text}"
    return Output({"restored": str(ns.file), "verify": out.data}, text, out.exit_code)


def db_verify(ns: argparse.Namespace, ctx: Ctx) -> Output:
    return _verify_output(verify.verify())


def _verify_output(report: verify.VerifyReport) -> Output:
    data = {"ok": report.ok, "transactions": report.transactions, "lines": report.lines,
            "accounts": report.accounts, "lots": report.lots, "problems": report.problems}
    summary = (f"{report.transactions:,} transactions, {report.lines:,} lines, "
               f"{report.accounts:,} accounts, {report.lots:,} lots")
    if report.ok:
        return Output(data, f"Ledger OK: {summary}; every balance matches its lines.")
    text = f"Ledger has {len(report.problems)} problem(s) ({summary}):\n" + "\n".join(
        f"  - {p}" for p in report.problems)
    return Output(data, text, 1)


def demo_fill(ns: argparse.Namespace, ctx: Ctx) -> Output:
    summary = demo.fill(ctx, patients=ns.patients, days=ns.days, seed=ns.seed)
    return Output(summary.as_dict(), summary.describe())


HANDLERS: dict[str, Handler] = {
    "demo": demo_fill, "practitioner add": practitioner_add, "service add": service_add,
    "package add": package_add, "patient add": patient_add, "patient find": patient_find,
    "sell": sell, "book": book, "move": move, "checkin": checkin_cmd, "cancel": cancel_cmd,
    "renew": renew, "day": day_cmd, "receipt": receipt_cmd, "statement": statement_cmd,
    "adjust": adjust,
    "transfer": transfer, "refund": refund,
    "reverse": reverse, "expire": expire, "balance": balance, "history": history,
    "settings get": settings_get, "settings set": settings_set, "db backup": db_backup,
    "db restore": db_restore, "db verify": db_verify,
    **patient_commands.HANDLERS,
}
