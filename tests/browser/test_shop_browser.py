"""A consumer on a phone: arrives through a referral link, browses, searches, opens a
product, picks a variant, adds it to the cart and changes the quantity — in English and in
Chinese."""

from __future__ import annotations

import re

import pytest
from shop_support import make_shop, push

from storefront_sdk.testing.factories import product_payload, variant_payload


def _catalogue(supplier):
    push(
        supplier,
        product_payload(
            "TEE",
            title="Linen tee",
            title_i18n={"zh-Hans": "亚麻T恤"},
            description="Breathable linen.",
            description_i18n={"zh-Hans": "透气亚麻。"},
            category="Apparel/Tops",
            images=[],
            variants=[
                variant_payload("TEE-S", options={"Size": "S"}, stock=0),
                variant_payload("TEE-M", options={"Size": "M"}, stock=3),
                variant_payload(
                    "TEE-L", options={"Size": "L"}, retail_price=7900, min_price=None, stock=9
                ),
            ],
        ),
        product_payload(
            "MUG",
            title="Stone mug",
            title_i18n={"zh-Hans": "石纹马克杯"},
            category="Home/Kitchen",
            images=[],
        ),
    )


@pytest.mark.parametrize(
    ("shop_locale", "words"),
    [
        (
            "en",
            {"tee": "Linen tee", "mug": "Stone mug", "add": "Add to cart", "price": "CN¥79.00"},
        ),
        (
            "zh-Hans",
            {"tee": "亚麻T恤", "mug": "石纹马克杯", "add": "加入购物车", "price": "¥79.00"},
        ),
    ],
)
def test_a_consumer_fills_a_cart_from_a_referral_link(
    app, supplier, live_server, phone, shop_locale, words
):
    _catalogue(supplier)
    shop = make_shop(app, locale=shop_locale)
    page = phone

    # Arrives through the distributor's link: lands in the shop with a share token
    page.goto(f"{live_server}/r/{shop.referral_code}")
    assert re.search(rf"/s/{shop.slug}/\?st=", page.url)
    token = page.url.split("st=")[1]
    assert page.locator(".sf-card").count() == 2
    page.shot("home")

    # Browses a category: the token stays in every link
    page.get_by_role("link", name=re.compile("Apparel")).click()
    assert f"st={token}" in page.url
    assert page.locator(".sf-card").count() == 1
    page.shot("category")

    # Searches the whole shop
    page.goto(f"{live_server}/s/{shop.slug}/?st={token}")
    page.get_by_role("searchbox").fill(words["mug"][:3])
    page.get_by_role("searchbox").press("Enter")
    page.wait_for_url(re.compile(r"q="))
    assert page.locator(".sf-card").count() == 1
    assert words["mug"] in page.locator(".sf-card").inner_text()
    page.shot("search")

    # Opens the tee; S is sold out, M is chosen, L changes the price
    page.goto(f"{live_server}/s/{shop.slug}/?st={token}")
    page.get_by_text(words["tee"]).click()
    assert page.locator("h1").inner_text() == words["tee"]
    assert page.locator("input[name=variant_id]").nth(0).is_disabled()
    page.locator("label.sf-variant").nth(2).click()
    assert page.locator("#sf-price").inner_text() == words["price"]
    page.shot("product")

    # Adds two, then one more in the cart
    page.locator("input[name=quantity]").fill("2")
    page.get_by_role("button", name=words["add"]).click()
    page.wait_for_url(re.compile(r"/cart"))
    assert page.get_by_test_id("quantity").inner_text() == "2"
    assert words["price"].replace("79", "158") in page.get_by_test_id("total").inner_text()
    page.get_by_test_id("increase").click()
    page.wait_for_load_state()
    assert page.get_by_test_id("quantity").inner_text() == "3"
    assert words["price"].replace("79", "237") in page.get_by_test_id("total").inner_text()
    assert page.locator("#sf-cart-count").inner_text() == "3"
    page.shot("cart")
    page.get_by_test_id("decrease").click()
    page.wait_for_load_state()
    assert page.get_by_test_id("quantity").inner_text() == "2"
    page.get_by_test_id("remove").click()
    page.wait_for_load_state()
    assert page.locator(".sf-line").count() == 0
    page.shot("empty-cart")


def test_the_share_token_attributes_even_without_cookies(app, supplier, live_server, browser):
    """In-app browsers may drop cookies: the token in the URL still carries the visit."""
    _catalogue(supplier)
    shop = make_shop(app)
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.goto(f"{live_server}/r/{shop.referral_code}")
    context.clear_cookies()  # the cookie is gone, as in a strict in-app browser
    page.get_by_role("link", name=re.compile("Linen tee|亚麻T恤")).click()
    assert "st=" in page.url
    context.close()
