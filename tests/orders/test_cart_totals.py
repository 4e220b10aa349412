"""The cart shows what the order will cost before it is placed: items, each supplier's
shipping and the total, from the same rule the order is charged by."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from conftest import new_supplier_client
from order_support import add_to_cart, app_on, checkout, order_token, stocked_shop
from shop_support import product, push, variant

from storefront_sdk.catalog.models import Variant
from storefront_sdk.db import session_scope
from storefront_sdk.orders.models import Order

_FIGURE = re.compile(r'data-testid="(items-total|shipping-total|total)">([^<]*)<')


@pytest.fixture(autouse=True)
def _cheap_password_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Distributors' passwords are not under test here: hash them cheaply."""
    from werkzeug.security import generate_password_hash

    monkeypatch.setattr(
        "storefront_sdk.shops.accounts.generate_password_hash",
        lambda password: generate_password_hash(password, "pbkdf2:sha256:1"),
    )


def _minor(text: str) -> int:
    """``¥158.00`` (any symbol, thousands separators) in minor units."""
    digits = re.sub(r"[^0-9.]", "", text)
    major, _, cents = digits.partition(".")
    return int(major) * 100 + int(cents or 0)


def _figures(page: str) -> dict[str, int]:
    return {name: _minor(text) for name, text in _FIGURE.findall(page)}


def test_the_cart_total_includes_each_suppliers_shipping_and_equals_the_orders(
    db_url: str,
) -> None:
    # Given two suppliers charging 8.00 shipping, free from 100.00
    with app_on(db_url) as app:
        first, shop, skus = stocked_shop(app)
        second = new_supplier_client(app)
        push(
            second,
            product(
                "P2",
                variants=[
                    variant("C", stock=5, supply_price=1500, retail_price=3000, min_price=None)
                ],
            ),
        )
        for supplier in (first, second):
            response = supplier.put("/shipping", json={"fee": 800, "free_over": 10000})
            assert response.status_code == 200, response.get_json()
        with session_scope(app) as session:
            c_id = session.scalars(sa.select(Variant.id).where(Variant.sku == "C")).one()
        client = app.test_client()
        # and a cart of 2 x 50.00 + 20.00 from the first (free) and 30.00 from the second
        for variant_id, quantity in ((skus["A"], 2), (skus["B"], 1), (c_id, 1)):
            add_to_cart(client, shop.slug, variant_id, quantity)

        # When the consumer opens the cart, then the checkout page
        cart_page = client.get(f"/s/{shop.slug}/cart").get_data(as_text=True)
        checkout_page = client.get(f"/s/{shop.slug}/checkout").get_data(as_text=True)

        # Then both show items 150.00, shipping 8.00 and the total 158.00
        expected = {"items-total": 15000, "shipping-total": 800, "total": 15800}
        assert _figures(cart_page) == expected
        assert _figures(checkout_page) == expected
        # and the placed order charges exactly that
        token = order_token(checkout(client, shop.slug))
        with session_scope(app) as session:
            order = session.scalars(sa.select(Order).where(Order.token == token)).one()
            placed = (order.subtotal_minor, order.shipping_minor, order.total_minor)
        assert placed == (15000, 800, 15800)


def test_the_cart_leaves_sold_out_lines_out_of_its_total(db_url: str) -> None:
    # Given a supplier charging 8.00 shipping and a cart of one A (50.00) and one B (20.00)
    with app_on(db_url) as app:
        supplier, shop, skus = stocked_shop(app)
        assert supplier.put("/shipping", json={"fee": 800, "free_over": None}).status_code == 200
        client = app.test_client()
        add_to_cart(client, shop.slug, skus["A"], 1)
        add_to_cart(client, shop.slug, skus["B"], 1)
        # When B sells out
        with session_scope(app) as session:
            session.get_one(Variant, skus["B"]).available = 0
        page = client.get(f"/s/{shop.slug}/cart").get_data(as_text=True)
        # Then the cart's figures are A's alone, with its shipping
        assert _figures(page) == {"items-total": 5000, "shipping-total": 800, "total": 5800}
