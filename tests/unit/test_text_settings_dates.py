"""Names and search keys, clinic settings, dates and the error types.

Pure tests: no database, no Qt.
"""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from desk.core import settings as rules
from desk.core.dates import MAX_DATE, MIN_DATE, as_date, as_datetime, parse_date
from desk.core.errors import BadInput, DatabaseFault, DeskError, NotFound, Refused
from desk.core.text import MAX_NAME_LEN, clean_name, clean_text, phone_digits, search_key

# --------------------------------------------------------------------------- search_key


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("Zoë  O'Brien", "zoe o'brien"),
        ("ZOË O'BRIEN", "zoe o'brien"),
        ("Zoe\u0308 O'Brien", "zoe o'brien"),  # decomposed input
        ("  José   Álvarez-Núñez ", "jose alvarez-nunez"),
        ("François", "francois"),
        ("Ann\u00a0Lee", "ann lee"),  # no-break space
        ("Ann\tLee\n", "ann lee"),
        ("Straße", "strasse"),
        ("ＴＡＲＯ", "taro"),  # full-width Latin folds to ASCII
        ("山田 太郎", "山田 太郎"),
        ("王小明", "王小明"),
        ("김민수", "김민수"),  # Hangul syllables survive decomposition
        ("", ""),
        ("   ", ""),
    ],
)
def test_search_key(text: str, key: str) -> None:
    assert search_key(text) == key


def test_search_key_matches_however_the_name_was_typed() -> None:
    assert search_key("Zoë O'Brien") == search_key("zoe   o'brien") == search_key("ZOE O'BRIEN")


# --------------------------------------------------------------------------- clean_name


@pytest.mark.parametrize(
    ("text", "cleaned"),
    [
        ("  Zoë   O'Brien ", "Zoë O'Brien"),
        ("Zoe\u0308", "Zoë"),  # NFC-composed
        ("Ann\u00a0\u00a0Lee", "Ann Lee"),
        ("Robert'); DROP TABLE patients;--", "Robert'); DROP TABLE patients;--"),
        ("' OR '1'='1", "' OR '1'='1"),
        ('Ann "Nan" Lee', 'Ann "Nan" Lee'),
        ("%_\\", "%_\\"),
        ("山田 太郎", "山田 太郎"),
        ("👩\u200d⚕️ Dr Ann", "👩\u200d⚕️ Dr Ann"),  # ZWJ emoji kept
    ],
)
def test_clean_name_keeps_text_verbatim(text: str, cleaned: str) -> None:
    assert clean_name(text, "--name") == cleaned


@pytest.mark.parametrize("text", ["", "   ", "\u00a0", None])
def test_clean_name_refuses_empty(text: str | None) -> None:
    with pytest.raises(BadInput) as info:
        clean_name(text, "--name")
    assert info.value.field == "--name"


@pytest.mark.parametrize(
    "text", ["Ann\x00Lee", "Ann\tLee", "Ann\nLee", "Ann\rLee", "\x1b[31mAnn", "Ann\x7f", "Ann\x85"]
)
def test_clean_name_refuses_control_characters(text: str) -> None:
    with pytest.raises(BadInput) as info:
        clean_name(text, "--name")
    assert info.value.field == "--name"
    assert "control" in info.value.reason


def test_clean_name_length_limit() -> None:
    assert clean_name("a" * MAX_NAME_LEN, "--name") == "a" * MAX_NAME_LEN
    # Trimmed before measuring.
    assert clean_name("  " + "a" * MAX_NAME_LEN + "  ", "--name") == "a" * MAX_NAME_LEN
    with pytest.raises(BadInput) as info:
        clean_name("a" * (MAX_NAME_LEN + 1), "--name")
    assert info.value.field == "--name"
    assert "too long" in info.value.reason
    with pytest.raises(BadInput):
        clean_name("abcdef", "--kind", max_len=5)
    assert clean_name("abcde", "--kind", max_len=5) == "abcde"


@settings(max_examples=200)
@given(st.text())
def test_clean_name_is_idempotent_or_refuses(text: str) -> None:
    try:
        cleaned = clean_name(text, "--name")
    except BadInput as err:
        assert err.field == "--name"
    else:
        assert cleaned == cleaned.strip() and cleaned
        assert "  " not in cleaned
        assert clean_name(cleaned, "--name") == cleaned


# --------------------------------------------------------------------------- clean_text


def test_clean_text() -> None:
    assert clean_text(None, "--notes") == ""
    assert clean_text("", "--notes") == ""
    assert clean_text("   ", "--notes") == ""
    assert clean_text("  allergic to latex \n", "--notes") == "allergic to latex"
    assert clean_text("line one\n\nline two", "--notes") == "line one\n\nline two"
    assert clean_text("Zoe\u0308", "--notes") == "Zoë"
    assert clean_text("'; DROP TABLE x;--", "--notes") == "'; DROP TABLE x;--"


def test_clean_text_length_limit() -> None:
    assert clean_text("a" * 4000, "--notes") == "a" * 4000
    with pytest.raises(BadInput) as info:
        clean_text("a" * 4001, "--notes")
    assert info.value.field == "--notes"
    with pytest.raises(BadInput) as info:
        clean_text("a" * 501, "--reason", max_len=500)
    assert info.value.field == "--reason"


# --------------------------------------------------------------------------- phone_digits


@pytest.mark.parametrize(
    ("text", "digits"),
    [
        ("+1 (555) 010-0000", "15550100000"),
        ("555.010.0000", "5550100000"),
        ("０１２３ ４５", "012345"),  # full-width digits normalised
        ("call me", ""),
        ("", ""),
    ],
)
def test_phone_digits(text: str, digits: str) -> None:
    assert phone_digits(text) == digits


# --------------------------------------------------------------------------- settings


def refused_setting(key: str, text: str) -> BadInput:
    with pytest.raises(BadInput) as info:
        rules.parse(key, text)
    assert info.value.field == key
    return info.value


@pytest.mark.parametrize("key", sorted(rules.SPECS))
def test_every_default_is_canonical(key: str) -> None:
    spec = rules.SPECS[key]
    assert spec.key == key
    assert rules.parse(key, spec.default) == spec.default


def test_defaults_pass_the_cross_key_rules() -> None:
    rules.check_pair({k: s.default for k, s in rules.SPECS.items()})


@pytest.mark.parametrize(
    ("text", "stored"),
    [
        ("YES", "true"),
        ("yes", "true"),
        (" On ", "true"),
        ("1", "true"),
        ("TRUE", "true"),
        ("No", "false"),
        ("off", "false"),
        ("0", "false"),
        ("False", "false"),
    ],
)
def test_bool_settings_are_canonicalised(text: str, stored: str) -> None:
    assert rules.parse("auto_print", text) == stored


@pytest.mark.parametrize("text", ["maybe", "", "y", "2", "ＹＥＳ"])
def test_bool_settings_refuse_other_text(text: str) -> None:
    refused_setting("auto_print", text)


def test_as_bool() -> None:
    assert rules.as_bool("true") is True
    assert rules.as_bool("false") is False


def test_int_settings() -> None:
    assert rules.parse("late_cancel_hours", "0024") == "24"
    assert rules.parse("late_cancel_hours", " 0 ") == "0"
    assert rules.parse("late_cancel_hours", "336") == "336"
    assert rules.parse("idle_lock_minutes", "1440") == "1440"
    err = refused_setting("late_cancel_hours", "337")
    assert "between 0 and 336" in err.reason
    refused_setting("idle_lock_minutes", "1441")


@pytest.mark.parametrize("text", ["-1", "1.5", "１２", "٣", "1e3", "1_0", "", "ten", "9999999"])
def test_int_settings_refuse_bad_numbers(text: str) -> None:
    refused_setting("late_cancel_hours", text)


def test_money_settings() -> None:
    assert rules.parse("late_cancel_fee", "5") == "5.00"
    assert rules.parse("late_cancel_fee", " 12.5 ") == "12.50"
    assert rules.parse("no_show_fee", "0") == "0.00"


@pytest.mark.parametrize("text", ["-1", "1e3", "12,50", "NaN", "", "1000000000"])
def test_money_settings_refuse_bad_amounts(text: str) -> None:
    refused_setting("late_cancel_fee", text)


def test_time_settings_are_canonicalised() -> None:
    assert rules.parse("day_start", "08:30") == "08:30"
    assert rules.parse("day_start", "8:05") == "08:05"
    assert rules.parse("day_end", " 19:00 ") == "19:00"
    assert rules.parse("day_start", "00:00") == "00:00"
    assert rules.parse("day_end", "23:59") == "23:59"


@pytest.mark.parametrize(
    "text", ["24:00", "12:60", "7pm", "08:30:00", "0830", "08-30", "", "noon", "-1:00"]
)
def test_time_settings_refuse_bad_times(text: str) -> None:
    refused_setting("day_start", text)


@pytest.mark.parametrize("text", ["٨:٣", "８:３", "1٢:30", "０8:30"])
def test_time_settings_refuse_non_ascii_digits(text: str) -> None:
    """Like amounts, counts, ints and dates, times are plain ASCII digits
    (ENVIRONMENT: strptime's \\d matches any Unicode digit)."""
    refused_setting("day_start", text)


def test_choice_settings() -> None:
    assert rules.parse("receipt_paper", "A4") == "a4"
    assert rules.parse("receipt_paper", " Letter ") == "letter"
    assert rules.parse("slot_minutes", "15") == "15"
    refused_setting("receipt_paper", "roll58")
    refused_setting("slot_minutes", "7")
    refused_setting("slot_minutes", "１５")
    refused_setting("slot_minutes", "015")


def test_currency_settings() -> None:
    assert rules.parse("currency", "eur") == "EUR"
    assert rules.parse("currency", " gbp ") == "GBP"
    for bad in ["US", "USDX", "US1", "ＵＳＤ", "", "$"]:
        refused_setting("currency", bad)


def test_text_settings() -> None:
    assert rules.parse("clinic_name", "  Sunrise Physio  ") == "Sunrise Physio"
    assert rules.parse("clinic_name", "") == ""
    assert rules.parse("receipt_footer", "x" * 500) == "x" * 500
    assert "too long" in refused_setting("receipt_footer", "x" * 501).reason


@pytest.mark.parametrize("key", ["no_such_key", "", "Currency", "day start"])
def test_unknown_keys_are_refused(key: str) -> None:
    with pytest.raises(BadInput) as info:
        rules.parse(key, "x")
    assert info.value.field == "key"
    assert repr(key) in info.value.reason
    with pytest.raises(BadInput):
        rules.spec_for(key)


def _values(**over: str) -> dict[str, str]:
    return dict({k: s.default for k, s in rules.SPECS.items()}, **over)


@pytest.mark.parametrize(
    ("start", "end"), [("08:00", "08:00"), ("19:00", "08:00"), ("08:01", "08:00")]
)
def test_check_pair_refuses_day_ending_before_it_starts(start: str, end: str) -> None:
    with pytest.raises(BadInput) as info:
        rules.check_pair(_values(day_start=start, day_end=end))
    assert info.value.field == "day_end"


@pytest.mark.parametrize(
    ("start", "end"), [("08:00", "08:01"), ("00:00", "23:59"), ("09:30", "17:00")]
)
def test_check_pair_accepts_a_proper_day(start: str, end: str) -> None:
    rules.check_pair(_values(day_start=start, day_end=end))


def test_check_pair_on_parsed_values() -> None:
    start = rules.parse("day_start", "8:00")
    end = rules.parse("day_end", "19:00")
    rules.check_pair(_values(day_start=start, day_end=end))


# --------------------------------------------------------------------------- dates


@pytest.mark.parametrize(
    ("text", "date"),
    [
        ("2026-03-31", dt.date(2026, 3, 31)),
        (" 2026-03-31 ", dt.date(2026, 3, 31)),
        ("2024-02-29", dt.date(2024, 2, 29)),
        ("1900-01-01", MIN_DATE),
        ("2200-12-31", MAX_DATE),
    ],
)
def test_parse_date_accepts(text: str, date: dt.date) -> None:
    assert parse_date(text, "--dob") == date


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("1899-12-31", "out of range"),
        ("2201-01-01", "out of range"),
        ("0001-01-01", "out of range"),
        ("9999-12-31", "out of range"),
        ("2026-02-29", "not a real date"),
        ("2026-13-01", "not a real date"),
        ("2026-04-31", "not a real date"),
        ("2026-00-10", "not a real date"),
        ("2026-3-31", "not a date"),
        ("31/03/2026", "not a date"),
        ("03/31/2026", "not a date"),
        ("20260331", "not a date"),
        ("2026-W13-2", "not a date"),
        ("2026-03-31T10:00", "not a date"),
        ("2026-03-31 10:00", "not a date"),
        ("２０２６-03-31", "not a date"),
        ("٢٠٢٦-03-31", "not a date"),
        ("", "not a date"),
        ("   ", "not a date"),
        ("yesterday", "not a date"),
    ],
)
def test_parse_date_refuses(text: str, why: str) -> None:
    with pytest.raises(BadInput) as info:
        parse_date(text, "--dob")
    assert info.value.field == "--dob"
    assert why in info.value.reason


def test_parse_date_refuses_none() -> None:
    with pytest.raises(BadInput) as info:
        parse_date(None, "--on")  # type: ignore[arg-type]
    assert info.value.field == "--on"


@settings(max_examples=200)
@given(st.text(max_size=30))
def test_parse_date_only_returns_in_range_dates_or_bad_input(text: str) -> None:
    try:
        value = parse_date(text, "--on")
    except BadInput as err:
        assert err.field == "--on"
    else:
        assert MIN_DATE <= value <= MAX_DATE


@given(st.dates(min_value=MIN_DATE, max_value=MAX_DATE))
def test_parse_date_round_trips_iso(date: dt.date) -> None:
    assert parse_date(date.isoformat(), "--on") == date


def test_as_date() -> None:
    assert as_date(dt.datetime(2026, 3, 31, 23, 59)) == dt.date(2026, 3, 31)
    assert type(as_date(dt.datetime(2026, 3, 31, 23, 59))) is dt.date
    assert as_date(dt.date(2026, 3, 31)) == dt.date(2026, 3, 31)
    assert as_date("2026-03-31") == dt.date(2026, 3, 31)
    assert as_date("2026-03-31 10:11:12") == dt.date(2026, 3, 31)
    assert as_date("2026-03-31T10:11:12.123456+00:00") == dt.date(2026, 3, 31)
    for bad in (None, 20260331, 1.5):
        with pytest.raises(TypeError):
            as_date(bad)


def test_as_datetime() -> None:
    moment = dt.datetime(2026, 3, 31, 10, 11, 12)
    assert as_datetime(moment) is moment
    assert as_datetime("2026-03-31 10:11:12") == moment
    with pytest.raises(TypeError):
        as_datetime(dt.date(2026, 3, 31))
    with pytest.raises(TypeError):
        as_datetime(None)


# --------------------------------------------------------------------------- errors


def test_error_types_and_exit_codes() -> None:
    bad = BadInput("--amount", "is empty")
    assert isinstance(bad, DeskError)
    assert (bad.field, bad.reason, bad.message) == ("--amount", "is empty", "--amount: is empty")
    assert str(bad) == "--amount: is empty"
    assert bad.exit_code == 2
    assert NotFound("no patient 7").exit_code == 2
    assert Refused("not enough tokens").exit_code == 3
    fault = DatabaseFault("locked", "the database is busy")
    assert (fault.kind, str(fault), fault.exit_code) == ("locked", "the database is busy", 1)
    assert DeskError("x").exit_code == 1
    for cls in (BadInput, NotFound, Refused, DatabaseFault):
        assert issubclass(cls, DeskError)
