"""Promotions on a phone: a product on flash sale counts down to its end (in English and in
Chinese), a consumer claims a coupon in the coupon centre, an owner creates a shop coupon in
the console, an admin creates a flash sale and ends it after confirming."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from promotion_pages_support import add_consumer, add_promotion
from shop_support import make_shop, product_ids, push, variant_ids

from storefront_sdk.db import session_scope, utcnow
from storefront_sdk.platform_admins import create_admin
from storefront_sdk.promotions.models import FLASH_SALE, SUPPLIER
from storefront_sdk.testing.factories import product_payload, variant_payload

pytestmark = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)


def _tee(app, supplier) -> tuple[int, int]:
    push(
        supplier,
        product_payload(
            "TEE",
            title="Linen tee",
            title_i18n={"zh-Hans": "亚麻T恤"},
            images=[],
            variants=[variant_payload("TEE-M", retail_price=6900, stock=50)],
        ),
    )
    return product_ids(app)["TEE"], variant_ids(app)["TEE-M"]


@pytest.mark.parametrize(("lang", "ends_in"), [("en", "Ends in"), ("zh-Hans", "距结束")])
def test_a_flash_sale_counts_down_on_the_product_page(
    app, supplier, live_server, phone, lang, ends_in
):
    product_id, variant_id = _tee(app, supplier)
    shop = make_shop(app, locale=lang)
    add_promotion(
        app, kind=FLASH_SALE, funder=SUPPLIER, supplier_id=supplier.supplier_id,
        variant_id=variant_id, price_minor=3900, quota=8, units_sold=2, reserved=True,
        amount_off_minor=None, claimable=False, ends_at=utcnow() + timedelta(hours=2),
    )  # fmt: skip
    page = phone
    page.goto(f"{live_server}/s/{shop.slug}/p/{product_id}?lang={lang}")
    flash = page.locator("[data-flash-of] [data-flash]")
    assert flash.locator("[data-ends-label]").inner_text() == ends_in
    first = flash.locator("time").inner_text()
    assert re.fullmatch(r"01:59:[0-5]\d", first), first
    page.wait_for_timeout(1200)
    assert flash.locator("time").inner_text() != first  # it ticks
    assert page.locator("#sf-was").inner_text().endswith("69.00")
    assert page.locator("#sf-price").inner_text().endswith("39.00")
    page.shot("product")
    page.goto(f"{live_server}/s/{shop.slug}/?lang={lang}")
    assert page.locator(".sf-card del").inner_text().endswith("69.00")
    page.shot("home")


def test_a_consumer_claims_a_coupon_in_the_coupon_centre(app, live_server, phone):
    shop = make_shop(app, locale="zh-Hans")
    add_promotion(app, name="新人专享", amount_off_minor=500, min_spend_minor=5000)
    add_promotion(app, name="全场九折", amount_off_minor=None, percent_off=10, currency=None)
    consumer = add_consumer(app)
    cookie = app.session_interface.get_signing_serializer(app).dumps({"sf_consumer_id": consumer})
    host = live_server.split("//")[1].split(":")[0]
    phone.context.add_cookies([{"name": "session", "value": cookie, "domain": host, "path": "/"}])
    page = phone
    page.goto(f"{live_server}/s/{shop.slug}/")
    page.get_by_test_id("coupons-link").click()
    assert page.locator("h1").inner_text() == "领券"
    page.shot("centre")
    page.locator(".sf-coupon", has_text="新人专享").get_by_role("button", name="领取").click()
    page.wait_for_url(re.compile(r"claimed="))
    assert page.get_by_test_id("notice").inner_text() == "领取成功。"
    assert page.locator(".sf-coupon", has_text="新人专享").get_by_test_id("claimed").count() == 1
    page.shot("claimed")


def test_an_owner_creates_a_shop_coupon_in_the_console(app, live_server, phone):
    make_shop(app, "ann@example.com", locale="en")
    page = phone
    page.goto(f"{live_server}/console/promotions?lang=en")
    page.get_by_label("Email address").fill("ann@example.com")
    page.get_by_label("Password").fill("password123")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/console/promotions"))
    form = page.get_by_test_id("coupon-form")
    form.locator("input[name=amount_off]").fill("5")
    form.locator("input[name=min_spend]").fill("50")
    form.locator("input[name=code]").fill("ANN5")
    form.get_by_role("button", name="Create coupon").click()
    page.wait_for_load_state()
    item = page.locator("[data-testid=promotions] > li")
    assert item.count() == 1
    assert "CN¥5.00 off orders over CN¥50.00" in item.inner_text()
    page.shot("console")


def test_an_admin_creates_a_flash_sale_and_ends_it(app, supplier, live_server, phone):
    _tee(app, supplier)
    with session_scope(app) as session:
        create_admin(session, "root@example.com", "password123")
    page = phone
    page.goto(f"{live_server}/admin/login?lang=en")
    page.locator("input[name=email]").fill("root@example.com")
    page.locator("input[name=password]").fill("password123")
    page.locator("button[type=submit]").click()
    page.wait_for_load_state()
    page.goto(f"{live_server}/admin/promotions")
    form = page.get_by_test_id("flash-form")
    form.locator("select[name=funder]").select_option("supplier")
    form.locator("select[name=supplier_id]").select_option(str(supplier.supplier_id))
    form.locator("input[name=name]").fill("Brand day")
    form.locator("input[name=sku]").fill("TEE-M")
    form.locator("input[name=price]").fill("39")
    form.locator("input[name=quota]").fill("20")
    form.get_by_role("button", name="Create flash sale").click()
    page.wait_for_load_state()
    row = page.locator("tr[data-promotion]")
    assert "Brand day" in row.inner_text()
    page.shot("admin")
    row.get_by_role("link", name="End it").click()
    page.shot("admin-end")
    page.get_by_test_id("confirm").click()
    page.wait_for_load_state()
    assert "Ended" in page.locator("tr[data-promotion]").inner_text()
