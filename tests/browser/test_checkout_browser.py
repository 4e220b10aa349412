"""A consumer on a phone checks out and pays in test mode, then follows the parcel: the
supplier's shipment (through the API) shows on the order page — in Chinese."""

from __future__ import annotations

import re

from shop_support import make_shop, push

from storefront_sdk.payments.providers import DevProvider
from storefront_sdk.testing.factories import product_payload, variant_payload


def test_checkout_pay_and_follow_the_parcel(app, supplier, live_server, phone):
    app.extensions["storefront"].payments = DevProvider()  # the documented provider slot
    push(
        supplier,
        product_payload(
            "TEE",
            title="Linen tee",
            title_i18n={"zh-Hans": "亚麻T恤"},
            images=[],
            variants=[
                variant_payload(
                    "TEE-M",
                    options={"Size": "M"},
                    stock=3,
                    supply_price=3000,
                    retail_price=5000,
                    min_price=None,
                )
            ],
        ),
    )
    supplier.put("/shipping", json={"fee": 800, "free_over": None})
    shop = make_shop(app, locale="zh-Hans")
    page = phone

    page.goto(f"{live_server}/s/{shop.slug}/")
    page.get_by_text("亚麻T恤").click()
    page.get_by_role("button", name="加入购物车").click()
    page.wait_for_url(re.compile(r"/cart"))
    page.get_by_test_id("checkout").click()
    page.wait_for_url(re.compile(r"/checkout"))
    page.shot("checkout")

    # Submitting without a contact is refused, field by field, and loses nothing typed
    page.get_by_label("收货人").fill("李雷")
    page.get_by_test_id("place-order").click()
    assert page.get_by_test_id("error-email").is_visible()
    assert page.get_by_label("收货人").input_value() == "李雷"
    page.get_by_label("邮箱").fill("lilei@example.com")
    page.get_by_label("详细地址").fill("南京路 1 号")
    page.get_by_label("城市", exact=True).fill("上海")
    page.get_by_test_id("place-order").click()
    page.wait_for_url(re.compile(r"/orders/[^/]+/pay"))
    assert page.get_by_test_id("test-mode").is_visible()
    assert page.get_by_test_id("order-total").inner_text() == "¥58.00"  # 50 + 8 shipping
    page.shot("pay")

    page.get_by_test_id("dev-pay").click()
    page.wait_for_url(re.compile(r"/orders/[^/]+$"))
    assert page.get_by_test_id("order").get_attribute("data-status") == "paid"
    assert page.get_by_test_id("part-status").inner_text().endswith("等待供应商接单")

    so_id = supplier.get("/orders?status=pending").get_json()["items"][0]["id"]
    shipped = supplier.post(
        f"/orders/{so_id}/shipments", json={"carrier": "SF", "tracking_number": "SF1234567"}
    )
    assert shipped.status_code == 201
    page.reload()
    assert "SF1234567" in page.get_by_test_id("tracking").inner_text()
    assert page.get_by_test_id("part").get_attribute("data-status") == "shipped"
    page.shot("order-shipped")
