"""On a phone, the product page's share box opens the PNG poster as an image the phone can
long-press, with the line that says so — in Chinese."""

from __future__ import annotations

from shop_support import make_shop, push

from storefront_sdk.testing.factories import product_payload, variant_payload


def test_the_share_box_shows_the_png_poster_to_long_press(app, supplier, live_server, phone):
    # Given a tee in a Chinese shop
    push(
        supplier,
        product_payload(
            "TEE",
            title="Linen tee",
            title_i18n={"zh-Hans": "亚麻T恤"},
            images=[],
            variants=[
                variant_payload(
                    "TEE-M", stock=3, supply_price=3000, retail_price=5000, min_price=None
                )
            ],
        ),
    )
    shop = make_shop(app, locale="zh-Hans")
    page = phone
    page.goto(f"{live_server}/s/{shop.slug}/")
    page.get_by_text("亚麻T恤").click()
    # When the consumer opens the poster in the share box
    page.get_by_test_id("poster").locator("summary").click()
    poster = page.get_by_test_id("poster-png")
    poster.scroll_into_view_if_needed()
    # Then it is the PNG, drawn whole, fitting the screen, with the long-press line
    size = poster.evaluate("img => img.decode().then(() => [img.naturalWidth, img.naturalHeight])")
    assert size == [750, 1334]
    box = poster.bounding_box()
    assert box is not None
    assert box["width"] <= 390
    assert page.get_by_text("长按保存或识别").is_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.shot("share-poster")
