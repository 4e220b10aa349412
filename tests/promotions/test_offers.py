"""The promotions live in a shop: what carts are priced with and pages show."""

from __future__ import annotations

from flask import Flask
from promotion_support import HOUR, add_coupon, add_flash_sale, add_threshold, sell_two_products
from shop_support import make_shop

from storefront_sdk.db import session_scope, utcnow
from storefront_sdk.promotions.models import COUPON, THRESHOLD, Promotion
from storefront_sdk.promotions.offers import FlashOffer, flash_offers, live_promotions


def test_live_promotions_are_those_of_every_shop_and_this_one_within_their_window(
    app: Flask,
) -> None:
    # Given a shop, another shop, and coupons live, future, ended early, of the other shop
    _, shop, _ = sell_two_products(app)
    other = make_shop(app, "other@example.com")
    everywhere = add_coupon(app, code="ALL")
    here = add_coupon(app, "shop", code="HERE", shop_id=shop.shop_id)
    add_coupon(app, "shop", code="THERE", shop_id=other.shop_id)
    add_coupon(app, code="LATER", starts_at=utcnow() + HOUR, ends_at=utcnow() + 2 * HOUR)
    add_coupon(app, code="ENDED", ended_at=utcnow())
    threshold = add_threshold(app, [{"spend": 10000, "off": 1000}])
    # When the shop's live promotions are read
    with session_scope(app) as session:
        coupons = [p.id for p in live_promotions(session, shop.shop_id, utcnow(), kinds=[COUPON])]
        every_kind = [p.id for p in live_promotions(session, shop.shop_id, utcnow())]
        thresholds = [p.id for p in live_promotions(session, shop.shop_id, utcnow(), [THRESHOLD])]
    # Then only the live ones of every shop and of this shop are there
    assert coupons == [everywhere, here]
    assert every_kind == [everywhere, here, threshold]
    assert thresholds == [threshold]


def test_flash_offers_give_each_variant_its_live_sale_with_the_units_left(app: Flask) -> None:
    # Given a live flash sale of A with 3 of 5 units sold, and an ended one of B
    _, shop, skus = sell_two_products(app)
    sale = add_flash_sale(app, skus["A"], 3900, 5, per_consumer=2, units_sold=3, name="Flash A")
    add_flash_sale(app, skus["B"], 1500, 5, ended_at=utcnow())
    # When the offers of A and B are read
    with session_scope(app) as session:
        offers = flash_offers(session, shop.shop_id, [skus["A"], skus["B"]], utcnow())
        public_id = session.get_one(Promotion, sale).public_id
        ends_at = session.get_one(Promotion, sale).ends_at
    # Then A has its sale, B none
    assert offers == {
        skus["A"]: FlashOffer(sale, public_id, "Flash A", 3900, ends_at, 2, 2),
    }
