"""Per-consumer limits count verified identities and normalised contacts, never a spelling;
unpaid orders are limited per consumer within 10 minutes and per address."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from promotion_support import (
    add_consumer,
    add_coupon,
    add_flash_sale,
    add_to_cart,
    apply_coupon,
    checkout,
    order_token,
    sell_two_products,
    shop_app,
)

from storefront_sdk.db import session_scope
from storefront_sdk.orders.models import Order
from storefront_sdk.promotions.models import Promotion, PromotionCounter


def _coupon_order(app: Flask, slug: str, variant_id: int, code: str, **contact: str) -> Any:
    client = app.test_client()
    add_to_cart(client, slug, variant_id)
    apply_coupon(client, slug, code)
    return checkout(client, slug, **contact)


def test_a_guest_cannot_reuse_a_one_per_consumer_coupon_by_spelling_the_email_otherwise(
    db_url: str,
) -> None:
    with shop_app(db_url) as app:
        # Given a coupon of one use per consumer, used by a guest as Buyer@Example.com
        _, shop, skus = sell_two_products(app)
        coupon = add_coupon(app, code="ONCE", name="Once", per_consumer=1)
        first = _coupon_order(app, shop.slug, skus["A"], "ONCE", email="Buyer@Example.COM")
        order_token(first)
        # When the same guest tries again as buyer@example.com (another browser)
        again = _coupon_order(app, shop.slug, skus["A"], "ONCE", email="buyer@example.com")
        # Then the order is refused, saying why
        assert again.status_code == 409
        assert "You have already used the coupon Once as many times as allowed (1)." in (
            again.get_data(as_text=True)
        )
        # And another consumer still may
        order_token(_coupon_order(app, shop.slug, skus["A"], "ONCE", email="other@example.com"))
    with session_scope(app) as session:
        assert session.get_one(Promotion, coupon).uses == 2


def test_a_guest_giving_a_verified_consumers_email_counts_as_that_consumer(db_url: str) -> None:
    with shop_app(db_url) as app:
        _, shop, skus = sell_two_products(app)
        coupon = add_coupon(app, code="ONCE", per_consumer=1)
        ann = add_consumer(app, "ann@example.com")
        order_token(_coupon_order(app, shop.slug, skus["A"], "ONCE", email="ANN@example.com"))
        with session_scope(app) as session:
            counter = session.get_one(PromotionCounter, (coupon, f"consumer:{ann}"))
            assert counter.uses == 1


def test_a_flash_sale_is_not_drained_through_guest_checkouts_with_one_phone_number(
    db_url: str,
) -> None:
    with shop_app(db_url) as app:
        # Given a flash sale of A at 39.00, 2 units per consumer
        _, shop, skus = sell_two_products(app)
        sale = add_flash_sale(app, skus["A"], 3900, 5, per_consumer=2, name="Flash A")
        phone = {"email": "", "phone": "+86 138 0013 8000"}
        client = app.test_client()
        add_to_cart(client, shop.slug, skus["A"], 2)
        order_token(checkout(client, shop.slug, **phone))
        # When the same guest comes back with the number written otherwise
        client = app.test_client()
        add_to_cart(client, shop.slug, skus["A"], 1)
        response = checkout(client, shop.slug, email="", phone="+86-138-0013-8000")
        # Then it is refused, saying how many they may still buy
        assert response.status_code == 409
        assert (
            "Flash A: you may buy 0 more at the flash-sale price; please change the quantity."
            in response.get_data(as_text=True)
        )
    with session_scope(app) as session:
        assert session.get_one(Promotion, sale).units_sold == 2


def test_unpaid_orders_are_limited_per_consumer_whatever_the_spelling(db_url: str) -> None:
    with shop_app(db_url, STOREFRONT_UNPAID_ORDERS_PER_CONSUMER=2) as app:
        # Given a guest with 2 unpaid orders placed in the last minutes
        _, shop, skus = sell_two_products(app)
        for email in ("li@example.com", " LI@example.com"):
            client = app.test_client()
            add_to_cart(client, shop.slug, skus["B"])
            order_token(checkout(client, shop.slug, email=email))
        # When they place a third
        client = app.test_client()
        add_to_cart(client, shop.slug, skus["B"])
        response = checkout(client, shop.slug, email="Li@Example.com")
        # Then it is refused (429) with the reason; another consumer still buys
        assert response.status_code == 429
        assert "You have placed 2 unpaid orders in the last 10 minutes." in response.get_data(
            as_text=True
        )
        client = app.test_client()
        add_to_cart(client, shop.slug, skus["B"])
        order_token(checkout(client, shop.slug, email="wang@example.com"))
    with session_scope(app) as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Order)) == 3


def test_unpaid_orders_past_the_ten_minutes_no_longer_count_for_the_consumer(
    db_url: str,
) -> None:
    with shop_app(db_url, STOREFRONT_UNPAID_ORDERS_PER_CONSUMER=1) as app:
        _, shop, skus = sell_two_products(app)
        client = app.test_client()
        add_to_cart(client, shop.slug, skus["B"])
        order_token(checkout(client, shop.slug))
        with session_scope(app) as session:
            order = session.scalars(sa.select(Order)).one()
            order.created_at = order.created_at - timedelta(minutes=11)
        client = app.test_client()
        add_to_cart(client, shop.slug, skus["B"])
        order_token(checkout(client, shop.slug))


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_the_default_limits_let_a_household_share_an_address(app: Flask) -> None:
    assert app.config["STOREFRONT_UNPAID_ORDERS_PER_CLIENT"] == 20
    assert app.config["STOREFRONT_UNPAID_ORDERS_PER_CONSUMER"] == 5
