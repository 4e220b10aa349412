"""Unit tests for storefront_sdk.money: exact minor-unit money, allocation and formatting."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest
from babel.numbers import get_currency_precision
from hypothesis import given
from hypothesis import strategies as st

from storefront_sdk.money import (
    ISO_EXPONENT_OVERRIDES,
    CurrencyMismatch,
    Money,
    allocate,
    currency_exponent,
    format_money,
)

# --- currency_exponent -------------------------------------------------------------------------

ISO_EXPONENTS = {
    "JPY": 0,
    "KRW": 0,
    "CNY": 2,
    "USD": 2,
    "EUR": 2,
    "KWD": 3,
    "BHD": 3,
    "JOD": 3,
    "OMR": 3,
    "TND": 3,
    "CLP": 0,
    "VND": 0,
    "ISK": 0,
    "UGX": 0,
    # Codes where CLDR differs (or differed, in Babel releases we support) from ISO 4217
    # and the override table applies.
    "AFN": 2,
    "ALL": 2,
    "IQD": 3,
    "IRR": 2,
    "KPW": 2,
    "LAK": 2,
    "LBP": 2,
    "MGA": 2,
    "MMK": 2,
    "RSD": 2,
    "SLL": 2,
    "SOS": 2,
    "SYP": 2,
    "YER": 2,
}


@pytest.mark.parametrize(("code", "expected"), sorted(ISO_EXPONENTS.items()))
def test_currency_exponent_matches_iso_4217(code: str, expected: int) -> None:
    # Given an ISO 4217 code, when its exponent is looked up, then it is the ISO minor unit.
    assert currency_exponent(code) == expected


def test_iqd_override_differs_from_cldr() -> None:
    # Given IQD, for which CLDR displays 0 digits, then the ISO exponent 3 is used instead.
    assert get_currency_precision("IQD") == 0
    assert currency_exponent("IQD") == 3


def test_every_override_is_the_iso_minor_unit() -> None:
    # Given the override table (Babel releases disagree with ISO 4217 on these, and newer
    # ones catch up now and then: RSD in Babel 2.19), then each entry is the ISO exponent.
    assert {code: ISO_EXPONENTS.get(code) for code in ISO_EXPONENT_OVERRIDES} == dict(
        ISO_EXPONENT_OVERRIDES
    )


@pytest.mark.parametrize("code", ["usd", "XYZ", "US", "USDD", ""])
def test_currency_exponent_rejects_unknown_code(code: str) -> None:
    with pytest.raises(ValueError, match="unknown currency"):
        currency_exponent(code)


# --- construction ------------------------------------------------------------------------------


def test_money_holds_minor_units_and_currency() -> None:
    m = Money(1990, "CNY")
    assert (m.minor, m.currency) == (1990, "CNY")


@pytest.mark.parametrize("bad", [19.9, Decimal("19.90"), "1990", True, False, None])
def test_money_refuses_non_int_minor(bad: object) -> None:
    with pytest.raises(TypeError, match=r"Money\.minor must be an int"):
        Money(bad, "USD")  # type: ignore[arg-type]


@pytest.mark.parametrize("code", ["usd", "XYZ", "US", "EURO"])
def test_money_refuses_unknown_currency(code: str) -> None:
    with pytest.raises(ValueError, match=f"unknown currency '{code}'"):
        Money(1, code)


def test_money_refuses_non_str_currency() -> None:
    with pytest.raises(TypeError, match="currency must be a str"):
        Money(1, 840)  # type: ignore[arg-type]


def test_money_is_frozen() -> None:
    m = Money(1, "USD")
    with pytest.raises(AttributeError):
        m.minor = 2  # type: ignore[misc]


def test_money_is_hashable_by_value() -> None:
    assert {Money(5, "USD"), Money(5, "USD"), Money(5, "EUR")} == {
        Money(5, "USD"),
        Money(5, "EUR"),
    }


def test_zero() -> None:
    assert Money.zero("JPY") == Money(0, "JPY")


def test_bool_is_nonzero() -> None:
    assert bool(Money(0, "USD")) is False
    assert bool(Money(-1, "USD")) is True


# --- arithmetic and comparison -----------------------------------------------------------------


def test_add_same_currency() -> None:
    assert Money(150, "EUR") + Money(275, "EUR") == Money(425, "EUR")


def test_subtract_same_currency() -> None:
    assert Money(150, "EUR") - Money(275, "EUR") == Money(-125, "EUR")


def test_negate() -> None:
    assert -Money(150, "EUR") == Money(-150, "EUR")


def test_multiply_by_int_either_side() -> None:
    assert Money(199, "USD") * 3 == Money(597, "USD")
    assert 3 * Money(199, "USD") == Money(597, "USD")


@pytest.mark.parametrize("factor", [1.5, Decimal(2), True, "2"])
def test_multiply_refuses_non_int(factor: object) -> None:
    with pytest.raises(TypeError, match="Money multiplier must be an int"):
        Money(100, "USD") * factor  # type: ignore[operator]


def test_add_mixed_currency_raises() -> None:
    with pytest.raises(CurrencyMismatch, match="cannot add USD and EUR"):
        Money(1, "USD") + Money(1, "EUR")


def test_subtract_mixed_currency_raises() -> None:
    with pytest.raises(CurrencyMismatch, match="cannot subtract USD and EUR"):
        Money(1, "USD") - Money(1, "EUR")


def test_compare_mixed_currency_raises() -> None:
    with pytest.raises(CurrencyMismatch, match="cannot compare USD and EUR"):
        _ = Money(1, "USD") < Money(2, "EUR")


def test_currency_mismatch_is_value_error() -> None:
    assert issubclass(CurrencyMismatch, ValueError)


def test_add_plain_int_is_type_error() -> None:
    with pytest.raises(TypeError):
        Money(1, "USD") + 1  # type: ignore[operator]


def test_ordering_within_currency() -> None:
    small, big = Money(1, "USD"), Money(2, "USD")
    assert (small < big, small <= big, small > big, small >= big) == (
        True,
        True,
        False,
        False,
    )
    assert small <= Money(1, "USD")
    assert small >= Money(1, "USD")


def test_equality_includes_currency() -> None:
    assert Money(0, "USD") != Money(0, "EUR")


def test_total_sums_amounts() -> None:
    assert Money.total([Money(1, "USD"), Money(2, "USD")], "USD") == Money(3, "USD")


def test_total_of_nothing_is_zero() -> None:
    assert Money.total([], "KWD") == Money(0, "KWD")


def test_total_refuses_other_currency() -> None:
    with pytest.raises(CurrencyMismatch):
        Money.total([Money(1, "EUR")], "USD")


# --- from_major --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "currency", "minor"),
    [
        ("19.90", "CNY", 1990),
        ("19.9", "CNY", 1990),
        ("19", "CNY", 1900),
        ("-0.01", "USD", -1),
        ("+3.5", "EUR", 350),
        ("5", "JPY", 5),
        ("1.234", "KWD", 1234),
        ("0.001", "IQD", 1),
        ("12345678901234567890123456789.99", "USD", 1234567890123456789012345678999),
        (7, "USD", 700),
        (7, "JPY", 7),
        (-2, "BHD", -2000),
    ],
)
def test_from_major_is_exact(amount: str | int, currency: str, minor: int) -> None:
    assert Money.from_major(amount, currency) == Money(minor, currency)


@pytest.mark.parametrize(
    ("amount", "currency"),
    [("19.999", "CNY"), ("5.5", "JPY"), ("5.0", "JPY"), ("1.2345", "KWD")],
)
def test_from_major_rejects_excess_decimal_places(amount: str, currency: str) -> None:
    with pytest.raises(ValueError, match="decimal places"):
        Money.from_major(amount, currency)


@pytest.mark.parametrize("amount", ["", "abc", "1e3", "NaN", "Infinity", "1_000", ".5", "5.", " 5"])
def test_from_major_rejects_non_plain_decimal_strings(amount: str) -> None:
    with pytest.raises(ValueError, match="not a plain decimal amount"):
        Money.from_major(amount, "USD")


@pytest.mark.parametrize("amount", [19.9, Decimal("19.90"), True, None])
def test_from_major_refuses_floats_decimals_and_bools(amount: object) -> None:
    with pytest.raises(TypeError, match="amount must be a decimal str or an int"):
        Money.from_major(amount, "USD")  # type: ignore[arg-type]


def test_from_major_rejects_unknown_currency() -> None:
    with pytest.raises(ValueError, match="unknown currency 'ABC'"):
        Money.from_major("1", "ABC")


# --- allocate (examples) -----------------------------------------------------------------------


def test_allocate_even_split_gives_extra_unit_to_lowest_index() -> None:
    assert allocate(Money(100, "USD"), [1, 1, 1]) == [
        Money(34, "USD"),
        Money(33, "USD"),
        Money(33, "USD"),
    ]


def test_allocate_gives_leftover_to_largest_remainder() -> None:
    # Exact shares 0.3, 0.7 of 1 unit: the larger remainder (index 1) takes it.
    assert allocate(Money(1, "EUR"), [3, 7]) == [Money(0, "EUR"), Money(1, "EUR")]


def test_allocate_negative_total_mirrors_positive() -> None:
    assert allocate(Money(-100, "USD"), [1, 1, 1]) == [
        Money(-34, "USD"),
        Money(-33, "USD"),
        Money(-33, "USD"),
    ]


def test_allocate_zero_weight_gets_zero() -> None:
    assert allocate(Money(5, "JPY"), [0, 1, 0, 1]) == [
        Money(0, "JPY"),
        Money(3, "JPY"),
        Money(0, "JPY"),
        Money(2, "JPY"),
    ]


@pytest.mark.parametrize("weights", [[], [0], [0, 0], [1, -1, 1]])
def test_allocate_rejects_bad_weights(weights: list[int]) -> None:
    with pytest.raises(ValueError):
        allocate(Money(10, "USD"), weights)


@pytest.mark.parametrize("weights", [[1, 1.5], [True, 1], [Decimal(1)], ["1"]])
def test_allocate_refuses_non_int_weights(weights: list[object]) -> None:
    with pytest.raises(TypeError, match="weight must be an int"):
        allocate(Money(10, "USD"), weights)  # type: ignore[arg-type]


# --- allocate (properties) ---------------------------------------------------------------------

totals = st.integers(min_value=-(10**15), max_value=10**15)
weight_lists = st.lists(st.integers(min_value=0, max_value=10**6), min_size=1, max_size=50).filter(
    lambda ws: sum(ws) > 0
)


@given(total=totals, weights=weight_lists)
def test_allocation_sums_exactly_to_total(total: int, weights: list[int]) -> None:
    shares = allocate(Money(total, "USD"), weights)
    assert len(shares) == len(weights)
    assert all(s.currency == "USD" for s in shares)
    assert sum(s.minor for s in shares) == total


@given(total=totals, weights=weight_lists)
def test_each_share_is_within_one_unit_of_exact_share(total: int, weights: list[int]) -> None:
    sum_w = sum(weights)
    for share, w in zip(allocate(Money(total, "USD"), weights), weights, strict=True):
        assert abs(share.minor * sum_w - total * w) < sum_w
        exact = Fraction(total * w, sum_w)
        assert share.minor in (exact.__floor__(), exact.__ceil__())


@given(total=totals, weights=weight_lists)
def test_zero_weights_get_zero(total: int, weights: list[int]) -> None:
    for share, w in zip(allocate(Money(total, "USD"), weights), weights, strict=True):
        if w == 0:
            assert share == Money(0, "USD")


@given(total=totals, weights=weight_lists)
def test_allocation_is_deterministic(total: int, weights: list[int]) -> None:
    assert allocate(Money(total, "USD"), weights) == allocate(Money(total, "USD"), list(weights))


@given(total=totals, weights=weight_lists)
def test_negative_total_is_negated_positive_allocation(total: int, weights: list[int]) -> None:
    positive = allocate(Money(abs(total), "USD"), weights)
    negative = allocate(Money(-abs(total), "USD"), weights)
    assert negative == [-s for s in positive]


# --- format_money ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("money", "locale", "expected"),
    [
        (Money(1990, "CNY"), "zh_CN", "¥19.90"),
        (Money(1990, "CNY"), "en_US", "CN¥19.90"),
        (Money(1990, "CNY"), "zh-Hans", "¥19.90"),
        (Money(1990, "CNY"), "zh_Hans_CN", "¥19.90"),
        (Money(-1990, "CNY"), "zh_CN", "-¥19.90"),
        (Money(500, "JPY"), "en_US", "¥500"),
        (Money(199, "USD"), "en", "$1.99"),
        (Money(123450, "EUR"), "de_DE", "1.234,50\xa0€"),
        (Money(1234, "KWD"), "en_US", "KWD1.234"),
    ],
)
def test_format_money(money: Money, locale: str, expected: str) -> None:
    assert format_money(money, locale) == expected


def test_format_money_uses_iso_digits_where_cldr_would_round() -> None:
    # Given IQD (CLDR shows 0 digits, ISO has 3), then no minor unit is rounded away.
    assert format_money(Money(1234, "IQD"), "en_US") == "IQD1.234"


def test_format_money_is_exact_for_huge_amounts() -> None:
    assert format_money(Money(10**30 + 1, "USD"), "en_US") == "$" + f"{10**28:,}" + ".01"


@pytest.mark.parametrize("locale", ["xx", "", "not a locale", "en_US_US_US"])
def test_format_money_rejects_invalid_locale(locale: str) -> None:
    with pytest.raises(ValueError, match="invalid locale"):
        format_money(Money(1, "USD"), locale)
