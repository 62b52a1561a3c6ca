"""Money: strict parsing of typed amounts and counts, formatting, the Money type.

Pure tests: no database, no Qt.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from desk.core.errors import BadInput
from desk.core.money import (
    MAX_CENTS,
    MAX_TOKENS,
    Money,
    format_amount,
    format_money,
    parse_amount,
    parse_count,
)

FIELD = "--amount"


def refused_amount(text: str, **kw: bool) -> BadInput:
    with pytest.raises(BadInput) as info:
        parse_amount(text, FIELD, **kw)
    assert info.value.field == FIELD
    assert info.value.exit_code == 2
    return info.value


def refused_count(text: str, **kw: object) -> BadInput:
    with pytest.raises(BadInput) as info:
        parse_count(text, "--tokens", **kw)  # type: ignore[arg-type]
    assert info.value.field == "--tokens"
    return info.value


# --------------------------------------------------------------------------- parse_amount


@pytest.mark.parametrize(
    ("text", "cents"),
    [
        ("12.5", 1250),
        (" 12.50 ", 1250),
        ("12.50", 1250),
        ("12", 1200),
        ("0.01", 1),
        ("0.1", 10),
        ("+7.25", 725),
        ("007.00", 700),
        ("999999999.99", 99_999_999_999),
        ("\t3.00\n", 300),
    ],
)
def test_parse_amount_accepts(text: str, cents: int) -> None:
    result = parse_amount(text, FIELD)
    assert result == cents
    assert type(result) is int


def test_parse_amount_accepts_negative_only_when_allowed() -> None:
    assert parse_amount("-3.20", FIELD, allow_negative=True) == -320
    assert parse_amount("-0.01", FIELD, allow_negative=True) == -1
    assert parse_amount("-999999999.99", FIELD, allow_negative=True) == -MAX_CENTS


def test_parse_amount_zero_only_when_allowed() -> None:
    assert parse_amount("0", FIELD, allow_zero=True) == 0
    assert parse_amount("0.00", FIELD, allow_zero=True) == 0
    err = refused_amount("0")
    assert "zero" in err.reason
    refused_amount("0.00")
    refused_amount("000")


def test_parse_amount_max_is_exactly_max_cents() -> None:
    assert parse_amount("999999999.99", FIELD) == MAX_CENTS
    err = refused_amount("1000000000.00")
    assert "too large" in err.reason
    refused_amount("1000000000")
    refused_amount("-1000000000.00", allow_negative=True)


def test_leading_zeros_do_not_count_towards_the_size_limit() -> None:
    assert parse_amount("0000000000000000000012.50", FIELD) == 1250


@pytest.mark.parametrize(
    "text",
    [
        "1e309",
        "1e3",
        "1E3",
        "NaN",
        "nan",
        "inf",
        "-inf",
        "Infinity",
        "12.345",
        "１２",  # full-width digits
        "٣",  # Arabic-Indic digit three
        "۳",  # Extended Arabic-Indic digit three
        "1_000",
        "1,000",
        "1 000",
        "12,50",
        "123456789012345678901",  # 21 digits
        "10^20",
        "",
        "   ",
        "$12.50",
        "12.50 USD",
        ".5",
        "5.",
        "1.2.3",
        "--5",
        "+-5",
        "0x10",
        "12.5\x00",
        "½",
        "²",
    ],
)
def test_parse_amount_refuses(text: str) -> None:
    refused_amount(text, allow_negative=True, allow_zero=True)


def test_parse_amount_refuses_none_naming_the_field() -> None:
    with pytest.raises(BadInput) as info:
        parse_amount(None, FIELD)  # type: ignore[arg-type]
    assert info.value.field == FIELD


def test_comma_decimal_message_suggests_a_dot() -> None:
    err = refused_amount("12,50")
    assert "12.50" in err.reason
    assert "12.50" in str(err)


def test_refusal_messages_explain_the_problem() -> None:
    assert "empty" in refused_amount("").reason
    assert "empty" in refused_amount("   ").reason
    assert "non-ASCII" in refused_amount("１２").reason
    assert "non-ASCII" in refused_amount("٣").reason
    assert "two decimals" in refused_amount("12.345").reason
    assert "exponent" in refused_amount("1e309").reason
    assert "exponent" in refused_amount("10^20").reason
    assert "too large" in refused_amount("123456789012345678901").reason
    assert "not an amount" in refused_amount("NaN").reason
    assert "not an amount" in refused_amount("inf").reason
    # The message is prefixed with the field so a person knows what to fix.
    assert str(refused_amount("abc")).startswith(f"{FIELD}: ")


@pytest.mark.parametrize("text", ["-5", "-0", "-0.00", "-0.01", " -5 "])
def test_parse_amount_refuses_negative_when_positive_needed(text: str) -> None:
    err = refused_amount(text)
    assert "positive" in err.reason


def test_negative_refused_even_when_zero_allowed() -> None:
    refused_amount("-5", allow_zero=True)


def test_huge_run_of_leading_zeros_is_bad_input_not_a_crash() -> None:
    """Python refuses int() of more than 4300 digits with ValueError; that must
    surface as BadInput (exit 2), never as an unexplained crash."""
    refused_amount("0" * 5000 + "1")


@given(st.integers(min_value=-MAX_CENTS, max_value=MAX_CENTS))
def test_format_then_parse_round_trips(cents: int) -> None:
    text = format_amount(cents)
    assert parse_amount(text, FIELD, allow_negative=True, allow_zero=True) == cents


@settings(max_examples=300)
@given(st.text())
def test_parse_amount_only_ever_returns_bounded_int_or_bad_input(text: str) -> None:
    try:
        cents = parse_amount(text, FIELD, allow_negative=True, allow_zero=True)
    except BadInput as err:
        assert err.field == FIELD
    else:
        assert type(cents) is int
        assert -MAX_CENTS <= cents <= MAX_CENTS


# --------------------------------------------------------------------------- parse_count


@pytest.mark.parametrize(
    ("text", "value"),
    [("5", 5), (" 7 ", 7), ("+3", 3), ("0010", 10), (str(MAX_TOKENS), MAX_TOKENS)],
)
def test_parse_count_accepts(text: str, value: int) -> None:
    assert parse_count(text, "--tokens") == value


def test_parse_count_negative_and_zero_only_when_allowed() -> None:
    assert parse_count("-3", "--tokens", allow_negative=True) == -3
    assert parse_count("0", "--tokens", allow_zero=True) == 0
    assert "positive" in refused_count("-3").reason
    assert "positive" in refused_count("-0").reason
    assert "zero" in refused_count("0").reason


def test_parse_count_maximum() -> None:
    assert "too large" in refused_count(str(MAX_TOKENS + 1)).reason
    assert "too large" in refused_count("999999").reason
    assert "too large" in refused_count(f"-{MAX_TOKENS + 1}", allow_negative=True).reason
    assert parse_count(f"-{MAX_TOKENS}", "--tokens", allow_negative=True) == -MAX_TOKENS
    assert parse_count("10", "--tokens", maximum=10) == 10
    refused_count("11", maximum=10)


@pytest.mark.parametrize(
    "text",
    [
        "１２",
        "٣",
        "1_000",
        "1,000",
        "1e3",
        "5.0",
        "2.5",
        "NaN",
        "inf",
        "",
        "   ",
        "123456789012345678901",
        "10^2",
        "five",
        "0x10",
    ],
)
def test_parse_count_refuses(text: str) -> None:
    refused_count(text, allow_negative=True, allow_zero=True)


def test_parse_count_messages() -> None:
    assert "empty" in refused_count("").reason
    assert "non-ASCII" in refused_count("１２").reason
    assert "whole number" in refused_count("2.5").reason


def test_parse_count_refuses_none() -> None:
    with pytest.raises(BadInput) as info:
        parse_count(None, "--tokens")  # type: ignore[arg-type]
    assert info.value.field == "--tokens"


def test_parse_count_huge_run_of_leading_zeros_is_bad_input_not_a_crash() -> None:
    refused_count("0" * 5000 + "1")


@given(st.integers(min_value=-MAX_TOKENS, max_value=MAX_TOKENS))
def test_parse_count_round_trips(value: int) -> None:
    assert parse_count(str(value), "--tokens", allow_negative=True, allow_zero=True) == value


# --------------------------------------------------------------------------- formatting


@pytest.mark.parametrize(
    ("cents", "text"),
    [
        (0, "0.00"),
        (1, "0.01"),
        (10, "0.10"),
        (1250, "12.50"),
        (-5, "-0.05"),
        (-100, "-1.00"),
        (-320, "-3.20"),
        (123456789, "1234567.89"),  # no grouping in the plain form
        (MAX_CENTS, "999999999.99"),
        (-MAX_CENTS, "-999999999.99"),
    ],
)
def test_format_amount(cents: int, text: str) -> None:
    assert format_amount(cents) == text


@pytest.mark.parametrize(
    ("cents", "currency", "text"),
    [
        (1250, "USD", "$12.50"),
        (0, "USD", "$0.00"),
        (-5, "USD", "-$0.05"),
        (-2500, "USD", "-$25.00"),
        (100000, "USD", "$1,000.00"),
        (123456789, "USD", "$1,234,567.89"),
        (-123456789, "USD", "-$1,234,567.89"),
        (MAX_CENTS, "USD", "$999,999,999.99"),
        (1250, "usd", "$12.50"),
        (100000, "EUR", "€1,000.00"),
        (-999, "GBP", "-£9.99"),
        (1250, "CHF", "CHF 12.50"),
        (1250, "XYZ", "XYZ 12.50"),
        (123400, "INR", "₹1,234.00"),
        (125000, "JPY", "¥1,250"),
        (-125000, "JPY", "-¥1,250"),
    ],
)
def test_format_money(cents: int, currency: str, text: str) -> None:
    assert format_money(cents, currency) == text


def test_format_money_defaults_to_usd() -> None:
    assert format_money(1250) == "$12.50"


# --------------------------------------------------------------------------- Money


def test_money_adds_and_subtracts_money() -> None:
    assert Money(1250) + Money(250) == Money(1500)
    assert Money(1250) - Money(250) == Money(1000)
    assert -Money(5) == Money(-5)
    assert Money(1) < Money(2)
    assert not Money(0)
    assert Money(-1)


@pytest.mark.parametrize("bad", [12.5, 12.0, True, "1250", None])
def test_money_refuses_non_int_cents(bad: object) -> None:
    with pytest.raises(TypeError):
        Money(bad)  # type: ignore[arg-type]


def test_money_refuses_decimal_cents() -> None:
    from decimal import Decimal

    with pytest.raises(TypeError):
        Money(Decimal("12.50"))  # type: ignore[arg-type]


@pytest.mark.parametrize("other", [1, 1.0, 0])
def test_money_refuses_mixing_with_numbers(other: object) -> None:
    with pytest.raises(TypeError):
        Money(100) + other  # type: ignore[operator]
    with pytest.raises(TypeError):
        other + Money(100)  # type: ignore[operator]
    with pytest.raises(TypeError):
        Money(100) - other  # type: ignore[operator]


def test_money_is_immutable_and_not_equal_to_int() -> None:
    from dataclasses import FrozenInstanceError

    m = Money(100)
    with pytest.raises(FrozenInstanceError):
        m.cents = 5  # type: ignore[misc]
    assert m != 100
