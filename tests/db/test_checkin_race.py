"""Check-in races between workstations (SPEC §2.5, §2.6, §3 Check in), as real OS processes.

Six processes ('spawn': nothing shared but the database URL) each open their own
database connection, build their own ``Ctx``, wait at a barrier and then all at
once check in:

* six different booked visits of ONE patient who holds exactly one token, each
  asking for the token explicitly: exactly one check-in wins, the other five are
  refused ("no token available") and write nothing;
* the SAME visit with the SAME idempotency key (a double-click on two desks): every
  process gets the one transaction's id, exactly one check-in transaction exists;
* the SAME visit with DIFFERENT keys (two receptionists): exactly one check-in is
  written, the others are refused because the visit is already checked in.
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
import queue
import traceback
from collections import Counter as Tally
from typing import Any

import pytest

from desk.core.errors import Refused
from desk.data.models import (
    Account,
    Appointment,
    Counter,
    Line,
    Lot,
    LotMove,
    Service,
    TokenKind,
    Txn,
)
from desk.services import appointments, catalog, patients, sales
from desk.services.accounts import balance_of
from desk.services.checkin import CheckinRequest
from desk.services.context import Ctx
from desk.services.results import Tender
from desk.services.verify import verify

pytestmark = pytest.mark.slow

N = 6
KIND = "Acupuncture"
SERVICE = "Acupuncture 30"          # 30 minutes, 65.00
PRICE = 6500
BARRIER_S = 90
RESULT_S = 180
NOW = dt.datetime(2026, 3, 2, 15, 0)
DAY = dt.date(2026, 3, 3)


# -- child processes (top level, so 'spawn' can import them) ---------------------------

def _checkin_worker(db_url: str, no: int, now: dt.datetime, rounds: list[tuple[Any, str]],
                    barrier: Any, results: Any) -> None:
    """Open a database; for each round wait for the others, then check ``request`` in
    (or cancel, for a ``("cancel", appointment id, options)`` request) under ``key``."""
    from desk.data.database import open_database
    from desk.services.cancellation import cancel
    from desk.services.checkin import check_in

    try:
        db = open_database(db_url)
        ctx = Ctx(db, staff=f"desk-{no}", workstation=f"ws-{no}", now=lambda: now,
                  today=lambda: now.date(), local_now=lambda: now)
        # Warm the connection before the barrier, so every process starts the race
        # with an open connection and the window between them is as small as it gets.
        Txn.select().count()
    except BaseException:
        results.put((-1, no, "error", traceback.format_exc(), None))
        barrier.abort()
        return
    for r, (request, key) in enumerate(rounds):
        try:
            barrier.wait(timeout=BARRIER_S)
        except BaseException:
            results.put((r, no, "error", traceback.format_exc(), None))
            break
        try:
            if isinstance(request, CheckinRequest):
                done = check_in(ctx, request, idem_key=key)
            else:  # ("cancel", appointment id, options)
                done = cancel(ctx, request[1], idem_key=key, **request[2])
            assert done.txn is not None
            results.put((r, no, "ok", done.txn.txn_id, done.txn.replayed))
        except Refused as exc:
            results.put((r, no, "refused", str(exc), None))
        except BaseException:
            results.put((r, no, "error", traceback.format_exc(), None))
    db.close()


Outcome = dict[int, tuple[str, Any, Any]]


def _race(db_url: str, per_worker: list[list[tuple[Any, str]]]) -> list[Outcome]:
    """Run N processes, each doing its rounds of check-ins, every round released at once
    by a barrier: for each round {worker: (status, txn id or message, replayed)}."""
    mp = multiprocessing.get_context("spawn")
    barrier = mp.Barrier(N)
    results = mp.Queue()
    procs = [mp.Process(target=_checkin_worker,
                        args=(db_url, no, NOW, per_worker[no], barrier, results),
                        daemon=True) for no in range(N)]
    for proc in procs:
        proc.start()
    rounds = len(per_worker[0])
    out: list[Outcome] = [{} for _ in range(rounds)]
    errors: list[str] = []
    try:
        for _ in range(N * rounds):
            try:
                r, no, status, value, replayed = results.get(timeout=RESULT_S)
            except queue.Empty:
                errors.append("a worker neither answered nor failed (deadlock?)")
                break
            if status == "error":
                errors.append(f"worker {no} round {r}:\n{value}")
                if r < 0:
                    break
                continue
            out[r][no] = (status, value, replayed)
    finally:
        for proc in procs:
            proc.join(timeout=30)
        for proc in procs:
            if proc.is_alive():
                proc.kill()
                proc.join()
    assert not errors, "\n".join(errors)
    assert [p.exitcode for p in procs] == [0] * N
    assert [sorted(o) for o in out] == [list(range(N))] * rounds
    return out


# -- set-up in the test process --------------------------------------------------------

def _clinic(ctx: Ctx) -> list[str]:
    """One service, three practitioners; returns the practitioners' names."""
    catalog.add_service(ctx, SERVICE, 30, PRICE, token_kind=KIND)
    names = ["Dr. Ada Park", "Dr. Ben Cruz", "Dr. Cho Lin"]
    for name in names:
        catalog.add_practitioner(ctx, name)
    return names


def _book_six(ctx: Ctx, pid: int, names: list[str], day: dt.date) -> list[int]:
    """Six visits of one patient on ``day``: two practitioners x three start times."""
    ids = []
    for i in range(N):
        start = dt.datetime.combine(day, dt.time(9 + i // 2, 0))
        ids.append(appointments.book(ctx, pid, SERVICE, names[i % 2], start,
                                     idem_key=f"book-{pid}-{i}").appointment_id)
    return ids


def _status(appt_id: int) -> tuple[str, int | None]:
    appt = Appointment.get_by_id(appt_id)
    return str(appt.status), appt.checkin_txn_id


def _checkins() -> list[Txn]:
    return list(Txn.select().where(Txn.kind == "checkin").order_by(Txn.id))


def _lines(txn_id: int) -> list[tuple[str, int]]:
    found = (Line.select(Account.code, Line.amount)
             .join(Account, on=(Line.account == Account.id)).where(Line.txn == txn_id).tuples())
    return sorted((str(code), int(amount)) for code, amount in found)


def _assert_verified() -> None:
    report = verify()
    assert report.problems == []
    assert report.ok


# -- the races -------------------------------------------------------------------------

def test_six_desks_race_for_the_last_token_then_double_click_one_checkin(
        backend: str, db_url: str, ctx: Ctx) -> None:
    """Round 1: six visits of a patient with one token, six desks ask for the token at
    once. Round 2: six desks send the same check-in under the same key."""
    names = _clinic(ctx)
    kind_id = int(TokenKind.get(TokenKind.name == KIND).id)
    service_id = int(Service.get(Service.name == SERVICE).id)
    una = patients.add_patient(ctx, "Una Token").id
    sale = sales.sell(ctx, una, sales.SaleItem(tokens=1, token_kind=KIND, price_cents=6000),
                      [Tender("card", 6000)])
    assert sale.receipt_no == 1
    assert balance_of(una).tokens == {KIND: 1}
    una_visits = _book_six(ctx, una, names, dt.date(2026, 3, 3))
    (lot,) = Lot.select().where(Lot.txn == sale.txn_id)
    dee = patients.add_patient(ctx, "Dee Double").id
    assert sales.sell(ctx, dee, sales.SaleItem(credit_cents=10000),
                      [Tender("cash", 10000)]).receipt_no == 2
    dee_visits = _book_six(ctx, dee, names, dt.date(2026, 3, 4))
    target = dee_visits[3]
    txns_before = Txn.select().count()
    ctx.db.close()  # the children must not wait on anything of this process

    # Price 65.00 + herbs 12.50 = 77.50: 20.00 by card, 57.50 from the 100.00 credit.
    double_click = CheckinRequest(target, items=(("Herbs", 1250),), use_credit="all",
                                  tenders=(Tender("card", 2000, "4242"),))
    last_token, same_key = _race(db_url, [
        [(CheckinRequest(una_visits[no], use_token=True), f"token-{no}"),
         (double_click, "same-double-click-key")] for no in range(N)])

    ctx.db.connect(reuse_if_open=True)
    # -- round 1: exactly one desk gets the token, five are refused, nothing else written
    tally = Tally(status for status, _, _ in last_token.values())
    assert tally == {"ok": 1, "refused": 5}, last_token
    (winner,) = [no for no, (status, _, _) in last_token.items() if status == "ok"]
    for no, (status, message, _) in last_token.items():
        if no != winner:
            assert (status, message) == ("refused", f"no {KIND} token available for this "
                                                    "visit"), message
    won = last_token[winner][1]
    assert last_token[winner][2] is False
    bal = balance_of(una)
    assert (bal.credit_cents, bal.tokens) == (0, {})
    assert int(Account.get(Account.code == f"patient:{una}:credit").balance) == 0
    assert int(Account.get(Account.code == f"patient:{una}:tok:{kind_id}").balance) == 0
    assert Lot.get_by_id(lot.id).remaining == 0
    assert [(int(m.lot_id), int(m.quantity), int(m.value_cents)) for m in
            LotMove.select().where(LotMove.txn == won)] == [(int(lot.id), -1, -6000)]
    statuses = {a: _status(a) for a in una_visits}
    assert statuses[una_visits[winner]] == ("checked_in", won)
    assert sorted(statuses.values(), key=repr) == sorted(
        [("booked", None)] * 5 + [("checked_in", won)], key=repr)
    txn = Txn.get_by_id(won)
    assert (txn.kind, txn.appointment_id, txn.patient_id, txn.staff, txn.workstation) == (
        "checkin", una_visits[winner], una, f"desk-{winner}", f"ws-{winner}")
    assert _lines(won) == sorted([
        (f"patient:{una}:tok:{kind_id}", 1), (f"issued:{kind_id}", -1),
        ("prepaid", 6000), (f"revenue:service:{service_id}", -6000)])

    # -- round 2: one transaction under the key; every desk gets its id
    assert {status for status, _, _ in same_key.values()} == {"ok"}, same_key
    txn_ids = {value for _, value, _ in same_key.values()}
    assert len(txn_ids) == 1, same_key
    (clicked,) = txn_ids
    assert sorted(replayed for _, _, replayed in same_key.values()) == [False] + [True] * 5
    assert Txn.select().where(Txn.idem_key == "same-double-click-key").count() == 1
    assert _status(target) == ("checked_in", clicked)
    assert [_status(a) for a in dee_visits if a != target] == [("booked", None)] * 5
    bal = balance_of(dee)
    assert (bal.credit_cents, bal.tokens) == (4250, {})
    assert _lines(clicked) == sorted([
        (f"patient:{dee}:credit", 5750), ("revenue:items", -1250),
        (f"revenue:service:{service_id}", -6500), ("tender:card", 2000)])

    # -- both rounds together: two check-ins, two receipts, a clean ledger
    assert [int(t.id) for t in _checkins()] == sorted([won, clicked])
    assert Txn.select().count() == txns_before + 2
    assert sorted([Txn.get_by_id(won).receipt_no, Txn.get_by_id(clicked).receipt_no]) == [3, 4]
    assert int(Counter.get_by_id("receipt").value) == 4
    _assert_verified()


def test_six_desks_check_in_the_same_visit_with_different_keys_once(
        backend: str, db_url: str, ctx: Ctx) -> None:
    """Six receptionists check the same visit in at once, each with its own key: the
    visit is checked in once, one transaction, the others are refused."""
    names = _clinic(ctx)
    pid = patients.add_patient(ctx, "Sam Same").id
    sales.sell(ctx, pid, sales.SaleItem(credit_cents=50000), [Tender("cash", 50000)])
    visits = _book_six(ctx, pid, names, dt.date(2026, 3, 3))
    target = visits[0]
    ctx.db.close()

    (out,) = _race(db_url, [[(CheckinRequest(target, use_credit="all"), f"desk-{no}-key")]
                            for no in range(N)])

    ctx.db.connect(reuse_if_open=True)
    tally = Tally(status for status, _, _ in out.values())
    assert tally == {"ok": 1, "refused": 5}, out
    (txn_id,) = [value for status, value, _ in out.values() if status == "ok"]
    for status, message, _ in out.values():
        if status == "refused":
            assert message == (f"appointment {target} is checked in; it cannot become "
                               "checked in"), message
    assert [int(t.id) for t in _checkins()] == [txn_id]
    assert _status(target) == ("checked_in", txn_id)
    assert [_status(a) for a in visits[1:]] == [("booked", None)] * 5
    bal = balance_of(pid)
    assert (bal.credit_cents, bal.tokens) == (50000 - PRICE, {})
    assert int(Counter.get_by_id("receipt").value) == 2
    _assert_verified()


def test_six_desks_late_cancel_the_same_visit_the_fee_is_charged_once(
        backend: str, db_url: str, ctx: Ctx) -> None:
    """Six receptionists record the same late cancel at once, each with its own key:
    one fee, one transaction; the others are refused (already late-cancelled)."""
    from desk.services import settings as clinic_settings

    names = _clinic(ctx)
    clinic_settings.set_value(ctx, "late_cancel_fee", "15.00")
    pid = patients.add_patient(ctx, "Lee Late").id
    sales.sell(ctx, pid, sales.SaleItem(credit_cents=10000), [Tender("cash", 10000)])
    visits = _book_six(ctx, pid, names, dt.date(2026, 3, 3))  # inside the 24 h window
    target = visits[2]
    ctx.db.close()

    (out,) = _race(db_url, [[(("cancel", target, {}), f"cancel-desk-{no}")]
                            for no in range(N)])

    ctx.db.connect(reuse_if_open=True)
    tally = Tally(status for status, _, _ in out.values())
    assert tally == {"ok": 1, "refused": 5}, out
    (txn_id,) = [value for status, value, _ in out.values() if status == "ok"]
    for status, message, _ in out.values():
        if status == "refused":
            assert message == (f"appointment {target} is late-cancelled; it cannot become "
                               "late-cancelled"), message
    fees = list(Txn.select().where(Txn.kind == "fee"))
    assert [int(t.id) for t in fees] == [txn_id]
    assert _status(target) == ("late_cancelled", None)
    assert [_status(a) for a in visits if a != target] == [("booked", None)] * 5
    bal = balance_of(pid)
    assert (bal.credit_cents, bal.tokens) == (10000 - 1500, {})
    assert int(Counter.get_by_id("receipt").value) == 2
    _assert_verified()
