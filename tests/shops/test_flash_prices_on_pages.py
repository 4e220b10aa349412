"""Flash sales and thresholds on the shop's listings and product pages: the shop's price
struck through, the sale price, when it ends, the units left when few, a threshold's badge;
shown from the sale's start to its end even though the pages' parts are cached."""

from __future__ import annotations

from datetime import timedelta

import pytest
from promotion_pages_support import add_promotion, set_window
from shop_support import listed_ids, make_shop, product, product_ids, push, variant, variant_ids

from storefront_sdk.db import utcnow
from storefront_sdk.promotions.models import FLASH_SALE, PLATFORM, SUPPLIER, THRESHOLD


@pytest.fixture
def shop(app):
    return make_shop(app)


def _flash(app, supplier, variant_id, **fields):
    values = {
        "kind": FLASH_SALE,
        "funder": SUPPLIER,
        "supplier_id": supplier.supplier_id,
        "name": "Brand day",
        "variant_id": variant_id,
        "price_minor": 3900,
        "quota": 100,
        "reserved": True,
        "amount_off_minor": None,
        "claimable": False,
        **fields,
    }
    return add_promotion(app, **values)


def _page(client, url: str) -> str:
    return client.get(url + "?lang=en").get_data(as_text=True)


def test_a_card_on_flash_sale_shows_the_sale_price_and_the_shop_price_struck_through(
    app, client, supplier, shop
):
    push(supplier, product("A", variants=[variant("A-1", retail_price=6900)]), product("B"))
    ends = utcnow() + timedelta(hours=2)
    _flash(app, supplier, variant_ids(app)["A-1"], ends_at=ends, quota=8, units_sold=3)

    html = _page(client, f"/s/{shop.slug}/")

    assert '<span class="sf-price">CN¥39.00 <del class="sf-was">CN¥69.00</del></span>' in html
    assert f'<time datetime="{ends.isoformat()}" data-countdown' in html
    assert "Ends at" in html
    assert 'data-ends-label="Ends in"' in html
    assert '<span data-testid="units-left">Only 5 left</span>' in html
    assert html.count("data-flash>") == 1  # product B is sold at its price


def test_a_flash_sale_appears_and_ends_on_time_in_cached_pages(app, client, supplier, shop):
    push(supplier, product("A", variants=[variant("A-1", retail_price=6900)]))
    ids = product_ids(app)
    sale = _flash(app, supplier, variant_ids(app)["A-1"], starts_at=utcnow() + timedelta(hours=1))
    listing, page = f"/s/{shop.slug}/", f"/s/{shop.slug}/p/{ids['A']}"
    assert "CN¥39.00" not in _page(client, listing)  # not started: parts now cached
    assert "CN¥39.00" not in _page(client, page)

    set_window(app, sale.id, starts_at=utcnow() - timedelta(seconds=1))  # its start passes
    assert '<span class="sf-price">CN¥39.00 <del' in _page(client, listing)
    assert 'id="sf-price" aria-live="polite">CN¥39.00</p>' in _page(client, page)
    assert '<del class="sf-was" id="sf-was">CN¥69.00</del>' in _page(client, page)

    set_window(app, sale.id, ends_at=utcnow() - timedelta(seconds=1))  # its end passes
    assert "CN¥39.00" not in _page(client, listing)
    assert 'id="sf-price" aria-live="polite">CN¥69.00</p>' in _page(client, page)
    assert '<del class="sf-was" id="sf-was"></del>' in _page(client, page)
    assert listed_ids(_page(client, listing)) == [ids["A"]]


def test_a_flash_sale_not_below_the_shop_price_or_sold_out_is_not_shown(
    app, client, supplier, shop
):
    push(
        supplier,
        product("A", variants=[variant("A-1", retail_price=6900)]),
        product("B", variants=[variant("B-1", retail_price=6900)]),
    )
    found = variant_ids(app)
    _flash(app, supplier, found["A-1"], price_minor=6900)
    _flash(app, supplier, found["B-1"], quota=5, units_sold=5)
    assert "data-flash>" not in _page(client, f"/s/{shop.slug}/")


def test_the_product_page_shows_the_sale_of_the_chosen_variant(app, client, supplier, shop):
    push(
        supplier,
        product(
            "A",
            variants=[
                variant("A-S", retail_price=6900, options={"size": "S"}),
                variant("A-M", retail_price=6900, options={"size": "M"}),
            ],
        ),
    )
    found = variant_ids(app)
    _flash(app, supplier, found["A-M"], quota=100)
    html = _page(client, f"/s/{shop.slug}/p/{product_ids(app)['A']}")
    assert f'value="{found["A-M"]}" data-price="CN¥39.00" data-was="CN¥69.00">' in html
    assert f'value="{found["A-S"]}" data-price="CN¥69.00" checked>' in html
    assert f'data-flash-of="{found["A-M"]}"' in html
    assert "units-left" not in html  # 100 left is not few


def test_a_variant_whose_stock_is_all_in_the_sales_quota_can_still_be_bought(
    app, client, supplier, shop
):
    push(supplier, product("A", variants=[variant("A-1", retail_price=6900, stock=0)]))
    _flash(app, supplier, variant_ids(app)["A-1"], quota=20)
    html = _page(client, f"/s/{shop.slug}/p/{product_ids(app)['A']}")
    assert 'data-testid="sold-out"' not in html
    assert "Add to cart" in html


def test_a_threshold_in_scope_shows_its_badge(app, client, supplier, other_supplier, shop):
    push(supplier, product("A"))
    push(other_supplier, product("B"))
    add_promotion(
        app,
        kind=THRESHOLD,
        funder=PLATFORM,
        supplier_id=supplier.supplier_id,
        amount_off_minor=None,
        claimable=False,
        tiers=[{"spend": 10000, "off": 1000}, {"spend": 20000, "off": 3000}],
    )
    html = _page(client, f"/s/{shop.slug}/")
    assert html.count('data-testid="badge"') == 1
    assert "CN¥10.00 off over CN¥100.00 · CN¥30.00 off over CN¥200.00" in html
    zh = client.get(f"/s/{shop.slug}/p/{product_ids(app)['A']}?lang=zh-Hans").get_data(as_text=True)
    assert "满¥100.00减¥10.00" in zh
