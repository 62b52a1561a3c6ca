"""Stateful property test of the ledger (SPEC §2) on SQLite and PostgreSQL.

A hypothesis ``RuleBasedStateMachine`` drives the real services (sell, adjust,
transfer, refund, reverse, expire, idempotent replay) against the real database
and keeps an independent Python model of every patient's credit, of every token
lot (remaining, unit value, expiry, first-expiring-first) and of the clinic's
tender accounts. The model predicts exactly which calls are refused; after every
step the database must agree with the model to the cent and the token, every
transaction must balance per unit, no token balance may be negative, the prepaid
liability must equal the value of the unspent lots, and ``verify()`` must be ok.

The database fixture lives for the whole test, not per example: each example
registers fresh patients, models only them, and takes every global counter
(transactions, receipts, tender accounts) as a baseline when it starts.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)
from peewee import fn

from desk.core.dates import as_date
from desk.core.errors import BadInput, Refused
from desk.core.ledger import MONEY, token_unit
from desk.data.models import Account, Counter, Line, Lot, LotMove, TokenKind, Txn
from desk.services import accounts, catalog, expiry, patients, reversal, sales, wallet
from desk.services.results import TENDER_METHODS, Tender, TxnResult
from desk.services.verify import verify

pytestmark = pytest.mark.slow

KINDS = ("Acupuncture", "Massage")
#: name -> (token kind, tokens, price in cents, expires after days)
PACKAGES: dict[str, tuple[str, int, int, int | None]] = {
    "Acu 5": ("Acupuncture", 5, 5000, 30),
    "Acu 3": ("Acupuncture", 3, 10000, None),   # 3333 per token, 1 cent of revenue
    "Massage 4": ("Massage", 4, 12001, 10),     # 3000 per token, 1 cent of revenue
}
N_PATIENTS = 3
#: Few distinct lifetimes and clock steps, so lots often expire exactly on a day the
#: clock lands on (the boundary: a lot is usable through its expiry date).
EXPIRY_DAYS = st.none() | st.sampled_from([1, 2, 3, 5, 9, 10, 20, 30])
CLOCK_STEPS = st.sampled_from([0, 1, 2, 3, 5, 9, 20, 45])


@dataclass
class MLot:
    """The model of one lot."""

    patient: int
    kind: str
    quantity: int
    remaining: int
    unit_value: int
    expires_on: dt.date | None


@dataclass
class MTxn:
    """The model of one transaction this example wrote: enough to predict its reversal."""

    kind: str
    receipt: bool
    credit: dict[int, int] = field(default_factory=dict)      # patient -> credit change
    tenders: dict[str, int] = field(default_factory=dict)     # method -> drawer change
    moves: list[tuple[int, int]] = field(default_factory=list)  # (lot id, quantity)
    lots: list[int] = field(default_factory=list)             # lots it granted
    reverses: int | None = None
    reversed_by: int | None = None


@dataclass
class Keyed:
    """A successful keyed write that can be replayed."""

    key: str
    call: Callable[[], TxnResult]
    txn_id: int


def _fefo(lots: list[tuple[int, MLot]]) -> list[tuple[int, MLot]]:
    return sorted(lots, key=lambda item: (item[1].expires_on is None,
                                          item[1].expires_on or dt.date.max, item[0]))


def _tender_balances() -> dict[str, int]:
    rows = Account.select(Account.code, Account.balance).where(
        Account.code.in_([f"{accounts.CASH_PREFIX}{m}" for m in TENDER_METHODS]))
    out = dict.fromkeys(TENDER_METHODS, 0)
    for row in rows:
        out[row.code.split(":", 1)[1]] = int(row.balance)
    return out


def _unbalanced() -> list[tuple[int, str, int]]:
    """(transaction, unit, sum) for every transaction whose lines do not sum to zero."""
    return [(int(t), u, int(x)) for t, u, x in
            Line.select(Line.txn, Account.unit, fn.SUM(Line.amount))
            .join(Account, on=(Line.account == Account.id))
            .group_by(Line.txn, Account.unit).having(fn.SUM(Line.amount) != 0).tuples()]


def _receipt_counter() -> int:
    return int(Counter.get_by_id("receipt").value)


def _make_machine(ctx, clock) -> type[RuleBasedStateMachine]:  # type: ignore[no-untyped-def]
    kind_ids = {name: int(TokenKind.get(TokenKind.name == name).id) for name in KINDS}
    kind_names = {v: k for k, v in kind_ids.items()}
    start = clock.current

    class LedgerMachine(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            # Every example starts on the same day: an example replays the same way
            # whatever earlier examples did to the shared clock.
            clock.current = start
            self.prefix = uuid.uuid4().hex[:10]
            self.seq = 0
            self.pids = [patients.add_patient(ctx, f"Prop {self.prefix} {i}").id
                         for i in range(N_PATIENTS)]
            self.credit = dict.fromkeys(self.pids, 0)
            self.lots: dict[int, MLot] = {}
            self.txns: dict[int, MTxn] = {}
            self.order: list[int] = []
            self.keyed: list[Keyed] = []
            self.n_txns = Txn.select().count()
            self.receipts = _receipt_counter()
            self.tender_base = _tender_balances()
            self.tender_delta = dict.fromkeys(TENDER_METHODS, 0)
            # Problems an earlier (failing) example left behind, so that hypothesis can
            # replay and shrink a failure: only new problems count. In a passing run
            # both are empty (the test ends by asserting verify().ok).
            self.problems_before = set(verify().problems)
            self.unbalanced_before = set(_unbalanced())

        # -- model helpers -------------------------------------------------------

        def key(self) -> str:
            self.seq += 1
            return f"prop-{self.prefix}-{self.seq}"

        def tokens(self, pid: int, kind: str) -> int:
            return sum(lot.remaining for lot in self.lots.values()
                       if lot.patient == pid and lot.kind == kind)

        def token_map(self, pid: int) -> dict[str, int]:
            out = {k: self.tokens(pid, k) for k in KINDS}
            return {k: v for k, v in out.items() if v}

        def usable(self, lot: MLot) -> bool:
            """A lot can be spent through its expiry date, never after (even before the
            expiry job has emptied it, e.g. tokens a reversal gave back to it)."""
            return lot.remaining > 0 and (lot.expires_on is None
                                          or lot.expires_on >= clock.today())

        def spendable(self, pid: int, kind: str) -> int:
            return sum(lot.remaining for lot in self.lots.values()
                       if lot.patient == pid and lot.kind == kind and self.usable(lot))

        def fefo_take(self, pid: int, kind: str, qty: int) -> list[tuple[int, int]]:
            """(lot id, quantity) taken first-expiring-first; asserts they suffice."""
            taken: list[tuple[int, int]] = []
            left = qty
            mine = [(i, lot) for i, lot in self.lots.items()
                    if lot.patient == pid and lot.kind == kind and self.usable(lot)]
            for lot_id, lot in _fefo(mine):
                if left == 0:
                    break
                take = min(left, lot.remaining)
                taken.append((lot_id, take))
                left -= take
            assert left == 0
            return taken

        def amount(self, data: st.DataObject, available: int, top: int, label: str) -> int:
            """Mostly an amount the patient can cover (when they can), else any amount."""
            if available > 0 and data.draw(st.integers(0, 3), label=f"{label} fits?") != 3:
                return data.draw(st.integers(1, min(available, top)), label=label)
            return data.draw(st.integers(1, top), label=label)

        def holder(self, data: st.DataObject) -> tuple[int, str]:
            """A patient and kind to take tokens from: mostly one holding several lots."""
            live: dict[tuple[int, str], int] = defaultdict(int)
            for lot in self.lots.values():
                if self.usable(lot):
                    live[(lot.patient, lot.kind)] += 1
            if live and data.draw(st.integers(0, 4), label="holder?") != 4:
                best = max(live.values())
                return data.draw(st.sampled_from(sorted(k for k, v in live.items()
                                                        if v == best)), label="holder")
            return (data.draw(st.sampled_from(self.pids), label="patient"),
                    data.draw(st.sampled_from(KINDS), label="kind"))

        def snapshot(self) -> tuple[int, int]:
            return Txn.select().count(), _receipt_counter()

        def refused(self, call: Callable[[], object], exc_type: type[Exception] = Refused
                    ) -> None:
            """The call is refused and writes nothing (the invariants check the rest)."""
            before = self.snapshot()
            with pytest.raises(exc_type):
                call()
            assert self.snapshot() == before

        def record(self, result: TxnResult, m: MTxn, *, key: str | None,
                   call: Callable[[], TxnResult] | None,
                   new_lots: list[tuple[int, str, int, int, dt.date | None]] = ()) -> None:
            """Check a fresh write against the prediction ``m`` and apply it to the model."""
            assert not result.replayed
            assert result.txn_id not in self.txns
            assert result.kind == m.kind
            self.n_txns += 1
            if m.receipt:
                self.receipts += 1
                assert result.receipt_no == self.receipts
            else:
                assert result.receipt_no is None
            txn = Txn.get_by_id(result.txn_id)
            assert txn.idem_key == key
            assert txn.reverses_id == m.reverses
            assert txn.staff == ctx.staff and txn.workstation == ctx.workstation
            assert txn.created_at == clock.now()
            # The lots it granted, in creation order, are exactly the predicted ones.
            rows = list(Lot.select(Lot, Account.patient, Account.token_kind)
                        .join(Account, on=(Lot.account == Account.id))
                        .where(Lot.txn == result.txn_id).order_by(Lot.id))
            got = [(int(r.account.patient_id), kind_names[int(r.account.token_kind_id)],
                    int(r.quantity), int(r.unit_value_cents),
                    None if r.expires_on is None else as_date(r.expires_on)) for r in rows]
            assert got == list(new_lots)
            for r, (pid, kind, qty, value, exp) in zip(rows, new_lots, strict=True):
                self.lots[int(r.id)] = MLot(pid, kind, qty, qty, value, exp)
                m.lots.append(int(r.id))
            # Its lot moves are exactly the predicted ones.
            moves = sorted((int(lot), int(q)) for lot, q in LotMove.select(
                LotMove.lot, LotMove.quantity).where(LotMove.txn == result.txn_id).tuples())
            assert moves == sorted(m.moves)
            for lot_id, qty in m.moves:
                self.lots[lot_id].remaining += qty
                assert 0 <= self.lots[lot_id].remaining <= self.lots[lot_id].quantity
            for pid, delta in m.credit.items():
                self.credit[pid] += delta
            for method, delta in m.tenders.items():
                self.tender_delta[method] += delta
            self.txns[result.txn_id] = m
            self.order.append(result.txn_id)
            if m.reverses is not None:
                self.txns[m.reverses].reversed_by = result.txn_id
            if key is not None and call is not None:
                self.keyed.append(Keyed(key, call, result.txn_id))
            # The balances the call reports are the model's balances after it.
            for bal in result.balances:
                if bal.patient_id in self.credit:
                    assert bal.credit_cents == self.credit[bal.patient_id]
                    assert bal.tokens == self.token_map(bal.patient_id)

        # -- rules ---------------------------------------------------------------

        def _sell(self, data: st.DataObject, what: str) -> None:
            pid = data.draw(st.sampled_from(self.pids), label="patient")
            expires_days = data.draw(EXPIRY_DAYS, label="expires_days")
            days: int | None = None
            if what == "package":
                name = data.draw(st.sampled_from(sorted(PACKAGES)), label="package")
                kind, qty, price, pkg_days = PACKAGES[name]
                override = data.draw(st.none() | st.integers(0, 20000), label="price")
                item = sales.SaleItem(package=name, price_cents=override,
                                      expires_days=expires_days)
                due = price if override is None else override
                days = expires_days or pkg_days
            elif what == "tokens":
                kind = data.draw(st.sampled_from(KINDS), label="kind")
                qty = data.draw(st.integers(1, 6), label="tokens")
                due = data.draw(st.integers(0, 20000), label="price")
                item = sales.SaleItem(tokens=qty, token_kind=kind, price_cents=due,
                                      expires_days=expires_days)
                days = expires_days
            else:
                due = data.draw(st.integers(1, 20000), label="credit")
                item = sales.SaleItem(credit_cents=due)
            pay = data.draw(st.sampled_from(["exact", "over", "none", "random"]), label="pay")
            tenders: list[Tender] = []
            if pay == "exact" and due:
                tenders = [Tender(data.draw(st.sampled_from(TENDER_METHODS), label="method"),
                                  due, "ref 42")]
            elif pay == "over":
                tenders = [Tender("cash", due + data.draw(st.integers(1, 9000), label="extra")),
                           Tender("card", data.draw(st.integers(1, 9000), label="card"), "4242")]
            elif pay == "random":
                tenders = data.draw(st.lists(
                    st.builds(Tender, st.sampled_from(TENDER_METHODS), st.integers(1, 15000)),
                    min_size=1, max_size=3), label="tenders")
            key = self.key()

            def call() -> TxnResult:
                return sales.sell(ctx, pid, item, tenders, idem_key=key, memo="prop")

            if what == "credit" and not tenders:
                self.refused(call, BadInput)  # a credit purchase needs a payment
                return
            paid = sum(t.amount_cents for t in tenders)
            drawer: dict[str, int] = defaultdict(int)
            for t in tenders:
                drawer[t.method] += t.amount_cents
            new_lots: list[tuple[int, str, int, int, dt.date | None]] = []
            if what == "credit":
                # credit bought, plus overpayment, minus underpayment: exactly what was paid
                m = MTxn("sale", True, credit={pid: paid}, tenders=dict(drawer))
            else:
                m = MTxn("sale", True, credit={pid: paid - due}, tenders=dict(drawer))
                exp = clock.today() + dt.timedelta(days=days) if days else None
                new_lots.append((pid, kind, qty, due // qty, exp))
            self.record(call(), m, key=key, call=call, new_lots=new_lots)

        @initialize(data=st.data())
        def opening_wallets(self, data: st.DataObject) -> None:
            """Start each example with a few grants, so takes span several lots."""
            for what in data.draw(st.lists(st.sampled_from(["package", "tokens", "add"]),
                                           min_size=2, max_size=6), label="grants"):
                if what == "add":
                    self.adjust_add_tokens(data)
                else:
                    self._sell(data, what)

        @rule(data=st.data())
        def sell_package(self, data: st.DataObject) -> None:
            self._sell(data, "package")

        @rule(data=st.data())
        def sell_tokens(self, data: st.DataObject) -> None:
            self._sell(data, "tokens")

        @rule(data=st.data())
        def sell_credit(self, data: st.DataObject) -> None:
            self._sell(data, "credit")

        @rule(data=st.data())
        def adjust_credit(self, data: st.DataObject) -> None:
            pid = data.draw(st.sampled_from(self.pids), label="patient")
            cents = data.draw(st.integers(-20000, 20000).filter(bool), label="cents")
            key = self.key()

            def call() -> TxnResult:
                return wallet.adjust(ctx, pid, reason="prop correction", credit_cents=cents,
                                     idem_key=key)

            self.record(call(), MTxn("adjustment", False, credit={pid: cents}),
                        key=key, call=call)

        @rule(data=st.data())
        def adjust_add_tokens(self, data: st.DataObject) -> None:
            pid = data.draw(st.sampled_from(self.pids), label="patient")
            kind = data.draw(st.sampled_from(KINDS), label="kind")
            n = data.draw(st.integers(1, 6), label="tokens")
            days = data.draw(EXPIRY_DAYS, label="expires_days")
            key = self.key()

            def call() -> TxnResult:
                return wallet.adjust(ctx, pid, reason="prop goodwill", tokens=n,
                                     token_kind=kind, expires_days=days, idem_key=key)

            exp = clock.today() + dt.timedelta(days=days) if days else None
            self.record(call(), MTxn("adjustment", False), key=key, call=call,
                        new_lots=[(pid, kind, n, 0, exp)])

        @rule(data=st.data())
        def adjust_remove_tokens(self, data: st.DataObject) -> None:
            pid, kind = self.holder(data)
            n = self.amount(data, self.spendable(pid, kind), 6, "tokens")
            key = self.key()

            def call() -> TxnResult:
                return wallet.adjust(ctx, pid, reason="prop correction", tokens=-n,
                                     token_kind=kind, idem_key=key)

            if self.spendable(pid, kind) < n:
                self.refused(call)
                return
            m = MTxn("adjustment", False,
                     moves=[(lot, -q) for lot, q in self.fefo_take(pid, kind, n)])
            self.record(call(), m, key=key, call=call)

        @rule(data=st.data())
        def transfer_credit(self, data: st.DataObject) -> None:
            src, dst = data.draw(st.permutations(self.pids), label="patients")[:2]
            cents = self.amount(data, self.credit[src], 20000, "cents")
            key = self.key()

            def call() -> TxnResult:
                return wallet.transfer(ctx, src, dst, credit_cents=cents, memo="prop",
                                       idem_key=key)

            if self.credit[src] < cents:
                self.refused(call)
                return
            self.record(call(), MTxn("transfer", False, credit={src: -cents, dst: cents}),
                        key=key, call=call)

        @rule(data=st.data())
        def transfer_tokens(self, data: st.DataObject) -> None:
            src, kind = self.holder(data)
            dst = data.draw(st.sampled_from([p for p in self.pids if p != src]), label="to")
            n = self.amount(data, self.spendable(src, kind), 6, "tokens")
            key = self.key()

            def call() -> TxnResult:
                return wallet.transfer(ctx, src, dst, tokens=n, token_kind=kind, memo="prop",
                                       idem_key=key)

            if self.spendable(src, kind) < n:
                self.refused(call)
                return
            taken = self.fefo_take(src, kind, n)
            # The receiver gets one lot per source lot, keeping its value and expiry.
            new = [(dst, kind, q, self.lots[lot].unit_value, self.lots[lot].expires_on)
                   for lot, q in taken]
            self.record(call(), MTxn("transfer", False, moves=[(lot, -q) for lot, q in taken]),
                        key=key, call=call, new_lots=new)

        @rule(data=st.data())
        def refund(self, data: st.DataObject) -> None:
            pid = data.draw(st.sampled_from(self.pids), label="patient")
            cents = self.amount(data, self.credit[pid], 20000, "cents")
            method = data.draw(st.sampled_from(TENDER_METHODS), label="method")
            key = self.key()

            def call() -> TxnResult:
                return wallet.refund(ctx, pid, cents, method, reference="slip 7", idem_key=key)

            if self.credit[pid] < cents:
                self.refused(call)
                return
            self.record(call(), MTxn("refund", True, credit={pid: -cents},
                                     tenders={method: -cents}), key=key, call=call)

        @rule(data=st.data())
        def reverse(self, data: st.DataObject) -> None:
            if not self.order:
                return
            pick = data.draw(st.sampled_from(["moved tokens", "latest", "any"]), label="pick")
            moved = [t for t in self.order if self.txns[t].moves]
            pool = moved if pick == "moved tokens" and moved else self.order
            target = pool[-1] if pick == "latest" else data.draw(st.sampled_from(pool),
                                                                 label="txn")
            orig = self.txns[target]
            key = self.key()

            def call() -> TxnResult:
                return reversal.reverse(ctx, target, "prop mistake", idem_key=key)

            if (orig.reverses is not None or orig.reversed_by is not None
                    or orig.kind == "expiry"
                    or any(self.lots[i].remaining != self.lots[i].quantity for i in orig.lots)):
                self.refused(call)
                return
            # The exact opposite: credit and drawers back, tokens back to their lots,
            # the lots it granted emptied.
            m = MTxn("reversal", orig.receipt, credit={p: -d for p, d in orig.credit.items()},
                     tenders={k: -v for k, v in orig.tenders.items()},
                     moves=[(lot, -q) for lot, q in orig.moves]
                     + [(lot, -self.lots[lot].quantity) for lot in orig.lots],
                     reverses=target)
            self.record(call(), m, key=key, call=call)

        @rule(days=CLOCK_STEPS)
        def days_pass_before_the_expiry_job(self, days: int) -> None:
            """Lots past their date stay on the balance until expire() runs, but can no
            longer be spent."""
            clock.advance(days=days)

        @rule(days=CLOCK_STEPS)
        def expire(self, days: int) -> None:
            clock.advance(days=days)
            self._expire()

        @rule(data=st.data())
        def expire_on_a_lot_boundary(self, data: st.DataObject) -> None:
            """Jump to the last day a live lot is usable (offset 0) or the day after."""
            dates = sorted({lot.expires_on for lot in self.lots.values()
                            if lot.remaining > 0 and lot.expires_on is not None
                            and lot.expires_on >= clock.today()})
            if not dates:
                return
            day = data.draw(st.sampled_from(dates), label="expiry date")
            offset = data.draw(st.sampled_from([0, 1]), label="offset")
            clock.advance(days=(day - clock.today()).days + offset)
            self._expire()

        def _expire(self) -> None:
            today = clock.today()
            due = list(Lot.select(Lot.account, Lot.remaining, Lot.unit_value_cents)
                       .where(Lot.remaining > 0, Lot.expires_on < today).tuples())
            result = expiry.expire(ctx)
            assert result.as_of == today
            assert result.tokens_expired == sum(int(r) for _, r, _ in due)
            assert result.value_cents == sum(int(r) * int(v) for _, r, v in due)
            assert len(result.txn_ids) == len({a for a, _, _ in due})
            self.n_txns += len(result.txn_ids)
            # Predict our part: per (patient, kind), every lot past its date empties.
            predicted: dict[tuple[int, str], list[tuple[int, int]]] = defaultdict(list)
            for lot_id, lot in self.lots.items():
                if lot.remaining > 0 and lot.expires_on is not None and lot.expires_on < today:
                    predicted[(lot.patient, lot.kind)].append((lot_id, -lot.remaining))
            got: dict[tuple[int, str], list[tuple[int, int]]] = {}
            for txn in Txn.select().where(Txn.id.in_(list(result.txn_ids) or [0]),
                                          Txn.patient.in_(self.pids)):
                assert txn.kind == "expiry" and txn.receipt_no is None
                moves = list(LotMove.select(LotMove.lot, LotMove.quantity)
                             .where(LotMove.txn == txn.id).tuples())
                kinds = {self.lots[int(lot)].kind for lot, _ in moves}
                assert len(kinds) == 1
                got[(int(txn.patient_id), kinds.pop())] = sorted(
                    (int(lot), int(q)) for lot, q in moves)
                m = MTxn("expiry", False, moves=[(int(lot), int(q)) for lot, q in moves])
                for lot, q in m.moves:
                    self.lots[lot].remaining += q
                self.txns[int(txn.id)] = m
                self.order.append(int(txn.id))
            assert got == {k: sorted(v) for k, v in predicted.items()}
            # Idempotent: running it again the same day finds nothing.
            again = expiry.expire(ctx)
            assert again.txn_ids == () and again.tokens_expired == 0

        @rule(data=st.data())
        def replay(self, data: st.DataObject) -> None:
            if not self.keyed:
                return
            entry = data.draw(st.sampled_from(self.keyed), label="keyed")
            before = self.snapshot()
            result = entry.call()
            assert result.replayed
            assert result.txn_id == entry.txn_id
            assert self.snapshot() == before

        @rule(data=st.data())
        def reuse_key_for_another_request(self, data: st.DataObject) -> None:
            if not self.keyed:
                return
            entry = data.draw(st.sampled_from(self.keyed), label="keyed")
            pid = data.draw(st.sampled_from(self.pids), label="patient")
            self.refused(lambda: wallet.adjust(ctx, pid, reason="reused key",
                                               credit_cents=1, idem_key=entry.key))

        def teardown(self) -> None:
            # Expire every dated lot this example left, far in the future, so that no
            # later example's expire() sees them: examples stay independent.
            clock.current = start + dt.timedelta(days=3650)
            expiry.expire(ctx)

        # -- invariants ----------------------------------------------------------

        @invariant()
        def ledger_matches_model(self) -> None:
            assert Txn.select().count() == self.n_txns
            assert _receipt_counter() == self.receipts
            # Cached balances (what the grid shows) equal the model.
            for pid in self.pids:
                bal = accounts.balance_of(pid)
                assert bal.credit_cents == self.credit[pid], pid
                assert bal.tokens == self.token_map(pid), pid
            # The lines of each patient's accounts sum to the model.
            sums = {(int(p), u): int(s) for p, u, s in
                    Line.select(Account.patient, Account.unit, fn.SUM(Line.amount))
                    .join(Account, on=(Line.account == Account.id))
                    .where(Account.patient.in_(self.pids))
                    .group_by(Account.patient, Account.unit).tuples()}
            for pid in self.pids:
                assert sums.get((pid, MONEY), 0) == -self.credit[pid]
                for kind in KINDS:
                    assert sums.get((pid, token_unit(kind_ids[kind])), 0) == \
                        -self.tokens(pid, kind)
            # Cached balance of every account of these patients equals its lines.
            per_account = dict(Line.select(Line.account, fn.SUM(Line.amount))
                               .join(Account, on=(Line.account == Account.id))
                               .where(Account.patient.in_(self.pids))
                               .group_by(Line.account).tuples())
            for acc in Account.select().where(Account.patient.in_(self.pids)):
                assert acc.balance == int(per_account.get(acc.id, 0)), acc.code
            # Every transaction balances per unit.
            assert set(_unbalanced()) - self.unbalanced_before == set()
            # No token balance below zero.
            assert not Account.select().where(Account.patient.in_(self.pids),
                                              Account.kind == "patient_tokens",
                                              Account.balance > 0).exists()
            # The lots of these patients are exactly the model's lots.
            db_lots = {int(r.id): (int(r.quantity), int(r.remaining), int(r.unit_value_cents),
                                   None if r.expires_on is None else as_date(r.expires_on))
                       for r in Lot.select().join(Account, on=(Lot.account == Account.id))
                       .where(Account.patient.in_(self.pids))}
            assert db_lots == {i: (lot.quantity, lot.remaining, lot.unit_value, lot.expires_on)
                               for i, lot in self.lots.items()}
            # The prepaid liability is the value of every unspent token.
            prepaid = Account.get_or_none(Account.code == accounts.PREPAID)
            lot_value = sum(int(r) * int(v) for r, v in Lot.select(
                Lot.remaining, Lot.unit_value_cents).tuples())
            assert (0 if prepaid is None else -int(prepaid.balance)) == lot_value
            # The cash drawer, card clearing, ... moved by what this example tendered.
            now = _tender_balances()
            for method in TENDER_METHODS:
                assert now[method] == self.tender_base[method] + self.tender_delta[method]
            report = verify()
            assert set(report.problems) - self.problems_before == set(), report.problems

    return LedgerMachine


def test_ledger_state_machine(backend: str, ctx, clock) -> None:  # type: ignore[no-untyped-def]
    catalog.add_service(ctx, "Acupuncture", 45, 6000)
    catalog.add_service(ctx, "Massage", 60, 9000)
    for name, (kind, tokens, price, days) in PACKAGES.items():
        catalog.add_package(ctx, name, kind, tokens, price, expires_days=days)
    machine = _make_machine(ctx, clock)
    run_state_machine_as_test(machine, settings=settings(
        max_examples=25, stateful_step_count=30, deadline=None, database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                               HealthCheck.filter_too_much, HealthCheck.data_too_large]))
    report = verify()
    assert report.ok, report.problems
    assert _unbalanced() == []
    assert not Account.select().where(Account.kind == "patient_tokens",
                                      Account.balance > 0).exists()
    assert report.transactions > 0
