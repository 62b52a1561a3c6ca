"""Receipts (SPEC §7): what ``receipt_for`` says about a transaction, and the PDF that
``render_receipt`` draws on an 80 mm roll, Letter or A4 (read back with pdftotext).
"""

from __future__ import annotations

import datetime as dt
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from desk.core.errors import NotFound, Refused
from desk.data.models import Appointment
from desk.printing.receipt import _rows, render_receipt
from desk.printing.receipt_data import ClinicHeader, Payment, ReceiptData, ReceiptLine
from desk.services import catalog, patients
from desk.services import settings as clinic_settings
from desk.services.appointments import book
from desk.services.cancellation import cancel
from desk.services.checkin import CheckinRequest, CheckinResult, check_in
from desk.services.memberships import renew
from desk.services.receipts import _split_change, receipt_for
from desk.services.results import Tender
from desk.services.reversal import reverse
from desk.services.sales import SaleItem, sell
from desk.services.wallet import adjust, refund

ACU = "Acupuncture"
SVC = "Acupuncture 45"               # 45 min, 95.00
PKG5 = "Five acupuncture"            # 5 tokens for 350.00
ANN = "Ann Lee"
CLINIC = "Harbour Acupuncture"
ZOE = "Zoë O'Brien"


@dataclass(frozen=True)
class Clinic:
    ctx: Any
    zoe: int
    bob: int


@pytest.fixture
def clinic(ctx: Any) -> Clinic:
    catalog.add_service(ctx, SVC, 45, 9500, token_kind=ACU)
    catalog.add_package(ctx, PKG5, ACU, 5, 35000, expires_days=90)
    catalog.add_practitioner(ctx, ANN)
    for key, value in [("clinic_name", CLINIC), ("clinic_address", "1 Quay St, Cork"),
                       ("clinic_phone", "555-0100"), ("tax_id", "VAT 123"),
                       ("receipt_footer", "Thank you!")]:
        clinic_settings.set_value(ctx, key, value)
    zoe = patients.add_patient(ctx, ZOE).id
    bob = patients.add_patient(ctx, "Bob Brown").id
    return Clinic(ctx, zoe, bob)


def visit_and_check_in(c: Clinic, patient: int, **kw: Any) -> CheckinResult:
    start = dt.datetime(2026, 3, 3, 8, 0) + dt.timedelta(hours=Appointment.select().count())
    appt = book(c.ctx, patient, SVC, ANN, start).appointment_id
    return check_in(c.ctx, CheckinRequest(appt, **kw))


def token_visit_with_herbs(c: Clinic) -> CheckinResult:
    """Zoë's package is receipt 1; this check-in (token + 12.50 herbs in cash) is 2."""
    sell(c.ctx, c.zoe, SaleItem(package=PKG5), [Tender("cash", 35000)])
    return visit_and_check_in(c, c.zoe, items=(("Herbs", 1250),),
                              tenders=(Tender("cash", 1250),), cash_given_cents=2000)


def pdf_text(data: ReceiptData, tmp_path: Path, name: str) -> tuple[str, str]:
    """The receipt's text (pdftotext -layout) and its page size (pdfinfo)."""
    path = tmp_path / f"{name}.pdf"
    path.write_bytes(render_receipt(data))
    text = subprocess.run(["pdftotext", "-layout", "-enc", "UTF-8", str(path), "-"],
                          check=True, capture_output=True, text=True, timeout=60).stdout
    info = subprocess.run(["pdfinfo", str(path)], check=True, capture_output=True, text=True,
                          timeout=60).stdout
    size = re.search(r"Page size:\s+([0-9.]+ x [0-9.]+)", info)
    assert size is not None
    return text, size.group(1)


def test_receipt_for_a_token_visit_with_herbs_paid_in_cash(clinic: Clinic) -> None:
    c = clinic
    result = token_visit_with_herbs(c)
    data = receipt_for(result.txn.txn_id)

    assert data.clinic == ClinicHeader(CLINIC, "1 Quay St, Cork", "555-0100", "VAT 123",
                                       "Thank you!", "USD")
    assert (data.title, data.receipt_no, data.txn_id, data.staff) == (
        "Receipt", 2, result.txn.txn_id, "tester")
    assert (data.patient_name, data.patient_id) == (ZOE, c.zoe)
    assert data.lines == (ReceiptLine(SVC, None, 1, ACU), ReceiptLine("Herbs", 1250))
    assert data.payments == (Payment("cash", 1250, ""),)
    assert data.total_cents == 1250
    assert (data.owed_cents, data.credit_added_cents) == (0, 0)
    assert data.change_note == "given $20.00, change $7.50"
    assert data.tokens_after == {ACU: 4}
    assert data.credit_after_cents == 0
    assert (data.copy, data.memo, data.paper) == (False, "", "roll80")


def test_receipt_with_credit_card_and_what_is_left(clinic: Clinic) -> None:
    c = clinic
    sell(c.ctx, c.bob, SaleItem(credit_cents=3000), [Tender("cash", 3000)])         # 1
    partly = visit_and_check_in(c, c.bob, tenders=(Tender("card", 6500, "slip 0042"),))
    data = receipt_for(partly.txn.txn_id)
    assert data.lines == (ReceiptLine(SVC, 9500),)
    assert data.payments == (Payment("card", 6500, "slip 0042"), Payment("credit", 3000))
    assert (data.total_cents, data.owed_cents, data.credit_after_cents) == (9500, 0, 0)
    assert data.tokens_after == {}

    forgot = receipt_for(visit_and_check_in(c, c.bob).txn.txn_id)
    assert (forgot.payments, forgot.owed_cents, forgot.credit_after_cents) == (
        (), 9500, -9500)

    over = receipt_for(visit_and_check_in(c, c.bob, tenders=(Tender("cash", 20000),))
                       .txn.txn_id)
    assert (over.credit_added_cents, over.credit_after_cents) == (10500, 1000)
    assert over.payments == (Payment("cash", 20000, ""),)


def test_a_reprint_is_a_copy_with_the_balances_of_its_time(clinic: Clinic) -> None:
    c = clinic
    first = token_visit_with_herbs(c)
    visit_and_check_in(c, c.zoe)                                          # tokens 4 -> 3
    sell(c.ctx, c.zoe, SaleItem(credit_cents=5000), [Tender("card", 5000)])

    original = receipt_for(first.txn.txn_id)
    copy = receipt_for(first.txn.txn_id, copy=True)
    assert copy.copy and not original.copy
    assert (copy.tokens_after, copy.credit_after_cents) == ({ACU: 4}, 0)
    assert copy.lines == original.lines
    assert copy.receipt_no == original.receipt_no == 2


def test_a_reversal_receipt_names_the_receipt_it_reverses(clinic: Clinic) -> None:
    c = clinic
    adjust(c.ctx, c.bob, reason="opening balance", credit_cents=100)  # a txn, no receipt
    first = token_visit_with_herbs(c)
    assert (first.txn.txn_id, first.txn.receipt_no) == (3, 2)
    rev = reverse(c.ctx, first.txn.txn_id, "wrong patient")
    data = receipt_for(rev.txn_id)

    assert (data.title, data.receipt_no) == ("REVERSAL of #2", 3)
    assert data.memo == "Reason: wrong patient"
    assert data.lines == (ReceiptLine(SVC, None, 1, ACU), ReceiptLine("Herbs", 1250))
    assert data.total_cents == 1250
    assert (data.tokens_after, data.credit_after_cents) == ({ACU: 5}, 0)


def test_a_fee_receipt(clinic: Clinic) -> None:
    c = clinic
    clinic_settings.set_value(c.ctx, "late_cancel_fee", "25.00")
    sell(c.ctx, c.bob, SaleItem(credit_cents=1000), [Tender("cash", 1000)])
    appt = book(c.ctx, c.bob, SVC, ANN, dt.datetime(2026, 3, 3, 10, 0)).appointment_id
    done = cancel(c.ctx, appt)
    assert done.txn is not None
    data = receipt_for(done.txn.txn_id)
    assert data.lines == (ReceiptLine("Late cancel fee", 2500),)
    assert data.memo == f"Appointment: {SVC}, 2026-03-03 10:00"
    assert (data.total_cents, data.owed_cents, data.credit_after_cents) == (2500, 2500, -1500)


def test_a_renewal_receipt_says_how_the_month_was_paid(clinic: Clinic) -> None:
    """The renewal charges 200.00 to credit: Bob has none, so it is left owed (not
    "paid from credit"); Zoë has 250.00, so it is paid from credit."""
    c = clinic
    catalog.add_package(c.ctx, "Monthly", ACU, 4, 20000, monthly=True)
    sell(c.ctx, c.bob, SaleItem(package="Monthly"), [Tender("cash", 20000)])
    sell(c.ctx, c.zoe, SaleItem(package="Monthly"), [Tender("cash", 20000)])
    sell(c.ctx, c.zoe, SaleItem(credit_cents=25000), [Tender("cash", 25000)])
    txns = renew(c.ctx, as_of=dt.date(2026, 4, 1)).txn_ids
    by_patient = {receipt_for(t).patient_id: receipt_for(t) for t in txns}

    zoe = by_patient[c.zoe]
    assert zoe.lines == (ReceiptLine("Monthly 2026-04 (4 tokens)", 20000),)
    assert (zoe.payments, zoe.owed_cents, zoe.credit_after_cents) == (
        (Payment("credit", 20000),), 0, 5000)
    assert zoe.tokens_after == {ACU: 8}

    bob = by_patient[c.bob]
    assert bob.receipt_no is not None
    assert bob.lines == (ReceiptLine("Monthly 2026-04 (4 tokens)", 20000),)
    assert bob.credit_after_cents == -20000
    assert (bob.payments, bob.owed_cents) == ((), 20000)


def test_a_transaction_without_a_receipt_has_none(clinic: Clinic) -> None:
    c = clinic
    goodwill = adjust(c.ctx, c.zoe, reason="goodwill", credit_cents=500)
    assert goodwill.receipt_no is None
    with pytest.raises(Refused, match="has no receipt"):
        receipt_for(goodwill.txn_id)
    with pytest.raises(NotFound):
        receipt_for(goodwill.txn_id + 1000)


PAGE_SIZES = {"roll80": None, "letter": "612 x 792", "a4": "595.276 x 841.89"}


def test_the_pdf_on_every_paper(clinic: Clinic, tmp_path: Path) -> None:
    c = clinic
    result = token_visit_with_herbs(c)
    for paper, size in PAGE_SIZES.items():
        clinic_settings.set_value(c.ctx, "receipt_paper", paper)
        data = receipt_for(result.txn.txn_id)
        assert data.paper == paper
        text, page = pdf_text(data, tmp_path, paper)
        if size is None:
            width = float(page.split(" x ")[0])
            assert abs(width - 226.77) < 0.1, page        # 80 mm wide, as long as it needs
        else:
            assert page == size
        flat = " ".join(text.split())
        for expected in (CLINIC, "1 Quay St, Cork", "VAT 123", "Receipt #2",
                         f"Patient: {ZOE}", "staff: tester", "Herbs $12.50",
                         f"{SVC} 1 {ACU} token", "Total $12.50", f"{ACU} token used 1",
                         "Cash $12.50", "Cash handed over $20.00", "Change given $7.50",
                         f"{ACU} tokens left 4",
                         "Thank you!", f"Transaction {result.txn.txn_id}"):
            assert expected in flat, (paper, expected, text)
        assert "COPY" not in text
        assert "Owed" not in text

        copy_text, _ = pdf_text(receipt_for(result.txn.txn_id, copy=True), tmp_path,
                                f"{paper}-copy")
        assert "COPY" in copy_text
        assert "Receipt #2" in copy_text


def test_the_pdf_of_a_reversal_and_of_an_amount_owed(clinic: Clinic, tmp_path: Path) -> None:
    c = clinic
    owed = visit_and_check_in(c, c.zoe, items=(("Café crème", 350),))
    rev = reverse(c.ctx, owed.txn.txn_id, "entered twice")
    text, _ = pdf_text(receipt_for(owed.txn.txn_id), tmp_path, "owed")
    flat = " ".join(text.split())
    for expected in ("Receipt #1", f"{SVC} $95.00", "Café crème $3.50", "Total $98.50",
                     "Left owed $98.50", "Owed $98.50"):
        assert expected in flat, (expected, text)
    rev_text, _ = pdf_text(receipt_for(rev.txn_id), tmp_path, "reversal")
    assert "REVERSAL of #1" in rev_text
    assert "Reason: entered twice" in rev_text
    assert "No tokens, no credit" in rev_text


# -------------------------------------------- every kind, line by line, roll and page

STAMP = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2} staff: tester")
HEAD = [CLINIC, "1 Quay St, Cork", "555-0100", "VAT 123"]


def receipt_lines(data: ReceiptData, tmp_path: Path, name: str) -> list[str]:
    """The PDF's text lines, spaces collapsed; the local date-time line as <when>."""
    text, _ = pdf_text(data, tmp_path, name)
    lines = [" ".join(line.split()) for line in text.splitlines() if line.strip()]
    return ["<when> staff: tester" if STAMP.fullmatch(line) else line for line in lines]


def both_papers(c: Clinic, txn_id: int, tmp_path: Path, *, copy: bool = False
                ) -> dict[str, list[str]]:
    out = {}
    for paper in ("roll80", "letter"):
        clinic_settings.set_value(c.ctx, "receipt_paper", paper)
        out[paper] = receipt_lines(receipt_for(txn_id, copy=copy), tmp_path,
                                   f"{txn_id}-{paper}-{copy}")
    return out


def test_every_kind_of_receipt_line_by_line(clinic: Clinic, tmp_path: Path) -> None:
    """A sale (and its reprint), a check-in paid by token + cash with change, a
    check-in partly from credit leaving an amount owed, a late-cancel fee paid by
    token, a refund and a reversal: what each says, on the roll and on a page."""
    c = clinic
    clinic_settings.set_value(c.ctx, "late_cancel_fee", "25.00")
    sale = sell(c.ctx, c.zoe, SaleItem(package=PKG5),
                [Tender("card", 35000, "4242 auth 81A")]).txn_id                    # 1
    token = visit_and_check_in(c, c.zoe, items=(("Herbs", 1250),),                  # 2
                               tenders=(Tender("cash", 1250),), cash_given_cents=2000)
    sell(c.ctx, c.bob, SaleItem(credit_cents=3000), [Tender("cash", 3000)])         # 3
    owed = visit_and_check_in(c, c.bob)                                              # 4
    appt = book(c.ctx, c.zoe, SVC, ANN, dt.datetime(2026, 3, 3, 10, 0)).appointment_id
    fee = cancel(c.ctx, appt, take_token=True).txn                                   # 5
    assert fee is not None
    sell(c.ctx, c.bob, SaleItem(credit_cents=16000), [Tender("card", 16000)])       # 6
    money_back = refund(c.ctx, c.bob, 4000, "cash")                                  # 7
    rev = reverse(c.ctx, token.txn.txn_id, "wrong patient")                          # 8
    zoe, bob, end = f"Patient: {ZOE}", "Patient: Bob Brown", "Thank you!"
    sold = ["Five acupuncture (5 tokens) $350.00", "Total $350.00",
            "Card (4242 auth 81A) $350.00",
            "Balance after this receipt", f"{ACU} tokens left 5", end, f"Transaction {sale}"]
    expected = {
        (sale, False): [*HEAD, "Receipt #1", "<when> staff: tester", zoe, *sold],
        (sale, True): [*HEAD, "Receipt #1", "COPY", "<when> staff: tester", zoe, *sold],
        (token.txn.txn_id, False): [
            *HEAD, "Receipt #2", "<when> staff: tester", zoe,
            f"{SVC} 1 {ACU} token", "Herbs $12.50", "Total $12.50",
            f"{ACU} token used 1", "Cash $12.50", "Cash handed over $20.00",
            "Change given $7.50",
            "Balance after this receipt", f"{ACU} tokens left 4", end,
            f"Transaction {token.txn.txn_id}"],
        (owed.txn.txn_id, False): [
            *HEAD, "Receipt #4", "<when> staff: tester", bob,
            f"{SVC} $95.00", "Total $95.00", "From credit $30.00", "Left owed $65.00",
            "Balance after this receipt", "Owed $65.00", end,
            f"Transaction {owed.txn.txn_id}"],
        (fee.txn_id, False): [
            *HEAD, "Receipt #5", "<when> staff: tester", zoe,
            f"Appointment: {SVC}, 2026-03-03 10:00",
            f"Late cancel fee 1 {ACU} token", f"{ACU} token used 1",
            "Balance after this receipt", f"{ACU} tokens left 3", end,
            f"Transaction {fee.txn_id}"],
        (money_back.txn_id, False): [
            *HEAD, "Refund #7", "<when> staff: tester", bob,
            "Credit refunded $40.00", "Total refunded $40.00", "Cash paid out $40.00",
            "Balance after this receipt", "Credit $55.00", end,
            f"Transaction {money_back.txn_id}"],
        (rev.txn_id, False): [
            *HEAD, "REVERSAL of #2", "Receipt #8", "<when> staff: tester", zoe,
            "Reason: wrong patient",
            f"{SVC} 1 {ACU} token", "Herbs -$12.50", "Total reversed -$12.50",
            f"{ACU} token returned 1", "Cash returned $12.50",
            "Balance after this receipt", f"{ACU} tokens left 4", end,
            f"Transaction {rev.txn_id}"]}
    for (txn_id, copy), lines in expected.items():
        found = both_papers(c, txn_id, tmp_path, copy=copy)
        assert found["letter"] == lines, (txn_id, copy)
        if txn_id == fee.txn_id:   # the roll is narrower: the appointment wraps, whole
            lines = [*lines[:7], f"Appointment: {SVC},", "2026-03-03 10:00", *lines[8:]]
        assert found["roll80"] == lines, (txn_id, copy)


def test_a_change_note_is_read_whatever_the_reference_says() -> None:
    """The change note is split from the tender's reference even when the reference
    itself says "given"; a note that is not "given X, change Y" prints as it is."""
    base = ReceiptData(
        ClinicHeader("C"), "Receipt", 1, 1, dt.datetime(2026, 3, 2, 15, 0), "Ann", "Bob", 1,
        (ReceiptLine("Massage", 8000),), (Payment("cash", 8000),), 8000,
        change_note="given $100.00, change $20.00")
    assert [row.left for row in _rows(base) if "given" in row.left.lower()] == [
        "Change given"]
    odd = _rows(ReceiptData(**{**{f: getattr(base, f) for f in base.__slots__},
                               "change_note": "change kept as credit"}))
    assert [(row.left, row.indent) for row in odd if "change" in row.left] == [
        ("change kept as credit", 8)]
    assert _split_change("cash gift given by dad given $50.00, change $5.00") == (
        "cash gift given by dad", "given $50.00, change $5.00")
    assert _split_change("given CHF 1,020.00, change CHF 0.50") == (
        "", "given CHF 1,020.00, change CHF 0.50")
    assert _split_change("slip 0042") == ("slip 0042", "")
