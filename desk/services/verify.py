"""``desk db verify``: recompute every projection from the lines and compare.

The read side of the ledger's invariants (the write side is ``posting.commit``).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from peewee import fn

from desk.data.models import Account, Counter, Household, Line, Lot, LotMove, Patient, Txn, rows
from desk.services.posting import setting_bool


@dataclass
class VerifyReport:
    transactions: int = 0
    lines: int = 0
    accounts: int = 0
    lots: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def verify() -> VerifyReport:
    report = VerifyReport(transactions=Txn.select().count(), lines=Line.select().count(),
                          accounts=Account.select().count(), lots=Lot.select().count())
    _balances(report)
    _transactions_balance(report)
    _lots(report)
    _receipts(report)
    _hidden_wallets(report)
    _reversals(report)
    return report


def _balances(report: VerifyReport) -> None:
    sums: dict[int, int] = dict(rows(Line.select(Line.account, fn.SUM(Line.amount))
                                     .group_by(Line.account)))
    per_unit: dict[str, int] = defaultdict(int)
    negative_ok = setting_bool("allow_negative_tokens")
    for acc in Account.select(Account.id, Account.code, Account.unit, Account.kind,
                              Account.balance):
        actual = int(sums.get(acc.id, 0))
        per_unit[acc.unit] += actual
        if acc.balance != actual:
            report.problems.append(f"account {acc.code}: cached balance {acc.balance} but its "
                                   f"lines sum to {actual}")
        if acc.kind == "patient_tokens" and actual > 0 and not negative_ok:
            report.problems.append(f"account {acc.code}: {-actual} tokens (below zero)")
    for unit, total in per_unit.items():
        if total:
            report.problems.append(f"unit {unit}: all accounts sum to {total}, not zero")


def _transactions_balance(report: VerifyReport) -> None:
    unbalanced = rows(Line.select(Line.txn, Account.unit, fn.SUM(Line.amount))
            .join(Account, on=(Line.account == Account.id))
            .group_by(Line.txn, Account.unit).having(fn.SUM(Line.amount) != 0))
    for txn_id, unit, total in unbalanced:
        report.problems.append(f"transaction {txn_id}: {unit} lines sum to {total}, not zero")


def _lots(report: VerifyReport) -> None:
    moved = {lot: (int(q), int(v)) for lot, q, v in
             rows(LotMove.select(LotMove.lot, fn.SUM(LotMove.quantity),
                                 fn.SUM(LotMove.value_cents)).group_by(LotMove.lot))}
    held: dict[int, int] = defaultdict(int)
    for lot in Lot.select():
        qty, value = moved.get(lot.id, (0, 0))
        expected = lot.quantity + qty
        held[lot.account_id] += lot.remaining
        if lot.remaining != expected:
            report.problems.append(f"lot {lot.id}: remaining {lot.remaining} but its grant and "
                                   f"moves give {expected}")
        if value != qty * lot.unit_value_cents:
            report.problems.append(f"lot {lot.id}: moves carry value {value}, expected "
                                   f"{qty * lot.unit_value_cents}")
    if setting_bool("allow_negative_tokens"):
        return
    for acc in Account.select().where(Account.kind == "patient_tokens"):
        if -acc.balance != held.get(acc.id, 0):
            report.problems.append(f"account {acc.code}: holds {-acc.balance} tokens but its "
                                   f"lots hold {held.get(acc.id, 0)}")


def _hidden_wallets(report: VerifyReport) -> None:
    """A patient who spends a household's shared wallet, or who was merged into another,
    must hold nothing on their own accounts: nobody would ever see or spend it."""
    shared = (Patient.select(Patient.id).join(Household, on=(Patient.household == Household.id))
              .where(Household.shared_wallet == True))  # noqa: E712
    hidden = (Account.select(Account.code, Account.balance, Patient.merged_into)
              .join(Patient, on=(Account.patient == Patient.id))
              .where(Account.balance != 0,
                     Patient.id.in_(shared) | Patient.merged_into.is_null(False)))
    for code, balance, merged_into in rows(hidden):
        why = (f"was merged into patient {merged_into}" if merged_into is not None
               else "spends a household's shared wallet")
        report.problems.append(f"account {code} holds {balance} but its patient {why}")


def _receipts(report: VerifyReport) -> None:
    numbers = sorted(n for (n,) in rows(Txn.select(Txn.receipt_no)
                                        .where(Txn.receipt_no.is_null(False))))
    if numbers != list(range(1, len(numbers) + 1)):
        report.problems.append("receipt numbers are not a gap-free sequence from 1")
    counter = Counter.get_or_none(Counter.name == "receipt")
    if counter is None or counter.value != len(numbers):
        report.problems.append(f"receipt counter is {counter.value if counter else None}, "
                               f"but {len(numbers)} receipts exist")


def _reversals(report: VerifyReport) -> None:
    pairs = list(rows(Txn.select(Txn.id, Txn.reverses).where(Txn.reverses.is_null(False))))
    if not pairs:
        return
    ids = [i for pair in pairs for i in pair]
    lines: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for txn_id, account_id, amount in rows(Line.select(Line.txn, Line.account, Line.amount)
                                           .where(Line.txn.in_(ids))):
        lines[txn_id].append((account_id, amount))
    kinds: dict[int, int | None] = dict(rows(
        Txn.select(Txn.id, Txn.reverses).where(Txn.id.in_([o for _, o in pairs]))))
    for reversal, original in pairs:
        if kinds.get(original) is not None:
            report.problems.append(f"transaction {reversal} reverses a reversal ({original})")
        opposite = sorted((a, -x) for a, x in lines[original])
        if sorted(lines[reversal]) != opposite:
            report.problems.append(f"transaction {reversal} is not the exact opposite of "
                                   f"{original}")
