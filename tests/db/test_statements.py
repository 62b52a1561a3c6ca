"""Patient statements (SPEC §7): ``statement_for`` on both backends (opening and
closing balances, the running balance, local-day period boundaries, a fixed number
of queries) and the PDF that ``render_statement`` draws (read back with pdftotext).
"""

from __future__ import annotations

import datetime as dt
import os
import re
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from playhouse.test_utils import count_queries

from desk.core.errors import BadInput, NotFound
from desk.printing.statement import render_statement
from desk.printing.statement_data import StatementData, StatementEntry, TokensLeft
from desk.services import catalog, patients
from desk.services import settings as clinic_settings
from desk.services.appointments import book
from desk.services.cancellation import cancel
from desk.services.checkin import CheckinRequest, check_in
from desk.services.expiry import expire
from desk.services.results import Tender
from desk.services.reversal import reverse
from desk.services.sales import SaleItem, sell
from desk.services.statements import statement_for
from desk.services.wallet import adjust, refund, transfer
from tests.conftest import Clock

ACU = "Acupuncture"
SVC = "Acupuncture 45"               # 95.00
PKG = "Five acupuncture"             # 5 tokens for 350.00, expiring 30 days after sale
ANN = "Ann Lee"
CLINIC = "Harbour Acupuncture"
ZOE = "Zoë O'Brien"
LI = "李小龍"
MARCH = (dt.date(2026, 3, 1), dt.date(2026, 3, 31))
ISSUED = dt.date(2026, 4, 30)


@dataclass(frozen=True)
class Clinic:
    ctx: Any
    clock: Clock
    zoe: int
    li: int

    def at(self, year: int, month: int, day: int, hour: int = 9, minute: int = 0,
           second: int = 0) -> None:
        """Move the (UTC) clock: the next write is stamped with this time."""
        self.clock.current = dt.datetime(year, month, day, hour, minute, second)


@pytest.fixture
def utc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The process's local zone is UTC, so local days are UTC days."""
    yield from _zone(monkeypatch, "UTC")


@pytest.fixture
def new_york(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The clinic is in New York: a local day starts at 05:00 UTC in winter."""
    yield from _zone(monkeypatch, "America/New_York")


def _zone(monkeypatch: pytest.MonkeyPatch, name: str) -> Iterator[None]:
    if not hasattr(time, "tzset"):
        pytest.skip("time.tzset is POSIX only")
    monkeypatch.setenv("TZ", name)
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.fixture
def clinic(ctx: Any, clock: Clock) -> Clinic:
    catalog.add_service(ctx, SVC, 45, 9500, token_kind=ACU)
    catalog.add_package(ctx, PKG, ACU, 5, 35000, expires_days=30)
    catalog.add_practitioner(ctx, ANN)
    for key, value in [("clinic_name", CLINIC), ("clinic_address", "1 Quay St, Cork"),
                       ("clinic_phone", "555-0100"), ("late_cancel_fee", "25.00"),
                       ("receipt_footer", "Thank you!")]:
        clinic_settings.set_value(ctx, key, value)
    zoe = patients.add_patient(ctx, ZOE, phone="087 123 4567").id
    li = patients.add_patient(ctx, LI).id
    return Clinic(ctx, clock, zoe, li)


def visit(c: Clinic, patient: int, hour: int, **kw: Any) -> int:
    """Book a visit today at ``hour`` and check it in now; the check-in's txn id."""
    start = dt.datetime.combine(c.clock.today(), dt.time(hour))
    appt = book(c.ctx, patient, SVC, ANN, start).appointment_id
    return check_in(c.ctx, CheckinRequest(appt, **kw)).txn.txn_id


def zoe_in_march(c: Clinic) -> dict[str, int]:
    """Zoë's history around March 2026 (see the expected statement below)."""
    ids: dict[str, int] = {}
    c.at(2026, 2, 27, 10)
    sell(c.ctx, c.zoe, SaleItem(credit_cents=5000), [Tender("cash", 5000)])      # receipt 1
    c.at(2026, 2, 27, 11)
    sell(c.ctx, c.zoe, SaleItem(package=PKG), [Tender("card", 35000)])  # 2, expires 03-29
    c.at(2026, 2, 28, 23, 59, 59)                                     # the last second before
    adjust(c.ctx, c.zoe, reason="opening balance", credit_cents=100)
    c.at(2026, 3, 1, 0, 0, 0)                                         # the first second in
    ids["adjust"] = adjust(c.ctx, c.zoe, reason="goodwill", credit_cents=200).txn_id
    c.at(2026, 3, 2, 9)
    ids["token"] = visit(c, c.zoe, 10, items=(("Herbs", 1250),),                 # receipt 3
                         tenders=(Tender("cash", 1250),), cash_given_cents=2000)
    c.at(2026, 3, 3, 9)
    ids["owed"] = visit(c, c.zoe, 10, use_token=False, use_credit="all")          # 4
    c.at(2026, 3, 4, 9)
    ids["reversal"] = reverse(c.ctx, ids["owed"], "wrong day").txn_id            # 5
    c.at(2026, 3, 5, 9)
    appt = book(c.ctx, c.zoe, SVC, ANN, dt.datetime(2026, 3, 5, 16)).appointment_id
    fee = cancel(c.ctx, appt).txn                                                 # 6
    assert fee is not None
    ids["fee"] = fee.txn_id
    c.at(2026, 3, 10, 9)
    ids["package"] = sell(c.ctx, c.zoe, SaleItem(package=PKG),                    # 7
                          [Tender("card", 35000, "4242")]).txn_id
    c.at(2026, 3, 30, 8)
    ids["expiry"] = expire(c.ctx, dt.date(2026, 3, 30)).txn_ids[0]
    c.at(2026, 3, 31, 23, 59, 59)
    ids["credit"] = sell(c.ctx, c.zoe, SaleItem(credit_cents=1000),               # 8
                         [Tender("cash", 1000)]).txn_id
    c.at(2026, 4, 1, 0, 0, 0)
    ids["april"] = adjust(c.ctx, c.zoe, reason="april goodwill", credit_cents=10000).txn_id
    return ids


def test_a_month_with_every_kind_of_transaction(clinic: Clinic, utc: None) -> None:
    c = clinic
    ids = zoe_in_march(c)
    data = statement_for(c.zoe, *MARCH, today=ISSUED)

    assert (data.patient_id, data.patient_name, data.patient_phone) == (
        c.zoe, ZOE, "087 123 4567")
    assert (data.clinic.name, data.clinic.currency, data.paper) == (CLINIC, "USD", "letter")
    assert (data.first, data.last, data.issued_on) == (*MARCH, ISSUED)
    assert (data.opening_credit_cents, data.opening_tokens) == (5100, {ACU: 5})

    def at(day: int, hour: int = 9, minute: int = 0, second: int = 0) -> dt.datetime:
        return dt.datetime(2026, 3, day, hour, minute, second)

    assert data.entries == (
        StatementEntry(ids["adjust"], at(1, 0), "Adjustment", "Goodwill", None,
                       0, 0, 200, {}, 5300),
        StatementEntry(ids["token"], at(2), "Visit", "Acupuncture 45 2026-03-02 10:00; Herbs",
                       3, 1250, 1250, 0, {ACU: -1}, 5300),
        StatementEntry(ids["owed"], at(3), "Visit", "Acupuncture 45 2026-03-03 10:00",
                       4, 9500, 0, -9500, {}, -4200),
        StatementEntry(ids["reversal"], at(4), "Reversal of #4", "Wrong day",
                       5, -9500, 0, 9500, {}, 5300),
        StatementEntry(ids["fee"], at(5), "Late cancel fee", "Acupuncture 45 2026-03-05 16:00",
                       6, 2500, 0, -2500, {}, 2800),
        StatementEntry(ids["package"], at(10), "Sale", "Five acupuncture (5 tokens)",
                       7, 35000, 35000, 0, {ACU: 5}, 2800),
        StatementEntry(ids["expiry"], at(30, 8), "Tokens expired",
                       "Expired before 2026-03-30", None, 0, 0, 0, {ACU: -4}, 2800),
        StatementEntry(ids["credit"], at(31, 23, 59, 59), "Sale", "Credit purchase",
                       8, 0, 1000, 1000, {}, 3800))
    assert (data.closing_credit_cents, data.closing_tokens) == (3800, {ACU: 5})
    assert (data.charges_cents, data.paid_cents) == (38750, 37250)
    # Opening + payments - charges + adjustments = closing.
    assert data.closing_credit_cents == 5100 + 37250 - 38750 + 200
    assert data.tokens_left == (TokensLeft(ACU, 5, dt.date(2026, 4, 9), 5),)


def test_the_periods_around_it_carry_the_balances_over(clinic: Clinic, utc: None) -> None:
    c = clinic
    ids = zoe_in_march(c)
    february = statement_for(c.zoe, dt.date(2026, 2, 1), dt.date(2026, 2, 28), today=ISSUED)
    assert (february.opening_credit_cents, february.opening_tokens) == (0, {})
    assert [e.kind for e in february.entries] == ["Sale", "Sale", "Adjustment"]
    assert [e.balance_cents for e in february.entries] == [5000, 5000, 5100]
    assert (february.closing_credit_cents, february.closing_tokens) == (5100, {ACU: 5})
    # Lots rebuilt as they were on Feb 28: 5 tokens, all expiring on Mar 29.
    assert february.tokens_left == (TokensLeft(ACU, 5, dt.date(2026, 3, 29), 5),)

    march_2 = statement_for(c.zoe, dt.date(2026, 3, 2), dt.date(2026, 3, 2), today=ISSUED)
    assert (march_2.opening_credit_cents, march_2.closing_credit_cents) == (5300, 5300)
    assert [e.txn_id for e in march_2.entries] == [ids["token"]]
    assert march_2.closing_tokens == {ACU: 4}
    assert march_2.tokens_left == (TokensLeft(ACU, 4, dt.date(2026, 3, 29), 4),)

    # Mid-March: two lots, the first expiring first.
    mid = statement_for(c.zoe, dt.date(2026, 3, 10), dt.date(2026, 3, 10), today=ISSUED)
    assert mid.tokens_left == (TokensLeft(ACU, 9, dt.date(2026, 3, 29), 4),)

    april = statement_for(c.zoe, dt.date(2026, 4, 1), dt.date(2026, 4, 30), today=ISSUED)
    assert (april.opening_credit_cents, april.opening_tokens) == (3800, {ACU: 5})
    assert [(e.txn_id, e.kind, e.credit_change_cents, e.balance_cents)
            for e in april.entries] == [(ids["april"], "Adjustment", 10000, 13800)]
    assert april.closing_credit_cents == 13800

    # The whole history in one period: nothing before it, everything after.
    whole = statement_for(c.zoe, dt.date(2026, 1, 1), ISSUED, today=ISSUED)
    assert (whole.opening_credit_cents, whole.opening_tokens) == (0, {})
    assert len(whole.entries) == 12
    assert whole.closing_credit_cents == 13800


def test_local_days_decide_which_period_a_transaction_is_in(clinic: Clinic,
                                                           new_york: None) -> None:
    """In New York (UTC-5 in winter) 03:00 UTC on Mar 1 is still Feb 28 locally."""
    c = clinic
    c.at(2026, 3, 1, 3, 0)                       # 2026-02-28 22:00 local
    late_feb = adjust(c.ctx, c.zoe, reason="late on the 28th", credit_cents=100).txn_id
    c.at(2026, 3, 1, 5, 0)                       # 2026-03-01 00:00 local
    first_march = adjust(c.ctx, c.zoe, reason="first thing", credit_cents=200).txn_id
    c.at(2026, 4, 1, 3, 59, 59)                  # 2026-03-31 23:59:59 local (EDT, UTC-4)
    last_march = adjust(c.ctx, c.zoe, reason="last thing", credit_cents=300).txn_id
    c.at(2026, 4, 1, 4, 0)                       # 2026-04-01 00:00 local
    adjust(c.ctx, c.zoe, reason="april", credit_cents=400)

    data = statement_for(c.zoe, *MARCH, today=ISSUED)
    assert data.opening_credit_cents == 100
    assert [(e.txn_id, e.at) for e in data.entries] == [
        (first_march, dt.datetime(2026, 3, 1, 0, 0)),
        (last_march, dt.datetime(2026, 3, 31, 23, 59, 59))]
    assert data.closing_credit_cents == 600
    feb = statement_for(c.zoe, dt.date(2026, 2, 28), dt.date(2026, 2, 28), today=ISSUED)
    assert [(e.txn_id, e.at) for e in feb.entries] == [
        (late_feb, dt.datetime(2026, 2, 28, 22, 0))]


def test_transfers_card_visits_and_refunds_read_from_each_side(clinic: Clinic,
                                                              utc: None) -> None:
    c = clinic
    c.at(2026, 3, 2, 9)
    sell(c.ctx, c.li, SaleItem(credit_cents=3000), [Tender("cash", 3000)])
    moved = transfer(c.ctx, c.li, c.zoe, credit_cents=1000).txn_id
    c.at(2026, 3, 2, 9, 5)
    transfer(c.ctx, c.li, c.zoe, credit_cents=700)
    undone = reverse(c.ctx, moved + 1, "wrong patient").txn_id   # no receipt: named by id
    c.at(2026, 3, 2, 9, 10)
    card = visit(c, c.zoe, 10, use_token=False, use_credit="none",
                 tenders=(Tender("card", 9500, "slip 7"),))
    refund(c.ctx, c.li, 500, "cash")
    zoe = statement_for(c.zoe, *MARCH, today=ISSUED)
    assert [(e.kind, e.memo, e.charge_cents, e.paid_cents, e.credit_change_cents)
            for e in zoe.entries] == [
        ("Transfer in", f"From patient {c.li}", 0, 0, 1000),
        ("Transfer in", f"From patient {c.li}", 0, 0, 700),
        (f"Reversal of transaction {moved + 1}", "Wrong patient", 0, 0, -700),
        ("Visit", "Acupuncture 45 2026-03-02 10:00", 9500, 9500, 0)]
    assert (zoe.entries[2].txn_id, zoe.entries[3].txn_id) == (undone, card)
    assert zoe.closing_credit_cents == 1000
    li = statement_for(c.li, *MARCH, today=ISSUED)
    assert [(e.kind, e.charge_cents, e.paid_cents, e.credit_change_cents, e.balance_cents)
            for e in li.entries] == [
        ("Sale", 0, 3000, 3000, 3000), ("Transfer out", 0, 0, -1000, 2000),
        ("Transfer out", 0, 0, -700, 1300),
        (f"Reversal of transaction {moved + 1}", 0, 0, 700, 2000),
        ("Refund", 0, -500, -500, 1500)]


def test_an_empty_period_and_a_new_patient(clinic: Clinic, utc: None) -> None:
    data = statement_for(clinic.li, *MARCH, today=ISSUED)
    assert (data.entries, data.opening_credit_cents, data.closing_credit_cents) == ((), 0, 0)
    assert (data.opening_tokens, data.closing_tokens, data.tokens_left) == ({}, {}, ())


def test_bad_periods_and_patients_are_refused_naming_the_argument(clinic: Clinic) -> None:
    c = clinic
    today = dt.date(2026, 3, 15)
    cases: list[tuple[Any, Any, Any, str]] = [
        (c.zoe, dt.date(2026, 3, 10), dt.date(2026, 3, 1), "--from: 2026-03-10 is after --to"),
        (c.zoe, dt.date(2026, 3, 16), dt.date(2026, 3, 16), "--from: 2026-03-16 is in the "
                                                              "future"),
        (c.zoe, dt.date(2026, 3, 1), dt.date(2026, 3, 31), "--to: 2026-03-31 is in the future"),
        (c.zoe, dt.date(1899, 12, 31), today, "--from: 1899-12-31 is out of range"),
        (c.zoe, dt.datetime(2026, 3, 1, 10), today, "--from: datetime"),
        (c.zoe, "2026-03-01", today, "--from: '2026-03-01' is not a date"),
        (c.zoe, dt.date(2026, 3, 1), None, "--to: None is not a date"),
        ("1", dt.date(2026, 3, 1), today, "--patient: '1' is not a patient id"),
        (True, dt.date(2026, 3, 1), today, "--patient: True is not a patient id")]
    for patient, first, last, message in cases:
        with pytest.raises(BadInput, match=re.escape(message)):
            statement_for(patient, first, last, today=today)
    with pytest.raises(NotFound, match="--patient: no patient with id 999"):
        statement_for(999, dt.date(2026, 3, 1), today, today=today)


@pytest.mark.parametrize("transactions", [2, 40])
def test_a_statement_is_a_fixed_number_of_queries(clinic: Clinic, utc: None,
                                                  transactions: int) -> None:
    c = clinic
    c.at(2026, 2, 20)
    sell(c.ctx, c.zoe, SaleItem(package=PKG), [Tender("card", 35000)])
    for index in range(transactions):
        c.at(2026, 3, 1 + index % 28, 8 + index // 28)
        if index % 2:
            sell(c.ctx, c.zoe, SaleItem(credit_cents=100 + index), [Tender("cash", 100 + index)])
        else:
            adjust(c.ctx, c.zoe, reason=f"correction {index}", tokens=1, token_kind=ACU,
                   expires_days=60)
    with count_queries() as counted:
        data = statement_for(c.zoe, *MARCH, today=ISSUED)
    assert len(data.entries) == transactions
    assert counted.count == 12, [q.msg for q in counted.get_queries()]


# ------------------------------------------------------------------ the PDF


def pdf_pages(data: StatementData, path: Path) -> list[str]:
    """The statement's text per page (pdftotext -layout), spaces collapsed per line."""
    path.write_bytes(render_statement(data))
    text = subprocess.run(["pdftotext", "-layout", "-enc", "UTF-8", str(path), "-"],
                          check=True, capture_output=True, text=True, timeout=60).stdout
    return ["\n".join(" ".join(line.split()) for line in page.splitlines() if line.strip())
            for page in text.split("\f") if page.strip()]


def page_size(path: Path) -> str:
    info = subprocess.run(["pdfinfo", str(path)], check=True, capture_output=True, text=True,
                          timeout=60).stdout
    found = re.search(r"Page size:\s+([0-9.]+ x [0-9.]+)", info)
    assert found is not None
    return found.group(1)


def test_the_pdf_says_every_amount(clinic: Clinic, utc: None, tmp_path: Path) -> None:
    c = clinic
    zoe_in_march(c)
    path = tmp_path / "march.pdf"
    (page,) = pdf_pages(statement_for(c.zoe, *MARCH, today=ISSUED), path)
    assert page_size(path) == "612 x 792"
    lines = page.splitlines()
    for expected in (
            CLINIC, "STATEMENT", "1 Quay St, Cork", "Period 2026-03-01 to 2026-03-31",
            "Issued 2026-04-30", f"Patient no. {c.zoe}", ZOE, "087 123 4567",
            "Previous balance $51.00", "Charges $387.50", "Payments $372.50",
            "Adjustments and transfers +$2.00", "Credit on account $38.00",
            "Date Description Receipt Charges Paid Credit +/- Tokens +/- Balance",
            "2026-03-01 Opening balance 5 Acupuncture $51.00",
            "2026-03-01 Adjustment — Goodwill +$2.00 $53.00",
            "2026-03-03 Visit — Acupuncture 45 4 $95.00 -$95.00 -$42.00",
            "2026-03-04 Reversal of #4 — Wrong day 5 -$95.00 +$95.00 $53.00",
            "2026-03-05 Late cancel fee — Acupuncture 6 $25.00 -$25.00 $28.00",
            "2026-03-31 Sale — Credit purchase 8 $10.00 +$10.00 $38.00",
            "2026-03-31 Closing balance $387.50 $372.50 -$13.00 5 Acupuncture $38.00",
            "Acupuncture 5 2026-04-09 (5 tokens)", "Thank you! Page 1 of 1"):
        assert any(expected in line for line in lines), (expected, page)
    visit_line = next(i for i, line in enumerate(lines) if line.startswith("2026-03-02 Visit"))
    assert lines[visit_line:visit_line + 2] == [
        "2026-03-02 Visit — Acupuncture 45 3 $12.50 $12.50 -1 Acupuncture $53.00",
        "2026-03-02 10:00; Herbs"]


def test_a_cjk_name_on_a4_in_euros(clinic: Clinic, utc: None, tmp_path: Path) -> None:
    c = clinic
    clinic_settings.set_value(c.ctx, "currency", "EUR")
    clinic_settings.set_value(c.ctx, "receipt_paper", "a4")
    c.at(2026, 3, 2)
    sell(c.ctx, c.li, SaleItem(credit_cents=123456), [Tender("card", 123456)])
    adjust(c.ctx, c.li, reason="fidélité 診所", credit_cents=-1000)
    path = tmp_path / "li.pdf"
    data = statement_for(c.li, *MARCH, today=ISSUED)
    assert data.paper == "a4"
    (page,) = pdf_pages(data, path)
    assert page_size(path) == "595.276 x 841.89"
    for expected in (LI, "Previous balance €0.00", "Payments €1,234.56",
                     "Adjustments and transfers -€10.00", "Credit on account €1,224.56",
                     "2026-03-02 Sale — Credit purchase 1 €1,234.56 +€1,234.56 €1,234.56",
                     "2026-03-02 Adjustment — Fidélité 診所 -€10.00 €1,224.56",
                     "Closing balance €0.00 €1,234.56 +€1,224.56 €1,224.56"):
        assert expected in page, (expected, page)
    fonts_used = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True,
                                check=True).stdout.splitlines()[2:]
    assert len(fonts_used) == 3 and all(" yes yes yes " in row for row in fonts_used)


def test_a_long_history_makes_pages_with_the_header_repeated(clinic: Clinic, utc: None,
                                                             tmp_path: Path) -> None:
    c = clinic
    for index in range(90):
        c.at(2026, 3, 1 + index % 30, 8 + index // 30)
        sell(c.ctx, c.zoe, SaleItem(credit_cents=1000 + index),
             [Tender("cash", 1000 + index)], memo=f"n{index}")
    data = statement_for(c.zoe, *MARCH, today=ISSUED)
    assert data.closing_credit_cents == sum(1000 + i for i in range(90)) == 94005
    pages = pdf_pages(data, tmp_path / "long.pdf")
    assert len(pages) >= 3
    header = "Date Description Receipt Charges Paid Credit +/- Tokens +/- Balance"
    for number, page in enumerate(pages, start=1):
        assert header in page, number
        assert f"Page {number} of {len(pages)}" in page
        if number > 1:
            assert f"Statement for {ZOE}, 2026-03-01 to 2026-03-31" in page
    everything = "\n".join(pages)
    numbers = [int(n) for n in re.findall(r"Credit purchase; n([0-9]+) ", everything)]
    # Every entry once, in time order (day by day), across the pages.
    assert numbers == sorted(range(90), key=lambda i: (i % 30, i // 30))
    assert "Closing balance $0.00 $940.05 +$940.05 $940.05" in pages[-1]
    assert os.path.getsize(tmp_path / "long.pdf") < 400_000
