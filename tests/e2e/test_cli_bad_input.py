"""Bad input on the ``desk`` command line (SPEC §9 exit codes, §10 validation).

Every refused value exits 2 with a short message on stderr that names the
option (never a traceback), prints nothing on stdout, and writes nothing: each
case compares every row of the database and ``db verify`` before and after.

The cases share one small seeded clinic per backend (see ``clinic`` in
conftest.py): nothing here is supposed to change it.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

import pytest

from tests.e2e.conftest import Clinic, Desk, Script


def today_plus(days: int) -> str:
    return (dt.date.today() + dt.timedelta(days=days)).isoformat()

UNKNOWN_ID = "987654"


@pytest.fixture
def db_url(clinic: Clinic) -> str:
    """This module's ``desk`` runs against the shared seeded clinic."""
    return clinic.url


def fill(argv: list[str], clinic: Clinic) -> list[str]:
    values = {"ana": str(clinic.ana), "ben": str(clinic.ben), "sale": str(clinic.sale_txn)}
    return [a.format(**values) for a in argv]


def names_option(text: str, option: str) -> bool:
    """``option`` appears as a whole word (``--to`` does not match ``--token-kind``)."""
    return re.search(rf"(?<![\w-]){re.escape(option)}(?![\w-])", text) is not None


def refused_cleanly(desk: Desk, clinic: Clinic, argv: list[str], option: str,
                    code: int = 2) -> Any:
    before = desk.table_rows()
    result = desk.fails(code, *fill(argv, clinic))
    assert names_option(result.err, option), result.describe()
    assert "Traceback" not in result.err
    assert result.out == ""
    assert desk.table_rows() == before  # every row of every table: nothing written
    return result


# ---------------------------------------------------------------------- amounts

BAD_AMOUNTS = {
    "exponent": "1e309",
    "nan": "NaN",
    "inf": "inf",
    "three-decimals": "12.345",
    "full-width": "１２",
    "arabic-indic": "١٢",
    "minus-zero": "-0",
    "minus-zero-cents": "-0.00",
    "comma-cents": "12,50",
    "thousands-space": "1 000",
    "21-digits": "123456789012345678901",
    "over-max": "1000000000",
    "power": "10^20",
    "empty": "",
    "blank": "   ",
    "dot-only": ".",
    "trailing-dot": "12.",
    "currency-sign": "$12",
    "hex": "0x10",
}
POSITIVE_AMOUNT_OPTIONS = {
    "sell-credit": (["sell", "--patient", "{ana}", "--credit", "{v}", "--pay", "cash:5"],
                    "--credit"),
    "refund-amount": (["refund", "--patient", "{ana}", "--amount", "{v}", "--method", "cash"],
                      "--amount"),
    "transfer-credit": (["transfer", "--from", "{ana}", "--to", "{ben}", "--credit", "{v}"],
                        "--credit"),
    "pay": (["sell", "--patient", "{ana}", "--credit", "5", "--pay", "cash:{v}"], "--pay"),
    "sell-price": (["sell", "--patient", "{ana}", "--tokens", "1", "--token-kind",
                    "Acupuncture", "--price", "{v}"], "--price"),
}
# Signed amounts (adjustments) may be negative but never zero or malformed.
SIGNED_AMOUNT_OPTION = (["adjust", "--patient", "{ana}", "--credit", "{v}", "--reason", "x"],
                        "--credit")


# The values SPEC §10 names, tried on every amount option; the rest on --credit only.
CORE_BAD_AMOUNTS = ["exponent", "nan", "three-decimals", "full-width", "minus-zero",
                    "comma-cents", "21-digits", "empty"]


def _amount_cases() -> list[Any]:
    cases = []
    for where, (argv, option) in POSITIVE_AMOUNT_OPTIONS.items():
        labels = list(BAD_AMOUNTS) if where == "sell-credit" else CORE_BAD_AMOUNTS
        if where == "sell-price":  # a price may be zero; "-0" there: see test_cli_flows.py
            labels = ["exponent", "nan", "full-width", "21-digits"]
        for label in labels:
            filled = [a.replace("{v}", BAD_AMOUNTS[label]) for a in argv]
            cases.append(pytest.param(filled, option, id=f"{where}-{label}"))
    argv, option = SIGNED_AMOUNT_OPTION
    for label in [*CORE_BAD_AMOUNTS, "minus-zero-cents"]:
        cases.append(pytest.param([a.replace("{v}", BAD_AMOUNTS[label]) for a in argv],
                                  option, id=f"adjust-credit-{label}"))
    for where, value, label in [("sell-credit", "-5", "negative"), ("refund-amount", "0", "zero"),
                                ("transfer-credit", "-0.01", "negative"),
                                ("pay", "0.00", "zero"), ("sell-price", "-5", "negative")]:
        argv, option = POSITIVE_AMOUNT_OPTIONS[where]
        cases.append(pytest.param([a.replace("{v}", value) for a in argv], option,
                                  id=f"{where}-{label}"))
    return cases


@pytest.mark.parametrize(("argv", "option"), _amount_cases())
def test_bad_amount_is_refused(desk: Desk, clinic: Clinic, argv: list[str],
                               option: str) -> None:
    refused_cleanly(desk, clinic, argv, option)


# -------------------------------------------------------------------------- ids

BAD_IDS = {"letters": "abc", "zero": "0", "negative": "-1", "arabic-indic": "١",
           "full-width": "１", "decimal": "1.0", "empty": "", "blank": " ",
           "too-big": "99999999999999999999", "plus-minus": "+-1"}
ID_OPTIONS = {
    "balance": (["balance", "--patient", "{v}"], "--patient"),
    "history": (["history", "--patient", "{v}"], "--patient"),
    "sell": (["sell", "--patient", "{v}", "--credit", "5", "--pay", "cash:5"], "--patient"),
    "adjust": (["adjust", "--patient", "{v}", "--credit", "5", "--reason", "x"], "--patient"),
    "refund": (["refund", "--patient", "{v}", "--amount", "5", "--method", "cash"],
               "--patient"),
    "reverse": (["reverse", "--txn", "{v}", "--reason", "x"], "--txn"),
    "transfer-from": (["transfer", "--from", "{v}", "--to", "{ben}", "--credit", "1"],
                      "--from"),
    "transfer-to": (["transfer", "--from", "{ana}", "--to", "{v}", "--credit", "1"], "--to"),
}


def _id_cases() -> list[Any]:
    cases = []
    for where, (argv, option) in ID_OPTIONS.items():
        labels = list(BAD_IDS) if where in ("balance", "reverse") else [
            "letters", "negative", "arabic-indic"]
        for label in labels:
            cases.append(pytest.param([a.replace("{v}", BAD_IDS[label]) for a in argv],
                                      option, id=f"{where}-{label}"))
        cases.append(pytest.param([a.replace("{v}", UNKNOWN_ID) for a in argv], option,
                                  id=f"{where}-unknown"))
    return cases


@pytest.mark.parametrize(("argv", "option"), _id_cases())
def test_bad_or_unknown_id_is_refused(desk: Desk, clinic: Clinic, argv: list[str],
                                      option: str) -> None:
    refused_cleanly(desk, clinic, argv, option)


# ------------------------------------------------------- unknown names and kinds


@pytest.mark.parametrize(("argv", "option"), [
    pytest.param(["sell", "--patient", "{ana}", "--package", "Nope 3-pack", "--pay", "cash:5"],
                 "--package", id="sell-unknown-package"),
    pytest.param(["sell", "--patient", "{ana}", "--tokens", "2", "--token-kind", "Reiki",
                  "--price", "10"], "--token-kind", id="sell-unknown-token-kind"),
    pytest.param(["adjust", "--patient", "{ana}", "--tokens", "1", "--token-kind", "Reiki",
                  "--reason", "goodwill"], "--token-kind", id="adjust-unknown-token-kind"),
    pytest.param(["transfer", "--from", "{ana}", "--to", "{ben}", "--tokens", "1",
                  "--token-kind", "Reiki"], "--token-kind", id="transfer-unknown-token-kind"),
    pytest.param(["package", "add", "--name", "Reiki 3-pack", "--token-kind", "Reiki",
                  "--tokens", "3", "--price", "90"], "--token-kind",
                 id="package-unknown-token-kind"),
])
def test_unknown_package_or_token_kind_is_refused(desk: Desk, clinic: Clinic,
                                                  argv: list[str], option: str) -> None:
    result = refused_cleanly(desk, clinic, argv, option)
    assert "Reiki" in result.err or "Nope 3-pack" in result.err


# -------------------------------------------------------------------- payments


@pytest.mark.parametrize("pay", ["bitcoin:5", "cash", "cash:-5", "cash:", ":5", "cash:0",
                                 "card:1e309", "cash:five", "", "cash:5:" + "r" * 101])
def test_bad_pay_is_refused(desk: Desk, clinic: Clinic, pay: str) -> None:
    refused_cleanly(desk, clinic, ["sell", "--patient", "{ana}", "--credit", "5",
                                   "--pay", pay], "--pay")


def test_payments_adding_up_to_more_than_desk_accepts_are_refused(desk: Desk,
                                                                   clinic: Clinic) -> None:
    refused_cleanly(desk, clinic, ["sell", "--patient", "{ana}", "--credit", "5", "--pay",
                                   "cash:999999999.99", "--pay", "card:0.01"], "--pay")


def test_credit_purchase_needs_a_payment(desk: Desk, clinic: Clinic) -> None:
    refused_cleanly(desk, clinic, ["sell", "--patient", "{ana}", "--credit", "5"], "--pay")


def test_refund_method_must_be_known(desk: Desk, clinic: Clinic) -> None:
    refused_cleanly(desk, clinic, ["refund", "--patient", "{ana}", "--amount", "5",
                                   "--method", "bitcoin"], "--method")


# ------------------------------------------------------------------------ dates

BAD_DATES = {"feb-30": "2026-02-30", "day-first": "31/12/2026", "month-13": "2026-13-01",
             "no-padding": "2026-3-1", "too-early": "1899-12-31", "too-late": "2201-01-01",
             "empty": "", "full-width": "２０２６-０１-０１", "with-time": "2026-01-01T10:00"}


@pytest.mark.parametrize("value", list(BAD_DATES.values()), ids=list(BAD_DATES))
def test_bad_dob_is_refused(desk: Desk, clinic: Clinic, value: str) -> None:
    refused_cleanly(desk, clinic, ["patient", "add", "--name", "Dee Badday", "--dob", value],
                    "--dob")


def test_dob_in_the_future_is_refused(desk: Desk, clinic: Clinic) -> None:
    tomorrow = today_plus(1)
    refused_cleanly(desk, clinic, ["patient", "add", "--name", "Dee Future", "--dob",
                                   tomorrow], "--dob")


@pytest.mark.parametrize("value", list(BAD_DATES.values()), ids=list(BAD_DATES))
def test_bad_as_of_is_refused(desk: Desk, clinic: Clinic, value: str) -> None:
    refused_cleanly(desk, clinic, ["expire", "--as-of", value], "--as-of")


# ----------------------------------------------------------------------- --db


@pytest.mark.parametrize("url", [
    "mysql://x", "sqlite://", "sqlite:///", "sqlite:///:memory:", "sqlite://relative.db",
    "http://example.org/db", "postgresql://postgres@127.0.0.1:55432",
])
def test_bad_db_url_is_refused(cli: Desk, url: str) -> None:
    result = cli.raw("--db", url, "--json", "balance", "--patient", "1")
    assert result.code == 2, result.describe()
    assert names_option(result.err, "--db"), result.describe()
    assert "Traceback" not in result.err
    assert result.json == {"error": result.err.removeprefix("desk: error: ").rstrip("\n"),
                           "exit_code": 2}


def test_unreachable_server_is_a_short_error_not_a_traceback(cli: Desk) -> None:
    result = cli.raw("--db", "postgresql://desk@127.0.0.1:1/desk", "balance", "--patient", "1")
    assert result.code == 1, result.describe()
    assert result.err.startswith("desk: error: The database server cannot be reached")
    assert "Traceback" not in result.err and result.out == ""


# ------------------------------------------------------------- reasons and names


@pytest.mark.parametrize(("argv", "option"), [
    pytest.param(["adjust", "--patient", "{ana}", "--credit", "5"], "--reason",
                 id="adjust-without-reason"),
    pytest.param(["adjust", "--patient", "{ana}", "--credit", "5", "--reason", ""],
                 "--reason", id="adjust-empty-reason"),
    pytest.param(["adjust", "--patient", "{ana}", "--credit", "5", "--reason", "  \t "],
                 "--reason", id="adjust-blank-reason"),
    pytest.param(["adjust", "--patient", "{ana}", "--credit", "5", "--reason", "r" * 501],
                 "--reason", id="adjust-reason-too-long"),
    pytest.param(["reverse", "--txn", "{sale}"], "--reason", id="reverse-without-reason"),
    pytest.param(["reverse", "--txn", "{sale}", "--reason", ""], "--reason",
                 id="reverse-empty-reason"),
    pytest.param(["patient", "find", ""], "QUERY", id="find-empty-query"),
    pytest.param(["patient", "add", "--name", ""], "--name", id="name-empty"),
    pytest.param(["patient", "add", "--name", "   "], "--name", id="name-blank"),
    pytest.param(["patient", "add", "--name", "x" * 201], "--name", id="name-too-long"),
    pytest.param(["patient", "add", "--name", "Bell\x07Char"], "--name", id="name-control"),
    pytest.param(["patient", "add", "--name", "Nul\x00Char"], "--name", id="name-nul"),
    pytest.param(["patient", "add", "--name", "Ok Name", "--email", "not-an-email"],
                 "--email", id="email"),
    pytest.param(["patient", "add", "--name", "Ok Name", "--phone", "call me"], "--phone",
                 id="phone"),
    pytest.param(["practitioner", "add", "--name", "DR. MARA QUINN"], "--name",
                 id="duplicate-practitioner"),
    pytest.param(["service", "add", "--name", "acupuncture 30", "--minutes", "30",
                  "--price", "65"], "--name", id="duplicate-service"),
    pytest.param(["service", "add", "--name", "Long", "--minutes", "0", "--price", "65"],
                 "--minutes", id="service-zero-minutes"),
    pytest.param(["service", "add", "--name", "Long", "--minutes", "1441", "--price", "65"],
                 "--minutes", id="service-too-long"),
])
def test_bad_text_is_refused(desk: Desk, clinic: Clinic, argv: list[str], option: str) -> None:
    refused_cleanly(desk, clinic, argv, option)


# ----------------------------------------------------------------------- tokens


@pytest.mark.parametrize(("argv", "option"), [
    pytest.param(["sell", "--patient", "{ana}", "--tokens", "0", "--token-kind",
                  "Acupuncture", "--price", "10"], "--tokens", id="sell-zero"),
    pytest.param(["sell", "--patient", "{ana}", "--tokens", "-0", "--token-kind",
                  "Acupuncture", "--price", "10"], "--tokens", id="sell-minus-zero"),
    pytest.param(["sell", "--patient", "{ana}", "--tokens", "-2", "--token-kind",
                  "Acupuncture", "--price", "10"], "--tokens", id="sell-negative"),
    pytest.param(["sell", "--patient", "{ana}", "--tokens", "1.5", "--token-kind",
                  "Acupuncture", "--price", "10"], "--tokens", id="sell-fraction"),
    pytest.param(["sell", "--patient", "{ana}", "--tokens", "100001", "--token-kind",
                  "Acupuncture", "--price", "10"], "--tokens", id="sell-too-many"),
    pytest.param(["sell", "--patient", "{ana}", "--tokens", "２", "--token-kind",
                  "Acupuncture", "--price", "10"], "--tokens", id="sell-full-width"),
    pytest.param(["adjust", "--patient", "{ana}", "--tokens", "0", "--token-kind",
                  "Acupuncture", "--reason", "x"], "--tokens", id="adjust-zero"),
    pytest.param(["adjust", "--patient", "{ana}", "--tokens", "-0", "--token-kind",
                  "Acupuncture", "--reason", "x"], "--tokens", id="adjust-minus-zero"),
    pytest.param(["transfer", "--from", "{ana}", "--to", "{ben}", "--tokens", "0",
                  "--token-kind", "Acupuncture"], "--tokens", id="transfer-zero"),
    pytest.param(["package", "add", "--name", "Empty pack", "--token-kind", "Acupuncture",
                  "--tokens", "0", "--price", "10"], "--tokens", id="package-zero"),
    pytest.param(["sell", "--patient", "{ana}", "--tokens", "2", "--token-kind",
                  "Acupuncture"], "--price", id="sell-tokens-without-price"),
    pytest.param(["sell", "--patient", "{ana}", "--tokens", "2", "--price", "10"],
                 "--token-kind", id="sell-tokens-without-kind"),
    pytest.param(["adjust", "--patient", "{ana}", "--tokens", "2", "--reason", "x"],
                 "--token-kind", id="adjust-tokens-without-kind"),
    pytest.param(["transfer", "--from", "{ana}", "--to", "{ana}", "--credit", "1"], "--to",
                 id="transfer-to-self"),
    pytest.param(["history", "--patient", "{ana}", "--limit", "0"], "--limit",
                 id="history-limit-zero"),
    pytest.param(["demo", "--patients", "0"], "--patients", id="demo-zero-patients"),
])
def test_bad_counts_and_missing_companions_are_refused(desk: Desk, clinic: Clinic,
                                                       argv: list[str], option: str) -> None:
    refused_cleanly(desk, clinic, argv, option)


# ---------------------------------------------------------------- json errors


def test_json_mode_reports_the_error_on_stdout(desk: Desk, clinic: Clinic) -> None:
    before = desk.table_rows()
    result = desk.fails(2, "sell", "--patient", UNKNOWN_ID, "--credit", "5", "--pay", "cash:5",
                        json_output=True)
    assert result.json == {"error": f"--patient: no patient with id {UNKNOWN_ID}",
                           "exit_code": 2}
    assert result.err == f"desk: error: --patient: no patient with id {UNKNOWN_ID}\n"
    assert desk.table_rows() == before


def test_unknown_command_is_a_usage_error(desk: Desk) -> None:
    result = desk.fails(2, "frobnicate")
    assert "invalid choice" in result.err


def test_the_seeded_clinic_is_unchanged(desk: Desk, clinic: Clinic) -> None:
    """After every refusal above, the clinic holds exactly what it was seeded with."""
    expiry = today_plus(365)
    assert desk.ok("balance", "--patient", str(clinic.ana)) == {
        "patient_id": clinic.ana, "credit": "40.00", "tokens": {"Acupuncture": 5},
        "held": {}, "next_expiry": {"Acupuncture": expiry}}
    assert desk.ok("balance", "--patient", str(clinic.ben)) == {
        "patient_id": clinic.ben, "credit": "0.00", "tokens": {}, "held": {},
        "next_expiry": {}}
    report = desk.ok("db", "verify")
    assert (report["ok"], report["transactions"], report["problems"]) == (True, 2, [])
    assert [p["name"] for p in desk.ok("patient", "find", "a")] == ["Ana Silva", "Ben Okafor"]


# ------------------------------------------------- the real console script


def test_script_bad_amount_exits_2_without_traceback(desk_script: Script,
                                                     clinic: Clinic) -> None:
    result = desk_script("--db", clinic.url, "sell", "--patient", str(clinic.ana),
                         "--credit", "1e309", "--pay", "cash:5")
    assert result.code == 2, result.describe()
    assert "argument --credit: '1e309'" in result.err
    assert "Traceback" not in result.err and result.out == ""


def test_script_refusal_exits_3_without_traceback(desk_script: Script, clinic: Clinic) -> None:
    result = desk_script("--db", clinic.url, "--json", "refund", "--patient", str(clinic.ben),
                         "--amount", "5", "--method", "cash")
    assert result.code == 3, result.describe()
    message = f"patient {clinic.ben} has only $0.00 credit; cannot refund $5.00"
    assert result.err == f"desk: error: {message}\n"
    assert json.loads(result.out) == {"error": message, "exit_code": 3}


def test_script_balance_prints_json(desk_script: Script, clinic: Clinic) -> None:
    result = desk_script("--db", clinic.url, "--json", "balance", "--patient", str(clinic.ana))
    assert result.code == 0, result.describe()
    assert result.err == ""
    expiry = today_plus(365)
    assert json.loads(result.out) == {"patient_id": clinic.ana, "credit": "40.00",
                                      "tokens": {"Acupuncture": 5}, "held": {},
                                      "next_expiry": {"Acupuncture": expiry}}


def test_script_unexpected_error_is_short(desk_script: Script, tmp_path: Any) -> None:
    """A database that is not a desk database: exit 1 (or 2), one line, no traceback."""
    junk = tmp_path / "not-a-database.sqlite3"
    junk.write_bytes(b"definitely not SQLite " * 200)
    result = desk_script("--db", f"sqlite:///{junk}", "balance", "--patient", "1")
    assert result.code in (1, 2), result.describe()
    assert result.err.startswith("desk: error: ")
    assert "Traceback" not in result.err
    assert len(result.err.strip().splitlines()) == 1
