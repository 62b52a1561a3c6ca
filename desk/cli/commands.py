"""One handler per subcommand: arguments in, a service call, an ``Output`` back."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

from desk.cli.output import (
    Output,
    balance_json,
    balance_text,
    history_json,
    history_text,
    txn_output,
)
from desk.core.money import format_amount, format_money
from desk.core.settings import SPECS
from desk.data import backup as backups
from desk.data.database import describe, open_database
from desk.data.migrations import current_version, migrate
from desk.services import catalog, demo, expiry, patients, queries, reversal, sales, verify, wallet
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


def sell(ns: argparse.Namespace, ctx: Ctx) -> Output:
    item = sales.SaleItem(package=ns.package, tokens=ns.tokens, token_kind=ns.token_kind,
                          price_cents=ns.price, credit_cents=ns.credit,
                          expires_days=ns.expires_days)
    result = sales.sell(ctx, ns.patient, item, ns.pay, idem_key=ns.key, memo=ns.memo)
    return txn_output(result, _currency(), focus=ns.patient)


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
    "sell": sell, "adjust": adjust, "transfer": transfer, "refund": refund,
    "reverse": reverse, "expire": expire, "balance": balance, "history": history,
    "settings get": settings_get, "settings set": settings_set, "db backup": db_backup,
    "db restore": db_restore, "db verify": db_verify,
}
