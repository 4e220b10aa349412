"""The promotion engine with exact figures: flash sales, thresholds, the coupon, their
allocation to lines and their funders' capacity (pure functions, no database)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from storefront_sdk.pricing.breakdown import LineBreakdown
from storefront_sdk.promotions import engine
from storefront_sdk.promotions.engine import CartLine, CouponAsked, Taken, allocate, price_cart
from storefront_sdk.promotions.models import COUPON, FLASH_SALE, THRESHOLD, Promotion

NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)
SHOP_ID = 7
_ids = iter(range(1, 10_000))


def promo(kind: str, funder: str = "platform", **fields: Any) -> Promotion:
    values: dict[str, Any] = {
        "id": next(_ids),
        "public_id": "pr_x",
        "kind": kind,
        "funder": funder,
        "name": f"{kind}-{funder}",
        "starts_at": NOW - timedelta(hours=1),
        "ends_at": NOW + timedelta(hours=1),
        "created_by": "cli",
        "product_ids": [],
        "category_ids": [],
        "tiers": [],
        "uses": 0,
        "discount_given_minor": 0,
        "units_sold": 0,
        "min_spend_minor": 0,
        "claimable": False,
        "reserved": False,
    }
    values.update(fields)
    return Promotion(**values)


def line(
    variant_id: int,
    price: int,
    quantity: int = 1,
    *,
    supply: int | None = None,
    level1: int | None = None,
    supplier_id: int = 1,
    product_id: int | None = None,
    category_id: int | None = None,
    owner: bool = True,
) -> CartLine:
    """A line at ``price`` a unit: supply 60% of it, level 1 10%, level 2 2% unless told."""
    supply = price * 60 // 100 if supply is None else supply
    gross = price * quantity
    level1 = gross * 10 // 100 if level1 is None else level1
    level2 = gross * 2 // 100
    breakdown = LineBreakdown(
        price, quantity, price, supply, level1, level2, gross - supply * quantity - level1 - level2
    )
    return CartLine(
        variant_id,
        product_id if product_id is not None else variant_id * 10,
        supplier_id,
        category_id,
        "CNY",
        breakdown,
        owner,
    )


def price(
    lines: list[CartLine],
    promotions: list[Promotion] | None = None,
    coupon: CouponAsked | None = None,
    taken: dict[int, Taken] | None = None,
) -> engine.Pricing:
    return price_cart(lines, promotions or [], coupon, taken or {}, shop_id=SHOP_ID, now=NOW)


def discounts(pricing: engine.Pricing) -> dict[int, list[tuple[int, str, int]]]:
    return {
        p.line.variant_id: [(d.promotion_id, d.funder, d.amount) for d in p.discounts]
        for p in pricing.lines
    }


def ask(promotion: Promotion | None, code: str = "SAVE", claimed: bool = False) -> CouponAsked:
    return CouponAsked(code, promotion, claimed)


# --- allocation ------------------------------------------------------------------------


def test_allocation_by_largest_remainder_gives_the_odd_unit_to_the_largest_fraction() -> None:
    assert allocate(100, [1, 1, 1]) == [34, 33, 33]
    assert allocate(1000, [5000, 2000]) == [714, 286]
    assert allocate(7, [3, 3]) == [4, 3]


def test_allocation_of_nothing_over_nothing_is_nothing() -> None:
    assert allocate(0, [0, 0]) == [0, 0]


# --- flash sales -----------------------------------------------------------------------


def test_flash_sale_sells_the_line_at_its_price_funded_by_its_funder() -> None:
    # Given a line of 2 at 50.00 and a supplier's flash sale of it at 39.00
    sale = promo(FLASH_SALE, "supplier", supplier_id=1, variant_id=1, price_minor=3900, quota=10)
    # When the cart is priced
    pricing = price([line(1, 5000, 2)], [sale])
    # Then 2 x 11.00 come off, out of the supplier's part, as 2 flash units
    (priced,) = pricing.lines
    assert priced.breakdown.supplier_discount == 2200
    assert priced.breakdown.amount == 7800
    assert priced.breakdown.supply_amount == 6000 - 2200
    assert priced.flash_units == 2
    assert [(a.promotion.id, a.amount, a.units) for a in pricing.applied] == [(sale.id, 2200, 2)]


def test_flash_line_takes_no_threshold_nor_coupon() -> None:
    sale = promo(FLASH_SALE, variant_id=1, price_minor=3900, quota=10)
    threshold = promo(THRESHOLD, tiers=[{"spend": 1000, "off": 500}], currency="CNY")
    coupon = promo(COUPON, code="SAVE", percent_off=10)
    pricing = price([line(1, 5000)], [sale, threshold], ask(coupon))
    assert discounts(pricing) == {1: [(sale.id, "platform", 1100)]}
    assert [r.code for r in pricing.refusals] == [engine.NOTHING_APPLIES]


def test_flash_sale_not_below_the_shop_price_sells_the_line_normally() -> None:
    sale = promo(FLASH_SALE, variant_id=1, price_minor=5000, quota=10)
    pricing = price([line(1, 5000)], [sale])
    assert pricing.applied == ()
    assert pricing.refusals == ()
    assert pricing.lines[0].flash_units == 0


def test_flash_sale_refuses_more_units_than_the_consumer_may_still_buy() -> None:
    sale = promo(FLASH_SALE, variant_id=1, price_minor=3900, quota=10, per_consumer=2, name="F")
    pricing = price([line(1, 5000, 2)], [sale], taken={sale.id: Taken(uses=1, units=1)})
    assert pricing.refusals == (engine.Refusal(engine.FLASH_LIMIT, "F", 1, blocking=True),)
    assert pricing.discount == 0


def test_flash_sale_refuses_more_units_than_its_quota_has_left() -> None:
    sale = promo(FLASH_SALE, variant_id=1, price_minor=3900, quota=10, units_sold=9, name="F")
    pricing = price([line(1, 5000, 2)], [sale])
    assert pricing.refusals == (engine.Refusal(engine.FLASH_QUOTA, "F", 1, blocking=True),)


def test_flash_sale_sold_out_sells_the_line_normally() -> None:
    sale = promo(FLASH_SALE, variant_id=1, price_minor=3900, quota=10, units_sold=10)
    pricing = price([line(1, 5000, 2)], [sale])
    assert pricing.discount == 0
    assert pricing.refusals == ()


def test_supplier_flash_sale_beyond_the_supply_amount_sells_normally() -> None:
    sale = promo(FLASH_SALE, "supplier", supplier_id=1, variant_id=1, price_minor=1000, quota=5)
    pricing = price([line(1, 5000, supply=3000)], [sale])  # 40.00 off > 30.00 supply
    assert pricing.discount == 0


# --- thresholds ------------------------------------------------------------------------


def test_threshold_applies_its_best_tier_allocated_by_amount() -> None:
    # Given 50.00 + 20.00 and 满60减5 / 满70减10
    threshold = promo(
        THRESHOLD, tiers=[{"spend": 6000, "off": 500}, {"spend": 7000, "off": 1000}], currency="CNY"
    )
    pricing = price([line(1, 5000), line(2, 2000)], [threshold])
    # Then 10.00 off, 7.14 and 2.86 (largest remainder by amount)
    assert discounts(pricing) == {
        1: [(threshold.id, "platform", 714)],
        2: [(threshold.id, "platform", 286)],
    }
    assert pricing.discount == 1000


def test_threshold_below_its_lowest_tier_gives_nothing() -> None:
    threshold = promo(THRESHOLD, tiers=[{"spend": 10000, "off": 1000}], currency="CNY")
    assert price([line(1, 5000)], [threshold]).applied == ()


def test_thresholds_apply_the_largest_saving_first_and_each_line_only_once() -> None:
    # Given a supplier-wide 满50减5 and a product one 满50减8 both covering line 1
    wide = promo(THRESHOLD, tiers=[{"spend": 5000, "off": 500}], currency="CNY")
    narrow = promo(THRESHOLD, tiers=[{"spend": 5000, "off": 800}], currency="CNY", product_ids=[10])
    pricing = price([line(1, 5000), line(2, 2000)], [wide, narrow])
    # Then the 8.00 takes line 1; line 2 alone (20.00) does not reach the wide one's 50.00
    assert discounts(pricing) == {1: [(narrow.id, "platform", 800)], 2: []}


def test_shop_threshold_on_a_line_credited_to_someone_else_is_skipped() -> None:
    threshold = promo(
        THRESHOLD, "shop", shop_id=SHOP_ID, tiers=[{"spend": 1000, "off": 100}], currency="CNY"
    )
    pricing = price([line(1, 5000, owner=False)], [threshold])
    assert pricing.applied == ()
    assert pricing.discount == 0


def test_shop_threshold_beyond_the_owners_level1_is_skipped() -> None:
    threshold = promo(
        THRESHOLD, "shop", shop_id=SHOP_ID, tiers=[{"spend": 1000, "off": 600}], currency="CNY"
    )
    assert price([line(1, 5000, level1=500)], [threshold]).applied == ()


def test_threshold_in_another_currency_does_not_apply() -> None:
    threshold = promo(THRESHOLD, tiers=[{"spend": 1000, "off": 100}], currency="USD")
    assert price([line(1, 5000)], [threshold]).applied == ()


# --- coupons ---------------------------------------------------------------------------


def test_percent_coupon_applies_after_thresholds_on_the_amount_left() -> None:
    threshold = promo(THRESHOLD, tiers=[{"spend": 7000, "off": 1000}], currency="CNY")
    coupon = promo(COUPON, code="SAVE", percent_off=15)
    pricing = price([line(1, 5000), line(2, 2000)], [threshold], ask(coupon))
    # 70.00 - 10.00 = 60.00; 15% = 9.00 over 42.86 and 17.14
    assert discounts(pricing) == {
        1: [(threshold.id, "platform", 714), (coupon.id, "platform", 643)],
        2: [(threshold.id, "platform", 286), (coupon.id, "platform", 257)],
    }
    assert pricing.discount == 1900
    assert pricing.coupon is not None
    assert pricing.coupon.amount == 900


def test_amount_coupon_takes_at_most_the_eligible_amount() -> None:
    coupon = promo(COUPON, code="SAVE", amount_off_minor=9000, currency="CNY")
    pricing = price([line(1, 5000)], [], ask(coupon))
    assert pricing.discount == 5000
    assert pricing.lines[0].breakdown.amount == 0


def test_shop_coupon_comes_out_of_the_owners_level1() -> None:
    coupon = promo(
        COUPON, "shop", shop_id=SHOP_ID, code="SAVE", amount_off_minor=300, currency="CNY"
    )
    pricing = price([line(1, 5000, level1=500)], [], ask(coupon))
    assert pricing.lines[0].breakdown.shop_discount == 300
    assert pricing.lines[0].breakdown.parts.level1 == 200


def refusal_of(
    coupon: Promotion | None,
    lines: list[CartLine] | None = None,
    *,
    code: str = "SAVE",
    taken: dict[int, Taken] | None = None,
) -> engine.Refusal:
    pricing = price(lines or [line(1, 5000)], [], ask(coupon, code), taken)
    assert pricing.discount == 0
    (refusal,) = pricing.refusals
    return refusal


def test_coupon_refusals_say_why() -> None:
    def coupon(**fields: Any) -> Promotion:
        fields.setdefault("percent_off", 10)
        return promo(COUPON, code="SAVE", name="C", **fields)

    later = {"starts_at": NOW + timedelta(minutes=1)}
    assert refusal_of(None, code="NOPE") == engine.Refusal(engine.UNKNOWN_CODE, "NOPE")
    assert refusal_of(coupon(**later)).code == engine.NOT_STARTED
    assert refusal_of(coupon(ends_at=NOW)).code == engine.ENDED
    assert refusal_of(coupon(ended_at=NOW)).code == engine.ENDED
    assert refusal_of(coupon(shop_id=SHOP_ID + 1, funder="shop")).code == engine.OTHER_SHOP
    assert refusal_of(coupon(claimable=True)).code == engine.CLAIM_REQUIRED
    assert refusal_of(coupon(max_uses=3, uses=3)).code == engine.USED_UP
    limited = coupon(per_consumer=1)
    assert refusal_of(limited, taken={limited.id: Taken(uses=1)}) == engine.Refusal(
        engine.PER_CONSUMER, "C", 1
    )
    assert refusal_of(coupon(supplier_id=2)).code == engine.NOTHING_APPLIES
    assert refusal_of(coupon(min_spend_minor=8000)) == engine.Refusal(engine.MIN_SPEND, "C", 3000)
    assert refusal_of(coupon(budget_minor=1000, discount_given_minor=600)).code == engine.BUDGET
    shop_coupon = coupon(funder="shop", shop_id=SHOP_ID)
    assert refusal_of(shop_coupon, [line(1, 5000, owner=False)]).code == engine.UNFUNDABLE


def test_claimable_coupon_works_for_its_claimer() -> None:
    coupon = promo(COUPON, code="SAVE", percent_off=10, claimable=True)
    assert price([line(1, 5000)], [], ask(coupon, claimed=True)).discount == 500


def test_coupon_on_a_self_purchase_comes_from_the_platform_and_level1_stays_nobodys() -> None:
    # A self-purchase: level 1 earned by nobody (0), so the platform's coupon is all its own
    coupon = promo(COUPON, code="SAVE", percent_off=10)
    pricing = price([line(1, 5000, level1=0, owner=False)], [], ask(coupon))
    assert pricing.lines[0].breakdown.parts.level1 == 0
    assert pricing.lines[0].breakdown.platform_discount == 500


# --- properties ------------------------------------------------------------------------

_funders = st.sampled_from(["supplier", "shop", "platform"])


@st.composite
def carts(draw: st.DrawFn) -> tuple[list[CartLine], list[Promotion], CouponAsked | None]:
    count = draw(st.integers(1, 5))
    lines = [
        line(
            i + 1,
            draw(st.integers(1, 100_000)),
            draw(st.integers(1, 5)),
            supplier_id=draw(st.integers(1, 2)),
            owner=draw(st.booleans()),
        )
        for i in range(count)
    ]
    promotions: list[Promotion] = []
    for _ in range(draw(st.integers(0, 3))):
        spend = draw(st.integers(0, 300_000))
        funder = draw(_funders)
        promotions.append(
            promo(
                THRESHOLD,
                funder,
                shop_id=SHOP_ID,
                supplier_id=draw(st.sampled_from([None, 1, 2])) if funder != "supplier" else 1,
                tiers=[{"spend": spend, "off": draw(st.integers(1, spend + 1))}],
                currency="CNY",
            )
        )
    for _ in range(draw(st.integers(0, 2))):
        promotions.append(
            promo(
                FLASH_SALE,
                draw(st.sampled_from(["supplier", "platform"])),
                supplier_id=1,
                variant_id=draw(st.integers(1, count)),
                price_minor=draw(st.integers(0, 100_000)),
                quota=draw(st.integers(0, 30)),
            )
        )
    coupon = None
    if draw(st.booleans()):
        funder = draw(_funders)
        terms = (
            {"percent_off": draw(st.integers(1, 100))}
            if draw(st.booleans())
            else {"amount_off_minor": draw(st.integers(1, 500_000)), "currency": "CNY"}
        )
        coupon = ask(
            promo(
                COUPON,
                funder,
                code="SAVE",
                shop_id=SHOP_ID,
                supplier_id=1 if funder == "supplier" else None,
                **terms,
            )
        )
    return lines, promotions, coupon


@settings(max_examples=300, deadline=None)
@given(carts())
def test_allocations_sum_exactly_no_line_below_zero_no_funder_beyond_capacity(
    cart: tuple[list[CartLine], list[Promotion], CouponAsked | None],
) -> None:
    lines, promotions, coupon = cart
    pricing = price(lines, promotions, coupon)
    for priced in pricing.lines:
        b = priced.breakdown
        assert b.discount == sum(d.amount for d in priced.discounts)
        assert 0 <= b.amount <= b.gross
        assert b.supply_amount >= 0
        assert b.parts.level1 >= 0
        assert b.parts.level2 == priced.line.breakdown.level2
        assert b.parts.platform + b.platform_discount >= 0
        assert b.parts.total == b.amount
        if not priced.line.owner_earns_level1:
            assert b.shop_discount == 0
        if priced.flash_units:
            assert len(priced.discounts) == 1
    for applied in pricing.applied:
        on_lines = sum(
            d.amount
            for p in pricing.lines
            for d in p.discounts
            if d.promotion_id == applied.promotion.id
        )
        assert on_lines == applied.amount
    assert pricing.discount == sum(a.amount for a in pricing.applied)


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 10**9), st.lists(st.integers(0, 10**7), min_size=1, max_size=8))
def test_allocate_sums_exactly_and_never_exceeds_a_weight(total: int, weights: list[int]) -> None:
    total = min(total, sum(weights))
    shares = allocate(total, weights)
    assert sum(shares) == (total if sum(weights) else 0)
    assert all(0 <= share <= weight for share, weight in zip(shares, weights, strict=True))
