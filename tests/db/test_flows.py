"""Front-desk ledger flows (SPEC §2-§3) on SQLite and PostgreSQL.

Every amount is asserted to the cent and every token to the unit; every flow ends
with ``verify()`` proving the projections still equal what the lines say.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from desk.core.errors import BadInput, NotFound, Refused
from desk.core.money import MAX_CENTS, MAX_TOKENS
from desk.data.models import Account, Counter, Line, Lot, LotMove, TokenKind, Txn
from desk.services import catalog, patients, posting, queries
from desk.services.expiry import ExpireResult, expire
from desk.services.results import Balance, Tender
from desk.services.reversal import reverse
from desk.services.sales import SaleItem, sell
from desk.services.verify import verify
from desk.services.wallet import adjust, refund, transfer

TODAY = dt.date(2026, 3, 2)          # the conftest clock's first day
PKG5 = "Five acupuncture"            # 5 Acupuncture tokens for 350.00, expiring after 90 days
PKG5_EXPIRES = dt.date(2026, 5, 31)  # TODAY + 90 days
ACU = "Acupuncture"
MASSAGE = "Massage"


@dataclass(frozen=True)
class Clinic:
    ctx: Any
    zoe: int
    bob: int
    acu: int
    massage: int

    def tok(self, patient: int, kind: int | None = None) -> str:
        return f"patient:{patient}:tok:{self.acu if kind is None else kind}"

    @staticmethod
    def credit(patient: int) -> str:
        return f"patient:{patient}:credit"


@pytest.fixture
def clinic(ctx: Any) -> Clinic:
    catalog.add_service(ctx, "Acupuncture 30", 30, 8000, token_kind=ACU)
    catalog.add_service(ctx, "Massage 60", 60, 12000, token_kind=MASSAGE)
    catalog.add_package(ctx, PKG5, ACU, 5, 35000, expires_days=90)
    zoe = patients.add_patient(ctx, "Zoë Adams", phone="555-0101").id
    bob = patients.add_patient(ctx, "Bob Brown").id
    return Clinic(ctx, zoe, bob, int(TokenKind.get(TokenKind.name == ACU).id),
                  int(TokenKind.get(TokenKind.name == MASSAGE).id))


# -- helpers -------------------------------------------------------------------------------

def lines_of(txn_id: int) -> list[tuple[str, int]]:
    """The transaction's lines as sorted (account code, amount) pairs."""
    rows = (Line.select(Account.code, Line.amount).join(Account, on=(Line.account == Account.id))
            .where(Line.txn == txn_id).tuples())
    return sorted((str(code), int(amount)) for code, amount in rows)


def memos_of(txn_id: int) -> list[tuple[str, int, str]]:
    rows = (Line.select(Account.code, Line.amount, Line.memo)
            .join(Account, on=(Line.account == Account.id)).where(Line.txn == txn_id).tuples())
    return sorted((str(code), int(amount), str(memo)) for code, amount, memo in rows)


def lots_of(txn_id: int) -> list[tuple[int, int, int, dt.date | None]]:
    """(quantity, remaining, unit value, expiry) of the lots a transaction granted."""
    return [(int(lot.quantity), int(lot.remaining), int(lot.unit_value_cents), lot.expires_on)
            for lot in Lot.select().where(Lot.txn == txn_id).order_by(Lot.id)]


def remaining(lot_id: int) -> int:
    return int(Lot.get_by_id(lot_id).remaining)


def lot_ids(txn_id: int) -> list[int]:
    return [int(lot.id) for lot in Lot.select(Lot.id).where(Lot.txn == txn_id).order_by(Lot.id)]


def moves_of(txn_id: int) -> list[tuple[int, int, int]]:
    return sorted((int(m.lot_id), int(m.quantity), int(m.value_cents))
                  for m in LotMove.select().where(LotMove.txn == txn_id))


def snapshot() -> dict[str, object]:
    """Everything a write could change: compare before/after a refused call."""
    return {
        "txn": Txn.select().count(),
        "line": Line.select().count(),
        "lot_move": LotMove.select().count(),
        "lots": list(Lot.select(Lot.id, Lot.remaining).order_by(Lot.id).tuples()),
        "accounts": sorted(Account.select(Account.code, Account.balance).tuples()),
        "receipt": int(Counter.get_by_id("receipt").value),
    }


def assert_ledger_ok() -> None:
    report = verify()
    assert report.problems == []
    assert report.ok


def cash(cents: int, reference: str = "") -> Tender:
    return Tender("cash", cents, reference)


# -- sell ----------------------------------------------------------------------------------

def test_sell_package_with_expiry_grants_a_dated_lot(clinic: Clinic) -> None:
    result = sell(clinic.ctx, clinic.zoe, SaleItem(package=PKG5), [cash(35000)])

    assert (result.kind, result.receipt_no, result.replayed) == ("sale", 1, False)
    assert result.balance_of(clinic.zoe) == Balance(clinic.zoe, 0, {ACU: 5}, {},
                                                    {ACU: PKG5_EXPIRES})
    assert lines_of(result.txn_id) == sorted([
        (clinic.tok(clinic.zoe), -5), (f"issued:{clinic.acu}", 5),
        ("prepaid", -35000), ("tender:cash", 35000)])
    assert lots_of(result.txn_id) == [(5, 5, 7000, PKG5_EXPIRES)]
    txn = Txn.get_by_id(result.txn_id)
    assert (txn.kind, txn.staff, txn.workstation, txn.patient_id) == (
        "sale", "tester", "ws-test", clinic.zoe)
    assert txn.created_at == dt.datetime(2026, 3, 2, 15, 0)
    assert txn.effective_on == TODAY
    assert_ledger_ok()


def test_package_of_350_paid_300_leaves_50_owed_and_5_tokens(clinic: Clinic) -> None:
    result = sell(clinic.ctx, clinic.zoe, SaleItem(package=PKG5), [cash(30000)])

    bal = queries.balance(clinic.zoe)
    assert bal.credit_cents == -5000
    assert bal.tokens == {ACU: 5}
    assert result.balance_of(clinic.zoe) == bal
    assert lines_of(result.txn_id) == sorted([
        (clinic.tok(clinic.zoe), -5), (f"issued:{clinic.acu}", 5), ("prepaid", -35000),
        ("tender:cash", 30000), (clinic.credit(clinic.zoe), 5000)])
    assert_ledger_ok()


def test_overpaying_adds_credit(clinic: Clinic) -> None:
    result = sell(clinic.ctx, clinic.zoe, SaleItem(package=PKG5), [cash(40000)])

    assert queries.balance(clinic.zoe).credit_cents == 5000
    assert (clinic.credit(clinic.zoe), -5000) in lines_of(result.txn_id)
    assert ("tender:cash", 40000) in lines_of(result.txn_id)
    assert_ledger_ok()


def test_no_tenders_leaves_the_whole_price_owed(clinic: Clinic) -> None:
    result = sell(clinic.ctx, clinic.zoe, SaleItem(package=PKG5))

    assert queries.balance(clinic.zoe) == Balance(clinic.zoe, -35000, {ACU: 5}, {},
                                                  {ACU: PKG5_EXPIRES})
    assert lines_of(result.txn_id) == sorted([
        (clinic.tok(clinic.zoe), -5), (f"issued:{clinic.acu}", 5), ("prepaid", -35000),
        (clinic.credit(clinic.zoe), 35000)])
    assert result.receipt_no == 1
    assert_ledger_ok()


def test_tokens_at_a_price_book_the_odd_cent_as_revenue(clinic: Clinic) -> None:
    result = sell(clinic.ctx, clinic.zoe,
                  SaleItem(tokens=3, token_kind=MASSAGE, price_cents=10000, expires_days=30),
                  [Tender("card", 10000, "4242")])

    assert lines_of(result.txn_id) == sorted([
        (clinic.tok(clinic.zoe, clinic.massage), -3), (f"issued:{clinic.massage}", 3),
        ("prepaid", -9999), ("revenue:sales", -1), ("tender:card", 10000)])
    assert lots_of(result.txn_id) == [(3, 3, 3333, dt.date(2026, 4, 1))]
    assert queries.balance(clinic.zoe) == Balance(clinic.zoe, 0, {MASSAGE: 3}, {},
                                                  {MASSAGE: dt.date(2026, 4, 1)})
    assert_ledger_ok()


def test_package_price_override_is_split_over_its_tokens(clinic: Clinic) -> None:
    result = sell(clinic.ctx, clinic.zoe, SaleItem(package=PKG5, price_cents=30001),
                  [cash(30001)])

    assert lots_of(result.txn_id) == [(5, 5, 6000, PKG5_EXPIRES)]
    assert ("prepaid", -30000) in lines_of(result.txn_id)
    assert ("revenue:sales", -1) in lines_of(result.txn_id)
    assert queries.balance(clinic.zoe).credit_cents == 0
    assert_ledger_ok()


def test_sell_credit(clinic: Clinic) -> None:
    result = sell(clinic.ctx, clinic.zoe, SaleItem(credit_cents=5000),
                  [Tender("card", 5000, "slip 0042")])

    assert queries.balance(clinic.zoe) == Balance(clinic.zoe, 5000, {}, {}, {})
    assert lines_of(result.txn_id) == sorted([(clinic.credit(clinic.zoe), -5000),
                                              ("tender:card", 5000)])
    assert result.receipt_no == 1
    assert_ledger_ok()


def test_several_tenders_with_references(clinic: Clinic) -> None:
    tenders = [cash(10000), Tender("card", 15000, "slip 0042 auth 778899"),
               Tender("check", 5000, "#1001"), cash(5000), Tender("other", 1000, "voucher")]
    result = sell(clinic.ctx, clinic.zoe, SaleItem(package=PKG5), tenders)

    tender_lines = [m for m in memos_of(result.txn_id) if m[0].startswith("tender:")]
    assert tender_lines == sorted([
        ("tender:cash", 10000, "cash"), ("tender:cash", 5000, "cash"),
        ("tender:card", 15000, "card slip 0042 auth 778899"),
        ("tender:check", 5000, "check #1001"), ("tender:other", 1000, "other voucher")])
    # 360.00 paid for 350.00: 10.00 credit
    assert queries.balance(clinic.zoe).credit_cents == 1000
    balances = dict(Account.select(Account.code, Account.balance).tuples())
    assert balances["tender:cash"] == 15000
    assert balances["tender:card"] == 15000
    assert_ledger_ok()


def failures(cases: dict[str, Callable[[], object]],
             expected: type[Exception]) -> list[str]:
    """Run each bad call; return what went wrong (accepted, other error, wrote something).

    One database for many cases keeps the suite fast; the list names every failing case.
    """
    found = []
    for name, call in cases.items():
        before = snapshot()
        try:
            call()
        except expected:
            pass
        except Exception as exc:  # any other error is a finding for this case
            found.append(f"{name}: raised {type(exc).__name__}: {exc}")
        else:
            found.append(f"{name}: accepted")
        if snapshot() != before:
            found.append(f"{name}: wrote to the database")
    return found


def assert_all_raise(cases: dict[str, Callable[[], object]],
                     expected: type[Exception]) -> None:
    found = failures(cases, expected)
    assert not found, "\n".join(["", *found])


BAD_SALES: dict[str, tuple[SaleItem, list[Tender]]] = {
    "unknown tender method": (SaleItem(package=PKG5), [Tender("bitcoin", 35000)]),
    "zero tender": (SaleItem(package=PKG5), [cash(0)]),
    "negative tender": (SaleItem(package=PKG5), [cash(-100)]),
    "one bad tender among good ones": (SaleItem(package=PKG5), [cash(100), cash(-1)]),
    "tenders above the maximum": (SaleItem(package=PKG5), [cash(MAX_CENTS), cash(1)]),
    "no item": (SaleItem(), [cash(100)]),
    "two items": (SaleItem(package=PKG5, credit_cents=100), [cash(100)]),
    "tokens and credit": (SaleItem(tokens=1, token_kind=ACU, price_cents=100,
                                   credit_cents=100), [cash(100)]),
    "credit without payment": (SaleItem(credit_cents=5000), []),
    "zero credit": (SaleItem(credit_cents=0), [cash(100)]),
    "negative credit": (SaleItem(credit_cents=-100), [cash(100)]),
    "tokens without kind": (SaleItem(tokens=2, price_cents=1000), []),
    "tokens without price": (SaleItem(tokens=2, token_kind=ACU), []),
    "zero tokens": (SaleItem(tokens=0, token_kind=ACU, price_cents=1000), []),
    "negative tokens": (SaleItem(tokens=-2, token_kind=ACU, price_cents=1000), []),
}


def _sale(clinic: Clinic, item: SaleItem, tenders: list[Tender],
          patient: int | None = None) -> Callable[[], object]:
    return lambda: sell(clinic.ctx, clinic.zoe if patient is None else patient, item, tenders)


def test_bad_sale_input_is_refused_and_writes_nothing(clinic: Clinic) -> None:
    cases = {name: _sale(clinic, item, tenders) for name, (item, tenders) in BAD_SALES.items()}
    assert_all_raise(cases, BadInput)
    assert_ledger_ok()


OUT_OF_RANGE_SALES: dict[str, SaleItem] = {
    "negative token price": SaleItem(tokens=3, token_kind=ACU, price_cents=-100),
    "negative package price override": SaleItem(package=PKG5, price_cents=-5),
    "token price above MAX_CENTS": SaleItem(tokens=1, token_kind=ACU,
                                            price_cents=MAX_CENTS + 1),
    "token count above MAX_TOKENS": SaleItem(tokens=MAX_TOKENS + 1, token_kind=ACU,
                                             price_cents=100),
    "negative expires_days": SaleItem(tokens=1, token_kind=ACU, price_cents=100,
                                      expires_days=-5),
}


def test_out_of_range_sale_values_are_bad_input(clinic: Clinic) -> None:
    """Range checks belong to the service: the CLI is not its only caller (money.py's
    MAX_CENTS / MAX_TOKENS, add_package's 1..36600 days)."""
    cases = {name: _sale(clinic, item, [cash(100)])
             for name, item in OUT_OF_RANGE_SALES.items()}
    assert_all_raise(cases, BadInput)
    assert_ledger_ok()


def test_sale_of_unknown_things_is_not_found(clinic: Clinic) -> None:
    cases = {
        "unknown package": _sale(clinic, SaleItem(package="Ten massages"), [cash(100)]),
        "unknown token kind": _sale(clinic, SaleItem(tokens=1, token_kind="Reiki",
                                                     price_cents=100), [cash(100)]),
        "unknown patient": _sale(clinic, SaleItem(package=PKG5), [cash(100)], 999_999),
    }
    assert_all_raise(cases, NotFound)
    assert_ledger_ok()


# -- adjust --------------------------------------------------------------------------------

def test_adjust_credit_is_signed(clinic: Clinic) -> None:
    up = adjust(clinic.ctx, clinic.zoe, reason="goodwill", credit_cents=2500)
    assert up.balance_of(clinic.zoe).credit_cents == 2500
    assert lines_of(up.txn_id) == sorted([(clinic.credit(clinic.zoe), -2500),
                                          ("adjustments", 2500)])
    txn = Txn.get_by_id(up.txn_id)
    assert (txn.kind, txn.memo, txn.receipt_no) == ("adjustment", "goodwill", None)

    down = adjust(clinic.ctx, clinic.zoe, reason="correction", credit_cents=-4000)
    assert queries.balance(clinic.zoe).credit_cents == -1500
    assert lines_of(down.txn_id) == sorted([(clinic.credit(clinic.zoe), 4000),
                                            ("adjustments", -4000)])
    assert_ledger_ok()


def test_adjust_tokens_up_and_down(clinic: Clinic) -> None:
    given = adjust(clinic.ctx, clinic.zoe, reason="opening balance", tokens=2, token_kind=ACU,
                   expires_days=30)
    assert lines_of(given.txn_id) == sorted([(clinic.tok(clinic.zoe), -2),
                                             (f"issued:{clinic.acu}", 2)])
    assert lots_of(given.txn_id) == [(2, 2, 0, dt.date(2026, 4, 1))]

    taken = adjust(clinic.ctx, clinic.zoe, reason="correction", tokens=-1, token_kind=ACU)
    assert lines_of(taken.txn_id) == sorted([(clinic.tok(clinic.zoe), 1),
                                             (f"issued:{clinic.acu}", -1)])
    assert moves_of(taken.txn_id) == [(lot_ids(given.txn_id)[0], -1, 0)]
    assert queries.balance(clinic.zoe).tokens == {ACU: 1}
    assert_ledger_ok()


def test_removing_sold_tokens_moves_their_prepaid_value(clinic: Clinic) -> None:
    sale = sell(clinic.ctx, clinic.zoe, SaleItem(package=PKG5), [cash(35000)])
    taken = adjust(clinic.ctx, clinic.zoe, reason="write-off", tokens=-2, token_kind=ACU)

    assert lines_of(taken.txn_id) == sorted([
        (clinic.tok(clinic.zoe), 2), (f"issued:{clinic.acu}", -2),
        ("prepaid", 14000), ("adjustments", -14000)])
    assert moves_of(taken.txn_id) == [(lot_ids(sale.txn_id)[0], -2, -14000)]
    assert remaining(lot_ids(sale.txn_id)[0]) == 3
    assert queries.balance(clinic.zoe) == Balance(clinic.zoe, 0, {ACU: 3}, {},
                                                  {ACU: PKG5_EXPIRES})
    assert_ledger_ok()


def test_adjust_needs_a_reason(clinic: Clinic) -> None:
    ctx, zoe = clinic.ctx, clinic.zoe
    cases: dict[str, Callable[[], object]] = {
        f"reason {reason!r}": (lambda r=reason: adjust(ctx, zoe, reason=r, credit_cents=100))
        for reason in ("", "   ", "\t\n", None)
    }
    assert_all_raise(cases, BadInput)
    with pytest.raises(BadInput) as err:
        adjust(ctx, zoe, reason="", tokens=1, token_kind=ACU)
    assert err.value.field == "--reason"
    assert_ledger_ok()


def test_adjust_bad_amounts(clinic: Clinic) -> None:
    ctx, zoe = clinic.ctx, clinic.zoe
    cases: dict[str, Callable[[], object]] = {
        "zero credit": lambda: adjust(ctx, zoe, reason="x", credit_cents=0),
        "zero tokens": lambda: adjust(ctx, zoe, reason="x", tokens=0, token_kind=ACU),
        "neither": lambda: adjust(ctx, zoe, reason="x"),
        "both": lambda: adjust(ctx, zoe, reason="x", credit_cents=100, tokens=1,
                               token_kind=ACU),
        "tokens without kind": lambda: adjust(ctx, zoe, reason="x", tokens=1),
    }
    assert_all_raise(cases, BadInput)
    assert_ledger_ok()


def test_out_of_range_adjustments_are_bad_input(clinic: Clinic) -> None:
    """The same limits as everywhere else (money.py MAX_CENTS / MAX_TOKENS)."""
    ctx, zoe = clinic.ctx, clinic.zoe
    cases: dict[str, Callable[[], object]] = {
        "credit above MAX_CENTS": lambda: adjust(ctx, zoe, reason="x",
                                                 credit_cents=MAX_CENTS + 1),
        "credit below -MAX_CENTS": lambda: adjust(ctx, zoe, reason="x",
                                                  credit_cents=-MAX_CENTS - 1),
        "tokens above MAX_TOKENS": lambda: adjust(ctx, zoe, reason="x",
                                                  tokens=MAX_TOKENS + 1, token_kind=ACU),
        "negative expires_days": lambda: adjust(ctx, zoe, reason="x", tokens=1,
                                                token_kind=ACU, expires_days=-1),
    }
    assert_all_raise(cases, BadInput)
    assert_ledger_ok()


def test_removing_more_tokens_than_held_is_refused(clinic: Clinic) -> None:
    sell(clinic.ctx, clinic.zoe, SaleItem(package=PKG5), [cash(35000)])
    before = snapshot()
    with pytest.raises(Refused, match="not enough Acupuncture tokens"):
        adjust(clinic.ctx, clinic.zoe, reason="correction", tokens=-6, token_kind=ACU)
    with pytest.raises(Refused):
        adjust(clinic.ctx, clinic.zoe, reason="correction", tokens=-1, token_kind=MASSAGE)
    assert snapshot() == before
    assert queries.balance(clinic.zoe).tokens == {ACU: 5}
    assert_ledger_ok()


# -- transfer ------------------------------------------------------------------------------

def test_transfer_credit(clinic: Clinic) -> None:
    adjust(clinic.ctx, clinic.zoe, reason="opening balance", credit_cents=10000)
    result = transfer(clinic.ctx, clinic.zoe, clinic.bob, credit_cents=4000, memo="family")

    assert result.kind == "transfer"
    assert result.receipt_no is None
    assert result.balance_of(clinic.zoe).credit_cents == 6000
    assert result.balance_of(clinic.bob).credit_cents == 4000
    assert lines_of(result.txn_id) == sorted([(clinic.credit(clinic.zoe), 4000),
                                              (clinic.credit(clinic.bob), -4000)])
    assert Txn.get_by_id(result.txn_id).memo == "family"
    assert_ledger_ok()


def test_transfer_tokens_keeps_each_lots_value_and_expiry(clinic: Clinic) -> None:
    pkg = sell(clinic.ctx, clinic.zoe, SaleItem(package=PKG5), [cash(35000)])
    soon = sell(clinic.ctx, clinic.zoe,
                SaleItem(tokens=3, token_kind=ACU, price_cents=15000, expires_days=30),
                [cash(15000)])
    result = transfer(clinic.ctx, clinic.zoe, clinic.bob, tokens=4, token_kind=ACU)

    # first-expiring first: the three 30-day tokens, then one from the package
    assert lots_of(result.txn_id) == [(3, 3, 5000, dt.date(2026, 4, 1)),
                                      (1, 1, 7000, PKG5_EXPIRES)]
    assert remaining(lot_ids(soon.txn_id)[0]) == 0
    assert remaining(lot_ids(pkg.txn_id)[0]) == 4
    assert lines_of(result.txn_id) == sorted([(clinic.tok(clinic.zoe), 4),
                                              (clinic.tok(clinic.bob), -4)])
    assert queries.balance(clinic.zoe) == Balance(clinic.zoe, 0, {ACU: 4}, {},
                                                  {ACU: PKG5_EXPIRES})
    assert queries.balance(clinic.bob) == Balance(clinic.bob, 0, {ACU: 4}, {},
                                                  {ACU: dt.date(2026, 4, 1)})
    # the prepaid liability did not change hands on the clinic side
    assert dict(Account.select(Account.code, Account.balance).tuples())["prepaid"] == -50000
    assert_ledger_ok()


def test_transfer_more_than_held_is_refused(clinic: Clinic) -> None:
    sell(clinic.ctx, clinic.zoe, SaleItem(package=PKG5), [cash(40000)])  # 50.00 credit
    before = snapshot()
    with pytest.raises(Refused):
        transfer(clinic.ctx, clinic.zoe, clinic.bob, credit_cents=5001)
    with pytest.raises(Refused):
        transfer(clinic.ctx, clinic.zoe, clinic.bob, tokens=6, token_kind=ACU)
    with pytest.raises(Refused):
        transfer(clinic.ctx, clinic.bob, clinic.zoe, credit_cents=1)
    assert snapshot() == before
    transfer(clinic.ctx, clinic.zoe, clinic.bob, credit_cents=5000)
    assert queries.balance(clinic.zoe).credit_cents == 0
    assert queries.balance(clinic.bob).credit_cents == 5000
    assert_ledger_ok()


def test_owed_credit_cannot_be_transferred(clinic: Clinic) -> None:
    sell(clinic.ctx, clinic.zoe, SaleItem(package=PKG5), [cash(30000)])  # owes 50.00
    before = snapshot()
    with pytest.raises(Refused):
        transfer(clinic.ctx, clinic.zoe, clinic.bob, credit_cents=100)
    assert snapshot() == before
    assert_ledger_ok()


def test_transfer_is_atomic(clinic: Clinic, monkeypatch: pytest.MonkeyPatch) -> None:
    sell(clinic.ctx, clinic.zoe, SaleItem(package=PKG5), [cash(35000)])
    before = snapshot()

    def crash(*args: object) -> None:
        raise RuntimeError("power cut after the lines were written")

    monkeypatch.setattr(posting, "_apply_balances", crash)
    with pytest.raises(RuntimeError):
        transfer(clinic.ctx, clinic.zoe, clinic.bob, tokens=2, token_kind=ACU)
    monkeypatch.undo()
    assert snapshot() == before
    assert_ledger_ok()


def test_transfer_bad_input(clinic: Clinic) -> None:
    adjust(clinic.ctx, clinic.zoe, reason="opening balance", credit_cents=10000)
    before = snapshot()
    with pytest.raises(BadInput):
        transfer(clinic.ctx, clinic.zoe, clinic.zoe, credit_cents=100)
    with pytest.raises(BadInput):
        transfer(clinic.ctx, clinic.zoe, clinic.bob, credit_cents=0)
    with pytest.raises(BadInput):
        transfer(clinic.ctx, clinic.zoe, clinic.bob, credit_cents=-100)
    with pytest.raises(BadInput):
        transfer(clinic.ctx, clinic.zoe, clinic.bob, credit_cents=100, tokens=1,
                 token_kind=ACU)
    with pytest.raises(NotFound):
        transfer(clinic.ctx, clinic.zoe, 999_999, credit_cents=100)
    assert snapshot() == before
    assert_ledger_ok()


# -- refund --------------------------------------------------------------------------------

def test_refund_pays_credit_out(clinic: Clinic) -> None:
    sell(clinic.ctx, clinic.zoe, SaleItem(credit_cents=10000), [Tender("card", 10000)])
    result = refund(clinic.ctx, clinic.zoe, 6000, "cash", reference="envelope 7")

    assert (result.kind, result.receipt_no) == ("refund", 2)
    assert result.balance_of(clinic.zoe).credit_cents == 4000
    assert memos_of(result.txn_id) == sorted([
        (clinic.credit(clinic.zoe), 6000, "credit refunded"),
        ("tender:cash", -6000, "cash envelope 7")])
    before = snapshot()
    with pytest.raises(Refused):
        refund(clinic.ctx, clinic.zoe, 4001, "card")
    assert snapshot() == before
    refund(clinic.ctx, clinic.zoe, 4000, "card")
    assert queries.balance(clinic.zoe).credit_cents == 0
    balances = dict(Account.select(Account.code, Account.balance).tuples())
    assert (balances["tender:card"], balances["tender:cash"]) == (6000, -6000)
    assert_ledger_ok()


def test_refund_of_an_owing_patient_is_refused(clinic: Clinic) -> None:
    sell(clinic.ctx, clinic.zoe, SaleItem(package=PKG5), [cash(30000)])
    before = snapshot()
    with pytest.raises(Refused):
        refund(clinic.ctx, clinic.zoe, 1, "cash")
    with pytest.raises(BadInput):
        refund(clinic.ctx, clinic.zoe, 0, "cash")
    with pytest.raises(BadInput):
        refund(clinic.ctx, clinic.zoe, 100, "paypal")
    assert snapshot() == before
    assert_ledger_ok()


# -- reverse -------------------------------------------------------------------------------

def test_reversing_a_sale_writes_the_exact_opposite(clinic: Clinic) -> None:
    sale = sell(clinic.ctx, clinic.zoe, SaleItem(package=PKG5), [cash(30000)])
    rev = reverse(clinic.ctx, sale.txn_id, "wrong tender")

    assert rev.kind == "reversal"
    assert rev.receipt_no == 2  # a reversal of a receipt gets its own receipt
    assert lines_of(rev.txn_id) == sorted((code, -amount)
                                          for code, amount in lines_of(sale.txn_id))
    assert moves_of(rev.txn_id) == [(lot_ids(sale.txn_id)[0], -5, -35000)]
    assert lots_of(sale.txn_id) == [(5, 0, 7000, PKG5_EXPIRES)]
    assert queries.balance(clinic.zoe) == Balance(clinic.zoe, 0, {}, {}, {})
    txn = Txn.get_by_id(rev.txn_id)
    assert txn.reverses_id == sale.txn_id
    assert txn.memo == f"reversal of transaction {sale.txn_id}: wrong tender"
    views = {v.id: v for v in queries.history(clinic.zoe)}
    assert views[sale.txn_id].reversed_by == rev.txn_id
    assert views[rev.txn_id].reverses_id == sale.txn_id
    assert all(amount == 0 for _, amount in
               Account.select(Account.code, Account.balance).tuples())
    assert_ledger_ok()


def test_reversal_returns_tokens_to_their_original_lots(clinic: Clinic) -> None:
    pkg = sell(clinic.ctx, clinic.zoe, SaleItem(package=PKG5), [cash(35000)])
    soon = sell(clinic.ctx, clinic.zoe,
                SaleItem(tokens=2, token_kind=ACU, price_cents=10000, expires_days=30),
                [cash(10000)])
    (pkg_lot,), (soon_lot,) = lot_ids(pkg.txn_id), lot_ids(soon.txn_id)
    taken = adjust(clinic.ctx, clinic.zoe, reason="correction", tokens=-3, token_kind=ACU)
    assert (remaining(pkg_lot), remaining(soon_lot)) == (4, 0)

    rev = reverse(clinic.ctx, taken.txn_id, "typo")
    assert moves_of(rev.txn_id) == sorted([(pkg_lot, 1, 7000), (soon_lot, 2, 10000)])
    assert (remaining(pkg_lot), remaining(soon_lot)) == (5, 2)
    assert lines_of(rev.txn_id) == sorted([
        (clinic.tok(clinic.zoe), -3), (f"issued:{clinic.acu}", 3),
        ("prepaid", -17000), ("adjustments", 17000)])
    assert rev.receipt_no is None  # the adjustment had no receipt
    assert queries.balance(clinic.zoe).tokens == {ACU: 7}
    assert_ledger_ok()


def test_reversing_a_token_transfer_restores_both_sides(clinic: Clinic) -> None:
    pkg = sell(clinic.ctx, clinic.zoe, SaleItem(package=PKG5), [cash(35000)])
    moved = transfer(clinic.ctx, clinic.zoe, clinic.bob, tokens=4, token_kind=ACU)
    rev = reverse(clinic.ctx, moved.txn_id, "wrong patient")

    assert remaining(lot_ids(pkg.txn_id)[0]) == 5
    assert lots_of(moved.txn_id) == [(4, 0, 7000, PKG5_EXPIRES)]
    assert rev.balance_of(clinic.zoe).tokens == {ACU: 5}
    assert rev.balance_of(clinic.bob).tokens == {}
    assert_ledger_ok()


def test_a_reversal_cannot_be_reversed_nor_a_transaction_reversed_twice(
        clinic: Clinic) -> None:
    sale = sell(clinic.ctx, clinic.zoe, SaleItem(package=PKG5), [cash(35000)])
    rev = reverse(clinic.ctx, sale.txn_id, "mistake")
    before = snapshot()
    with pytest.raises(Refused, match="reversal"):
        reverse(clinic.ctx, rev.txn_id, "undo the undo")
    with pytest.raises(Refused, match="already reversed"):
        reverse(clinic.ctx, sale.txn_id, "again")
    assert snapshot() == before
    assert_ledger_ok()


def test_a_sale_whose_tokens_were_spent_cannot_be_reversed(clinic: Clinic) -> None:
    sale = sell(clinic.ctx, clinic.zoe, SaleItem(package=PKG5), [cash(35000)])
    spent = adjust(clinic.ctx, clinic.zoe, reason="used at home visit", tokens=-1,
                   token_kind=ACU)
    moved = transfer(clinic.ctx, clinic.zoe, clinic.bob, tokens=1, token_kind=ACU)
    before = snapshot()
    with pytest.raises(Refused, match="already used"):
        reverse(clinic.ctx, sale.txn_id, "refund the package")
    assert snapshot() == before

    # reversing the spending first (newest first) makes the sale reversible again
    reverse(clinic.ctx, moved.txn_id, "undo")
    with pytest.raises(Refused):
        reverse(clinic.ctx, sale.txn_id, "refund the package")
    reverse(clinic.ctx, spent.txn_id, "undo")
    reverse(clinic.ctx, sale.txn_id, "refund the package")
    assert queries.balance(clinic.zoe) == Balance(clinic.zoe, 0, {}, {}, {})
    assert queries.balance(clinic.bob) == Balance(clinic.bob, 0, {}, {}, {})
    assert_ledger_ok()


def test_reverse_refuses_unknown_and_unreasoned(clinic: Clinic) -> None:
    sale = sell(clinic.ctx, clinic.zoe, SaleItem(package=PKG5), [cash(35000)])
    before = snapshot()
    with pytest.raises(NotFound):
        reverse(clinic.ctx, sale.txn_id + 1000, "typo")
    with pytest.raises(BadInput):
        reverse(clinic.ctx, sale.txn_id, "  ")
    assert snapshot() == before
    assert_ledger_ok()


# -- expire --------------------------------------------------------------------------------

def test_a_lot_is_usable_on_its_expiry_day_and_expires_the_day_after(
        clinic: Clinic, clock: Any) -> None:
    sale = sell(clinic.ctx, clinic.zoe, SaleItem(package=PKG5), [cash(35000)])
    clock.current = dt.datetime(2026, 5, 31, 9, 0)  # the expiry day itself
    assert expire(clinic.ctx) == ExpireResult(PKG5_EXPIRES, (), 0, 0)
    adjust(clinic.ctx, clinic.zoe, reason="used today", tokens=-1, token_kind=ACU)

    clock.advance(days=1)
    done = expire(clinic.ctx)
    assert (done.as_of, done.tokens_expired, done.value_cents) == (
        dt.date(2026, 6, 1), 4, 28000)
    (txn_id,) = done.txn_ids
    assert lines_of(txn_id) == sorted([
        (clinic.tok(clinic.zoe), 4), (f"issued:{clinic.acu}", -4),
        ("prepaid", 28000), ("revenue:expired", -28000)])
    txn = Txn.get_by_id(txn_id)
    assert (txn.kind, txn.patient_id, txn.receipt_no, txn.effective_on) == (
        "expiry", clinic.zoe, None, dt.date(2026, 6, 1))
    assert moves_of(txn_id) == [(lot_ids(sale.txn_id)[0], -4, -28000)]
    assert queries.balance(clinic.zoe) == Balance(clinic.zoe, 0, {}, {}, {})
    assert_ledger_ok()


def test_expire_is_idempotent(clinic: Clinic, clock: Any) -> None:
    sell(clinic.ctx, clinic.zoe, SaleItem(package=PKG5), [cash(35000)])
    sell(clinic.ctx, clinic.bob, SaleItem(tokens=2, token_kind=MASSAGE, price_cents=5001,
                                          expires_days=10), [cash(5001)])
    first = expire(clinic.ctx, as_of=dt.date(2026, 7, 1))
    assert len(first.txn_ids) == 2  # one per patient token account
    assert (first.tokens_expired, first.value_cents) == (7, 35000 + 5000)
    after_first = snapshot()

    again = expire(clinic.ctx, as_of=dt.date(2026, 7, 1))
    assert again == ExpireResult(dt.date(2026, 7, 1), (), 0, 0)
    later = expire(clinic.ctx, as_of=dt.date(2027, 1, 1))
    assert later.txn_ids == ()
    assert snapshot() == after_first
    assert dict(Account.select(Account.code, Account.balance).tuples())[
        "revenue:expired"] == -40000
    assert_ledger_ok()


def test_expire_before_any_lot_is_due_does_nothing(clinic: Clinic) -> None:
    sell(clinic.ctx, clinic.zoe, SaleItem(package=PKG5), [cash(35000)])
    adjust(clinic.ctx, clinic.zoe, reason="gift", tokens=1, token_kind=ACU)  # never expires
    before = snapshot()
    assert expire(clinic.ctx, as_of=PKG5_EXPIRES) == ExpireResult(PKG5_EXPIRES, (), 0, 0)
    assert expire(clinic.ctx, as_of=dt.date(2030, 1, 1)).tokens_expired == 5
    assert queries.balance(clinic.zoe).tokens == {ACU: 1}
    assert snapshot()["receipt"] == before["receipt"]
    assert_ledger_ok()


def test_tokens_are_consumed_first_expiring_first(clinic: Clinic) -> None:
    def grant(expires_days: int | None) -> int:
        result = sell(clinic.ctx, clinic.zoe,
                      SaleItem(tokens=2, token_kind=ACU, price_cents=2000,
                               expires_days=expires_days), [cash(2000)])
        return lot_ids(result.txn_id)[0]

    never, in_60, in_30_old, in_30_new = grant(None), grant(60), grant(30), grant(30)
    taken = adjust(clinic.ctx, clinic.zoe, reason="correction", tokens=-5, token_kind=ACU)

    assert moves_of(taken.txn_id) == sorted([(in_30_old, -2, -2000), (in_30_new, -2, -2000),
                                             (in_60, -1, -1000)])
    assert [remaining(lot) for lot in (never, in_60, in_30_old, in_30_new)] == [2, 1, 0, 0]
    assert queries.balance(clinic.zoe).next_expiry == {ACU: dt.date(2026, 5, 1)}
    assert_ledger_ok()


def test_a_token_past_its_expiry_is_not_spendable_before_the_expiry_job_runs(
        clinic: Clinic, clock: Any) -> None:
    """'Expired the day after' must not depend on the start-of-day job having run."""
    sell(clinic.ctx, clinic.zoe, SaleItem(package=PKG5), [cash(35000)])
    clock.current = dt.datetime(2026, 6, 1, 9, 0)  # the day after the expiry; no job yet
    before = snapshot()
    with pytest.raises(Refused):
        transfer(clinic.ctx, clinic.zoe, clinic.bob, tokens=1, token_kind=ACU)
    assert snapshot() == before
    assert_ledger_ok()


# -- balance and history -------------------------------------------------------------------

def test_balance_and_history(clinic: Clinic) -> None:
    ctx, zoe, bob = clinic.ctx, clinic.zoe, clinic.bob
    t1 = sell(ctx, zoe, SaleItem(package=PKG5), [cash(30000)]).txn_id
    t2 = sell(ctx, zoe, SaleItem(credit_cents=10000), [Tender("card", 10000)]).txn_id
    t3 = transfer(ctx, zoe, bob, tokens=2, token_kind=ACU).txn_id
    t4 = transfer(ctx, zoe, bob, credit_cents=1500).txn_id
    t5 = refund(ctx, zoe, 3500, "cash").txn_id
    t6 = reverse(ctx, t4, "meant for someone else").txn_id

    assert queries.balance(zoe) == Balance(zoe, 1500, {ACU: 3}, {}, {ACU: PKG5_EXPIRES})
    assert queries.balance(bob) == Balance(bob, 0, {ACU: 2}, {}, {ACU: PKG5_EXPIRES})

    zoe_history = queries.history(zoe)
    assert [(v.id, v.kind, v.credit_change_cents, v.token_changes, v.receipt_no)
            for v in zoe_history] == [
        (t6, "reversal", 1500, {}, None),
        (t5, "refund", -3500, {}, 3),
        (t4, "transfer", -1500, {}, None),
        (t3, "transfer", 0, {ACU: -2}, None),
        (t2, "sale", 10000, {}, 2),
        (t1, "sale", -5000, {ACU: 5}, 1),
    ]
    assert [(v.id, v.kind, v.credit_change_cents, v.token_changes)
            for v in queries.history(bob)] == [
        (t6, "reversal", -1500, {}),
        (t4, "transfer", 1500, {}),
        (t3, "transfer", 0, {ACU: 2}),
    ]
    views = {v.id: v for v in zoe_history}
    assert (views[t4].reversed_by, views[t6].reverses_id) == (t6, t4)
    assert views[t1].staff == "tester"
    assert views[t1].workstation == "ws-test"
    assert sorted((line.account, line.unit, line.amount) for line in views[t1].lines) == sorted([
        (clinic.tok(zoe), ACU, -5), (f"issued:{clinic.acu}", ACU, 5),
        ("prepaid", "money", -35000), ("tender:cash", "money", 30000),
        (clinic.credit(zoe), "money", 5000)])
    # the running sum of the history's changes is the balance
    assert sum(v.credit_change_cents for v in zoe_history) == 1500
    assert sum(v.token_changes.get(ACU, 0) for v in zoe_history) == 3
    assert [v.id for v in queries.history(zoe, limit=2)] == [t6, t5]
    assert_ledger_ok()


def test_balance_and_history_of_unknown_patient(clinic: Clinic) -> None:
    with pytest.raises(NotFound):
        queries.balance(999_999)
    with pytest.raises(NotFound):
        queries.history(999_999)
    assert queries.history(clinic.bob) == []
    assert queries.balance(clinic.bob) == Balance(clinic.bob, 0, {}, {}, {})


# -- receipts ------------------------------------------------------------------------------

def test_receipt_numbers_are_gap_free(clinic: Clinic, monkeypatch: pytest.MonkeyPatch
                                      ) -> None:
    ctx, zoe = clinic.ctx, clinic.zoe
    numbers = [sell(ctx, zoe, SaleItem(package=PKG5), [cash(40000)]).receipt_no]  # 50 credit
    with pytest.raises(Refused):
        refund(ctx, zoe, 5001, "cash")
    numbers.append(refund(ctx, zoe, 2000, "cash").receipt_no)
    assert adjust(ctx, zoe, reason="goodwill", credit_cents=100).receipt_no is None
    assert transfer(ctx, zoe, clinic.bob, credit_cents=100).receipt_no is None

    # a write refused after it drew a number gives the number back when it rolls back
    def refuse(*args: object) -> None:
        raise Refused("simulated late refusal")

    monkeypatch.setattr(posting, "_apply_balances", refuse)
    before = snapshot()
    with pytest.raises(Refused, match="simulated"):
        sell(ctx, zoe, SaleItem(package=PKG5), [cash(35000)])
    assert snapshot() == before
    monkeypatch.undo()

    numbers.append(sell(ctx, clinic.bob, SaleItem(credit_cents=700), [cash(700)]).receipt_no)
    last = sell(ctx, zoe, SaleItem(package=PKG5), [cash(35000)])
    numbers.append(last.receipt_no)
    numbers.append(reverse(ctx, last.txn_id, "wrong patient").receipt_no)

    assert numbers == [1, 2, 3, 4, 5]
    stored = sorted(n for (n,) in Txn.select(Txn.receipt_no)
                    .where(Txn.receipt_no.is_null(False)).tuples())
    assert stored == [1, 2, 3, 4, 5]
    assert Counter.get_by_id("receipt").value == 5
    assert_ledger_ok()
