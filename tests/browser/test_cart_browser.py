"""On a phone, the cart shows what the order will cost before it is placed: items, shipping
and the total, and the order then charges exactly that."""

from __future__ import annotations

import re

from shop_support import make_shop, push

from storefront_sdk.payments.providers import DevProvider
from storefront_sdk.testing.factories import product_payload, variant_payload


def test_the_cart_shows_items_shipping_and_the_total_the_order_charges(
    app, supplier, live_server, phone
):
    # Given a 50.00 tee from a supplier charging 8.00 shipping
    app.extensions["storefront"].payments = DevProvider()
    push(
        supplier,
        product_payload(
            "TEE",
            title="Linen tee",
            images=[],
            variants=[
                variant_payload(
                    "TEE-M", stock=3, supply_price=3000, retail_price=5000, min_price=None
                )
            ],
        ),
    )
    supplier.put("/shipping", json={"fee": 800, "free_over": None})
    shop = make_shop(app, locale="en")
    page = phone

    # When a consumer puts two in the cart
    page.goto(f"{live_server}/s/{shop.slug}/")
    page.get_by_text("Linen tee").click()
    page.get_by_role("button", name="Add to cart").click()
    page.wait_for_url(re.compile(r"/cart"))
    page.get_by_test_id("increase").click()
    page.wait_for_url(re.compile(r"/cart"))
    page.shot("cart-totals")

    # Then the cart shows 100.00 of items, 8.00 shipping and 108.00 in all
    assert page.get_by_test_id("items-total").inner_text() == "CN¥100.00"
    assert page.get_by_test_id("shipping-total").inner_text() == "CN¥8.00"
    assert page.get_by_test_id("total").inner_text() == "CN¥108.00"
    # and the order placed from it asks for the same 108.00
    page.get_by_test_id("checkout").click()
    page.wait_for_url(re.compile(r"/checkout"))
    assert page.get_by_test_id("total").inner_text() == "CN¥108.00"
    page.get_by_label("Email").fill("lilei@example.com")
    page.get_by_label("Name", exact=True).fill("Li Lei")
    page.get_by_label("Address", exact=True).fill("1 Nanjing Road")
    page.get_by_label("City", exact=True).fill("Shanghai")
    page.get_by_test_id("place-order").click()
    page.wait_for_url(re.compile(r"/orders/[^/]+/pay"))
    assert page.get_by_test_id("order-total").inner_text() == "CN¥108.00"
