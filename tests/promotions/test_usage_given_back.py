"""Usage taken with an order is given back when it expires: uses, discount, the consumer's
counters, and flash units to the sale's quota (or to stock once the sale has ended); each
use once only."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from flask import Flask
from promotion_support import (
    add_coupon,
    add_flash_sale,
    add_to_cart,
    apply_coupon,
    checkout,
    order_token,
    sell_two_products,
    shop_app,
)

from storefront_sdk.catalog import allocation
from storefront_sdk.catalog.models import Variant
from storefront_sdk.db import session_scope, utcnow
from storefront_sdk.orders.expiry import expire_orders
from storefront_sdk.orders.models import Order
from storefront_sdk.promotions.models import Promotion, PromotionCounter, PromotionUse
from storefront_sdk.promotions.usage import give_back


def _expire_all(app: Flask) -> int:
    with session_scope(app) as session:
        return len(expire_orders(session, utcnow() + timedelta(days=1), commit=session.commit))


def _available(app: Flask, variant_id: int) -> int:
    with session_scope(app) as session:
        return session.get_one(Variant, variant_id).available


def _place_flash_and_coupon_order(app: Flask) -> tuple[int, int, dict[str, int], str]:
    """An order of 2 A from a flash sale (quota 5, 2 per consumer) and 1 B with a coupon of
    one use per consumer and at most 3 uses; (sale, coupon, skus, identity key)."""
    _, shop, skus = sell_two_products(app, stock=10)
    sale = add_flash_sale(app, skus["A"], 3900, 5, per_consumer=2)
    coupon = add_coupon(app, code="ONCE", per_consumer=1, max_uses=3)
    client = app.test_client()
    add_to_cart(client, shop.slug, skus["A"], 2)
    add_to_cart(client, shop.slug, skus["B"], 1)
    apply_coupon(client, shop.slug, "ONCE")
    order_token(checkout(client, shop.slug))
    with session_scope(app) as session:
        identity = session.scalars(sa.select(Order.identity_key)).one()
    return sale, coupon, skus, identity or ""


def test_an_expired_order_gives_back_its_uses_counters_and_flash_units_to_the_quota(
    db_url: str,
) -> None:
    with shop_app(db_url) as app:
        # Given an unpaid order holding 2 flash units and a coupon use
        sale, coupon, skus, identity = _place_flash_and_coupon_order(app)
        with session_scope(app) as session:
            assert session.get_one(Promotion, sale).units_sold == 2
            assert session.get_one(Promotion, coupon).uses == 1
        # Then the flash units came from the quota (5 reserved), not from the stock
        assert _available(app, skus["A"]) == 5
        assert _available(app, skus["B"]) == 9
        # When it expires
        assert _expire_all(app) == 1
        # Then the sale's units, the coupon's use and discount, the counters are back
        with session_scope(app) as session:
            flash = session.get_one(Promotion, sale)
            used = session.get_one(Promotion, coupon)
            assert (flash.uses, flash.units_sold, flash.discount_given_minor) == (0, 0, 0)
            assert (used.uses, used.discount_given_minor) == (0, 0)
            for promotion_id in (sale, coupon):
                counter = session.get_one(PromotionCounter, (promotion_id, identity))
                assert (counter.uses, counter.units) == (0, 0)
            statuses = session.scalars(sa.select(PromotionUse.status)).all()
            assert statuses == ["returned", "returned"]
        # And the flash units stay in the quota (not added to the stock); B is back
        assert _available(app, skus["A"]) == 5
        assert _available(app, skus["B"]) == 10


def test_flash_units_go_back_to_stock_when_the_sale_no_longer_holds_them(db_url: str) -> None:
    with shop_app(db_url) as app:
        sale, _, skus, _ = _place_flash_and_coupon_order(app)
        # Given the sale ended meanwhile: its 3 unsold units released to the stock
        with session_scope(app) as session:
            session.get_one(Promotion, sale).reserved = False
            allocation.release(session, {skus["A"]: 3})
        assert _available(app, skus["A"]) == 8
        # When the order expires, its 2 units go to the stock too
        assert _expire_all(app) == 1
        assert _available(app, skus["A"]) == 10
        with session_scope(app) as session:
            assert session.get_one(Promotion, sale).units_sold == 2


def test_a_use_is_given_back_once_only(db_url: str) -> None:
    with shop_app(db_url) as app:
        _, coupon, _, _ = _place_flash_and_coupon_order(app)
        with session_scope(app) as session:
            order_id = session.scalars(sa.select(Order.id)).one()
            first = give_back(session, order_id, utcnow())
            second = give_back(session, order_id, utcnow())
            assert sorted(g.promotion_id for g in first) == sorted([coupon, coupon - 1])
            assert second == []
            assert session.get_one(Promotion, coupon).uses == 0


def test_the_coupon_can_be_used_again_once_its_order_expired(db_url: str) -> None:
    with shop_app(db_url) as app:
        _, shop, skus = sell_two_products(app)
        add_coupon(app, code="ONCE", per_consumer=1)
        client = app.test_client()
        add_to_cart(client, shop.slug, skus["B"])
        apply_coupon(client, shop.slug, "ONCE")
        order_token(checkout(client, shop.slug))
        assert _expire_all(app) == 1
        client = app.test_client()
        add_to_cart(client, shop.slug, skus["B"])
        apply_coupon(client, shop.slug, "ONCE")
        order_token(checkout(client, shop.slug))
