"""Races between workstations (SPEC §2.5, §2.6), as real OS processes.

Eight processes ('spawn': nothing shared but the database URL) each open their own
database connection, wait at a barrier, then all at once try to spend a patient's
LAST token (half by a manager adjustment, half by a transfer to another patient):
exactly one wins, the other seven get ``Refused`` and nothing is written for them.
Then eight processes replay the SAME idempotency key for a sale: exactly one
transaction exists and every process gets its id (or, when half of them send a
different request under that key, those are refused).
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
from desk.data.models import Account, Counter, Line, Lot, Txn
from desk.services import accounts, catalog, patients, sales, wallet
from desk.services.context import Ctx
from desk.services.results import Tender
from desk.services.verify import verify

pytestmark = pytest.mark.slow

N = 8
KIND = "Acupuncture"
BARRIER_S = 90
RESULT_S = 180


# -- child processes (top level, so 'spawn' can import them) ---------------------------

def _child_ctx(db_url: str, no: int, now: dt.datetime) -> Ctx:
    from desk.data.database import open_database

    db = open_database(db_url)
    return Ctx(db, staff=f"racer-{no}", workstation=f"ws-{no}", now=lambda: now,
               today=lambda: now.date())


def _do(ctx: Ctx, op: str, args: dict[str, Any]) -> Any:
    if op == "adjust":
        return wallet.adjust(ctx, **args)
    if op == "transfer":
        return wallet.transfer(ctx, **args)
    if op == "refund":
        return wallet.refund(ctx, **args)
    if op == "sell":
        return sales.sell(ctx, args["patient_id"], sales.SaleItem(package=args["package"]),
                          [Tender(args["method"], args["amount"])], idem_key=args["idem_key"],
                          memo="race")
    raise AssertionError(op)


def _worker(db_url: str, no: int, now: dt.datetime, rounds: list[tuple[str, dict[str, Any]]],
            barrier: Any, results: Any) -> None:
    """Open its own database, then per round: wait for all, do one call, report."""
    try:
        ctx = _child_ctx(db_url, no, now)
    except BaseException:
        results.put((-1, no, "error", traceback.format_exc(), None))
        barrier.abort()
        return
    for r, (op, args) in enumerate(rounds):
        try:
            barrier.wait(timeout=BARRIER_S)
        except BaseException:
            results.put((r, no, "error", traceback.format_exc(), None))
            return
        try:
            res = _do(ctx, op, args)
            results.put((r, no, "ok", res.txn_id, res.replayed))
        except Refused as exc:
            results.put((r, no, "refused", str(exc), None))
        except BaseException:
            results.put((r, no, "error", traceback.format_exc(), None))
    ctx.db.close()


def _race(db_url: str, now: dt.datetime, per_worker: list[list[tuple[str, dict[str, Any]]]]
          ) -> dict[int, dict[int, tuple[str, Any, Any]]]:
    """Run the rounds in N spawned processes; {round: {worker: (status, value, replayed)}}."""
    mp = multiprocessing.get_context("spawn")
    barrier = mp.Barrier(N)
    results = mp.Queue()
    procs = [mp.Process(target=_worker, args=(db_url, no, now, per_worker[no], barrier, results),
                        daemon=True) for no in range(N)]
    for proc in procs:
        proc.start()
    expected = N * len(per_worker[0])
    out: dict[int, dict[int, tuple[str, Any, Any]]] = {}
    errors: list[str] = []
    try:
        for _ in range(expected):
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
            out.setdefault(r, {})[no] = (status, value, replayed)
    finally:
        for proc in procs:
            proc.join(timeout=30)
        for proc in procs:
            if proc.is_alive():
                proc.kill()
                proc.join()
    assert not errors, "\n".join(errors)
    assert [p.exitcode for p in procs] == [0] * N
    return out


def _catalog(ctx: Ctx) -> None:
    catalog.add_service(ctx, KIND, 45, 6000)
    catalog.add_package(ctx, "Acu 5", KIND, 5, 5000, expires_days=30)
    catalog.add_package(ctx, "Acu 3", KIND, 3, 10000)


def _tokens(pid: int) -> int:
    return accounts.balance_of(pid).tokens.get(KIND, 0)


# -- tests --------------------------------------------------------------------------

def _spend(no: int, r: int, src: int, receiver: int) -> tuple[str, dict[str, Any]]:
    """Even workers remove a token (manager adjustment), odd ones transfer it away."""
    key = f"spend-{r}-{no}"
    if no % 2 == 0:
        return ("adjust", {"patient_id": src, "reason": "race: last token", "tokens": -1,
                           "token_kind": KIND, "idem_key": key})
    return ("transfer", {"from_id": src, "to_id": receiver, "tokens": 1, "token_kind": KIND,
                         "memo": "race: last token", "idem_key": key})


def _winners(got: dict[int, tuple[str, Any, Any]], expected: int) -> list[int]:
    """Exactly ``expected`` workers succeeded (fresh writes), all the others were refused."""
    assert sorted(got) == list(range(N))
    statuses = Tally(status for status, _, _ in got.values())
    assert statuses == Tally({"ok": expected, "refused": N - expected}), got
    won = sorted(no for no, v in got.items() if v[0] == "ok")
    assert all(got[no][2] is False for no in won)
    assert len({got[no][1] for no in won}) == expected  # distinct transactions
    return won


def test_eight_processes_race_for_the_last_token(backend: str, db_url: str, ctx: Ctx,
                                                 clock: Any) -> None:
    _catalog(ctx)
    # Rounds 0-3: a different patient holds exactly one token, got differently.
    # Round 4: a patient holds 5 tokens in two lots: exactly 5 of the 8 get one.
    srcs = [patients.add_patient(ctx, f"Holder {r}").id for r in range(5)]
    wallet.adjust(ctx, srcs[0], reason="opening balance", tokens=1, token_kind=KIND)
    sales.sell(ctx, srcs[1], sales.SaleItem(package="Acu 3"), [Tender("cash", 10000)])
    wallet.adjust(ctx, srcs[1], reason="used elsewhere", tokens=-2, token_kind=KIND)
    other = patients.add_patient(ctx, "Sibling").id
    sales.sell(ctx, srcs[2], sales.SaleItem(tokens=2, token_kind=KIND, price_cents=3000,
                                            expires_days=60), [Tender("card", 3000)])
    wallet.transfer(ctx, srcs[2], other, tokens=1, token_kind=KIND)
    wallet.adjust(ctx, srcs[3], reason="goodwill", tokens=1, token_kind=KIND, expires_days=5)
    sales.sell(ctx, srcs[4], sales.SaleItem(package="Acu 3"), [Tender("cash", 10000)])
    wallet.adjust(ctx, srcs[4], reason="goodwill", tokens=2, token_kind=KIND, expires_days=9)
    receivers = [patients.add_patient(ctx, f"Receiver {no}").id for no in range(N)]
    held = [1, 1, 1, 1, 5]
    assert [_tokens(p) for p in srcs] == held
    txns_before = Txn.select().count()
    assert txns_before == 8

    per_worker = [[_spend(no, r, src, receivers[no]) for r, src in enumerate(srcs)]
                  for no in range(N)]
    out = _race(db_url, clock.now(), per_worker)

    received: Tally[int] = Tally()
    for r, src in enumerate(srcs):
        won = _winners(out[r], held[r])
        for no, (status, message, _) in out[r].items():
            if status == "refused":
                assert "not enough acupuncture tokens" in message.lower(), message
                continue
            txn = Txn.get_by_id(message)
            assert txn.kind == ("adjustment" if no % 2 == 0 else "transfer")
            assert txn.patient_id == src
            assert txn.workstation == f"ws-{no}"
            assert txn.idem_key == f"spend-{r}-{no}"
        received.update(receivers[no] for no in won if no % 2 == 1)
        # The refused attempts left no trace under their keys.
        losers = [f"spend-{r}-{no}" for no in range(N) if no not in won]
        assert not Txn.select().where(Txn.idem_key.in_(losers)).exists()
    # One transaction per winner, nothing else; every token spent exactly once.
    assert Txn.select().count() == txns_before + sum(held)
    assert [_tokens(p) for p in srcs] == [0] * len(srcs)
    lots = Lot.select(Lot.remaining).join(Account, on=(Lot.account == Account.id)).where(
        Account.patient.in_(srcs))
    assert [int(lot.remaining) for lot in lots] == [0] * 6
    for pid in receivers:
        assert _tokens(pid) == received.get(pid, 0)
    assert sum(received.values()) == sum(_tokens(p) for p in receivers)
    assert not Account.select().where(Account.kind == "patient_tokens",
                                      Account.balance > 0).exists()
    report = verify()
    assert report.ok, report.problems


def test_eight_processes_race_for_the_last_credit(backend: str, db_url: str, ctx: Ctx,
                                                  clock: Any) -> None:
    """$50.00 of credit, eight $10.00 refunds or transfers at once: exactly five happen."""
    pid = patients.add_patient(ctx, "Prepaid").id
    wallet.adjust(ctx, pid, reason="opening balance", credit_cents=5000)
    receivers = [patients.add_patient(ctx, f"Friend {no}").id for no in range(N)]

    def op(no: int) -> tuple[str, dict[str, Any]]:
        key = f"credit-{no}"
        if no % 2 == 0:
            return ("refund", {"patient_id": pid, "amount_cents": 1000, "method": "cash",
                               "idem_key": key})
        return ("transfer", {"from_id": pid, "to_id": receivers[no], "credit_cents": 1000,
                             "idem_key": key})

    out = _race(db_url, clock.now(), [[op(no)] for no in range(N)])
    won = _winners(out[0], 5)
    for status, message, _ in out[0].values():
        if status == "refused":
            assert "credit" in message.lower(), message
    assert accounts.balance_of(pid).credit_cents == 0
    for no in range(N):
        expected = 1000 if no in won and no % 2 == 1 else 0
        assert accounts.balance_of(receivers[no]).credit_cents == expected
    refunds = [no for no in won if no % 2 == 0]
    assert Txn.select().where(Txn.kind == "refund").count() == len(refunds)
    # Refund receipts are numbered 1..n without a gap, whoever won.
    assert sorted(t.receipt_no for t in Txn.select().where(Txn.kind == "refund")) == \
        list(range(1, len(refunds) + 1))
    assert Txn.select().count() == 1 + 5
    report = verify()
    assert report.ok, report.problems


def test_eight_processes_replay_one_sale_key(backend: str, db_url: str, ctx: Ctx,
                                             clock: Any) -> None:
    _catalog(ctx)
    pids = [patients.add_patient(ctx, f"Buyer {r}").id for r in range(3)]
    keys = [f"sale-key-{r}" for r in range(3)]

    def request(r: int, no: int) -> tuple[str, dict[str, Any]]:
        args = {"patient_id": pids[r], "package": "Acu 5", "idem_key": keys[r],
                "method": "cash", "amount": 5000}
        if r == 2 and no % 2 == 1:
            args.update(method="card", amount=6000)  # same key, a different request
        return ("sell", args)

    per_worker = [[request(r, no) for r in range(3)] for no in range(N)]
    out = _race(db_url, clock.now(), per_worker)

    for r in range(3):
        got = out[r]
        assert sorted(got) == list(range(N))
        rows = list(Txn.select().where(Txn.idem_key == keys[r]))
        assert len(rows) == 1, f"round {r}: {len(rows)} transactions under one key"
        txn_id = int(rows[0].id)
        if r < 2:
            same = got
        else:
            won = next(no for no, v in got.items() if v[0] == "ok")
            same = {no: v for no, v in got.items() if no % 2 == won % 2}
            other = {no: v for no, v in got.items() if no % 2 != won % 2}
            assert [v[0] for v in other.values()] == ["refused"] * (N // 2), got
            for _, message, _ in other.values():
                assert keys[r] in message
        assert {v[0] for v in same.values()} == {"ok"}, got
        assert {v[1] for v in same.values()} == {txn_id}, got
        assert sorted(v[2] for v in same.values()) == [False] + [True] * (len(same) - 1), got
        # Exactly one sale's worth of tokens and money.
        assert _tokens(pids[r]) == 5
        paid = sum(int(x) for (x,) in Line.select(Line.amount).join(
            Account, on=(Line.account == Account.id)).where(
            Line.txn == txn_id, Account.kind == "tender").tuples())
        assert paid in ((5000,) if r < 2 else (5000, 6000))
        assert accounts.balance_of(pids[r]).credit_cents == paid - 5000
        assert Lot.select().where(Lot.txn == txn_id).count() == 1
    assert Txn.select().count() == 3
    assert Counter.get_by_id("receipt").value == 3
    assert sorted(t.receipt_no for t in Txn.select()) == [1, 2, 3]
    report = verify()
    assert report.ok, report.problems


def test_members_of_one_shared_wallet_race_for_its_last_tokens(
        backend: str, db_url: str, ctx: Ctx, clock: Any) -> None:
    """Eight members of a household sharing one wallet of 2 tokens each spend one at
    once (half by adjustment, half by transfer out): exactly two win."""
    from desk.services import households

    _catalog(ctx)
    members = [patients.add_patient(ctx, f"Member {no}").id for no in range(N)]
    wallet.adjust(ctx, members[0], reason="opening balance", tokens=2, token_kind=KIND)
    for pid in members[1:]:
        households.link(ctx, pid, members[0], shared_wallet=True, move_balance=True)
    outsider = patients.add_patient(ctx, "Outsider").id
    assert [_tokens(p) for p in members] == [2] * N
    per_worker = [[_spend(no, 0, members[no], outsider)] for no in range(N)]
    out = _race(db_url, clock.now(), per_worker)
    won = _winners(out[0], 2)
    assert [_tokens(p) for p in members] == [0] * N
    assert _tokens(outsider) == sum(1 for no in won if no % 2 == 1)
    assert verify().problems == []
