"""The schedule side of the ``desk`` command line end to end (SPEC §3, §9), on SQLite
and PostgreSQL: book, move, checkin, cancel, renew, day, receipt.

Every test gets a fresh migrated database and drives it only through the CLI (the
real clock: visits are booked relative to ``datetime.now()``), asserting the exact
JSON of the contract, the exit codes (0 ok, 2 bad input, 3 refused) and, for every
refusal, that not one row of the database changed. Receipts are read back with
``pdftotext``.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import Desk

ACU = "Acupuncture"
SERVICE = "Acupuncture 30"        # 30 minutes, 65.00, takes an Acupuncture token
PACK = "Acupuncture 5-pack"       # 5 Acupuncture tokens for 120.00 (24.00 each)
MARA = "Dr. Mara Quinn"
LEO = "Dr. Leo Park"


# -- helpers -------------------------------------------------------------------------------

def on(days: int, hh_mm: str) -> str:
    """Local today + ``days`` at ``hh_mm``, as ``--at`` takes it."""
    return f"{(dt.date.today() + dt.timedelta(days=days)).isoformat()}T{hh_mm}"


def from_now(**delta: float) -> str:
    """Now (local, desk's default clock) moved by ``delta``, to the whole minute."""
    when = (dt.datetime.now() + dt.timedelta(**delta)).replace(second=0, microsecond=0)
    return when.strftime("%Y-%m-%dT%H:%M")


def iso(at: str, minutes: int = 0) -> str:
    """The JSON form of an ``--at`` value plus ``minutes``."""
    return (dt.datetime.fromisoformat(at) + dt.timedelta(minutes=minutes)).isoformat()


def bal(pid: int, credit: str, tokens: dict[str, int] | None = None) -> dict[str, Any]:
    """The exact balance JSON of one patient (no expiring lots in this module)."""
    return {"patient_id": pid, "credit": credit, "tokens": tokens or {}, "held": {},
            "next_expiry": {}}


def booked(result: dict[str, Any], at: str, *, hold: str | None = None, covered: bool = True,
           overridden: bool = False, replayed: bool = False, minutes: int = 30) -> int:
    """Assert the exact ``book`` JSON; return the appointment id."""
    assert isinstance(result["id"], int) and result["id"] > 0, result
    assert result == {"id": result["id"], "starts_at": iso(at), "ends_at": iso(at, minutes),
                      "hold": hold, "covered": covered, "overridden": overridden,
                      "replayed": replayed}
    return int(result["id"])


def checked_in(result: dict[str, Any], appt: int, receipt_no: int, balance: dict[str, Any],
               *, due: str, token_used: bool, credit_applied: str = "0.00",
               paid: str = "0.00", owed: str = "0.00", credit_added: str = "0.00",
               change: str = "0.00", receipt_file: str | None = None) -> int:
    """Assert the exact ``checkin`` JSON; return the transaction id."""
    expected: dict[str, Any] = {
        "txn_id": result["txn_id"], "kind": "checkin", "receipt_no": receipt_no,
        "replayed": False, "balances": [balance], "balance": balance, "appointment_id": appt,
        "due": due, "token_used": token_used, "credit_applied": credit_applied,
        "paid": paid, "owed": owed, "credit_added": credit_added, "change": change}
    if receipt_file is not None:
        expected["receipt_file"] = receipt_file
    assert isinstance(result["txn_id"], int), result
    assert result == expected
    return int(result["txn_id"])


def clinic(desk: Desk) -> None:
    desk.ok("practitioner", "add", "--name", MARA)
    desk.ok("practitioner", "add", "--name", LEO)
    desk.ok("service", "add", "--name", SERVICE, "--minutes", "30", "--price", "65",
            "--token-kind", ACU)
    desk.ok("package", "add", "--name", PACK, "--token-kind", ACU, "--tokens", "5",
            "--price", "120")


def patient(desk: Desk, name: str) -> int:
    return int(desk.ok("patient", "add", "--name", name)["id"])


def book(desk: Desk, pid: int, at: str, who: str = MARA, *extra: str) -> dict[str, Any]:
    return desk.ok("book", "--patient", str(pid), "--service", SERVICE, "--practitioner", who,
                   "--at", at, *extra)


def refused(desk: Desk, code: int, argv: list[str], *, option: str | None = None,
            message: str | None = None) -> str:
    """Run ``argv``, require exit ``code`` and that not one row changed; return stderr."""
    before = desk.table_rows()
    result = desk.fails(code, *argv)
    if option is not None:
        assert re.search(rf"(?<![\w-]){re.escape(option)}(?![\w-])", result.err), \
            result.describe()
    if message is not None:
        assert message in result.err, result.describe()
    assert desk.table_rows() == before, argv
    return result.err


def verified(desk: Desk) -> dict[str, Any]:
    report = desk.ok("db", "verify")
    assert (report["ok"], report["problems"]) == (True, []), report
    return report


def pdf_lines(path: Path) -> list[str]:
    """The receipt's text, one entry per non-empty line, spaces collapsed."""
    tool = shutil.which("pdftotext")
    if tool is None:
        pytest.fail("pdftotext (poppler-utils) is needed to read receipts back")
    assert path.read_bytes().startswith(b"%PDF-"), path
    text = subprocess.run([tool, "-layout", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout
    return [" ".join(line.split()) for line in text.splitlines() if line.strip()]


def receipt_body(lines: list[str]) -> list[str]:
    """Every line but the one with the local time of the transaction."""
    stamp = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2} staff: cli")
    dated = [line for line in lines if stamp.fullmatch(line)]
    assert len(dated) == 1, lines
    return [line for line in lines if not stamp.fullmatch(line)]


def appointment_status(desk: Desk, day_offset: int, appt: int) -> str:
    view = desk.ok("day", "--date", on(day_offset, "00:00")[:10])
    (found,) = [a for a in view["appointments"] if a["id"] == appt]
    return str(found["status"])


# -- book ------------------------------------------------------------------------------------

def test_book_prints_id_coverage_and_refuses_a_clash(desk: Desk) -> None:
    clinic(desk)
    ana, ben, cara = patient(desk, "Ana Silva"), patient(desk, "Ben Okafor"), \
        patient(desk, "Cara Diaz")
    desk.ok("sell", "--patient", str(ana), "--package", PACK, "--pay", "card:120")
    desk.ok("sell", "--patient", str(cara), "--credit", "65", "--pay", "cash:65")

    first = booked(book(desk, ana, on(3, "10:00")), on(3, "10:00"))            # a token
    back_to_back = booked(book(desk, ben, on(3, "10:30")), on(3, "10:30"), covered=False)
    other_column = booked(book(desk, cara, on(3, "10:00"), LEO), on(3, "10:00"))  # 65.00
    assert len({first, back_to_back, other_column}) == 3
    # A longer visit, and a note.
    long = booked(book(desk, cara, on(3, "14:00"), MARA, "--minutes", "90", "--note",
                       "first visit"), on(3, "14:00"), covered=True, minutes=90)

    # Overlapping a visit of the same practitioner: refused, nothing written.
    err = refused(desk, 3, ["book", "--patient", str(ben), "--service", SERVICE,
                            "--practitioner", MARA, "--at", on(3, "10:15")])
    assert f"{MARA} already has Ana Silva 10:00–10:30 that day (appointment {first}); " \
           "double booking is off" in err
    refused(desk, 3, ["book", "--patient", str(ben), "--service", SERVICE, "--practitioner",
                      MARA, "--at", on(3, "15:00")], message=f"(appointment {long})")

    view = desk.ok("day", "--date", on(3, "00:00")[:10])
    assert [(a["id"], a["patient_id"], a["status"], a["covered_by"])
            for a in view["appointments"]] == [
        (first, ana, "booked", "token"), (other_column, cara, "booked", "credit"),
        (back_to_back, ben, "booked", None), (long, cara, "booked", None)]
    # Booking writes no ledger transaction: only the two sales.
    assert verified(desk)["transactions"] == 2


def test_book_with_the_same_key_books_once_and_answers_the_same(desk: Desk) -> None:
    """SPEC §2.5: replaying a key returns the original result, not a new booking."""
    clinic(desk)
    ana, ben = patient(desk, "Ana Silva"), patient(desk, "Ben Okafor")
    desk.ok("sell", "--patient", str(ana), "--package", PACK, "--pay", "card:120")
    first = booked(book(desk, ana, on(4, "09:00"), MARA, "--key", "book-ana-1"),
                   on(4, "09:00"))
    assert booked(book(desk, ana, on(4, "09:00"), MARA, "--key", "book-ana-1"),
                  on(4, "09:00"), replayed=True) == first
    keyed = booked(book(desk, ben, on(4, "10:00"), MARA, "--key", "book-ben-1"),
                   on(4, "10:00"), covered=False)
    rows = desk.table_rows()
    again = book(desk, ben, on(4, "10:00"), MARA, "--key", "book-ben-1")
    assert desk.table_rows() == rows
    # Ben has no token and no credit: the replay must not claim the visit is covered.
    assert booked(again, on(4, "10:00"), covered=False, replayed=True) == keyed
    view = desk.ok("day", "--date", on(4, "00:00")[:10])
    assert [a["id"] for a in view["appointments"]] == [first, keyed]


def test_book_with_holds_and_the_no_credit_policy(desk: Desk) -> None:
    clinic(desk)
    ana, ben, cara = patient(desk, "Ana Silva"), patient(desk, "Ben Okafor"), \
        patient(desk, "Cara Diaz")
    desk.ok("sell", "--patient", str(ana), "--package", PACK, "--pay", "card:120")
    desk.ok("sell", "--patient", str(cara), "--credit", "70", "--pay", "cash:70")
    desk.ok("settings", "set", "reserve_token_at_booking", "true")

    token_hold = booked(book(desk, ana, on(5, "10:00")), on(5, "10:00"), hold="token")
    credit_hold = booked(book(desk, cara, on(5, "11:00")), on(5, "11:00"), hold="credit")
    no_hold = booked(book(desk, ben, on(5, "12:00")), on(5, "12:00"), covered=False)
    # Cara's 70.00 less the 65.00 held leaves 5.00: her second visit is not covered.
    second = booked(book(desk, cara, on(5, "13:00")), on(5, "13:00"), covered=False)

    view = desk.ok("day", "--date", on(5, "00:00")[:10])
    assert [(a["id"], a["covered_by"]) for a in view["appointments"]] == [
        (token_hold, "hold"), (credit_hold, "hold"), (no_hold, None), (second, None)]
    assert view["wallets"][str(ana)] == {"credit": "0.00", "tokens": {ACU: 5},
                                         "held": {ACU: 1}, "credit_held": "0.00",
                                         "next_expiry": {}}
    assert view["wallets"][str(cara)] == {"credit": "70.00", "tokens": {}, "held": {},
                                          "credit_held": "65.00", "next_expiry": {}}
    assert view["counts"]["not_covered"] == 2

    # "Prevent booking without credit": refused (exit 3) unless a manager overrides.
    desk.ok("settings", "set", "prevent_no_credit_booking", "true")
    refused(desk, 3, ["book", "--patient", str(ben), "--service", SERVICE, "--practitioner",
                      LEO, "--at", on(6, "10:00")],
            message="Ben Okafor has no Acupuncture token and only $0.00 credit for "
                    "Acupuncture 30 ($65.00); a manager may override")
    booked(book(desk, ben, on(6, "10:00"), LEO, "--override"), on(6, "10:00"),
           covered=False, overridden=True)
    booked(book(desk, ana, on(6, "11:00"), LEO), on(6, "11:00"), hold="token")
    assert verified(desk)["transactions"] == 2


def test_balance_shows_the_tokens_held_for_booked_visits(desk: Desk) -> None:
    """SPEC §9: ``balance`` -> {"patient_id", "credit", "tokens", "held": {kind: n}}."""
    clinic(desk)
    ana = patient(desk, "Ana Silva")
    desk.ok("sell", "--patient", str(ana), "--package", PACK, "--pay", "card:120")
    desk.ok("settings", "set", "reserve_token_at_booking", "true")
    booked(book(desk, ana, on(5, "10:00")), on(5, "10:00"), hold="token")
    booked(book(desk, ana, on(6, "10:00")), on(6, "10:00"), hold="token")
    found = desk.ok("balance", "--patient", str(ana))
    assert found == {"patient_id": ana, "credit": "0.00", "tokens": {ACU: 5},
                     "held": {ACU: 2}, "next_expiry": {}}


@pytest.mark.parametrize("bad", ["2026-02-30T10:00", "10:00", "2026-03-02T25:00"])
def test_book_refuses_a_bad_at_with_exit_2(desk: Desk, bad: str) -> None:
    clinic(desk)
    ana = patient(desk, "Ana Silva")
    refused(desk, 2, ["book", "--patient", str(ana), "--service", SERVICE, "--practitioner",
                      MARA, "--at", bad], option="--at")


# -- move ------------------------------------------------------------------------------------

def test_move_to_another_time_and_practitioner(desk: Desk) -> None:
    clinic(desk)
    ana, ben = patient(desk, "Ana Silva"), patient(desk, "Ben Okafor")
    a = booked(book(desk, ana, on(3, "09:00")), on(3, "09:00"), covered=False)
    b = booked(book(desk, ben, on(3, "11:00")), on(3, "11:00"), covered=False)

    assert desk.ok("move", "--appointment", str(a), "--at", on(3, "09:30")) == {
        "id": a, "starts_at": iso(on(3, "09:30")), "ends_at": iso(on(3, "10:00"))}
    # Onto Ben's 11:00 with Mara: refused; with Leo it is free.
    refused(desk, 3, ["move", "--appointment", str(a), "--at", on(3, "10:45")],
            message=f"already has Ben Okafor 11:00–11:30 that day (appointment {b})")
    assert desk.ok("move", "--appointment", str(a), "--at", on(3, "11:00"),
                   "--practitioner", LEO) == {
        "id": a, "starts_at": iso(on(3, "11:00")), "ends_at": iso(on(3, "11:30"))}
    # A visit can move onto its own old slot's neighbourhood (it does not clash with itself).
    assert desk.ok("move", "--appointment", str(a), "--at", on(3, "11:15"))["starts_at"] == \
        iso(on(3, "11:15"))
    refused(desk, 2, ["move", "--appointment", str(a), "--at", "2026-02-30T10:00"],
            option="--at")
    view = desk.ok("day", "--date", on(3, "00:00")[:10])
    ids = {p["name"]: p["id"] for p in view["practitioners"]}
    assert [(x["id"], x["practitioner_id"], x["starts_at"]) for x in view["appointments"]] == [
        (b, ids[MARA], iso(on(3, "11:00"))), (a, ids[LEO], iso(on(3, "11:15")))]
    # Only booked visits move.
    desk.ok("checkin", "--appointment", str(a), "--pay", "card:65")
    refused(desk, 3, ["move", "--appointment", str(a), "--at", on(4, "09:00")],
            message=f"appointment {a} is checked in; only booked visits can move")


# -- checkin ---------------------------------------------------------------------------------

def test_checkin_with_a_token_an_item_and_a_receipt(desk: Desk, tmp_path: Path) -> None:
    clinic(desk)
    ana = patient(desk, "Ana Silva")
    desk.ok("sell", "--patient", str(ana), "--package", PACK, "--pay", "card:120")  # receipt 1
    desk.ok("sell", "--patient", str(ana), "--credit", "40", "--pay", "cash:40")    # receipt 2
    v1 = booked(book(desk, ana, on(3, "09:00")), on(3, "09:00"))
    v2 = booked(book(desk, ana, on(3, "10:00")), on(3, "10:00"))
    v3 = booked(book(desk, ana, on(3, "11:00")), on(3, "11:00"))

    first = checked_in(desk.ok("checkin", "--appointment", str(v1), "--use-token"), v1, 3,
                       bal(ana, "40.00", {ACU: 4}), due="0.00", token_used=True)
    # Token for the treatment, herbs from credit (auto-applied), receipt written.
    pdf = tmp_path / "visit.pdf"
    second = checked_in(
        desk.ok("checkin", "--appointment", str(v2), "--use-token", "--item", "Herbs=12.50",
                "--receipt", str(pdf)),
        v2, 4, bal(ana, "27.50", {ACU: 3}), due="12.50", token_used=True,
        credit_applied="12.50", receipt_file=str(pdf))
    assert second > first
    assert receipt_body(pdf_lines(pdf)) == [
        "Receipt", "Receipt #4", "Patient: Ana Silva",
        "Acupuncture 30 1 Acupuncture token", "Herbs $12.50", "Total $12.50",
        "Acupuncture token used 1", "From credit $12.50",
        "Balance after this receipt", "Acupuncture tokens left 3", "Credit $27.50",
        f"Transaction {second}"]
    # No token this time: 65.00 + two items = 80.00, 30.00 card, 27.50 credit, 22.50 owed.
    pdf3 = tmp_path / "third.pdf"
    checked_in(
        desk.ok("checkin", "--appointment", str(v3), "--no-token", "--item", "Herbs=12.50",
                "--item", "Cupping oil=2.50", "--pay", "card:30:4242 auth 81A",
                "--receipt", str(pdf3)),
        v3, 5, bal(ana, "-22.50", {ACU: 3}), due="80.00", token_used=False,
        credit_applied="27.50", paid="30.00", owed="22.50", receipt_file=str(pdf3))
    body = receipt_body(pdf_lines(pdf3))
    assert body[:3] == ["Receipt", "Receipt #5", "Patient: Ana Silva"]
    assert body[3:] == [
        "Acupuncture 30 $65.00", "Herbs $12.50", "Cupping oil $2.50", "Total $80.00",
        "Card (4242 auth 81A) $30.00", "From credit $27.50", "Left owed $22.50",
        "Balance after this receipt", "Acupuncture tokens left 3", "Owed $22.50",
        f"Transaction {body[-1].split()[-1]}"]
    assert appointment_status(desk, 3, v3) == "checked_in"
    assert verified(desk)["transactions"] == 5


def test_checkin_cash_change_and_credit_choices(desk: Desk) -> None:
    clinic(desk)
    ben, cara = patient(desk, "Ben Okafor"), patient(desk, "Cara Diaz")
    desk.ok("sell", "--patient", str(cara), "--credit", "100", "--pay", "cash:100")  # receipt 1
    visits = [booked(book(desk, ben, on(3, f"{9 + i:02d}:00")), on(3, f"{9 + i:02d}:00"),
                     covered=False) for i in range(2)]
    cvisits = [booked(book(desk, cara, on(3, f"{9 + i:02d}:00"), LEO), on(3, f"{9 + i:02d}:00"))
               for i in range(4)]

    # 70.00 cash kept of 100.00 handed over: 30.00 change, 5.00 over the price is credit.
    checked_in(desk.ok("checkin", "--appointment", str(visits[0]), "--pay", "cash:70",
                       "--cash-given", "100"),
               visits[0], 2, bal(ben, "5.00"), due="65.00", token_used=False, paid="70.00",
               credit_added="5.00", change="30.00")
    # Opting out of credit: the 5.00 is still drawn (one signed balance), shown as owed.
    checked_in(desk.ok("checkin", "--appointment", str(visits[1]), "--use-credit", "none",
                       "--pay", "card:60"),
               visits[1], 3, bal(ben, "0.00"), due="65.00", token_used=False, paid="60.00",
               owed="5.00")

    # More credit than is available: refused (3). More than is due: bad input (2).
    refused(desk, 3, ["checkin", "--appointment", str(cvisits[0]), "--use-credit", "100.01"],
            message="only $100.00 credit is available; cannot use $100.01")
    refused(desk, 2, ["checkin", "--appointment", str(cvisits[0]), "--use-credit", "70"],
            option="--use-credit", message="$70.00 is more than the $65.00 due")
    # Part of the credit, the rest paid; then all of it.
    checked_in(desk.ok("checkin", "--appointment", str(cvisits[0]), "--use-credit", "20",
                       "--pay", "card:45"),
               cvisits[0], 4, bal(cara, "80.00"), due="65.00", token_used=False,
               credit_applied="20.00", paid="45.00")
    checked_in(desk.ok("checkin", "--appointment", str(cvisits[1]), "--use-credit", "all"),
               cvisits[1], 5, bal(cara, "15.00"), due="65.00", token_used=False,
               credit_applied="65.00")
    # 15.00 left: "all" applies 15.00, the cash pays 40.00, 10.00 is left owed.
    checked_in(desk.ok("checkin", "--appointment", str(cvisits[2]), "--use-credit", "all",
                       "--pay", "cash:40", "--cash-given", "50"),
               cvisits[2], 6, bal(cara, "-10.00"), due="65.00", token_used=False,
               credit_applied="15.00", paid="40.00", owed="10.00", change="10.00")
    # A sliding-scale price.
    checked_in(desk.ok("checkin", "--appointment", str(cvisits[3]), "--price", "45",
                       "--pay", "check:55:1023"),
               cvisits[3], 7, bal(cara, "0.00"), due="45.00", token_used=False,
               paid="55.00", credit_added="10.00")
    report = verified(desk)
    assert report["transactions"] == 7


def test_checkin_buying_a_package_and_auto(desk: Desk) -> None:
    clinic(desk)
    ana, ben, dan = patient(desk, "Ana Silva"), patient(desk, "Ben Okafor"), \
        patient(desk, "Dan Wu")
    desk.ok("sell", "--patient", str(ana), "--package", PACK, "--pay", "card:120")  # 1
    desk.ok("sell", "--patient", str(dan), "--credit", "50", "--pay", "cash:50")    # 2
    b1 = booked(book(desk, ben, on(3, "09:00")), on(3, "09:00"), covered=False)
    b2 = booked(book(desk, ben, on(3, "10:00")), on(3, "10:00"), covered=False)
    a1 = booked(book(desk, ana, on(3, "09:00"), LEO), on(3, "09:00"))
    d1 = booked(book(desk, dan, on(3, "10:00"), LEO), on(3, "10:00"), covered=False)
    d2 = booked(book(desk, dan, on(3, "11:00"), LEO), on(3, "11:00"), covered=False)

    # Ben buys the 5-pack at the desk: today's visit takes one of its tokens.
    checked_in(desk.ok("checkin", "--appointment", str(b1), "--buy-package", PACK,
                       "--pay", "card:120"),
               b1, 3, bal(ben, "0.00", {ACU: 4}), due="120.00", token_used=True,
               paid="120.00")
    # --auto: a token when there is one ...
    checked_in(desk.ok("checkin", "--appointment", str(b2), "--auto"),
               b2, 4, bal(ben, "0.00", {ACU: 3}), due="0.00", token_used=True)
    checked_in(desk.ok("checkin", "--appointment", str(a1), "--auto"),
               a1, 5, bal(ana, "0.00", {ACU: 4}), due="0.00", token_used=True)
    # ... else credit, else owed.
    checked_in(desk.ok("checkin", "--appointment", str(d1), "--auto"),
               d1, 6, bal(dan, "-15.00"), due="65.00", token_used=False,
               credit_applied="50.00", owed="15.00")
    checked_in(desk.ok("checkin", "--appointment", str(d2), "--auto"),
               d2, 7, bal(dan, "-80.00"), due="65.00", token_used=False, owed="65.00")
    refused(desk, 2, ["checkin", "--appointment", str(d2), "--auto", "--use-token"],
            option="--auto")
    assert verified(desk)["transactions"] == 7


def test_reversing_a_checkin_that_bought_a_package_gives_everything_back(desk: Desk) -> None:
    """SPEC §3 Reverse: the exact opposite lines, tokens back to their lots, the visit
    booked again — also when the visit used a token of the package it bought."""
    clinic(desk)
    ben = patient(desk, "Ben Okafor")
    visit = booked(book(desk, ben, on(3, "09:00")), on(3, "09:00"), covered=False)
    done = checked_in(desk.ok("checkin", "--appointment", str(visit), "--buy-package", PACK,
                              "--pay", "card:120"),
                      visit, 1, bal(ben, "0.00", {ACU: 4}), due="120.00", token_used=True,
                      paid="120.00")
    undo = desk("reverse", "--txn", str(done), "--reason", "wrong patient")
    assert undo.code == 0, undo.describe()
    assert undo.json["balances"] == [bal(ben, "0.00")]
    assert appointment_status(desk, 3, visit) == "booked"
    assert verified(desk)["transactions"] == 2


def test_a_free_checkin_can_be_reversed(desk: Desk) -> None:
    """A visit checked in at no charge (``--price 0``) by mistake is reversed like any
    other check-in: the visit is booked again (SPEC §3 Reverse)."""
    clinic(desk)
    ben = patient(desk, "Ben Okafor")
    visit = booked(book(desk, ben, on(3, "09:00")), on(3, "09:00"), covered=False)
    done = checked_in(desk.ok("checkin", "--appointment", str(visit), "--price", "0"),
                      visit, 1, bal(ben, "0.00"), due="0.00", token_used=False)
    undo = desk("reverse", "--txn", str(done), "--reason", "wrong patient")
    assert undo.code == 0, undo.describe()
    assert (undo.json["kind"], undo.json["receipt_no"], undo.json["balances"]) == (
        "reversal", 2, [bal(ben, "0.00")])
    assert appointment_status(desk, 3, visit) == "booked"
    checked_in(desk.ok("checkin", "--appointment", str(visit), "--pay", "card:65"),
               visit, 3, bal(ben, "0.00"), due="65.00", token_used=False, paid="65.00")
    assert verified(desk)["transactions"] == 3


def test_checkin_refusals_write_nothing(desk: Desk) -> None:
    clinic(desk)
    ben, cara = patient(desk, "Ben Okafor"), patient(desk, "Cara Diaz")
    desk.ok("sell", "--patient", str(cara), "--credit", "10", "--pay", "cash:10")
    visit = booked(book(desk, ben, on(3, "09:00")), on(3, "09:00"), covered=False)
    other = booked(book(desk, cara, on(3, "10:00")), on(3, "10:00"), covered=False)

    # Asking for a token when there is none: refused, never a silent negative.
    refused(desk, 3, ["checkin", "--appointment", str(visit), "--use-token"],
            message="no Acupuncture token available for this visit")
    refused(desk, 3, ["checkin", "--appointment", str(other), "--use-token", "--pay",
                      "cash:65"], message="no Acupuncture token available")
    for bad in ("Herbs", "=5", "Herbs=abc", "Herbs=-1", "Herbs=12.345"):
        refused(desk, 2, ["checkin", "--appointment", str(visit), "--item", bad],
                option="--item")
    refused(desk, 2, ["checkin", "--appointment", str(visit), "--cash-given", "100"],
            option="--cash-given")
    refused(desk, 2, ["checkin", "--appointment", str(visit), "--pay", "cash:70",
                      "--cash-given", "50"], option="--cash-given")
    refused(desk, 2, ["checkin", "--appointment", str(visit), "--use-credit", "lots"],
            option="--use-credit")
    refused(desk, 2, ["checkin", "--appointment", "987654"], option="--appointment")
    refused(desk, 2, ["checkin", "--appointment", str(visit), "--buy-package", "No such"],
            option="--package")
    # Checked in once; the second time is refused.
    checked_in(desk.ok("checkin", "--appointment", str(visit), "--pay", "card:65"),
               visit, 2, bal(ben, "0.00"), due="65.00", token_used=False, paid="65.00")
    refused(desk, 3, ["checkin", "--appointment", str(visit), "--pay", "card:65"],
            message=f"appointment {visit} is checked in; it cannot become checked in")
    assert verified(desk)["transactions"] == 2


# -- cancel ----------------------------------------------------------------------------------

def cancelled(result: dict[str, Any], appt: int, status: str, balance: dict[str, Any],
              paid_by: str = "none") -> int:
    """A cancel that moves nothing is still recorded (no lines, no receipt) under its key."""
    assert isinstance(result["txn_id"], int), result
    assert result == {"appointment_id": appt, "status": status, "fee": "0.00",
                      "paid_by": paid_by, "txn_id": result["txn_id"], "kind": "cancel",
                      "receipt_no": None, "replayed": False, "balances": [balance]}
    return int(result["txn_id"])


def fee_charged(result: dict[str, Any], appt: int, status: str, fee: str, paid_by: str,
                receipt_no: int, balance: dict[str, Any]) -> int:
    assert isinstance(result["txn_id"], int), result
    assert result == {"appointment_id": appt, "status": status, "fee": fee,
                      "paid_by": paid_by, "txn_id": result["txn_id"], "kind": "fee",
                      "receipt_no": receipt_no, "replayed": False, "balances": [balance]}
    return int(result["txn_id"])


def test_cancel_on_time_late_and_no_show(desk: Desk) -> None:
    clinic(desk)
    ana, ben, cara = patient(desk, "Ana Silva"), patient(desk, "Ben Okafor"), \
        patient(desk, "Cara Diaz")
    desk.ok("sell", "--patient", str(ana), "--package", PACK, "--pay", "card:120")  # 1
    desk.ok("sell", "--patient", str(cara), "--credit", "100", "--pay", "cash:100")  # 2

    # Without fees configured (the defaults are 0.00) a late cancel costs nothing.
    soon, past = from_now(hours=1), from_now(hours=-2)
    free_late = booked(book(desk, cara, soon, LEO), soon)
    cancelled(desk.ok("cancel", "--appointment", str(free_late)), free_late,
              "late_cancelled", bal(cara, "100.00"))
    desk.ok("settings", "set", "late_cancel_fee", "15.00")
    desk.ok("settings", "set", "no_show_fee", "25.00")

    # On time (more than 24 h ahead): free, the slot is free again.
    on_time = booked(book(desk, ben, on(2, "10:00")), on(2, "10:00"), covered=False)
    cancelled(desk.ok("cancel", "--appointment", str(on_time)), on_time, "cancelled",
              bal(ben, "0.00"))
    booked(book(desk, cara, on(2, "10:00")), on(2, "10:00"))
    # Forced late (audited): the late fee, from Cara's credit.
    forced = booked(book(desk, cara, on(2, "12:00")), on(2, "12:00"))
    fee_charged(desk.ok("cancel", "--appointment", str(forced), "--late"), forced,
                "late_cancelled", "15.00", "credit", 3, bal(cara, "85.00"))
    # Inside the 24 h window: late, paid with one of Ana's tokens.
    late = booked(book(desk, ana, soon), soon)
    fee_charged(desk.ok("cancel", "--appointment", str(late), "--take-token"), late,
                "late_cancelled", "15.00", "token", 4, bal(ana, "0.00", {ACU: 4}))
    # No-show of a visit that started two hours ago: Ben has nothing, so it is owed.
    missed = booked(book(desk, ben, past), past, covered=False)
    fee_charged(desk.ok("cancel", "--appointment", str(missed), "--no-show"), missed,
                "no_show", "25.00", "owed", 5, bal(ben, "-25.00"))
    # Waived with a reason: no transaction, no fee.
    waived = booked(book(desk, cara, past, LEO), past)
    cancelled(desk.ok("cancel", "--appointment", str(waived), "--no-show", "--waive",
                      "--reason", "family emergency"), waived, "no_show", bal(cara, "85.00"),
              "waived")

    assert [(a["id"], a["status"]) for a in desk.ok(
        "day", "--date", on(2, "00:00")[:10])["appointments"] if a["id"] in (on_time, forced)
    ] == [(on_time, "cancelled"), (forced, "late_cancelled")]
    assert desk.ok("balance", "--patient", str(cara)) == bal(cara, "85.00")
    # 2 sales, 3 fees with receipts 3-5, 3 cancels that moved nothing (no receipt).
    assert verified(desk)["transactions"] == 8


def test_cancel_replays_its_key_instead_of_cancelling_twice(desk: Desk) -> None:
    """SPEC §2.5: a double-click or a retry of a cancel returns the first answer."""
    clinic(desk)
    ben, cara = patient(desk, "Ben Okafor"), patient(desk, "Cara Diaz")
    desk.ok("sell", "--patient", str(cara), "--credit", "100", "--pay", "cash:100")  # 1
    desk.ok("settings", "set", "late_cancel_fee", "15.00")
    desk.ok("settings", "set", "no_show_fee", "25.00")
    soon, past = from_now(hours=1), from_now(hours=-2)
    late = booked(book(desk, cara, soon), soon)
    on_time = booked(book(desk, ben, on(2, "10:00")), on(2, "10:00"), covered=False)
    missed = booked(book(desk, cara, past, LEO), past)

    cases = [
        (["cancel", "--appointment", str(late), "--key", "c-1"],
         lambda r: fee_charged(r, late, "late_cancelled", "15.00", "credit", 2,
                               bal(cara, "85.00"))),
        (["cancel", "--appointment", str(on_time), "--key", "c-2"],
         lambda r: cancelled(r, on_time, "cancelled", bal(ben, "0.00"))),
        (["cancel", "--appointment", str(missed), "--no-show", "--waive", "--reason",
          "snowstorm", "--key", "c-3"],
         lambda r: cancelled(r, missed, "no_show", bal(cara, "85.00"), "waived")),
    ]
    for argv, check in cases:
        first = desk.ok(*argv)
        check(first)
        rows = desk.table_rows()
        again = desk.ok(*argv)
        assert again == {**first, "replayed": True}, argv
        assert desk.table_rows() == rows, argv
    # The same key for another request is refused.
    refused(desk, 3, ["cancel", "--appointment", str(on_time), "--late", "--key", "c-2"],
            message="was already used for a different request")
    assert verified(desk)["transactions"] == 4


def test_cancel_refusals_write_nothing(desk: Desk) -> None:
    clinic(desk)
    ben = patient(desk, "Ben Okafor")
    desk.ok("settings", "set", "late_cancel_fee", "15.00")
    future = booked(book(desk, ben, on(2, "10:00")), on(2, "10:00"), covered=False)
    soon = from_now(hours=1)
    late = booked(book(desk, ben, soon, LEO), soon, covered=False)

    refused(desk, 2, ["cancel", "--appointment", str(late), "--waive"], option="--reason")
    refused(desk, 2, ["cancel", "--appointment", str(late), "--late", "--no-show"],
            option="--no-show")
    refused(desk, 2, ["cancel", "--appointment", str(late), "--waive", "--reason", "x",
                      "--take-token"], option="--take-token")
    refused(desk, 3, ["cancel", "--appointment", str(future), "--no-show"],
            message="a no-show can only be recorded once it has started")
    refused(desk, 3, ["cancel", "--appointment", str(late), "--take-token"],
            message="no Acupuncture token available to pay the late cancel fee")
    refused(desk, 2, ["cancel", "--appointment", "987654"], option="--appointment")
    cancelled(desk.ok("cancel", "--appointment", str(future)), future, "cancelled",
              bal(ben, "0.00"))
    refused(desk, 3, ["cancel", "--appointment", str(future)],
            message=f"appointment {future} is cancelled; it cannot become cancelled")
    refused(desk, 3, ["checkin", "--appointment", str(future), "--pay", "card:65"],
            message=f"appointment {future} is cancelled; it cannot become checked in")
    assert verified(desk)["transactions"] == 1


# -- renew -----------------------------------------------------------------------------------

def test_renew_grants_a_membership_once_per_month(desk: Desk) -> None:
    clinic(desk)
    desk.ok("package", "add", "--name", "Monthly acupuncture", "--token-kind", ACU,
            "--tokens", "4", "--price", "100", "--monthly")
    ana, ben = patient(desk, "Ana Silva"), patient(desk, "Ben Okafor")
    desk.ok("sell", "--patient", str(ana), "--package", "Monthly acupuncture",
            "--pay", "card:100")                                                     # 1
    visit = booked(book(desk, ben, on(3, "09:00")), on(3, "09:00"), covered=False)
    checked_in(desk.ok("checkin", "--appointment", str(visit), "--buy-package",
                       "Monthly acupuncture", "--pay", "card:100"),
               visit, 2, bal(ben, "0.00", {ACU: 3}), due="100.00", token_used=True,
               paid="100.00")

    today = dt.date.today()
    this_month = f"{today:%Y-%m}"
    nxt = (today.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
    # The month of the sale is paid by the sale.
    assert desk.ok("renew") == {"period": this_month, "txn_ids": [], "memberships": 2}
    renewed = desk.ok("renew", "--as-of", nxt.isoformat())
    assert (renewed["period"], renewed["memberships"]) == (f"{nxt:%Y-%m}", 2)
    assert len(renewed["txn_ids"]) == 2
    assert desk.ok("balance", "--patient", str(ana)) == bal(ana, "-100.00", {ACU: 8})
    assert desk.ok("balance", "--patient", str(ben)) == bal(ben, "-100.00", {ACU: 7})
    # Idempotent per period.
    assert desk.ok("renew", "--as-of", (nxt + dt.timedelta(days=3)).isoformat()) == {
        "period": f"{nxt:%Y-%m}", "txn_ids": [], "memberships": 2}
    history = desk.ok("history", "--patient", str(ana))
    assert [(h["kind"], h["receipt_no"], h["credit_change"], h["token_changes"])
            for h in history] == [
        ("renewal", history[0]["receipt_no"], "-100.00", {ACU: 4}),
        ("sale", 1, "0.00", {ACU: 4})]
    assert sorted([history[0]["receipt_no"], desk.ok("history", "--patient", str(ben))[0][
        "receipt_no"]]) == [3, 4]
    refused(desk, 2, ["renew", "--as-of", "2026-02-30"], option="--as-of")
    assert verified(desk)["transactions"] == 4


# -- day -------------------------------------------------------------------------------------

def test_day_lists_visits_wallets_and_counts(desk: Desk) -> None:
    clinic(desk)
    ana, ben, cara = patient(desk, "Ana Silva"), patient(desk, "Ben Okafor"), \
        patient(desk, "Cara Diaz")
    desk.ok("sell", "--patient", str(ana), "--package", PACK, "--pay", "card:120")  # 1
    desk.ok("sell", "--patient", str(cara), "--credit", "100", "--pay", "cash:100")  # 2
    a1 = booked(book(desk, ana, on(4, "09:00")), on(4, "09:00"))
    b1 = booked(book(desk, ben, on(4, "10:00")), on(4, "10:00"), covered=False)
    c1 = booked(book(desk, cara, on(4, "09:00"), LEO, "--note", "knee"), on(4, "09:00"))
    c2 = booked(book(desk, cara, on(4, "11:00"), LEO), on(4, "11:00"))
    b2 = booked(book(desk, ben, on(4, "12:00"), LEO), on(4, "12:00"), covered=False)
    elsewhere = booked(book(desk, ben, on(5, "09:00")), on(5, "09:00"), covered=False)
    checked_in(desk.ok("checkin", "--appointment", str(c1), "--pay", "card:65"), c1, 3,
               bal(cara, "100.00"), due="65.00", token_used=False, paid="65.00")
    cancelled(desk.ok("cancel", "--appointment", str(b2)), b2, "cancelled", bal(ben, "0.00"))

    view = desk.ok("day", "--date", on(4, "00:00")[:10])
    ids = {p["name"]: p["id"] for p in view["practitioners"]}
    assert view["first_day"] == on(4, "00:00")[:10]
    assert view["days"] == 1
    assert [p["name"] for p in view["practitioners"]] == [MARA, LEO]

    def row(appt: int, pid: int, name: str, who: str, at: str, status: str,
            covered_by: str | None, receipt_no: int | None = None,
            note: str = "") -> dict[str, Any]:
        return {"id": appt, "patient_id": pid, "patient": name, "practitioner_id": ids[who],
                "service": SERVICE, "token_kind": ACU, "price": "65.00", "starts_at": iso(at),
                "ends_at": iso(at, 30), "status": status, "note": note,
                "receipt_no": receipt_no, "covered_by": covered_by}

    assert view["appointments"] == [
        row(a1, ana, "Ana Silva", MARA, on(4, "09:00"), "booked", "token"),
        row(c1, cara, "Cara Diaz", LEO, on(4, "09:00"), "checked_in", None, 3, "knee"),
        row(b1, ben, "Ben Okafor", MARA, on(4, "10:00"), "booked", None),
        row(c2, cara, "Cara Diaz", LEO, on(4, "11:00"), "booked", "credit"),
        row(b2, ben, "Ben Okafor", LEO, on(4, "12:00"), "cancelled", None)]
    assert elsewhere not in [a["id"] for a in view["appointments"]]
    assert view["counts"] == {"booked": 3, "checked_in": 1, "completed": 0, "cancelled": 1,
                              "late_cancelled": 0, "no_show": 0, "not_covered": 1}
    assert view["wallets"] == {
        str(ana): {"credit": "0.00", "tokens": {ACU: 5}, "held": {}, "credit_held": "0.00",
                   "next_expiry": {}},
        str(ben): {"credit": "0.00", "tokens": {}, "held": {}, "credit_held": "0.00",
                   "next_expiry": {}},
        str(cara): {"credit": "100.00", "tokens": {}, "held": {}, "credit_held": "0.00",
                    "next_expiry": {}}}
    # Two days at once; a day with nothing on it.
    two = desk.ok("day", "--date", on(4, "00:00")[:10], "--days", "2")
    assert [a["id"] for a in two["appointments"]] == [a1, c1, b1, c2, b2, elsewhere]
    assert two["counts"]["booked"] == 4
    empty = desk.ok("day", "--date", on(30, "00:00")[:10])
    assert (empty["appointments"], empty["wallets"]) == ([], {})
    assert sum(empty["counts"].values()) == 0
    refused(desk, 2, ["day", "--date", "2026-13-01"], option="--date")


# -- receipt ---------------------------------------------------------------------------------

def test_receipt_reprints_a_checkin_and_marks_a_copy(desk: Desk, tmp_path: Path) -> None:
    clinic(desk)
    ben = patient(desk, "Ben Okafor")
    visit = booked(book(desk, ben, on(3, "09:00")), on(3, "09:00"), covered=False)
    txn_id = checked_in(desk.ok("checkin", "--appointment", str(visit), "--item",
                                "Herbs=12.50", "--pay", "cash:80", "--cash-given", "100"),
                        visit, 1, bal(ben, "2.50"), due="77.50", token_used=False,
                        paid="80.00", credit_added="2.50", change="20.00")
    adjustment = desk.ok("adjust", "--patient", str(ben), "--credit", "-2.50", "--reason",
                         "change given back")["txn_id"]

    original, copy = tmp_path / "original.pdf", tmp_path / "copy.pdf"
    assert desk.ok("receipt", "--txn", str(txn_id), "--out", str(original)) == {
        "txn_id": txn_id, "file": str(original)}
    assert desk.ok("receipt", "--txn", str(txn_id), "--out", str(copy), "--copy") == {
        "txn_id": txn_id, "file": str(copy)}
    expected = [
        "Receipt", "Receipt #1", "Patient: Ben Okafor",
        "Acupuncture 30 $65.00", "Herbs $12.50", "Total $77.50",
        "Cash $80.00", "Cash handed over $100.00", "Change given $20.00",
        "Added to credit $2.50",
        # The balances right after this visit, even when reprinted later.
        "Balance after this receipt", "Credit $2.50", f"Transaction {txn_id}"]
    assert receipt_body(pdf_lines(original)) == expected
    assert receipt_body(pdf_lines(copy)) == [*expected[:2], "COPY", *expected[2:]]

    refused(desk, 3, ["receipt", "--txn", str(adjustment), "--out",
                      str(tmp_path / "none.pdf")], message="has no receipt")
    refused(desk, 2, ["receipt", "--txn", "987654", "--out", str(tmp_path / "none.pdf")],
            option="--txn")
    refused(desk, 2, ["receipt", "--txn", str(txn_id), "--out",
                      str(tmp_path / "missing" / "r.pdf")], message="does not exist")
    assert not (tmp_path / "none.pdf").exists()
