"""Stateful property test of the schedule flows (SPEC §2, §3) on SQLite and PostgreSQL.

A hypothesis ``RuleBasedStateMachine`` drives the real services — sell a package or
credit, book (random practitioner and time), check in (token / credit / tenders /
items / a package bought on the spot / a sliding price / cash handed over), cancel
(on time, late, forced late, no-show; the fee from a token, from credit, owed or
waived), move the clock, reverse a check-in, a fee or a sale, adjust credit or
tokens, replay a check-in's key — against the real database, and keeps a Python
model of every patient's credit, of every token lot (first-in-first-out: no lot
here expires) and of every appointment.

The model predicts which calls are refused (``Refused``) or bad input
(``BadInput``); those must write nothing. After every step: every balance equals
the model, every lot's remainder equals the model, every transaction balances per
unit, no token balance is below zero, every appointment's status and check-in
transaction equal the model (checked in <=> a check-in transaction is set), the
transaction and receipt counts equal the model, and ``verify()`` is ok.

The database lives for the whole test; each example starts the clock again and
registers its own patients and practitioners, so examples do not interfere.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from peewee import fn

from desk.core.errors import BadInput, Refused
from desk.data.models import Account, Appointment, Counter, Line, Lot, LotMove, Service, Txn
from desk.services import appointments, catalog, patients, reversal, sales, wallet
from desk.services import settings as clinic_settings
from desk.services.accounts import balance_of
from desk.services.cancellation import cancel
from desk.services.checkin import CheckinRequest, check_in
from desk.services.results import Tender
from desk.services.verify import verify

pytestmark = pytest.mark.slow

ACU, MASSAGE = "Acupuncture", "Massage"
#: service name -> (token kind, minutes, price, late-cancel fee, no-show fee)
SERVICES: dict[str, tuple[str, int, int, int, int]] = {
    "Acupuncture 30": (ACU, 30, 6500, 1500, 2500),      # the clinic's fees
    "Massage 60": (MASSAGE, 60, 9000, 0, 4000),         # its own: no late fee, 40.00
}
#: package name -> (token kind, tokens, price); 24001 / 3 = 8000 a token + 1 cent revenue
PACKAGES: dict[str, tuple[str, int, int]] = {
    "Acu 5": (ACU, 5, 30000),
    "Massage 3": (MASSAGE, 3, 24001),
}
N_PATIENTS = 2
N_PRACTITIONERS = 2
START = dt.datetime(2026, 3, 2, 7, 0)
LATE_HOURS = 24
METHODS = ("cash", "card", "check", "other")

TENDERS = st.lists(st.tuples(st.sampled_from(METHODS),
                             st.sampled_from([500, 1250, 2000, 6500, 10000])), max_size=2)
ITEMS = st.lists(st.tuples(st.sampled_from(["Herbs", "Cupping oil"]),
                           st.sampled_from([250, 1250])), max_size=2)


@dataclass
class MLot:
    pid: int
    kind: str
    quantity: int
    remaining: int
    db_id: int = 0


@dataclass
class MAppt:
    pid: int
    service: str
    practitioner: int
    starts_at: dt.datetime
    ends_at: dt.datetime
    status: str = "booked"
    checkin_txn: int | None = None


@dataclass
class MTxn:
    """What one transaction did to the model: enough to predict its reversal."""

    kind: str
    pid: int
    receipt: bool
    credit: int = 0                                          # the patient's credit change
    moves: list[tuple[MLot, int]] = field(default_factory=list)   # tokens taken (< 0)
    lots: list[MLot] = field(default_factory=list)           # lots it granted
    appointment: int | None = None
    reverses: int | None = None
    reversed_by: int | None = None


def _unbalanced() -> list[tuple[int, str, int]]:
    """Transactions whose lines do not sum to zero in some unit."""
    return [(int(t), str(u), int(s)) for t, u, s in
            Line.select(Line.txn, Account.unit, fn.SUM(Line.amount))
            .join(Account, on=(Line.account == Account.id))
            .group_by(Line.txn, Account.unit).having(fn.SUM(Line.amount) != 0).tuples()]


def _receipt_counter() -> int:
    return int(Counter.get_by_id("receipt").value)


def _make_machine(ctx: Any, clock: Any) -> type[RuleBasedStateMachine]:
    late_fee = {name: spec[3] for name, spec in SERVICES.items()}
    no_show_fee = {name: spec[4] for name, spec in SERVICES.items()}

    class ScheduleMachine(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            clock.current = START
            self.prefix = uuid.uuid4().hex[:8]
            self.seq = 0
            self.pids = [patients.add_patient(ctx, f"Sched {self.prefix} {i}").id
                         for i in range(N_PATIENTS)]
            self.practitioners = [
                catalog.add_practitioner(ctx, f"Dr {self.prefix} {i}").id
                for i in range(N_PRACTITIONERS)]
            self.credit = dict.fromkeys(self.pids, 0)
            self.lots: list[MLot] = []                 # in creation (= FIFO) order
            self.appts: dict[int, MAppt] = {}
            self.txns: dict[int, MTxn] = {}
            self.last_checkin: tuple[str, CheckinRequest, int] | None = None
            self.n_txns = Txn.select().count()
            self.receipts = _receipt_counter()
            # What an earlier, failing example left behind (so hypothesis can shrink it).
            self.problems_before = set(verify().problems)
            self.unbalanced_before = set(_unbalanced())

        # -- model helpers -----------------------------------------------------------

        def key(self) -> str:
            self.seq += 1
            return f"sched-{self.prefix}-{self.seq}"

        def tokens(self, pid: int, kind: str) -> int:
            return sum(lot.remaining for lot in self.lots if lot.pid == pid and lot.kind == kind)

        def token_map(self, pid: int) -> dict[str, int]:
            out = {k: self.tokens(pid, k) for k in (ACU, MASSAGE)}
            return {k: v for k, v in out.items() if v}

        def take(self, pid: int, kind: str, qty: int) -> list[tuple[MLot, int]]:
            """Tokens taken oldest lot first (no lot expires here)."""
            taken, left = [], qty
            for lot in self.lots:
                if left == 0:
                    break
                if lot.pid == pid and lot.kind == kind and lot.remaining > 0:
                    n = min(left, lot.remaining)
                    taken.append((lot, -n))
                    left -= n
            assert left == 0
            return taken

        def snapshot(self) -> tuple[Any, ...]:
            return (Txn.select().count(), Line.select().count(), LotMove.select().count(),
                    _receipt_counter(),
                    sorted(Account.select(Account.id, Account.balance).tuples()),
                    sorted(Lot.select(Lot.id, Lot.remaining).tuples()),
                    sorted(Appointment.select(Appointment.id, Appointment.status,
                                              Appointment.checkin_txn,
                                              Appointment.starts_at).tuples()))

        def nothing_written(self, call: Callable[[], object], exc: type[Exception]) -> None:
            before = self.snapshot()
            with pytest.raises(exc):
                call()
            assert self.snapshot() == before

        def record(self, txn_id: int, m: MTxn, *, key: str | None) -> None:
            """Apply a fresh write's prediction ``m`` to the model, checking its rows."""
            assert txn_id not in self.txns
            self.n_txns += 1
            txn = Txn.get_by_id(txn_id)
            assert (txn.kind, txn.patient_id, txn.idem_key) == (m.kind, m.pid, key)
            assert txn.appointment_id == m.appointment
            assert txn.reverses_id == m.reverses
            assert txn.created_at == clock.now()
            if m.receipt:
                self.receipts += 1
                assert txn.receipt_no == self.receipts
            else:
                assert txn.receipt_no is None
            granted = [int(lot.id) for lot in
                       Lot.select(Lot.id).where(Lot.txn == txn_id).order_by(Lot.id)]
            assert len(granted) == len(m.lots)
            for lot, db_id in zip(m.lots, granted, strict=True):
                lot.db_id = db_id
                self.lots.append(lot)
            moves = sorted((int(lot), int(qty)) for lot, qty in LotMove.select(
                LotMove.lot, LotMove.quantity).where(LotMove.txn == txn_id).tuples())
            assert moves == sorted((lot.db_id, qty) for lot, qty in m.moves)
            for lot, qty in m.moves:
                lot.remaining += qty
                assert 0 <= lot.remaining <= lot.quantity
            self.credit[m.pid] += m.credit
            self.txns[txn_id] = m
            if m.reverses is not None:
                self.txns[m.reverses].reversed_by = txn_id

        def any_booked(self) -> bool:
            return any(a.status == "booked" for a in self.appts.values())

        def pick_appt(self, data: st.DataObject, booked_only: bool = True) -> int:
            ids = sorted(self.appts)
            if booked_only or data.draw(st.integers(0, 5), label="any status?") != 0:
                booked = [a for a in ids if self.appts[a].status == "booked"]
                ids = booked or ids
            return data.draw(st.sampled_from(ids), label="appointment")

        # -- rules -------------------------------------------------------------------

        @initialize(data=st.data())
        def opening(self, data: st.DataObject) -> None:
            """Each patient starts with something (a package, credit, or nothing) and a
            booked visit."""
            for pid in self.pids:
                what = data.draw(st.sampled_from(["Acu 5", "Massage 3", "credit", "none"]),
                                 label="opening")
                if what != "none":
                    self._sell(pid, what, [("card", 30000)])
            for no, pid in enumerate(self.pids):
                service = data.draw(st.sampled_from(sorted(SERVICES)), label="service")
                self._book(pid, service, self.practitioners[no], 0,
                           data.draw(st.integers(0, 19), label="slot"))

        def _sell(self, pid: int, what: str, tender_spec: list[tuple[str, int]]) -> None:
            tenders = [Tender(m, c) for m, c in tender_spec]
            paid = sum(c for _, c in tender_spec)
            key = self.key()
            if what == "credit":
                amount = 10000
                item = sales.SaleItem(credit_cents=amount)
                if not tenders:  # a credit purchase needs a payment
                    self.nothing_written(lambda: sales.sell(ctx, pid, item, tenders,
                                                            idem_key=key), BadInput)
                    return
                m = MTxn("sale", pid, True, credit=paid)
            else:
                kind, qty, price = PACKAGES[what]
                item = sales.SaleItem(package=what)
                m = MTxn("sale", pid, True, credit=paid - price,
                         lots=[MLot(pid, kind, qty, qty)])
            result = sales.sell(ctx, pid, item, tenders, idem_key=key)
            assert not result.replayed
            self.record(result.txn_id, m, key=key)
            assert result.balance_of(pid).credit_cents == self.credit[pid]

        @rule(data=st.data(), what=st.sampled_from(["Acu 5", "Massage 3", "credit"]),
              tenders=TENDERS)
        def sell(self, data: st.DataObject, what: str, tenders: list[tuple[str, int]]) -> None:
            self._sell(data.draw(st.sampled_from(self.pids), label="patient"), what, tenders)

        @rule(data=st.data(), service=st.sampled_from(sorted(SERVICES)),
              day=st.integers(0, 2), slot=st.integers(0, 19))
        def book(self, data: st.DataObject, service: str, day: int, slot: int) -> None:
            self._book(data.draw(st.sampled_from(self.pids), label="patient"), service,
                       data.draw(st.sampled_from(self.practitioners), label="practitioner"),
                       day, slot)

        def _book(self, pid: int, service: str, who: int, day: int, slot: int) -> None:
            kind, minutes, price, _, _ = SERVICES[service]
            start = dt.datetime.combine(START.date() + dt.timedelta(days=day),
                                        dt.time(8)) + dt.timedelta(minutes=30 * slot)
            end = start + dt.timedelta(minutes=minutes)
            clash = any(a.practitioner == who and a.status in ("booked", "checked_in")
                        and a.starts_at < end and start < a.ends_at
                        for a in self.appts.values())

            def call() -> appointments.BookResult:
                return appointments.book(ctx, pid, service, who, start)

            if clash:
                self.nothing_written(call, Refused)
                return
            done = call()
            assert (done.starts_at, done.ends_at, done.hold, done.replayed) == (
                start, end, None, False)
            assert done.covered == (self.tokens(pid, kind) > 0 or self.credit[pid] >= price)
            assert done.appointment_id not in self.appts
            self.appts[done.appointment_id] = MAppt(pid, service, who, start, end)

        @precondition(lambda self: self.any_booked())
        @rule(data=st.data(),
              use_token=st.sampled_from([None, None, True, False]),
              use_credit=st.sampled_from([None, None, "all", "none", 0, 1000, 6500, 20000]),
              tenders=TENDERS, items=ITEMS,
              price=st.sampled_from([None, None, 0, 4500, 12000]),
              package=st.sampled_from([None, None, None, "Acu 5", "Massage 3"]),
              given=st.sampled_from([None, None, None, None, None, "exact", "more", "less"]))
        def checkin(self, data: st.DataObject, use_token: bool | None,
                    use_credit: str | int | None, tenders: list[tuple[str, int]],
                    items: list[tuple[str, int]], price: int | None, package: str | None,
                    given: str | None) -> None:
            appt_id = self.pick_appt(data, booked_only=False)
            appt = self.appts[appt_id]
            kind, _, list_price, _, _ = SERVICES[appt.service]
            cash = sum(c for m, c in tenders if m == "cash")
            cash_given = {None: None, "exact": cash, "more": cash + 2000,
                          "less": cash - 100}[given]
            if cash_given is not None and cash_given <= 0:
                cash_given = 5000      # handed over without any cash payment
            req = CheckinRequest(appt_id, price_cents=price, items=tuple(items),
                                 use_token=use_token, use_credit=use_credit,
                                 tenders=tuple(Tender(m, c) for m, c in tenders),
                                 buy_package=package, cash_given_cents=cash_given)
            key = self.key()

            def call() -> Any:
                return check_in(ctx, req, idem_key=key)

            # The model's verdict, in the order desk checks things.
            if cash_given is not None and cash == 0:
                self.nothing_written(call, BadInput)
                return
            if appt.status != "booked":
                self.nothing_written(call, Refused)
                return
            free = self.tokens(appt.pid, kind)
            pkg = PACKAGES[package] if package else None
            from_package = pkg is not None and pkg[0] == kind
            can = free >= 1 or from_package
            if use_token is True and not can:
                self.nothing_written(call, Refused)
                return
            token = can if use_token is None else use_token
            due = (0 if token else (list_price if price is None else price)) \
                + sum(c for _, c in items) + (pkg[2] if pkg else 0)
            paid = sum(c for _, c in tenders)
            available = max(self.credit[appt.pid], 0)
            if isinstance(use_credit, int):
                if use_credit > available:
                    self.nothing_written(call, Refused)
                    return
                if use_credit > due:
                    self.nothing_written(call, BadInput)
                    return
            if cash_given is not None and cash_given < cash:
                self.nothing_written(call, BadInput)
                return

            done = call()
            assert done.plan is not None and not done.txn.replayed
            assert (done.plan.due_cents, done.plan.token_used, done.plan.paid_cents) == (
                due, token, paid)
            assert done.plan.credit_after_cents == self.credit[appt.pid] + paid - due
            assert done.plan.cash_change_cents == (0 if cash_given is None
                                                   else cash_given - cash)
            m = MTxn("checkin", appt.pid, True, credit=paid - due, appointment=appt_id)
            if pkg is not None:
                m.lots.append(MLot(appt.pid, pkg[0], pkg[1], pkg[1]))
            if token:
                if from_package and free < 1:
                    m.moves.append((m.lots[0], -1))   # today's visit from today's package
                else:
                    m.moves.extend(self.take(appt.pid, kind, 1))
            self.record(done.txn.txn_id, m, key=key)
            appt.status, appt.checkin_txn = "checked_in", done.txn.txn_id
            self.last_checkin = (key, req, done.txn.txn_id)
            assert done.txn.balance_of(appt.pid).credit_cents == self.credit[appt.pid]
            assert done.txn.balance_of(appt.pid).tokens == self.token_map(appt.pid)

        @precondition(lambda self: self.any_booked())
        @rule(data=st.data(), auto=st.booleans(), tenders=TENDERS)
        def checkin_with_defaults(self, data: st.DataObject, auto: bool,
                                  tenders: list[tuple[str, int]]) -> None:
            """The counter's everyday check-in: the clinic's defaults (or ``--auto``):
            a token when there is one, else credit, else owed."""
            appt_id = self.pick_appt(data)
            appt = self.appts[appt_id]
            kind, _, price, _, _ = SERVICES[appt.service]
            req = CheckinRequest(appt_id, tenders=tuple(Tender(m, c) for m, c in tenders),
                                 auto=auto)
            token = self.tokens(appt.pid, kind) >= 1
            due = 0 if token else price
            paid = sum(c for _, c in tenders)
            key = self.key()
            done = check_in(ctx, req, idem_key=key)
            assert done.plan is not None
            assert (done.plan.due_cents, done.plan.token_used) == (due, token)
            applied = min(max(self.credit[appt.pid], 0), max(due - paid, 0))
            assert (done.plan.credit_applied_cents, done.plan.owed_cents,
                    done.plan.credit_added_cents) == (
                applied, max(due - paid - applied, 0), max(paid - due, 0))
            m = MTxn("checkin", appt.pid, True, credit=paid - due, appointment=appt_id)
            if token:
                m.moves.extend(self.take(appt.pid, kind, 1))
            self.record(done.txn.txn_id, m, key=key)
            appt.status, appt.checkin_txn = "checked_in", done.txn.txn_id
            self.last_checkin = (key, req, done.txn.txn_id)

        @precondition(lambda self: self.any_booked())
        @rule(data=st.data(), tenders=TENDERS, undo=st.booleans())
        def checkin_buying_a_package(self, data: st.DataObject,
                                     tenders: list[tuple[str, int]], undo: bool) -> None:
            """The patient buys a package of the visit's kind at the desk; with no token
            of their own, today's visit takes one from it. Then, maybe, the receptionist
            reverses it at once (wrong patient): everything comes back."""
            empty = sorted(i for i, a in self.appts.items() if a.status == "booked"
                           and not self.tokens(a.pid, SERVICES[a.service][0]))
            if empty and data.draw(st.booleans(), label="a patient without tokens?"):
                appt_id = data.draw(st.sampled_from(empty), label="appointment")
            else:
                appt_id = self.pick_appt(data)
            appt = self.appts[appt_id]
            kind = SERVICES[appt.service][0]
            name = next(n for n, spec in PACKAGES.items() if spec[0] == kind)
            _, qty, price = PACKAGES[name]
            req = CheckinRequest(appt_id, tenders=tuple(Tender(m, c) for m, c in tenders),
                                 buy_package=name)
            paid = sum(c for _, c in tenders)
            key = self.key()
            done = check_in(ctx, req, idem_key=key)
            assert done.plan is not None
            assert (done.plan.due_cents, done.plan.token_used) == (price, True)
            m = MTxn("checkin", appt.pid, True, credit=paid - price, appointment=appt_id,
                     lots=[MLot(appt.pid, kind, qty, qty)])
            if self.tokens(appt.pid, kind) >= 1:
                m.moves.extend(self.take(appt.pid, kind, 1))   # an older token first
            else:
                m.moves.append((m.lots[0], -1))
            self.record(done.txn.txn_id, m, key=key)
            appt.status, appt.checkin_txn = "checked_in", done.txn.txn_id
            if undo:
                self._reverse(done.txn.txn_id)

        @precondition(lambda self: self.last_checkin is not None)
        @rule()
        def replay_checkin(self) -> None:
            """A double-click: the same key and request give the same transaction."""
            assert self.last_checkin is not None
            key, req, txn_id = self.last_checkin
            before = self.snapshot()
            again = check_in(ctx, req, idem_key=key)
            assert (again.txn.txn_id, again.txn.replayed, again.plan) == (txn_id, True, None)
            assert self.snapshot() == before

        @precondition(lambda self: self.any_booked())
        @rule(data=st.data(), how=st.sampled_from(["plain", "plain", "late", "no_show"]),
              take_token=st.sampled_from([False, False, True]),
              waive=st.sampled_from([False, False, False, True]),
              reason=st.sampled_from(["", "family emergency", "family emergency"]))
        def cancel(self, data: st.DataObject, how: str, take_token: bool, waive: bool,
                   reason: str) -> None:
            appt_id = self.pick_appt(data, booked_only=False)
            appt = self.appts[appt_id]
            kind = SERVICES[appt.service][0]
            key = self.key()

            def call() -> Any:
                return cancel(ctx, appt_id, late=how == "late", no_show=how == "no_show",
                              take_token=take_token, waive=waive, reason=reason,
                              idem_key=key)

            if waive and not reason:
                self.nothing_written(call, BadInput)
                return
            if waive and take_token:
                self.nothing_written(call, BadInput)
                return
            now = clock.local_now()
            if how == "no_show":
                if now < appt.starts_at:
                    self.nothing_written(call, Refused)
                    return
                status = "no_show"
            elif how == "late" or now >= appt.starts_at - dt.timedelta(hours=LATE_HOURS):
                status = "late_cancelled"
            else:
                status = "cancelled"
            if appt.status != "booked":
                self.nothing_written(call, Refused)
                return
            fee = {"no_show": no_show_fee, "late_cancelled": late_fee}.get(
                status, {}).get(appt.service, 0)
            if fee and not waive and take_token and self.tokens(appt.pid, kind) < 1:
                self.nothing_written(call, Refused)
                return

            done = call()
            assert done.txn is not None and not done.txn.replayed
            if fee and not waive:
                m = MTxn("fee", appt.pid, True, appointment=appt_id)
                if take_token:
                    paid_by = "token"
                    m.moves.extend(self.take(appt.pid, kind, 1))
                else:
                    paid_by = "credit" if self.credit[appt.pid] >= fee else "owed"
                    m.credit = -fee
            else:
                # No money moves; the cancel is still recorded (under its key).
                paid_by = "waived" if fee else "none"
                m = MTxn("cancel", appt.pid, False, appointment=appt_id)
            self.record(done.txn.txn_id, m, key=key)
            assert (done.appointment_id, done.status, done.paid_by) == (
                appt_id, status, paid_by)
            assert done.fee_cents == (0 if paid_by == "waived" else fee)
            appt.status = status

        @rule(hours=st.sampled_from([1, 3, 12, 24, 30]))
        def advance_clock(self, hours: int) -> None:
            clock.advance(hours=hours)

        @precondition(lambda self: bool(self.txns))
        @rule(data=st.data())
        def reverse(self, data: st.DataObject) -> None:
            """Reverse a check-in, a fee, a sale or an adjustment (mostly check-ins)."""
            # (A cancel without a fee is a record with no lines: nothing to reverse.)
            ids = sorted(t for t, m in self.txns.items() if m.kind != "cancel")
            if not ids:
                return
            live = [t for t in ids if self.txns[t].reversed_by is None
                    and self.txns[t].reverses is None]
            pools = {"any": ids,
                     "checkin": [t for t in live if self.txns[t].kind == "checkin"],
                     "fee": [t for t in live if self.txns[t].kind == "fee"]}
            pool = data.draw(st.sampled_from(sorted(k for k, v in pools.items() if v)),
                             label="what")
            txn_id = data.draw(st.sampled_from(pools[pool]), label="txn")
            self._reverse(txn_id)

        def _reverse(self, txn_id: int) -> None:
            orig = self.txns[txn_id]
            key = self.key()

            def call() -> Any:
                return reversal.reverse(ctx, txn_id, "property test", idem_key=key)

            if orig.reverses is not None or orig.reversed_by is not None:
                self.nothing_written(call, Refused)
                return
            for lot in orig.lots:
                own = -sum(q for mlot, q in orig.moves if mlot is lot)
                if lot.quantity - lot.remaining - own > 0:  # used since by someone else
                    self.nothing_written(call, Refused)
                    return

            done = call()
            assert not done.replayed
            m = MTxn("reversal", orig.pid, orig.receipt, credit=-orig.credit,
                     appointment=orig.appointment, reverses=txn_id)
            m.moves = [(lot, -qty) for lot, qty in orig.moves]
            m.moves += [(lot, -lot.quantity) for lot in orig.lots]
            self.record(done.txn_id, m, key=key)
            if orig.kind == "checkin":
                appt = self.appts[orig.appointment]  # type: ignore[index]
                assert appt.status == "checked_in" and appt.checkin_txn == txn_id
                appt.status, appt.checkin_txn = "booked", None
                if self.last_checkin is not None and self.last_checkin[2] == txn_id:
                    self.last_checkin = None

        @rule(data=st.data(), credit=st.sampled_from([None, -5000, -1250, 1250, 5000]),
              tokens=st.sampled_from([-2, -1, 1, 3]), kind=st.sampled_from([ACU, MASSAGE]))
        def adjust(self, data: st.DataObject, credit: int | None, tokens: int,
                   kind: str) -> None:
            pid = data.draw(st.sampled_from(self.pids), label="patient")
            key = self.key()
            if credit is not None:
                done = wallet.adjust(ctx, pid, reason="correction", credit_cents=credit,
                                     idem_key=key)
                self.record(done.txn_id, MTxn("adjustment", pid, False, credit=credit),
                            key=key)
                return

            def call() -> Any:
                return wallet.adjust(ctx, pid, reason="correction", tokens=tokens,
                                     token_kind=kind, idem_key=key)

            m = MTxn("adjustment", pid, False)
            if tokens > 0:
                m.lots.append(MLot(pid, kind, tokens, tokens))
            elif self.tokens(pid, kind) < -tokens:
                self.nothing_written(call, Refused)
                return
            else:
                m.moves.extend(self.take(pid, kind, -tokens))
            self.record(call().txn_id, m, key=key)

        # -- invariants ----------------------------------------------------------------

        @invariant()
        def balances_match_the_model(self) -> None:
            for pid in self.pids:
                found = balance_of(pid)
                assert (found.credit_cents, found.tokens) == (self.credit[pid],
                                                              self.token_map(pid)), pid
            for lot in self.lots:
                assert int(Lot.get_by_id(lot.db_id).remaining) == lot.remaining, lot

        @invariant()
        def ledger_is_sound(self) -> None:
            assert Txn.select().count() == self.n_txns
            assert _receipt_counter() == self.receipts
            assert set(_unbalanced()) - self.unbalanced_before == set()
            below_zero = (Account.select(Account.code)
                          .where(Account.kind == "patient_tokens", Account.balance > 0))
            assert [a.code for a in below_zero] == []
            report = verify()
            assert set(report.problems) - self.problems_before == set()

        @invariant()
        def appointments_match_the_model(self) -> None:
            if not self.appts:
                return
            rows = {int(a.id): (str(a.status), a.checkin_txn_id) for a in
                    Appointment.select().where(Appointment.id.in_(sorted(self.appts)))}
            assert rows == {i: (a.status, a.checkin_txn) for i, a in self.appts.items()}
            for status, txn_id in rows.values():
                assert (status == "checked_in") == (txn_id is not None)
                if txn_id is not None:
                    assert Txn.get_by_id(txn_id).kind == "checkin"

    return ScheduleMachine


def test_schedule_state_machine(backend: str, ctx: Any, clock: Any) -> None:
    for name, (kind, minutes, price, _, _) in SERVICES.items():
        catalog.add_service(ctx, name, minutes, price, token_kind=kind)
    for name, (kind, tokens, price) in PACKAGES.items():
        catalog.add_package(ctx, name, kind, tokens, price)
    # The clinic charges 15.00 / 25.00; massage has its own fees (none when late).
    clinic_settings.set_value(ctx, "late_cancel_fee", "15.00")
    clinic_settings.set_value(ctx, "no_show_fee", "25.00")
    Service.update(late_cancel_fee_cents=0, no_show_fee_cents=4000).where(
        Service.name == "Massage 60").execute()

    machine = _make_machine(ctx, clock)
    run_state_machine_as_test(machine, settings=settings(
        max_examples=32, stateful_step_count=25, deadline=None, database=None,
        # The same runs every time: random runs sometimes never reached a fee (about
        # 1 in 10), which failed the coverage check below for no fault of desk's.
        derandomize=True,
        # Every step is a real database write: shrinking a failure would take minutes.
        # The failing run's steps are printed as they were.
        phases=[Phase.explicit, Phase.reuse, Phase.generate],
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                               HealthCheck.filter_too_much, HealthCheck.data_too_large]))
    report = verify()
    assert report.problems == []
    # The run did reach the interesting states (not only refusals).
    kinds = {k for (k,) in Txn.select(Txn.kind).distinct().tuples()}
    assert {"sale", "checkin", "fee", "reversal"} <= kinds, kinds
    statuses = {s for (s,) in Appointment.select(Appointment.status).distinct().tuples()}
    assert {"booked", "checked_in"} <= statuses, statuses
