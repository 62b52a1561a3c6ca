"""``desk statement`` (SPEC §7, §9): a patient's statement for a period as PDF.

Runs against the shared seeded clinic (see ``clinic`` in conftest.py): Ana bought a
5-token Acupuncture package by card (300.00, expiring in 365 days) and 40.00 of
credit in cash, today; Ben has nothing. A statement only reads: every refused
command leaves every row of the database as it was and writes no file.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import Clinic, Desk, Script


@pytest.fixture
def db_url(clinic: Clinic) -> str:
    """This module's ``desk`` runs against the shared seeded clinic."""
    return clinic.url


def pdf_text(path: Path) -> str:
    tool = shutil.which("pdftotext")
    if tool is None:
        pytest.fail("pdftotext (poppler-utils) is needed to read statements back")
    assert path.read_bytes().startswith(b"%PDF-"), path
    text = subprocess.run([tool, "-layout", "-enc", "UTF-8", str(path), "-"], check=True,
                          capture_output=True, text=True, timeout=60).stdout
    return "\n".join(" ".join(line.split()) for line in text.splitlines() if line.strip())


def test_this_month_by_default(desk: Desk, clinic: Clinic, tmp_path: Path) -> None:
    today = dt.date.today()
    out = tmp_path / "ana.pdf"
    data = desk.ok("statement", "--patient", str(clinic.ana), "--out", str(out))
    expiry = (today + dt.timedelta(days=365)).isoformat()
    assert data == {
        "patient_id": clinic.ana, "file": str(out),
        "from": today.replace(day=1).isoformat(), "to": today.isoformat(),
        "transactions": 2,
        "opening": {"credit": "0.00", "tokens": {}},
        "charges": "300.00", "paid": "340.00",
        "closing": {"credit": "40.00", "tokens": {"Acupuncture": 5}},
        "tokens_left": {"Acupuncture": {"tokens": 5, "next_expiry": expiry, "expiring": 5}}}
    text = pdf_text(out)
    for expected in ("STATEMENT", "Ana Silva", "Previous balance $0.00", "Charges $300.00",
                     "Payments $340.00", "Credit on account $40.00",
                     f"{today.replace(day=1)} Opening balance $0.00",
                     f"{today} Sale — Acupuncture 5-pack (5 1 $300.00 $300.00 +5 Acupuncture "
                     "$0.00\ntokens)",
                     f"{today} Sale — Credit purchase 2 $40.00 +$40.00 $40.00",
                     f"{today} Closing balance $300.00 $340.00 +$40.00 5 Acupuncture $40.00",
                     f"Acupuncture 5 {expiry} (5 tokens)", "Page 1 of 1"):
        assert expected in text, (expected, text)


def test_text_output_and_an_explicit_period(desk: Desk, clinic: Clinic,
                                            tmp_path: Path) -> None:
    today = dt.date.today().isoformat()
    out = tmp_path / "today.pdf"
    result = desk("statement", "--patient", str(clinic.ana), "--from", today, "--to", today,
                  "--out", str(out), json_output=False)
    assert (result.code, result.err) == (0, ""), result.describe()
    assert result.out.splitlines() == [
        f"Statement for Ana Silva, {today} to {today} (2 transactions) written to {out}.",
        "  opening: no tokens, no credit",
        "  closing: 5 Acupuncture tokens, $40.00 credit"]

    # A period before anything happened; Ben, who has nothing; overwriting a file.
    before = desk.ok("statement", "--patient", str(clinic.ana), "--from", "2020-01-01",
                     "--to", "2020-12-31", "--out", str(out))
    assert (before["transactions"], before["opening"], before["closing"]) == (
        0, {"credit": "0.00", "tokens": {}}, {"credit": "0.00", "tokens": {}})
    assert "No transactions in this period." in pdf_text(out)
    ben = desk.ok("statement", "--patient", str(clinic.ben), "--from", "2000-01-01",
                  "--out", str(out))
    assert (ben["from"], ben["to"], ben["transactions"], ben["tokens_left"]) == (
        "2000-01-01", today, 0, {})


def refused(desk: Desk, argv: list[str], option: str, message: str | None = None,
            code: int = 2) -> Any:
    """Exit ``code``, a message naming ``option``, no file, not one row changed."""
    before = desk.table_rows()
    result = desk.fails(code, *argv)
    assert re.search(rf"(?<![\w-]){re.escape(option)}(?![\w-])", result.err), \
        result.describe()
    if message is not None:
        assert message in result.err, result.describe()
    assert desk.table_rows() == before, argv
    return result


def test_bad_arguments_are_refused_naming_them(desk: Desk, clinic: Clinic,
                                               tmp_path: Path) -> None:
    out = tmp_path / "s.pdf"
    ana = str(clinic.ana)
    today = dt.date.today()
    tomorrow = (today + dt.timedelta(days=1)).isoformat()
    cases: list[tuple[list[str], str, str | None]] = [
        (["--out", str(out)], "--patient", "required"),
        (["--patient", ana], "--out", "required"),
        (["--patient", "abc", "--out", str(out)], "--patient", "not an id"),
        (["--patient", "0", "--out", str(out)], "--patient", "not an id"),
        (["--patient", "987654", "--out", str(out)], "--patient", "no patient with id 987654"),
        (["--patient", ana, "--from", "2026-02-30", "--out", str(out)], "--from",
         "not a real date"),
        (["--patient", ana, "--from", "1899-12-31", "--out", str(out)], "--from",
         "out of range"),
        (["--patient", ana, "--to", "31/03/2026", "--out", str(out)], "--to",
         "not a date like"),
        (["--patient", ana, "--from", "２０２６-01-01", "--out", str(out)], "--from", None),
        (["--patient", ana, "--from", "2026-03-10", "--to", "2026-03-01", "--out", str(out)],
         "--from", "2026-03-10 is after --to 2026-03-01"),
        (["--patient", ana, "--to", tomorrow, "--out", str(out)], "--to",
         f"{tomorrow} is in the future"),
        (["--patient", ana, "--from", tomorrow, "--out", str(out)], "--from",
         f"{tomorrow} is in the future"),
        (["--patient", ana, "--out", str(tmp_path)], "--out", "is a folder"),
        (["--patient", ana, "--out", str(tmp_path / "missing" / "s.pdf")], "--out",
         "does not exist"),
        (["--patient", ana, "--out", ""], "--out", "is empty"),
        (["--patient", ana, "--out", str(out), "--copy"], "--copy", "unrecognized")]
    for argv, option, message in cases:
        refused(desk, ["statement", *argv], option, message)
        assert list(tmp_path.iterdir()) == [], argv
    # The same with --json: the error as JSON on stdout too.
    result = desk.fails(2, "statement", "--patient", "987654", "--out", str(out),
                        json_output=True)
    assert result.json == {"error": "--patient: no patient with id 987654", "exit_code": 2}
    assert not out.exists()


def test_the_installed_script_refuses_without_a_traceback(desk_script: Script,
                                                          clinic: Clinic,
                                                          tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "s.pdf"
    result = desk_script("--db", clinic.url, "statement", "--patient", str(clinic.ana),
                         "--out", str(missing))
    assert result.code == 2, result.describe()
    assert result.err == (f"desk: error: --out: the folder {missing.parent} does not "
                          "exist\n"), result.describe()
    assert (result.out, missing.parent.exists()) == ("", False)
    ok = desk_script("--db", clinic.url, "--json", "statement", "--patient",
                     str(clinic.ana), "--out", str(tmp_path / "s.pdf"))
    assert ok.code == 0, ok.describe()
    assert (tmp_path / "s.pdf").read_bytes().startswith(b"%PDF-")
