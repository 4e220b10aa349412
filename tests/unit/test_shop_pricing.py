"""Shop prices and the split of each sale (invariant 2), without a database."""

from __future__ import annotations

from hypothesis import assume, given
from hypothesis import strategies as st

from storefront_sdk.pricing.prices import (
    BP,
    MAX_PRICE,
    Rates,
    VariantBounds,
    lowest_price,
    marked_up,
    shop_price,
    split_price,
)

TEE = VariantBounds(supply=3500, retail=6900, floor=5900)
DEFAULT_RATES = Rates(level1_bp=1000, level2_bp=200)


@st.composite
def bounds(draw: st.DrawFn) -> VariantBounds:
    supply = draw(st.integers(0, 10**7))
    retail = draw(st.integers(supply, 2 * 10**7))
    floor = draw(st.none() | st.integers(supply, retail))
    return VariantBounds(supply, retail, floor)


rates = st.builds(Rates, st.integers(0, BP), st.integers(0, BP))


def test_the_contract_example_splits_as_documented():
    split = split_price(TEE, 7900, DEFAULT_RATES)
    assert (split.supplier, split.level1, split.level2, split.platform) == (3500, 1690, 138, 2572)
    assert split.valid


def test_a_shop_can_discount_at_most_its_base_commission_and_never_below_the_floor():
    assert lowest_price(TEE, DEFAULT_RATES) == 6210  # 6900 - 10 % of 6900
    assert lowest_price(TEE, Rates(5000, 200)) == 5900  # the supplier's floor wins
    assert lowest_price(VariantBounds(100, 100), Rates(0, 0)) == 100


@given(bounds(), rates, st.integers(0, MAX_PRICE))
def test_the_parts_always_sum_to_the_price(variant, rate, price):
    split = split_price(variant, price, rate)
    assert split.supplier + split.level1 + split.level2 + split.platform == price


@given(bounds(), rates, st.integers(0, 10**6))
def test_every_price_from_the_lowest_up_is_valid_when_retail_is(variant, rate, above):
    assume(split_price(variant, variant.retail, rate).valid)
    price = lowest_price(variant, rate) + above
    assert split_price(variant, price, rate).valid
    assert shop_price(variant, rate, price=price).amount == price


@given(bounds(), rates)
def test_a_price_below_the_lowest_falls_back_to_retail(variant, rate):
    below = lowest_price(variant, rate) - 1
    assume(below >= 0)
    assert shop_price(variant, rate, price=below) == shop_price(variant, rate).__class__(
        variant.retail, fell_back=True
    )


def test_settings_in_order_explicit_price_then_markup_then_retail():
    assert shop_price(TEE, DEFAULT_RATES).amount == 6900
    assert shop_price(TEE, DEFAULT_RATES, markup_bp=1000).amount == 7590
    assert shop_price(TEE, DEFAULT_RATES, price=7000, markup_bp=1000).amount == 7000


def test_a_discount_rule_past_the_floor_sells_at_the_lowest_price_and_says_so():
    result = shop_price(TEE, DEFAULT_RATES, markup_bp=-2000)  # 5520 < 6210
    assert (result.amount, result.fell_back) == (6210, True)
    assert shop_price(TEE, DEFAULT_RATES, price=MAX_PRICE + 1).fell_back


def test_markups_round_half_up_to_a_minor_unit():
    assert marked_up(6900, 0) == 6900
    assert marked_up(6900, 1000) == 7590
    assert marked_up(5, 1000) == 6  # 5.5 rounds up
    assert marked_up(5, -1000) == 5  # 4.5 rounds up
    assert marked_up(1999, 333) == 2066  # 2065.57


@given(st.integers(0, 10**7), st.integers(-BP, 10 * BP), st.integers(1, 100))
def test_a_larger_markup_never_lowers_the_price(retail, markup, step):
    assert marked_up(retail, markup + step) >= marked_up(retail, markup)
