"""Nobody holds a product's whole stock with anonymous unpaid orders: one client address may
hold ``STOREFRONT_UNPAID_ORDERS_PER_CLIENT`` orders awaiting payment at once, however often
it drops its cookies; past it the checkout refuses (429) and takes no stock, until one of its
orders is paid or expires. Other clients buy as before. On both backends."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from order_support import add_to_cart, app_on, checkout, dev_pay, order_token, stocked_shop
from shop_support import ShopRef, edit_shop

from storefront_sdk.catalog.models import Variant
from storefront_sdk.db import session_scope, utcnow
from storefront_sdk.orders.models import Order

LIMIT = 3
MESSAGE = (
    "You have reached the limit of 3 unpaid orders at a time. Please pay for one of them, "
    "or wait until one expires (after 30 minutes), before placing another."
)


def _available(app: Flask, variant_id: int) -> int:
    with session_scope(app) as session:
        return session.get_one(Variant, variant_id).available


def _visitor(app: Flask, address: str = "198.51.100.7") -> FlaskClient:
    """A new visitor (no cookies) from ``address``."""
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def _order_all_they_may(client: FlaskClient, slug: str, variant_id: int, units: int = 99) -> Any:
    """Cart → checkout of ``units`` (99: the most a cart line takes), left unpaid."""
    add_to_cart(client, slug, variant_id, units)
    return checkout(client, slug)


def _english_shop(app: Flask) -> tuple[ShopRef, dict[str, int]]:
    """A product with 500 units of each SKU, in a shop whose pages are in English."""
    _, shop, skus = stocked_shop(app, stock=500)
    edit_shop(app, shop, lambda _session, found: setattr(found, "locale", "en"))
    return shop, skus


def test_a_client_is_refused_past_its_unpaid_orders_and_holds_no_more_stock(
    db_url: str,
) -> None:
    with app_on(db_url, STOREFRONT_UNPAID_ORDERS_PER_CLIENT=LIMIT) as app:
        # Given a product with 500 units, and a client who drops its cookies each time
        shop, skus = _english_shop(app)
        answers = []
        # When it orders 99 units, unpaid, again and again
        for _ in range(LIMIT + 2):
            answers.append(_order_all_they_may(_visitor(app), shop.slug, skus["A"]))
        # Then its first three orders are placed, the next are refused with a clear message
        assert [a.status_code for a in answers] == [303, 303, 303, 429, 429]
        assert MESSAGE in answers[3].get_data(as_text=True)
        # And it holds 297 units, not the whole stock
        assert _available(app, skus["A"]) == 500 - LIMIT * 99
        with session_scope(app) as session:
            assert session.scalar(sa.select(sa.func.count()).select_from(Order)) == LIMIT


def test_another_client_still_buys_and_a_paid_or_expired_order_frees_a_place(
    db_url: str,
) -> None:
    with app_on(db_url, STOREFRONT_UNPAID_ORDERS_PER_CLIENT=LIMIT) as app:
        # Given a client holding its three unpaid orders
        shop, skus = _english_shop(app)
        tokens = [
            order_token(_order_all_they_may(_visitor(app), shop.slug, skus["B"], 10))
            for _ in range(LIMIT)
        ]
        assert _order_all_they_may(_visitor(app), shop.slug, skus["B"], 10).status_code == 429
        # When another address orders
        other = _order_all_they_may(_visitor(app, "203.0.113.9"), shop.slug, skus["B"], 10)
        # Then it is not refused
        assert other.status_code == 303
        # When the first client pays one order, it may place one more
        payer = _visitor(app)
        assert dev_pay(payer, shop.slug, tokens[0]).status_code == 303
        assert _order_all_they_may(_visitor(app), shop.slug, skus["B"], 10).status_code == 303
        assert _order_all_they_may(_visitor(app), shop.slug, skus["B"], 10).status_code == 429
        # And when one of its orders is past its expiry, it may place one more again
        with session_scope(app) as session:
            order = session.scalars(sa.select(Order).where(Order.token == tokens[1])).one()
            order.expires_at = utcnow() - timedelta(minutes=1)
        assert _order_all_they_may(_visitor(app), shop.slug, skus["B"], 10).status_code == 303


def test_zero_lifts_the_limit(db_url: str) -> None:
    with app_on(db_url, STOREFRONT_UNPAID_ORDERS_PER_CLIENT=0) as app:
        # Given no limit
        shop, skus = _english_shop(app)
        # When one client places five unpaid orders
        answers = [_order_all_they_may(_visitor(app), shop.slug, skus["A"]) for _ in range(5)]
        # Then all five are placed
        assert [a.status_code for a in answers] == [303] * 5
