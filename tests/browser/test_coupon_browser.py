"""On a phone, the cart takes a coupon: "Coupon code" + "Apply" shows its discount, who
funds it and the new total; a coupon that does not apply is explained."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from shop_support import make_shop, push

from storefront_sdk.db import session_scope, utcnow
from storefront_sdk.payments.providers import DevProvider
from storefront_sdk.promotions.models import Promotion
from storefront_sdk.testing.factories import product_payload, variant_payload

MINUS = "\u2212"


def add_coupon(app: Any, code: str, name: str, **terms: Any) -> None:
    """A platform coupon live for the hour around now."""
    with session_scope(app) as session:
        session.add(
            Promotion(
                public_id=f"pr_{code.lower()}",
                kind="coupon",
                funder="platform",
                name=name,
                code=code,
                starts_at=utcnow() - timedelta(hours=1),
                ends_at=utcnow() + timedelta(hours=1),
                created_by="cli",
                created_at=utcnow(),
                **terms,
            )
        )


def test_a_coupon_applied_and_one_refused_in_the_cart_on_a_phone(app, supplier, live_server, phone):
    # Given a 50.00 tee, the platform's 10% coupon SAVE10 and a coupon needing 80.00
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
    add_coupon(app, code="SAVE10", name="Spring 10% off", percent_off=10)
    add_coupon(
        app,
        code="BIG",
        name="Big spender",
        amount_off_minor=2000,
        currency="CNY",
        min_spend_minor=8000,
    )
    page = phone
    page.goto(f"{live_server}/s/{shop.slug}/")
    page.get_by_text("Linen tee").click()
    page.get_by_role("button", name="Add to cart").click()
    page.wait_for_url(re.compile(r"/cart"))

    # When the consumer types SAVE10 in "Coupon code" and presses "Apply"
    page.get_by_label("Coupon code").fill("save10")
    page.get_by_role("button", name="Apply").click()
    page.wait_for_url(re.compile(r"/cart"))
    page.shot("coupon-applied")

    # Then the cart lists the discount, who funds it, and the new total
    assert page.get_by_test_id("coupon-applied").inner_text() == "SAVE10"
    discount = page.get_by_test_id("discount")
    assert "Spring 10% off" in discount.inner_text()
    assert page.get_by_test_id("funder").inner_text() == "Platform subsidy"
    assert page.get_by_test_id("discount-amount").inner_text() == MINUS + "CN¥5.00"
    assert page.get_by_test_id("total").inner_text() == "CN¥53.00"

    # When they try BIG instead
    page.get_by_label("Coupon code").fill("BIG")
    page.get_by_role("button", name="Apply").click()
    page.wait_for_url(re.compile(r"/cart"))
    page.shot("coupon-refused")

    # Then the cart says why and charges no discount
    assert page.get_by_test_id("coupon-refusal").inner_text() == (
        "Spend CN¥30.00 more to use the coupon Big spender."
    )
    assert page.get_by_test_id("discount").count() == 0
    assert page.get_by_test_id("total").inner_text() == "CN¥58.00"

    # And "Remove" takes the coupon off
    page.get_by_test_id("coupon-remove").click()
    page.wait_for_url(re.compile(r"/cart"))
    assert page.get_by_test_id("coupon-applied").count() == 0

    # When SAVE10 is applied again and the consumer goes to the checkout
    page.get_by_label("Coupon code").fill("SAVE10")
    page.get_by_role("button", name="Apply").click()
    page.wait_for_url(re.compile(r"/cart"))
    page.get_by_test_id("checkout").click()
    page.wait_for_url(re.compile(r"/checkout"))
    page.shot("checkout-with-coupon")

    # Then the checkout shows the same figures, and the order charges them
    assert page.get_by_test_id("coupon-applied").inner_text() == "SAVE10"
    assert page.get_by_test_id("discount-amount").inner_text() == MINUS + "CN¥5.00"
    assert page.get_by_test_id("total").inner_text() == "CN¥53.00"
    page.get_by_label("Email").fill("lilei@example.com")
    page.get_by_label("Name", exact=True).fill("Li Lei")
    page.get_by_label("Address", exact=True).fill("1 Nanjing Road")
    page.get_by_label("City", exact=True).fill("Shanghai")
    page.get_by_test_id("place-order").click()
    page.wait_for_url(re.compile(r"/orders/[^/]+/pay"))
    assert page.get_by_test_id("order-total").inner_text() == "CN¥53.00"
