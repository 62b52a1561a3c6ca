"""Idempotency keys (SPEC §2.5): a replay returns the original, never a second write."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest

from desk.core.errors import Refused
from desk.data.models import Account, Counter, Line, Lot, LotMove, Txn
from desk.services import catalog, patients, queries
from desk.services.results import Tender, TxnResult
from desk.services.reversal import reverse
from desk.services.sales import SaleItem, sell
from desk.services.verify import verify
from desk.services.wallet import adjust, refund, transfer

PKG5 = "Five acupuncture"
KEY = "dialog-3f1c9a"


def snapshot() -> dict[str, object]:
    return {
        "txn": Txn.select().count(),
        "line": Line.select().count(),
        "lot_move": LotMove.select().count(),
        "lots": list(Lot.select(Lot.id, Lot.remaining).order_by(Lot.id).tuples()),
        "accounts": sorted(Account.select(Account.code, Account.balance).tuples()),
        "receipt": int(Counter.get_by_id("receipt").value),
    }


@pytest.fixture
def people(ctx: Any) -> tuple[int, int]:
    """Zoë with a package bought (so she has 5 tokens and 100.00 credit), and Bob."""
    catalog.add_service(ctx, "Acupuncture 30", 30, 8000, token_kind="Acupuncture")
    catalog.add_package(ctx, PKG5, "Acupuncture", 5, 35000, expires_days=90)
    zoe = patients.add_patient(ctx, "Zoë Adams").id
    bob = patients.add_patient(ctx, "Bob Brown").id
    sell(ctx, zoe, SaleItem(package=PKG5), [Tender("cash", 45000)])
    return zoe, bob


Op = Callable[[Any, int, int, str], TxnResult]

# Each operation as (the request, the same key with one detail changed).
OPS: dict[str, tuple[Op, Op]] = {
    "sell": (
        lambda ctx, zoe, bob, key: sell(ctx, zoe, SaleItem(package=PKG5),
                                        [Tender("cash", 30000)], idem_key=key),
        lambda ctx, zoe, bob, key: sell(ctx, zoe, SaleItem(package=PKG5),
                                        [Tender("card", 30000)], idem_key=key),
    ),
    "adjust": (
        lambda ctx, zoe, bob, key: adjust(ctx, zoe, reason="goodwill", credit_cents=500,
                                          idem_key=key),
        lambda ctx, zoe, bob, key: adjust(ctx, zoe, reason="goodwill", credit_cents=600,
                                          idem_key=key),
    ),
    "transfer": (
        lambda ctx, zoe, bob, key: transfer(ctx, zoe, bob, tokens=2, token_kind="Acupuncture",
                                            idem_key=key),
        lambda ctx, zoe, bob, key: transfer(ctx, bob, zoe, tokens=2, token_kind="Acupuncture",
                                            idem_key=key),
    ),
    "refund": (
        lambda ctx, zoe, bob, key: refund(ctx, zoe, 2500, "cash", idem_key=key),
        lambda ctx, zoe, bob, key: refund(ctx, zoe, 2500, "card", idem_key=key),
    ),
    "reverse": (
        lambda ctx, zoe, bob, key: reverse(ctx, _first_txn(zoe), "wrong tender", idem_key=key),
        lambda ctx, zoe, bob, key: reverse(ctx, _first_txn(zoe), "wrong patient",
                                           idem_key=key),
    ),
}


def _first_txn(patient: int) -> int:
    return min(view.id for view in queries.history(patient))


@pytest.mark.parametrize("op", list(OPS))
def test_replaying_a_key_returns_the_original_and_writes_nothing(
        ctx: Any, people: tuple[int, int], op: str) -> None:
    zoe, bob = people
    request, other_request = OPS[op]
    first = request(ctx, zoe, bob, KEY)
    assert first.replayed is False
    after_first = snapshot()
    assert Txn.get(Txn.idem_key == KEY).id == first.txn_id

    again = request(ctx, zoe, bob, KEY)
    assert again.replayed is True
    assert (again.txn_id, again.kind, again.receipt_no) == (
        first.txn_id, first.kind, first.receipt_no)
    assert again.balances == first.balances
    assert snapshot() == after_first

    with pytest.raises(Refused, match="different request"):
        other_request(ctx, zoe, bob, KEY)
    assert snapshot() == after_first
    assert verify().problems == []


def test_a_key_used_by_one_operation_is_refused_for_another(
        ctx: Any, people: tuple[int, int]) -> None:
    zoe, bob = people
    adjust(ctx, zoe, reason="goodwill", credit_cents=500, idem_key=KEY)
    before = snapshot()
    with pytest.raises(Refused):
        refund(ctx, zoe, 500, "cash", idem_key=KEY)
    with pytest.raises(Refused):
        adjust(ctx, bob, reason="goodwill", credit_cents=500, idem_key=KEY)
    assert snapshot() == before


def test_a_replay_is_answered_even_when_the_rules_would_now_refuse(
        ctx: Any, people: tuple[int, int]) -> None:
    zoe, _ = people
    first = refund(ctx, zoe, 10000, "cash", idem_key=KEY)  # all of her credit
    assert queries.balance(zoe).credit_cents == 0
    before = snapshot()
    again = refund(ctx, zoe, 10000, "cash", idem_key=KEY)  # a retry, not a second refund
    assert (again.txn_id, again.replayed) == (first.txn_id, True)
    assert snapshot() == before
    assert queries.balance(zoe).credit_cents == 0


def test_a_refused_request_does_not_use_up_its_key(ctx: Any, people: tuple[int, int]) -> None:
    zoe, _ = people
    with pytest.raises(Refused):
        refund(ctx, zoe, 20000, "cash", idem_key=KEY)
    assert Txn.get_or_none(Txn.idem_key == KEY) is None
    adjust(ctx, zoe, reason="goodwill", credit_cents=10000)
    result = refund(ctx, zoe, 20000, "cash", idem_key=KEY)
    assert result.replayed is False
    assert queries.balance(zoe).credit_cents == 0


def test_concurrent_requests_with_one_key_write_once(ctx: Any, people: tuple[int, int]) -> None:
    """Double-click or two retries racing: one transaction, every caller gets its id."""
    zoe, _ = people
    workers = 4
    barrier = threading.Barrier(workers)
    results: list[TxnResult] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            barrier.wait(timeout=10)
            results.append(sell(ctx, zoe, SaleItem(credit_cents=2000),
                                [Tender("card", 2000)], idem_key=KEY))
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)
        finally:
            ctx.db.close()

    threads = [threading.Thread(target=run) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert len(results) == workers
    assert len({r.txn_id for r in results}) == 1
    assert sorted(r.replayed for r in results) == [False] + [True] * (workers - 1)
    assert Txn.select().where(Txn.idem_key == KEY).count() == 1
    assert queries.balance(zoe).credit_cents == 10000 + 2000
    assert Counter.get_by_id("receipt").value == 2
    assert verify().problems == []
