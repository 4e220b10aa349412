"""A distributor on a phone: signs in to the console, curates, changes the theme colour and
sees it on the shop."""

from __future__ import annotations

import re

from shop_support import make_shop, push

from storefront_sdk.testing.factories import product_payload


def test_a_distributor_curates_and_rethemes_the_shop(app, supplier, live_server, phone):
    push(
        supplier,
        product_payload("TEE", title="Linen tee", images=[]),
        product_payload("MUG", title="Stone mug", images=[], category="Home/Kitchen"),
    )
    shop = make_shop(app, "ann@example.com", locale="en")
    page = phone

    page.goto(f"{live_server}/console/?lang=en")
    page.wait_for_url(re.compile(r"/console/login"))
    page.shot("login")
    page.get_by_label("Email address").fill("ann@example.com")
    page.get_by_label("Password").fill("password123")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/console/(\?.*)?$"))
    assert shop.slug in page.content()
    page.shot("home")

    # Takes the mug out of the shop and prices the tee above retail
    page.goto(f"{live_server}/console/products")
    mug = page.locator("[data-testid=picker] > li", has_text="Stone mug")
    mug.get_by_role("button", name="Remove").click()
    page.wait_for_load_state()
    tee = page.locator("[data-testid=picker] > li", has_text="Linen tee")
    tee.locator("input[name=price]").fill("75.50")
    tee.get_by_role("button", name="Save").first.click()
    page.wait_for_load_state()
    page.shot("products")

    # Changes the colour: the preview follows as it is typed, the shop after saving
    page.goto(f"{live_server}/console/settings")
    page.locator("#primary_color").fill("#1565c0")
    preview = page.locator("[data-preview-target=name]").first
    assert "21, 101, 192" in preview.evaluate(
        "node => getComputedStyle(node.closest('.c-phone-bar') || node).backgroundColor"
    )
    page.get_by_role("button", name="Save").first.click()
    page.wait_for_load_state()
    page.shot("settings")

    page.goto(f"{live_server}/s/{shop.slug}/")
    bar = page.locator(".sf-bar")
    assert bar.evaluate("node => getComputedStyle(node).backgroundColor") == "rgb(21, 101, 192)"
    cards = page.locator(".sf-card")
    assert cards.count() == 1
    assert "Linen tee" in cards.inner_text()
    assert "CN¥75.50" in cards.inner_text()
    page.shot("shop-after")
