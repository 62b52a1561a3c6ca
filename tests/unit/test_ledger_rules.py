"""Ledger rules: postings, per-unit balance, first-expiring-first lot allocation.

Pure tests: no database, no Qt.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import FrozenInstanceError
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from desk.core.ledger import (
    MONEY,
    Allocation,
    LotView,
    Posting,
    allocate_fefo,
    credit_of,
    fefo_order,
    imbalances,
    is_token_unit,
    split_price,
    token_unit,
    tokens_of,
)

D = dt.date


def lot(lot_id: int, remaining: int, value: int = 1000, expires: dt.date | None = None) -> LotView:
    return LotView(lot_id=lot_id, remaining=remaining, unit_value_cents=value, expires_on=expires)


# --------------------------------------------------------------------------- units


def test_token_units_are_per_kind() -> None:
    assert token_unit(3) == "tok:3"
    assert token_unit(3) != token_unit(4)
    assert is_token_unit(token_unit(3))
    assert not is_token_unit(MONEY)


def test_credit_and_tokens_are_the_negated_balance() -> None:
    # A credit (negative amount) on the patient's account is prepaid value.
    assert credit_of(-5000) == 5000
    assert credit_of(2500) == -2500
    assert credit_of(0) == 0
    assert tokens_of(-3) == 3
    assert tokens_of(2) == -2
    assert tokens_of(0) == 0


# --------------------------------------------------------------------------- postings


def test_posting_keeps_its_fields_and_is_immutable() -> None:
    p = Posting(7, MONEY, -1250, "sale")
    assert (p.account_id, p.unit, p.amount, p.memo) == (7, MONEY, -1250, "sale")
    assert Posting(7, MONEY, 5).memo == ""
    with pytest.raises(FrozenInstanceError):
        p.amount = 0  # type: ignore[misc]


@pytest.mark.parametrize("bad", [12.5, 12.0, float("nan"), Decimal("1"), "12", True, None])
def test_posting_refuses_non_int_amounts(bad: object) -> None:
    with pytest.raises(TypeError):
        Posting(1, MONEY, bad)  # type: ignore[arg-type]


def test_balanced_postings_have_no_imbalance() -> None:
    postings = [
        Posting(1, MONEY, 10000),  # cash drawer debit
        Posting(2, MONEY, -10000),  # patient credit
        Posting(2, token_unit(1), -5),  # patient holds 5 tokens
        Posting(3, token_unit(1), 5),  # token issuance
    ]
    assert imbalances(postings) == {}


def test_imbalances_are_reported_per_unit() -> None:
    postings = [
        Posting(1, MONEY, 10000),
        Posting(2, MONEY, -9999),
        Posting(2, token_unit(1), -5),
        Posting(3, token_unit(1), 5),
        Posting(2, token_unit(2), -2),
    ]
    assert imbalances(postings) == {MONEY: 1, token_unit(2): -2}


def test_units_never_offset_each_other() -> None:
    # +5 money and -5 tokens do not balance, nor do tokens of different kinds.
    assert imbalances([Posting(1, MONEY, 5), Posting(2, token_unit(1), -5)]) == {
        MONEY: 5,
        token_unit(1): -5,
    }
    assert imbalances([Posting(1, token_unit(1), 5), Posting(2, token_unit(2), -5)]) == {
        token_unit(1): 5,
        token_unit(2): -5,
    }


def test_imbalances_of_nothing_and_of_generators() -> None:
    assert imbalances([]) == {}
    assert imbalances(Posting(i, MONEY, a) for i, a in [(1, 3), (2, -1), (3, -2)]) == {}


# --------------------------------------------------------------------------- FEFO


def test_fefo_order_earliest_first_never_expiring_last_ties_by_lot_id() -> None:
    lots = [
        lot(1, 5, expires=None),
        lot(2, 5, expires=D(2026, 6, 1)),
        lot(3, 5, expires=D(2026, 1, 1)),
        lot(4, 5, expires=D(2026, 6, 1)),
        lot(5, 5, expires=None),
        lot(6, 5, expires=D(2025, 12, 31)),
    ]
    for ordering in (lots, list(reversed(lots))):
        assert [x.lot_id for x in fefo_order(ordering)] == [6, 3, 2, 4, 1, 5]


def test_lot_expiring_on_max_date_still_comes_before_never_expiring() -> None:
    lots = [lot(1, 1, expires=None), lot(2, 1, expires=dt.date.max)]
    assert [x.lot_id for x in fefo_order(lots)] == [2, 1]


def test_allocate_takes_earliest_expiry_first() -> None:
    lots = [
        lot(1, 10, value=1000, expires=None),
        lot(2, 3, value=3333, expires=D(2026, 9, 1)),
        lot(3, 2, value=2500, expires=D(2026, 3, 1)),
    ]
    allocations, shortfall = allocate_fefo(lots, 6)
    assert allocations == [
        Allocation(3, 2, 5000),
        Allocation(2, 3, 9999),
        Allocation(1, 1, 1000),
    ]
    assert shortfall == 0


def test_allocate_partial_lot() -> None:
    allocations, shortfall = allocate_fefo([lot(1, 10, value=450)], 4)
    assert allocations == [Allocation(1, 4, 1800)]
    assert shortfall == 0


def test_allocate_reports_shortfall() -> None:
    lots = [lot(1, 2, value=100), lot(2, 1, value=200, expires=D(2026, 1, 1))]
    allocations, shortfall = allocate_fefo(lots, 5)
    assert allocations == [Allocation(2, 1, 200), Allocation(1, 2, 200)]
    assert shortfall == 2


def test_allocate_from_no_lots_is_all_shortfall() -> None:
    assert allocate_fefo([], 3) == ([], 3)


def test_allocate_zero_takes_nothing() -> None:
    assert allocate_fefo([lot(1, 5)], 0) == ([], 0)


def test_allocate_skips_empty_lots() -> None:
    lots = [lot(1, 0, expires=D(2026, 1, 1)), lot(2, 4, expires=D(2026, 2, 1))]
    allocations, shortfall = allocate_fefo(lots, 3)
    assert allocations == [Allocation(2, 3, 3000)]
    assert shortfall == 0


def test_allocate_refuses_negative_quantity() -> None:
    with pytest.raises(ValueError):
        allocate_fefo([lot(1, 5)], -1)


def test_allocation_value_is_quantity_times_unit_value() -> None:
    allocations, _ = allocate_fefo([lot(1, 7, value=3333)], 7)
    assert allocations[0].value_cents == 7 * 3333
    assert type(allocations[0].value_cents) is int


_dates = st.one_of(st.none(), st.dates(min_value=D(2020, 1, 1), max_value=D(2030, 12, 31)))


@st.composite
def _lots(draw: st.DrawFn) -> list[LotView]:
    ids = draw(st.lists(st.integers(1, 10_000), unique=True, max_size=12))
    return [
        LotView(
            lot_id=i,
            remaining=draw(st.integers(0, 50)),
            unit_value_cents=draw(st.integers(0, 100_000)),
            expires_on=draw(_dates),
        )
        for i in ids
    ]


@settings(max_examples=300)
@given(_lots(), st.integers(0, 700))
def test_allocation_properties(lots: list[LotView], requested: int) -> None:
    allocations, shortfall = allocate_fefo(lots, requested)
    by_id = {x.lot_id: x for x in lots}
    total = sum(x.remaining for x in lots)
    taken = sum(a.quantity for a in allocations)

    # Never more than a lot holds, never an empty allocation, each lot at most once.
    assert len({a.lot_id for a in allocations}) == len(allocations)
    for a in allocations:
        assert 0 < a.quantity <= by_id[a.lot_id].remaining
        assert a.value_cents == a.quantity * by_id[a.lot_id].unit_value_cents

    # Takes what it can and reports the rest.
    assert taken == min(requested, total)
    assert shortfall == requested - taken >= 0

    # First-expiring-first: allocations follow FEFO order over non-empty lots and
    # every lot but the last one touched is drained.
    non_empty = [x.lot_id for x in fefo_order(lots) if x.remaining > 0]
    assert [a.lot_id for a in allocations] == non_empty[: len(allocations)]
    for a in allocations[:-1]:
        assert a.quantity == by_id[a.lot_id].remaining


# --------------------------------------------------------------------------- split_price


def test_split_price_example() -> None:
    assert split_price(10000, 3) == (3333, 1)
    assert split_price(10000, 4) == (2500, 0)
    assert split_price(0, 5) == (0, 0)
    assert split_price(99, 100) == (0, 99)


@pytest.mark.parametrize("tokens", [0, -1])
def test_split_price_needs_at_least_one_token(tokens: int) -> None:
    with pytest.raises(ValueError):
        split_price(10000, tokens)


@given(st.integers(0, 99_999_999_999), st.integers(1, 100_000))
def test_split_price_accounts_for_every_cent(price: int, tokens: int) -> None:
    per_token, leftover = split_price(price, tokens)
    assert per_token * tokens + leftover == price
    assert 0 <= leftover < tokens
    assert per_token >= 0
