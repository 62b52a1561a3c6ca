"""End-to-end flows of the ``desk`` command line (SPEC §9), on SQLite and PostgreSQL.

Each test gets a fresh migrated database (``db_url``) and drives it only through
the CLI, asserting the exact JSON the contract promises: decimal strings for
amounts, integer ids, balances after every write, exit codes 0 / 2 / 3 / 1.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from desk.data.database import open_database
from desk.data.migrations import LATEST
from tests.e2e.conftest import WORKSTATION, Desk


def day(offset: int) -> str:
    """Local today + ``offset`` days, as desk's default clock sees it."""
    return (dt.date.today() + dt.timedelta(days=offset)).isoformat()


def bal(pid: int, credit: str, tokens: dict[str, int] | None = None,
        expiry: dict[str, str] | None = None) -> dict[str, Any]:
    """The exact ``balance`` JSON of one patient."""
    return {"patient_id": pid, "credit": credit, "tokens": tokens or {}, "held": {},
            "next_expiry": expiry or {}}


def txn(result: dict[str, Any], txn_id: int, kind: str, receipt_no: int | None,
        balances: list[dict[str, Any]], focus: dict[str, Any] | None = None,
        replayed: bool = False) -> None:
    """Assert the exact JSON of a ledger write."""
    expected: dict[str, Any] = {"txn_id": txn_id, "kind": kind, "receipt_no": receipt_no,
                                "replayed": replayed, "balances": balances}
    if focus is not None:
        expected["balance"] = focus
    assert result == expected


def line(account: str, unit: str, amount: str | int, memo: str) -> dict[str, Any]:
    return {"account": account, "unit": unit, "amount": amount, "memo": memo}


CREATED_AT = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}")


def entry(view: dict[str, Any], **expected: Any) -> None:
    """Assert one ``history`` entry exactly (``created_at`` only by its format)."""
    assert CREATED_AT.fullmatch(view["created_at"]), view["created_at"]
    base: dict[str, Any] = {
        "staff": "cli", "workstation": WORKSTATION, "memo": "", "receipt_no": None,
        "reverses": None, "reversed_by": None, "appointment_id": None,
        "credit_change": "0.00", "token_changes": {}}
    base.update(expected)
    assert {k: v for k, v in view.items() if k != "created_at"} == base


def verify_ok(desk: Desk, transactions: int, lines: int, accounts: int, lots: int) -> None:
    result = desk("db", "verify")
    assert result.code == 0, result.describe()
    assert result.json == {"ok": True, "transactions": transactions, "lines": lines,
                           "accounts": accounts, "lots": lots, "problems": []}


def acupuncture_clinic(desk: Desk, *, expires_days: int = 30) -> None:
    """Service "Acupuncture 30" (token kind Acupuncture) and a 5-pack for 120.00."""
    desk.ok("service", "add", "--name", "Acupuncture 30", "--minutes", "30", "--price", "65",
            "--token-kind", "Acupuncture")
    desk.ok("package", "add", "--name", "Acupuncture 5-pack", "--token-kind", "Acupuncture",
            "--tokens", "5", "--price", "120", "--expires-days", str(expires_days))


def new_patient(desk: Desk, name: str) -> int:
    return int(desk.ok("patient", "add", "--name", name)["id"])


# --------------------------------------------------------------------------- init


def test_init_creates_a_new_database_then_is_a_no_op(
        backend: str, request: pytest.FixtureRequest, tmp_path: Path, desk: Desk) -> None:
    if backend == "sqlite":
        path = tmp_path / "new folder" / "clinic é.sqlite3"
        url = f"sqlite:///{path}"
        assert not path.exists()
    else:
        url = request.getfixturevalue("empty_db_url")

    first = desk.raw("--db", url, "--json", "init")
    assert first.code == 0, first.describe()
    assert first.json == {"database": url, "schema_version": LATEST,
                          "applied": list(range(1, LATEST + 1))}
    if backend == "sqlite":
        assert path.is_file()

    again = desk.raw("--db", url, "--json", "init")
    assert again.code == 0, again.describe()
    assert again.json == {"database": url, "schema_version": LATEST, "applied": []}

    text = desk.raw("--db", url, "init")
    assert (text.code, text.out, text.err) == (
        0, f"Database ready at schema version {LATEST} (already current).\n", "")

    empty = desk.raw("--db", url, "--json", "db", "verify")
    assert empty.code == 0, empty.describe()
    assert empty.json == {"ok": True, "transactions": 0, "lines": 0, "accounts": 0, "lots": 0,
                          "problems": []}


# ------------------------------------------------------------------------ catalog


def test_catalog_adds_return_id_and_name(desk: Desk) -> None:
    # db_url is already migrated: init applies nothing.
    assert desk.ok("init") == {"database": desk.url, "schema_version": LATEST, "applied": []}

    assert desk.ok("practitioner", "add", "--name", "Dr. Mara Quinn") == {
        "id": 1, "name": "Dr. Mara Quinn"}
    assert desk.ok("practitioner", "add", "--name", "Jonas Weber") == {
        "id": 2, "name": "Jonas Weber"}
    assert desk.ok("service", "add", "--name", "Acupuncture 30", "--minutes", "30",
                   "--price", "65.00", "--token-kind", "Acupuncture") == {
        "id": 1, "name": "Acupuncture 30"}
    # Without --token-kind the service's own name is its token kind (SPEC §1).
    assert desk.ok("service", "add", "--name", "Massage 60", "--minutes", "60",
                   "--price", "90") == {"id": 2, "name": "Massage 60"}
    assert desk.ok("package", "add", "--name", "Acupuncture 5-pack", "--token-kind",
                   "acupuncture", "--tokens", "5", "--price", "300", "--expires-days",
                   "365") == {"id": 1, "name": "Acupuncture 5-pack"}
    assert desk.ok("package", "add", "--name", "Wellness membership", "--token-kind",
                   "Massage 60", "--tokens", "2", "--price", "160", "--monthly") == {
        "id": 2, "name": "Wellness membership"}

    # Names are unique whatever their case or accents.
    dup = desk.fails(2, "practitioner", "add", "--name", "DR. MARA QUINN")
    assert "--name" in dup.err and "already exists" in dup.err

    pid = new_patient(desk, "Ana Silva")
    sold = desk.ok("sell", "--patient", str(pid), "--tokens", "1", "--token-kind",
                   "massage 60", "--price", "90", "--pay", "card:90")
    assert sold["balance"] == bal(pid, "0.00", {"Massage 60": 1})
    sold = desk.ok("sell", "--patient", str(pid), "--package", "acupuncture 5-PACK",
                   "--pay", "card:300")
    assert sold["balance"] == bal(pid, "0.00", {"Acupuncture": 5, "Massage 60": 1},
                                  {"Acupuncture": day(365)})


# ----------------------------------------------------------------------- patients

ODD_NAMES = [
    "Zoë O'Brien",
    "王芳",
    "Sunny 🌞 Day 👩‍⚕️",
    "Robert'); DROP TABLE patient;--",
    "50% off_sale \\ back\"slash",
    "Ωμέγα-Łódź Ñandú",
]


def test_patient_names_are_stored_verbatim(desk: Desk) -> None:
    ids: list[int] = []
    for name in ODD_NAMES:
        made = desk.ok("patient", "add", "--name", name)
        assert made == {"id": len(ids) + 1, "name": name}
        ids.append(made["id"])

    for pid, name in zip(ids, ODD_NAMES, strict=True):
        found = desk.ok("patient", "find", name)
        assert found == [{"id": pid, "name": name, "phone": "", "email": "", "dob": None}]

    # The table survived the SQL-looking name and still takes writes.
    assert desk.ok("patient", "find", "DROP TABLE") == [
        {"id": ids[3], "name": ODD_NAMES[3], "phone": "", "email": "", "dob": None}]
    assert desk.ok("patient", "find", "%") == [
        {"id": ids[4], "name": ODD_NAMES[4], "phone": "", "email": "", "dob": None}]
    assert desk.ok("patient", "add", "--name", "After Everything")["id"] == len(ids) + 1

    # Balances and text output carry the names unchanged too.
    text = desk("balance", "--patient", str(ids[2]), json_output=False)
    assert (text.code, text.out, text.err) == (0, f"{ODD_NAMES[2]}: no tokens, no credit\n", "")


def test_patient_details_and_accent_insensitive_find(desk: Desk) -> None:
    zoe = desk.ok("patient", "add", "--name", "Zoë O'Brien", "--phone", "(555) 010-2030",
                  "--email", "zoe@example.org", "--dob", "1980-02-29")["id"]
    jurgen = new_patient(desk, "Jürgen Straße")
    new_patient(desk, "Ana Silva")
    zoe_row = {"id": zoe, "name": "Zoë O'Brien", "phone": "(555) 010-2030",
               "email": "zoe@example.org", "dob": "1980-02-29"}
    jurgen_row = {"id": jurgen, "name": "Jürgen Straße", "phone": "", "email": "", "dob": None}

    for query in ["zoe", "ZOË", "zoe o'brien", "  Zoe   O'BRIEN ", "brien", "5550102030",
                  "010-2030"]:
        assert desk.ok("patient", "find", query) == [zoe_row], query
    for query in ["jurgen", "JÜRGEN", "strasse", "STRASSE", "jurgen straße"]:
        assert desk.ok("patient", "find", query) == [jurgen_row], query
    assert desk.ok("patient", "find", "nobody at all") == []

    text = desk("patient", "find", "nobody", json_output=False)
    assert (text.code, text.out) == (0, "No patient found.\n")


# -------------------------------------------------------------------------- sales


def test_sell_package_tokens_and_credit_with_split_tenders(desk: Desk) -> None:
    acupuncture_clinic(desk)
    pid = new_patient(desk, "Zoë O'Brien")
    p = str(pid)
    exp = {"Acupuncture": day(30)}

    # A 120.00 package paid 50 cash + 20 card: 50.00 left owed.
    sold = desk.ok("sell", "--patient", p, "--package", "Acupuncture 5-pack",
                   "--pay", "cash:50", "--pay", "card:20:4242")
    after = bal(pid, "-50.00", {"Acupuncture": 5}, exp)
    txn(sold, 1, "sale", 1, [after], after)

    # 3 tokens for 100.00: 33.33 each, the odd cent is revenue at the sale.
    sold = desk.ok("sell", "--patient", p, "--tokens", "3", "--token-kind", "Acupuncture",
                   "--price", "100", "--pay", "cash:100.00")
    after = bal(pid, "-50.00", {"Acupuncture": 8}, exp)
    txn(sold, 2, "sale", 2, [after], after)

    # 80.00 of credit paid with 70.00: the debt shrinks to +20.00 credit.
    sold = desk.ok("sell", "--patient", p, "--credit", "80", "--pay", "cash:50",
                   "--pay", "card:20:4242")
    after = bal(pid, "20.00", {"Acupuncture": 8}, exp)
    txn(sold, 3, "sale", 3, [after], after)

    # Overpaying adds credit; --staff is recorded.
    sold = desk.ok("--staff", "Anna Ø", "sell", "--patient", p, "--credit", "10",
                   "--pay", "CASH:15")
    after = bal(pid, "35.00", {"Acupuncture": 8}, exp)
    txn(sold, 4, "sale", 4, [after], after)

    assert desk.ok("balance", "--patient", p) == after
    # --json may also follow the subcommand.
    late = desk.raw("--db", desk.url, "balance", "--patient", p, "--json")
    assert late.code == 0 and late.json == after
    text = desk("balance", "--patient", p, json_output=False)
    assert text.out == (f"Zoë O'Brien: 8 Acupuncture tokens, Acupuncture tokens expire from "
                        f"{day(30)}, $35.00 credit\n")

    history = desk.ok("history", "--patient", p)
    assert [h["txn_id"] for h in history] == [4, 3, 2, 1]
    entry(history[3], txn_id=1, kind="sale", receipt_no=1, credit_change="-50.00",
          token_changes={"Acupuncture": 5}, lines=[
              line("patient:1:tok:1", "Acupuncture", -5, "Acupuncture 5-pack (5 tokens)"),
              line("issued:1", "Acupuncture", 5, "Acupuncture 5-pack (5 tokens)"),
              line("prepaid", "money", "-120.00", "Acupuncture 5-pack (5 tokens)"),
              line("tender:cash", "money", "50.00", "cash"),
              line("tender:card", "money", "20.00", "card 4242"),
              line("patient:1:credit", "money", "50.00", "left owed")])
    entry(history[2], txn_id=2, kind="sale", receipt_no=2, token_changes={"Acupuncture": 3},
          lines=[
              line("patient:1:tok:1", "Acupuncture", -3, "3 Acupuncture tokens"),
              line("issued:1", "Acupuncture", 3, "3 Acupuncture tokens"),
              line("prepaid", "money", "-99.99", "3 Acupuncture tokens"),
              line("revenue:sales", "money", "-0.01", "3 Acupuncture tokens"),
              line("tender:cash", "money", "100.00", "cash")])
    entry(history[1], txn_id=3, kind="sale", receipt_no=3, credit_change="70.00", lines=[
        line("patient:1:credit", "money", "-80.00", "credit purchase $80.00"),
        line("tender:cash", "money", "50.00", "cash"),
        line("tender:card", "money", "20.00", "card 4242"),
        line("patient:1:credit", "money", "10.00", "left owed")])
    entry(history[0], txn_id=4, kind="sale", receipt_no=4, credit_change="15.00",
          staff="Anna Ø", lines=[
              line("patient:1:credit", "money", "-10.00", "credit purchase $10.00"),
              line("tender:cash", "money", "15.00", "cash"),
              line("patient:1:credit", "money", "-5.00", "added to credit")])
    assert desk.ok("history", "--patient", p, "--limit", "1") == history[:1]

    verify_ok(desk, transactions=4, lines=18, accounts=7, lots=2)


def test_idempotency_key_replays_the_first_result(desk: Desk) -> None:
    acupuncture_clinic(desk)
    pid = new_patient(desk, "Ana Silva")
    p = str(pid)
    first = desk.ok("sell", "--patient", p, "--credit", "50", "--pay", "cash:50",
                    "--key", "dialog-7f3a")
    after = bal(pid, "50.00")
    txn(first, 1, "sale", 1, [after], after)
    again = desk.ok("sell", "--patient", p, "--credit", "50", "--pay", "cash:50",
                    "--key", "dialog-7f3a")
    txn(again, 1, "sale", 1, [after], after, replayed=True)
    assert len(desk.ok("history", "--patient", p)) == 1

    adj = desk.ok("adjust", "--patient", p, "--tokens", "2", "--token-kind", "Acupuncture",
                  "--reason", "goodwill", "--key", "adj-1")
    after = bal(pid, "50.00", {"Acupuncture": 2})
    txn(adj, 2, "adjustment", None, [after], after)
    txn(desk.ok("adjust", "--patient", p, "--tokens", "2", "--token-kind", "Acupuncture",
                "--reason", "goodwill", "--key", "adj-1"),
        2, "adjustment", None, [after], after, replayed=True)

    rev = desk.ok("reverse", "--txn", "2", "--reason", "typo", "--key", "rev-1")
    after = bal(pid, "50.00")
    txn(rev, 3, "reversal", None, [after])
    # Replaying the reversal's key returns it instead of refusing "already reversed".
    txn(desk.ok("reverse", "--txn", "2", "--reason", "typo", "--key", "rev-1"),
        3, "reversal", None, [after], replayed=True)

    ref = desk.ok("refund", "--patient", p, "--amount", "20", "--method", "cash",
                  "--key", "ref-1")
    after = bal(pid, "30.00")
    txn(ref, 4, "refund", 2, [after], after)
    txn(desk.ok("refund", "--patient", p, "--amount", "20", "--method", "cash",
                "--key", "ref-1"), 4, "refund", 2, [after], after, replayed=True)

    assert [h["txn_id"] for h in desk.ok("history", "--patient", p)] == [4, 3, 2, 1]
    verify_ok(desk, transactions=4, lines=8, accounts=4, lots=1)


# ------------------------------------------------------------------ wallet moves


def test_adjust_credit_and_tokens(desk: Desk) -> None:
    acupuncture_clinic(desk)
    pid = new_patient(desk, "Ana Silva")
    p = str(pid)

    after = bal(pid, "25.00")
    txn(desk.ok("adjust", "--patient", p, "--credit", "25", "--reason", "goodwill"),
        1, "adjustment", None, [after], after)
    after = bal(pid, "-15.00")
    txn(desk.ok("adjust", "--patient", p, "--credit", "-40.00", "--reason", "late fee owed"),
        2, "adjustment", None, [after], after)
    after = bal(pid, "-15.00", {"Acupuncture": 2}, {"Acupuncture": day(10)})
    txn(desk.ok("adjust", "--patient", p, "--tokens", "2", "--token-kind", "acupuncture",
                "--expires-days", "10", "--reason", "opening balance"),
        3, "adjustment", None, [after], after)
    after = bal(pid, "-15.00", {"Acupuncture": 1}, {"Acupuncture": day(10)})
    txn(desk.ok("adjust", "--patient", p, "--tokens", "-1", "--token-kind", "Acupuncture",
                "--reason", "correction: counted twice"),
        4, "adjustment", None, [after], after)

    history = desk.ok("history", "--patient", p)
    entry(history[3], txn_id=1, kind="adjustment", memo="goodwill", credit_change="25.00",
          lines=[line("patient:1:credit", "money", "-25.00", "goodwill"),
                 line("adjustments", "money", "25.00", "goodwill")])
    entry(history[2], txn_id=2, kind="adjustment", memo="late fee owed",
          credit_change="-40.00",
          lines=[line("patient:1:credit", "money", "40.00", "late fee owed"),
                 line("adjustments", "money", "-40.00", "late fee owed")])
    entry(history[1], txn_id=3, kind="adjustment", memo="opening balance",
          token_changes={"Acupuncture": 2},
          lines=[line("patient:1:tok:1", "Acupuncture", -2, "opening balance"),
                 line("issued:1", "Acupuncture", 2, "opening balance")])
    entry(history[0], txn_id=4, kind="adjustment", memo="correction: counted twice",
          token_changes={"Acupuncture": -1},
          lines=[line("patient:1:tok:1", "Acupuncture", 1, "correction: counted twice"),
                 line("issued:1", "Acupuncture", -1, "correction: counted twice")])
    verify_ok(desk, transactions=4, lines=8, accounts=5, lots=1)


def test_transfer_credit_and_tokens(desk: Desk) -> None:
    acupuncture_clinic(desk)
    ana, ben = new_patient(desk, "Ana Silva"), new_patient(desk, "Ben Okafor")
    a, b = str(ana), str(ben)
    exp = {"Acupuncture": day(30)}
    desk.ok("sell", "--patient", a, "--package", "Acupuncture 5-pack", "--pay", "card:120")
    desk.ok("sell", "--patient", a, "--credit", "100", "--pay", "cash:100")

    moved = desk.ok("transfer", "--from", a, "--to", b, "--credit", "30")
    txn(moved, 3, "transfer", None,
        [bal(ana, "70.00", {"Acupuncture": 5}, exp), bal(ben, "30.00")])
    moved = desk.ok("transfer", "--from", a, "--to", b, "--tokens", "2", "--token-kind",
                    "Acupuncture", "--memo", "shared with family")
    # The receiving patient's tokens keep the lot's expiry.
    txn(moved, 4, "transfer", None,
        [bal(ana, "70.00", {"Acupuncture": 3}, exp), bal(ben, "30.00", {"Acupuncture": 2}, exp)])

    history = desk.ok("history", "--patient", b)
    entry(history[1], txn_id=3, kind="transfer", memo=f"transfer to patient {ben}",
          credit_change="30.00",
          lines=[line(f"patient:{ana}:credit", "money", "30.00", f"to patient {ben}"),
                 line(f"patient:{ben}:credit", "money", "-30.00", f"from patient {ana}")])
    entry(history[0], txn_id=4, kind="transfer", memo="shared with family",
          token_changes={"Acupuncture": 2},
          lines=[line(f"patient:{ana}:tok:1", "Acupuncture", 2, f"to patient {ben}"),
                 line(f"patient:{ben}:tok:1", "Acupuncture", -2, f"from patient {ana}")])
    assert desk.ok("history", "--patient", a)[0]["token_changes"] == {"Acupuncture": -2}

    # Reversing the token transfer puts the tokens back in Ana's original lot.
    back = desk.ok("reverse", "--txn", "4", "--reason", "wrong family")
    txn(back, 5, "reversal", None,
        [bal(ana, "70.00", {"Acupuncture": 5}, exp), bal(ben, "30.00")])
    verify_ok(desk, transactions=5, lines=12, accounts=9, lots=2)


def test_refund_credit(desk: Desk) -> None:
    pid = new_patient(desk, "Ana Silva")
    p = str(pid)
    desk.ok("sell", "--patient", p, "--credit", "100", "--pay", "cash:100")
    after = bal(pid, "60.00")
    txn(desk.ok("refund", "--patient", p, "--amount", "40", "--method", "cash"),
        2, "refund", 2, [after], after)
    after = bal(pid, "0.00")
    txn(desk.ok("refund", "--patient", p, "--amount", "60.00", "--method", "CARD",
                "--reference", "slip 81A"), 3, "refund", 3, [after], after)
    entry(desk.ok("history", "--patient", p)[0], txn_id=3, kind="refund", receipt_no=3,
          memo="refund of credit", credit_change="-60.00",
          lines=[line("patient:1:credit", "money", "60.00", "credit refunded"),
                 line("tender:card", "money", "-60.00", "card slip 81A")])
    verify_ok(desk, transactions=3, lines=6, accounts=3, lots=0)


def test_reverse_sales_and_adjustments(desk: Desk) -> None:
    acupuncture_clinic(desk)
    pid = new_patient(desk, "Ana Silva")
    p = str(pid)
    desk.ok("sell", "--patient", p, "--credit", "50", "--pay", "card:50:4242")

    rev = desk.ok("reverse", "--txn", "1", "--reason", "wrong tender")
    txn(rev, 2, "reversal", 2, [bal(pid, "0.00")])  # a reversal receipt
    history = desk.ok("history", "--patient", p)
    entry(history[0], txn_id=2, kind="reversal", receipt_no=2, reverses=1,
          memo="reversal of transaction 1: wrong tender", credit_change="-50.00",
          lines=[line("patient:1:credit", "money", "50.00", "reversal: credit purchase $50.00"),
                 line("tender:card", "money", "-50.00", "reversal: card 4242")])
    entry(history[1], txn_id=1, kind="sale", receipt_no=1, reversed_by=2,
          credit_change="50.00",
          lines=[line("patient:1:credit", "money", "-50.00", "credit purchase $50.00"),
                 line("tender:card", "money", "50.00", "card 4242")])

    sold = desk.ok("sell", "--patient", p, "--package", "Acupuncture 5-pack",
                   "--pay", "cash:120")
    assert sold["txn_id"] == 3
    txn(desk.ok("reverse", "--txn", "3", "--reason", "bought by mistake"),
        4, "reversal", 4, [bal(pid, "0.00")])

    desk.ok("adjust", "--patient", p, "--credit", "12.50", "--reason", "goodwill")
    txn(desk.ok("reverse", "--txn", "5", "--reason", "wrong patient"),
        6, "reversal", None, [bal(pid, "0.00")])
    verify_ok(desk, transactions=6, lines=16, accounts=8, lots=1)


def test_expire_tokens_as_of_a_date(desk: Desk) -> None:
    acupuncture_clinic(desk, expires_days=30)
    pid = new_patient(desk, "Ana Silva")
    p = str(pid)
    desk.ok("sell", "--patient", p, "--package", "Acupuncture 5-pack", "--pay", "card:120")
    desk.ok("adjust", "--patient", p, "--tokens", "-1", "--token-kind", "Acupuncture",
            "--reason", "used at the old clinic")
    desk.ok("adjust", "--patient", p, "--tokens", "2", "--token-kind", "Acupuncture",
            "--reason", "goodwill, never expire")
    assert desk.ok("balance", "--patient", p) == bal(pid, "0.00", {"Acupuncture": 6},
                                                     {"Acupuncture": day(30)})

    # A lot is usable through its expiry date.
    assert desk.ok("expire") == {"as_of": day(0), "txn_ids": [], "tokens_expired": 0,
                                 "value": "0.00"}
    assert desk.ok("expire", "--as-of", day(30)) == {
        "as_of": day(30), "txn_ids": [], "tokens_expired": 0, "value": "0.00"}
    assert desk.ok("expire", "--as-of", day(31)) == {
        "as_of": day(31), "txn_ids": [4], "tokens_expired": 4, "value": "96.00"}
    assert desk.ok("expire", "--as-of", day(400)) == {
        "as_of": day(400), "txn_ids": [], "tokens_expired": 0, "value": "0.00"}
    assert desk.ok("balance", "--patient", p) == bal(pid, "0.00", {"Acupuncture": 2})

    entry(desk.ok("history", "--patient", p)[0], txn_id=4, kind="expiry",
          memo=f"tokens expired before {day(31)}", token_changes={"Acupuncture": -4},
          lines=[line("patient:1:tok:1", "Acupuncture", 4, "4 tokens expired"),
                 line("issued:1", "Acupuncture", -4, "4 tokens expired"),
                 line("prepaid", "money", "96.00", "4 tokens expired"),
                 line("revenue:expired", "money", "-96.00", "4 tokens expired")])

    refused = desk.fails(3, "reverse", "--txn", "4", "--reason", "oops")
    assert "given back with an adjustment" in refused.err
    refused = desk.fails(3, "reverse", "--txn", "1", "--reason", "oops")
    assert "reverse those first" in refused.err
    verify_ok(desk, transactions=4, lines=14, accounts=8, lots=2)


# -------------------------------------------------------------------- refusals


def test_refusals_exit_3_and_write_nothing(desk: Desk) -> None:
    acupuncture_clinic(desk)
    ana, ben = new_patient(desk, "Ana Silva"), new_patient(desk, "Ben Okafor")
    a, b = str(ana), str(ben)
    desk.ok("sell", "--patient", a, "--credit", "40", "--pay", "cash:40", "--key", "k-1")  # 1
    desk.ok("sell", "--patient", a, "--package", "Acupuncture 5-pack", "--pay", "card:120")  # 2
    desk.ok("adjust", "--patient", a, "--credit", "5", "--reason", "goodwill")  # 3
    desk.ok("reverse", "--txn", "3", "--reason", "typo")  # 4
    desk.ok("adjust", "--patient", a, "--tokens", "-1", "--token-kind", "Acupuncture",
            "--reason", "used")  # 5
    before = desk.snapshot(ana, ben)
    assert before["verify"]["transactions"] == 5

    refusals = [
        (["adjust", "--patient", b, "--tokens", "-5", "--token-kind", "Acupuncture",
          "--reason", "correction"], "not enough Acupuncture tokens"),
        (["adjust", "--patient", a, "--tokens", "-5", "--token-kind", "Acupuncture",
          "--reason", "correction"], "not enough Acupuncture tokens"),
        (["refund", "--patient", a, "--amount", "40.01", "--method", "cash"],
         "has only $40.00 credit"),
        (["refund", "--patient", b, "--amount", "1", "--method", "card"],
         "has only $0.00 credit"),
        (["reverse", "--txn", "4", "--reason", "undo the undo"], "cannot be reversed"),
        (["reverse", "--txn", "3", "--reason", "again"], "already reversed"),
        (["reverse", "--txn", "2", "--reason", "tokens were used"], "reverse those first"),
        (["transfer", "--from", a, "--to", b, "--credit", "40.01"], "has only $40.00 credit"),
        (["transfer", "--from", a, "--to", b, "--tokens", "5", "--token-kind", "Acupuncture"],
         "not enough Acupuncture tokens"),
        (["sell", "--patient", a, "--credit", "41", "--pay", "cash:41", "--key", "k-1"],
         "different request"),
    ]
    for argv, message in refusals:
        result = desk.fails(3, *argv)
        assert result.err.startswith("desk: error: "), result.describe()
        assert message in result.err, result.describe()
        assert desk.snapshot(ana, ben) == before, argv

    # With --json the refusal is also machine-readable on stdout.
    result = desk.fails(3, "refund", "--patient", b, "--amount", "1", "--method", "cash",
                        json_output=True)
    assert result.json == {"error": f"patient {ben} has only $0.00 credit; cannot refund $1.00",
                           "exit_code": 3}
    assert desk.snapshot(ana, ben) == before

    # The token rule gives way only when the clinic allows negative tokens (SPEC §2.8).
    desk.ok("settings", "set", "allow_negative_tokens", "true")
    after = bal(ben, "0.00", {"Acupuncture": -2})
    allowed = desk.ok("adjust", "--patient", b, "--tokens", "-2", "--token-kind",
                      "Acupuncture", "--reason", "taken at the door")
    # (Ids need not be gap-free, receipts must: take the id from the history.)
    newest = desk.ok("history", "--patient", b)[0]["txn_id"]
    txn(allowed, newest, "adjustment", None, [after], after)
    report = desk.ok("db", "verify")
    assert (report["ok"], report["transactions"], report["problems"]) == (True, 6, [])


# ------------------------------------------- bad input that must not write
# (Here, not in test_cli_bad_input.py, because a failure here writes: each case
# gets a fresh database so it cannot spoil the shared clinic.)


def test_bad_input_that_would_be_written_is_refused(desk: Desk) -> None:
    """Each case is checked on its own (a failure is reported, the others still run)."""
    acupuncture_clinic(desk)
    ana, ben = new_patient(desk, "Ana Silva"), new_patient(desk, "Ben Okafor")
    desk.ok("sell", "--patient", str(ana), "--credit", "10", "--pay", "cash:10",
            "--memo", "m" * 500)
    cases = [
        # SPEC §10 lists "-0" among the amounts to refuse, even where 0 itself is allowed.
        (["service", "add", "--name", "Free check", "--minutes", "10", "--price", "-0"],
         "--price"),
        (["package", "add", "--name", "Free pack", "--token-kind", "Acupuncture", "--tokens",
          "1", "--price", "-0.00"], "--price"),
        (["sell", "--patient", str(ana), "--tokens", "1", "--token-kind", "Acupuncture",
          "--price", "-0"], "--price"),
        # Memos are bounded (500 characters) on every write, as transfer does.
        (["transfer", "--from", str(ana), "--to", str(ben), "--credit", "1", "--memo",
          "m" * 501], "--memo"),
        (["sell", "--patient", str(ana), "--credit", "10", "--pay", "cash:10", "--memo",
          "m" * 501], "--memo"),
    ]
    problems = []
    for argv, option in cases:
        rows = desk.table_rows()
        result = desk(*argv, json_output=False)
        if result.code != 2 or option not in result.err or "Traceback" in result.err:
            problems.append(f"not refused with exit 2 naming {option}:\n{result.describe()}")
        if desk.table_rows() != rows:
            problems.append(f"wrote to the database: desk {' '.join(argv)[:120]}")
    assert not problems, "\n".join(problems)


# ----------------------------------------------------------------------- settings

DEFAULT_SETTINGS = {
    "clinic_name": "", "clinic_address": "", "clinic_phone": "", "tax_id": "",
    "currency": "USD", "receipt_footer": "", "receipt_paper": "roll80", "auto_print": "false",
    "use_credit_system": "true", "allow_double_booking": "false",
    "prevent_no_credit_booking": "false", "reserve_token_at_booking": "false",
    "restore_on_cancel": "true", "auto_apply_tokens": "true", "auto_apply_credit": "true",
    "allow_negative_tokens": "false", "late_cancel_hours": "24", "late_cancel_fee": "0.00",
    "no_show_fee": "0.00", "day_start": "08:00", "day_end": "19:00", "slot_minutes": "15",
    "idle_lock_minutes": "10",
}


def test_settings_get_and_set(desk: Desk) -> None:
    assert desk.ok("settings", "get") == DEFAULT_SETTINGS
    assert desk.ok("settings", "get", "currency") == {"currency": "USD"}

    changes = [("currency", "eur", "EUR"), ("late_cancel_fee", "25", "25.00"),
               ("auto_print", "yes", "true"), ("receipt_paper", "A4", "a4"),
               ("clinic_name", "Zoë's Clinic 王 🌿", "Zoë's Clinic 王 🌿"),
               ("late_cancel_hours", "48", "48"), ("day_start", "07:30", "07:30")]
    for key, typed, stored in changes:
        assert desk.ok("settings", "set", key, typed) == {key: stored}
        assert desk.ok("settings", "get", key) == {key: stored}
    current = dict(DEFAULT_SETTINGS, **{k: v for k, _, v in changes})
    assert desk.ok("settings", "get") == current

    rows = desk.table_rows()
    for key, value in [("late_cancel_hours", "abc"), ("late_cancel_hours", "-1"),
                       ("late_cancel_hours", "100000"), ("receipt_paper", "legal"),
                       ("auto_print", "maybe"), ("late_cancel_fee", "1e309"),
                       ("no_show_fee", "12.345"), ("currency", "EURO"),
                       ("day_end", "07:00"), ("day_start", "25:00"),
                       ("slot_minutes", "7"), ("no_such_setting", "1")]:
        result = desk.fails(2, "settings", "set", key, value)
        assert key in result.err, result.describe()
    assert desk.fails(2, "settings", "get", "no_such_setting").err.count("no_such_setting")
    assert desk.ok("settings", "get") == current
    assert desk.table_rows() == rows


# ----------------------------------------------------------- backup and verify


def test_backup_verify_and_restore(backend: str, desk: Desk, tmp_path: Path) -> None:
    pid = new_patient(desk, "Zoë O'Brien")
    p = str(pid)
    desk.ok("sell", "--patient", p, "--credit", "50", "--pay", "cash:50")

    # Bad files first: refused with exit 2, nothing changed.
    rows = desk.table_rows()
    result = desk.fails(2, "db", "backup", str(tmp_path / "no such folder" / "x.backup"))
    assert "FILE" in result.err and "does not exist" in result.err
    assert not (tmp_path / "no such folder").exists()
    result = desk.fails(2, "db", "backup", str(tmp_path))
    assert "is a folder" in result.err
    result = desk.fails(2, "db", "restore", str(tmp_path / "missing.backup"))
    assert "no backup file" in result.err
    junk = tmp_path / "junk.backup"
    junk.write_bytes(b"this is not a database backup\n" * 100)
    result = desk.fails(2, "db", "restore", str(junk))
    assert "FILE" in result.err and "not a desk" in result.err
    assert desk.table_rows() == rows

    if backend == "postgres" and not (shutil.which("pg_dump") and shutil.which("pg_restore")):
        pytest.skip("pg_dump / pg_restore not installed")

    target = tmp_path / "backups" / "before – é.backup"
    target.parent.mkdir()
    made = desk.ok("db", "backup", str(target))
    assert made == {"backup": str(target), "bytes": target.stat().st_size}
    assert made["bytes"] > 0
    verify_ok(desk, transactions=1, lines=2, accounts=2, lots=0)

    desk.ok("sell", "--patient", p, "--credit", "20", "--pay", "cash:20")
    desk.ok("patient", "add", "--name", "Added After Backup")
    assert desk.ok("balance", "--patient", p) == bal(pid, "70.00")

    restored = desk.ok("db", "restore", str(target))
    assert restored == {"restored": str(target), "verify": {
        "ok": True, "transactions": 1, "lines": 2, "accounts": 2, "lots": 0, "problems": []}}
    assert desk.ok("balance", "--patient", p) == bal(pid, "50.00")
    assert [h["txn_id"] for h in desk.ok("history", "--patient", p)] == [1]
    assert desk.ok("patient", "find", "Added After Backup") == []
    verify_ok(desk, transactions=1, lines=2, accounts=2, lots=0)

    # The restored ledger keeps numbering without gaps.
    after = bal(pid, "55.00")
    txn(desk.ok("sell", "--patient", p, "--credit", "5", "--pay", "cash:5"),
        2, "sale", 2, [after], after)
    verify_ok(desk, transactions=2, lines=4, accounts=2, lots=0)


def test_verify_reports_a_tampered_projection_with_exit_1(desk: Desk) -> None:
    pid = new_patient(desk, "Ana Silva")
    desk.ok("sell", "--patient", str(pid), "--credit", "50", "--pay", "cash:50")
    verify_ok(desk, transactions=1, lines=2, accounts=2, lots=0)

    db = open_database(desk.url)
    try:
        with db.atomic():
            db.execute_sql("UPDATE account SET balance = balance + 1 WHERE code = "
                           f"'patient:{pid}:credit'")
    finally:
        db.close()

    result = desk("db", "verify")
    assert result.code == 1, result.describe()
    assert "Traceback" not in result.err
    assert result.json == {"ok": False, "transactions": 1, "lines": 2, "accounts": 2,
                           "lots": 0, "problems": [
                               f"account patient:{pid}:credit: cached balance -4999 but its "
                               "lines sum to -5000"]}
    text = desk("db", "verify", json_output=False)
    assert text.code == 1
    assert "Ledger has 1 problem(s)" in text.out


# --------------------------------------------------------------------------- demo


def test_demo_fills_an_empty_clinic_once(desk: Desk) -> None:
    summary = desk.ok("demo", "--patients", "40")
    assert {k: summary[k] for k in ("practitioners", "services", "packages", "patients")} == {
        "practitioners": 4, "services": 7, "packages": 6, "patients": 40}
    assert set(summary) == {"practitioners", "services", "packages", "patients",
                            "appointments", "transactions", "lines", "expired_tokens"}
    assert summary["appointments"] > 0
    assert summary["transactions"] > 0 and summary["lines"] > summary["transactions"]

    result = desk("db", "verify")
    assert result.code == 0, result.describe()
    report = result.json
    assert report["ok"] is True and report["problems"] == []
    assert (report["transactions"], report["lines"]) == (summary["transactions"],
                                                         summary["lines"])

    rows = desk.table_rows()
    refused = desk.fails(3, "demo", "--patients", "40")
    assert "already has patients" in refused.err
    assert desk.table_rows() == rows
    assert desk.ok("db", "verify") == report
