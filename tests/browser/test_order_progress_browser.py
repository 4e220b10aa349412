"""The consumer's order page follows the parcels by itself: while a part is on its way the
page reloads on its own, so a supplier's shipment and delivery through the API show without
the consumer touching the phone; once everything is delivered it stays still."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import build_app
from flask import Flask
from playwright.sync_api import expect
from shop_support import make_shop, push

from storefront_sdk.testing.factories import product_payload, variant_payload


@pytest.fixture
def app(db_url: str, tmp_path: Path) -> Iterator[Flask]:
    """Test-mode payments, and an order page that reloads every second while moving."""
    made = build_app(db_url, STOREFRONT_PAYMENT_PROVIDER="dev", STOREFRONT_ORDER_REFRESH_SECONDS=1)
    yield made
    made.extensions["storefront"].engine.dispose()


def test_the_order_page_shows_the_shipment_and_delivery_without_a_reload(
    app, supplier, live_server, phone
):
    # given a consumer who bought and paid on their phone
    push(
        supplier,
        product_payload(
            "TEE",
            title="Linen tee",
            images=[],
            variants=[variant_payload("TEE-M", stock=3, supply_price=3000, min_price=None)],
        ),
    )
    shop = make_shop(app, locale="en")
    page = phone
    page.goto(f"{live_server}/s/{shop.slug}/")
    page.get_by_text("Linen tee").click()
    page.get_by_role("button", name="Add to cart").click()
    page.wait_for_url(re.compile(r"/cart"))
    page.get_by_test_id("checkout").click()
    for name, value in {
        "name": "Li Lei",
        "email": "lilei@example.com",
        "line1": "1 Nanjing Road",
        "city": "Hangzhou",
        "region": "Zhejiang",
    }.items():
        page.fill(f'input[name="{name}"]', value)
    page.get_by_test_id("place-order").click()
    page.wait_for_url(re.compile(r"/orders/[^/]+/pay"))
    page.get_by_test_id("dev-pay").click()
    page.wait_for_url(re.compile(r"/orders/[^/]+$"))
    status = page.get_by_test_id("order-status")
    expect(status).to_have_text("Paid")
    assert "Hangzhou, Zhejiang" in page.get_by_test_id("ship-to").inner_text()

    # when the supplier ships through the API, then the page says so by itself
    so_id = supplier.get("/orders?status=pending").get_json()["items"][0]["id"]
    shipped = supplier.post(
        f"/orders/{so_id}/shipments", json={"carrier": "SF", "tracking_number": "SF7654321"}
    )
    assert shipped.status_code == 201
    expect(status).to_have_text("Shipped", timeout=8_000)
    expect(page.get_by_test_id("tracking")).to_contain_text("SF7654321")
    page.shot("order-shipped")

    # when the supplier delivers, then the page says delivered and stops reloading
    assert supplier.post(f"/orders/{so_id}/deliver").status_code == 200
    expect(status).to_have_text("Delivered", timeout=8_000)
    assert page.locator('meta[http-equiv="refresh"]').count() == 0
    page.shot("order-delivered")
