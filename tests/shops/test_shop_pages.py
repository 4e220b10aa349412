"""The consumer's H5 shop pages: listing, search, categories, product, cart, caching,
locales, host names, escaping — on both backends."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import build_app
from shop_support import (
    csrf_token,
    edit_shop,
    listed_ids,
    make_shop,
    product,
    product_ids,
    push,
    variant,
    variant_ids,
)

from storefront_sdk.pricing.prices import Rates
from storefront_sdk.pricing.rates import RateBook
from storefront_sdk.shops import curation

RATES = RateBook(Rates(1000, 200))


@pytest.fixture
def shop(app):
    return make_shop(app)


def test_a_new_shop_lists_the_whole_active_catalogue_at_retail(app, client, supplier, shop):
    push(supplier, product("A"), product("B"), product("C", status="archived"))
    ids = product_ids(app)
    page = client.get(f"/s/{shop.slug}/?lang=en")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert listed_ids(html) == [ids["B"], ids["A"]]  # newest first, archived left out
    assert "CN¥69.00" in html  # retail_price 6900
    assert client.get(f"/s/{shop.slug}/p/{ids['C']}").status_code == 404


def test_listing_pages_continue_without_repeats(app, client, supplier, shop):
    push(supplier, *(product(f"P{n:02d}") for n in range(25)))
    first = client.get(f"/s/{shop.slug}/").get_data(as_text=True)
    assert len(listed_ids(first)) == 20
    after = listed_ids(first)[-1]
    assert f'href="/s/{shop.slug}/?after={after}"' in first
    second = client.get(f"/s/{shop.slug}/?after={after}").get_data(as_text=True)
    assert len(listed_ids(second)) == 5
    assert not set(listed_ids(first)) & set(listed_ids(second))
    assert 'rel="next"' not in second


@pytest.mark.parametrize("after", ["x", "-1", "1e3", "9" * 40])
def test_a_bad_page_cursor_is_a_400(client, shop, after):
    assert client.get(f"/s/{shop.slug}/?after={after}").status_code == 400


def test_search_matches_titles_in_every_language_case_insensitively(app, client, supplier, shop):
    push(
        supplier,
        product("TEE", title="Blue Tee", title_i18n={"zh-Hans": "蓝色T恤"}),
        product("MUG", title="Red mug", title_i18n={"zh-Hans": "红色马克杯"}),
        product("PCT", title="100% cotton_tee"),
    )
    ids = product_ids(app)
    assert listed_ids(client.get(f"/s/{shop.slug}/?q=blue+TEE").get_data(as_text=True)) == [
        ids["TEE"]
    ]
    assert listed_ids(client.get(f"/s/{shop.slug}/?q=马克杯").get_data(as_text=True)) == [
        ids["MUG"]
    ]
    # LIKE wildcards are literal text
    assert listed_ids(client.get(f"/s/{shop.slug}/?q=100%25").get_data(as_text=True)) == [
        ids["PCT"]
    ]
    assert listed_ids(client.get(f"/s/{shop.slug}/?q=t_n").get_data(as_text=True)) == []
    empty = client.get(f"/s/{shop.slug}/?q=nothing-like-this&lang=en").get_data(as_text=True)
    assert "Nothing matches" in empty


def test_a_category_page_includes_subcategories_and_searches_within(app, client, supplier, shop):
    push(
        supplier,
        product("TOP", category="Apparel/Tops", title="Cotton top"),
        product("COAT", category="Apparel/Outerwear/Coats", title="Cotton coat"),
        product("TEA", category="Food/Tea", title="Cotton tea"),
    )
    ids = product_ids(app)
    home = client.get(f"/s/{shop.slug}/").get_data(as_text=True)
    assert "Apparel" in home
    assert "Food" in home
    apparel = _category_id(app, "Apparel")
    html = client.get(f"/s/{shop.slug}/c/{apparel}").get_data(as_text=True)
    assert sorted(listed_ids(html)) == sorted([ids["TOP"], ids["COAT"]])
    assert "Outerwear" in html
    assert "Tops" in html
    found = client.get(f"/s/{shop.slug}/c/{apparel}?q=coat").get_data(as_text=True)
    assert listed_ids(found) == [ids["COAT"]]
    assert client.get(f"/s/{shop.slug}/c/999999").status_code == 404
    assert client.get(f"/s/{shop.slug}/c/{2**64}").status_code == 404


def _category_id(app, path):
    from sqlmodel import select

    from storefront_sdk.catalog.models import Category
    from storefront_sdk.db import session_scope

    with session_scope(app) as session:
        return session.scalars(select(Category.id).where(Category.path == path)).one()


def test_the_product_page_offers_each_variant_with_its_stock_state(app, client, supplier, shop):
    push(
        supplier,
        product(
            "TEE",
            title="Tee",
            title_i18n={"zh-Hans": "T恤"},
            description="Soft",
            description_i18n={"zh-Hans": "柔软"},
            variants=[
                variant("TEE-S", options={"Size": "S"}, stock=0),
                variant("TEE-M", options={"Size": "M"}, retail_price=7900, min_price=None),
            ],
        ),
        product("GONE", variants=[variant("GONE-1", stock=0)]),
    )
    ids, vids = product_ids(app), variant_ids(app)
    html = client.get(f"/s/{shop.slug}/p/{ids['TEE']}?lang=en").get_data(as_text=True)
    assert "<h1>Tee</h1>" in html
    assert "Soft" in html
    assert f'value="{vids["TEE-S"]}" data-price="CN¥69.00" disabled' in html
    assert f'value="{vids["TEE-M"]}" data-price="CN¥79.00" checked' in html
    assert 'id="sf-price" aria-live="polite">CN¥79.00' in html  # the first in stock
    chinese = client.get(f"/s/{shop.slug}/p/{ids['TEE']}?lang=zh-Hans").get_data(as_text=True)
    assert "<h1>T恤</h1>" in chinese
    assert "柔软" in chinese
    assert "¥79.00" in chinese
    sold_out = client.get(f"/s/{shop.slug}/p/{ids['GONE']}").get_data(as_text=True)
    assert 'data-testid="sold-out"' in sold_out
    assert "cart/add" not in sold_out
    assert client.get(f"/s/{shop.slug}/p/{2**63}").status_code == 404


def test_the_locale_comes_from_lang_then_the_shop_then_the_browser(app, client):
    fixed = make_shop(app, locale="zh-Hans")
    zh = client.get(f"/s/{fixed.slug}/", headers={"Accept-Language": "en"})
    assert zh.headers["Content-Language"] == "zh-Hans"  # the shop's setting beats the browser
    en = client.get(f"/s/{fixed.slug}/?lang=en")
    assert en.headers["Content-Language"] == "en"
    assert f'href="/s/{fixed.slug}/?lang=en"' in en.get_data(as_text=True)
    visitor = make_shop(app, "bob@example.com", locale="")
    fresh = app.test_client()
    browser = fresh.get(f"/s/{visitor.slug}/", headers={"Accept-Language": "en-GB,en;q=0.8"})
    assert browser.headers["Content-Language"] == "en"
    chinese = fresh.get(f"/s/{visitor.slug}/", headers={"Accept-Language": "zh-CN,zh;q=0.9"})
    assert chinese.headers["Content-Language"] == "zh-Hans"
    unknown = fresh.get(f"/s/{visitor.slug}/?lang=xx-<b>", headers={"Accept-Language": "fr"})
    assert unknown.status_code == 200
    assert unknown.headers["Content-Language"] == "zh-Hans"  # the platform's default


def test_a_visitors_language_choice_sticks_across_pages_even_in_a_fixed_language_shop(app, client):
    # given a shop whose owner fixed Chinese, and a visitor who switches to English once
    shop = make_shop(app, locale="zh-Hans")
    assert client.get(f"/s/{shop.slug}/?lang=en").headers["Content-Language"] == "en"
    # when they open the next pages without ?lang=
    cart = client.get(f"/s/{shop.slug}/cart", headers={"Accept-Language": "zh-CN"})
    home = client.get(f"/s/{shop.slug}/")
    # then they stay in English, until they pick Chinese again
    assert (cart.headers["Content-Language"], home.headers["Content-Language"]) == ("en", "en")
    assert "Your cart is empty." in cart.get_data(as_text=True)
    client.get(f"/s/{shop.slug}/?lang=zh-Hans")
    assert client.get(f"/s/{shop.slug}/cart").headers["Content-Language"] == "zh-Hans"


def test_a_new_shop_speaks_the_visitors_language_then_the_platforms_default(app, db_url):
    # given a new shop (no language fixed by its owner)
    shop = make_shop(app)
    # then an English phone gets English, a French one the platform's default
    english = app.test_client().get(f"/s/{shop.slug}/", headers={"Accept-Language": "en-US"})
    french = app.test_client().get(f"/s/{shop.slug}/", headers={"Accept-Language": "fr-FR"})
    assert english.headers["Content-Language"] == "en"
    assert french.headers["Content-Language"] == "zh-Hans"
    # and a platform whose default is English gives the French phone English
    english_platform = build_app(db_url, STOREFRONT_DEFAULT_LOCALE="en")
    try:
        page = english_platform.test_client().get(
            f"/s/{shop.slug}/", headers={"Accept-Language": "fr-FR"}
        )
    finally:
        english_platform.extensions["storefront"].engine.dispose()
    assert page.headers["Content-Language"] == "en"


def test_prices_follow_the_shops_currency_display(app, client, supplier):
    push(supplier, product("A"))
    coded = make_shop(app, "code@example.com", currency_display="code")
    html = client.get(f"/s/{coded.slug}/?lang=en").get_data(as_text=True)
    assert "CNY\xa069.00" in html


def test_curation_decides_what_a_shop_lists(app, client, supplier, other_supplier, shop):
    push(supplier, product("A1", category="Home/Kitchen"), product("A2", category="Food/Tea"))
    push(other_supplier, product("B1", category="Food/Tea"), product("B2", category="Toys"))
    ids = product_ids(app)

    def listed():
        return sorted(listed_ids(client.get(f"/s/{shop.slug}/").get_data(as_text=True)))

    assert listed() == sorted(ids.values())
    edit_shop(app, shop, lambda s, sh: curation.include_products(s, sh, [ids["A1"]], False))
    assert ids["A1"] not in listed()
    assert client.get(f"/s/{shop.slug}/p/{ids['A1']}").status_code == 404
    # Only the owner's selection from now on
    edit_shop(app, shop, lambda s, sh: curation.set_follows_all(s, sh, False))
    assert listed() == []
    edit_shop(app, shop, lambda s, sh: curation.include_products(s, sh, [ids["B2"]]))
    assert listed() == [ids["B2"]]
    edit_shop(app, shop, lambda s, sh: curation.follow(s, sh, "supplier", supplier.supplier_id))
    assert listed() == sorted([ids["A2"], ids["B2"]])  # A1 stays taken out
    food = _category_id(app, "Food")
    edit_shop(app, shop, lambda s, sh: curation.follow(s, sh, "category", food))
    assert listed() == sorted([ids["A2"], ids["B1"], ids["B2"]])
    edit_shop(
        app, shop, lambda s, sh: curation.follow(s, sh, "supplier", supplier.supplier_id, False)
    )
    assert listed() == sorted([ids["A2"], ids["B1"], ids["B2"]])  # A2 is food too
    edit_shop(app, shop, lambda s, sh: curation.follow(s, sh, "category", food, False))
    assert listed() == [ids["B2"]]


def test_the_shop_sells_at_its_own_price_or_markup_within_the_bounds(app, client, supplier, shop):
    # supply 3500, retail 6900, floor 5900; level 1 = 10 % of retail (690)
    push(supplier, product("A"), product("B"))
    ids, vids = product_ids(app), variant_ids(app)

    def price_on_page(key):
        html = client.get(f"/s/{shop.slug}/p/{ids[key]}?lang=en").get_data(as_text=True)
        return html.split('id="sf-price" aria-live="polite">')[1].split("<")[0]

    edit_shop(app, shop, lambda s, sh: curation.set_price(s, sh, vids["A-M"], 7500, RATES))
    assert price_on_page("A") == "CN¥75.00"
    assert price_on_page("B") == "CN¥69.00"
    edit_shop(app, shop, lambda s, sh: curation.set_markup(s, sh, 10))
    assert (price_on_page("A"), price_on_page("B")) == ("CN¥75.00", "CN¥75.90")
    edit_shop(app, shop, lambda s, sh: curation.set_markup(s, sh, -20))  # below the floor
    assert price_on_page("B") == "CN¥62.10"  # the lowest allowed: 69.00 - 10 % of 69.00
    edit_shop(app, shop, lambda s, sh: curation.set_price(s, sh, vids["A-M"], None, RATES))
    assert price_on_page("A") == "CN¥62.10"  # back under the (deep) markup rule
    edit_shop(app, shop, lambda s, sh: curation.set_markup(s, sh, None))
    assert price_on_page("A") == "CN¥69.00"
    other = make_shop(app, "bob@example.com")
    html = client.get(f"/s/{other.slug}/p/{ids['A']}?lang=en").get_data(as_text=True)
    assert "CN¥75.00" not in html  # one shop's price is its own


def test_catalogue_pages_answer_conditional_requests(app, client, supplier, shop):
    push(supplier, product("A"))
    first = client.get(f"/s/{shop.slug}/")
    assert first.headers["ETag"]
    assert first.headers["Last-Modified"]
    assert "no-cache" in first.headers["Cache-Control"]
    assert "Accept-Language" in first.headers["Vary"]
    again = client.get(f"/s/{shop.slug}/", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304
    assert again.data == b""
    edit_shop(app, shop, lambda s, sh: setattr(sh, "name", "Renamed"))
    changed = client.get(f"/s/{shop.slug}/", headers={"If-None-Match": first.headers["ETag"]})
    assert changed.status_code == 200
    assert "Renamed" in changed.get_data(as_text=True)


def test_pages_weigh_under_50_kb_before_images(app, client, supplier, shop):
    push(supplier, *(product(f"P{n:02d}", title="T" * 300) for n in range(25)))
    script = (Path(__file__).parents[2] / "storefront_sdk/static/storefront/shop.js").read_bytes()
    ids = product_ids(app)
    for url in (f"/s/{shop.slug}/", f"/s/{shop.slug}/p/{ids['P00']}", f"/s/{shop.slug}/cart"):
        page = client.get(url)
        assert page.status_code == 200
        assert len(page.data) + len(script) < 50_000, url
        assert b"<link" not in page.data
        assert b"//cdn" not in page.data.replace(b"cdn.example", b"")
    assert client.get("/sf-static/shop.js").status_code == 200


def test_texts_from_suppliers_and_owners_render_as_text(app, client, supplier):
    payload = '<script>alert(1)</script><svg onload="alert(2)">'
    shop = make_shop(app, "x@example.com", name=payload, welcome_text=payload)
    push(supplier, product("X", title=payload, description=payload, title_i18n={}))
    ids = product_ids(app)
    for url in (f"/s/{shop.slug}/", f"/s/{shop.slug}/p/{ids['X']}", f"/s/{shop.slug}/?q=<script>"):
        page = client.get(url)
        html = page.get_data(as_text=True)
        assert "<script>alert" not in html, url
        assert "<svg onload" not in html, url
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html, url
        assert "script-src 'self'" in page.headers["Content-Security-Policy"]


def test_unknown_shops_are_404(client):
    assert client.get("/s/no-such-shop/").status_code == 404
    assert client.get("/s/no-such-shop/cart").status_code == 404


def _verified_host(shop, host):
    shop.host, shop.host_status, shop.host_token = host, "verified", "t" * 32


def test_a_shop_is_served_on_its_own_host_name(app, client, supplier, shop):
    app.config["STOREFRONT_CUSTOM_HOSTS"] = True
    push(supplier, product("A"))
    ids = product_ids(app)
    edit_shop(app, shop, lambda s, sh: _verified_host(sh, "shop.example.com"))
    home = client.get("/", headers={"Host": "Shop.Example.com:443"})
    assert home.status_code == 200
    assert listed_ids(home.get_data(as_text=True)) == [ids["A"]]
    assert client.get(f"/p/{ids['A']}", headers={"Host": "shop.example.com"}).status_code == 200
    assert client.get("/", headers={"Host": "other.example.com"}).status_code == 404


class TestCart:
    def _token(self, client, slug):
        """The form token, from a product page (the forms' session is the visitor's)."""
        home = client.get(f"/s/{slug}/").get_data(as_text=True)
        for product_id in listed_ids(home):
            html = client.get(f"/s/{slug}/p/{product_id}").get_data(as_text=True)
            if 'name="csrf_token"' in html:  # a product in stock
                return csrf_token(html)
        raise AssertionError("no product in stock to take a form token from")

    def _add(self, client, slug, variant_id, quantity=1, token=None):
        if token is None:
            token = self._token(client, slug)
        return client.post(
            f"/s/{slug}/cart/add",
            data={"variant_id": str(variant_id), "quantity": str(quantity), "csrf_token": token},
        )

    def _update(self, client, slug, variant_id, quantity):
        token = self._token(client, slug)
        return client.post(
            f"/s/{slug}/cart/update",
            data={"variant_id": str(variant_id), "quantity": str(quantity), "csrf_token": token},
        )

    def test_add_change_and_remove_lines(self, app, client, supplier, shop):
        push(supplier, product("A"), product("B", variants=[variant("B-1", retail_price=10000)]))
        vids = variant_ids(app)
        added = self._add(client, shop.slug, vids["A-M"], 2)
        assert added.status_code == 303
        assert added.headers["Location"].endswith("/cart")
        self._add(client, shop.slug, vids["B-1"])
        self._add(client, shop.slug, vids["A-M"])
        html = client.get(f"/s/{shop.slug}/cart?lang=en").get_data(as_text=True)
        assert html.count('class="sf-line"') == 2
        assert "CN¥307.00" in html  # 3 x 69.00 + 100.00
        self._update(client, shop.slug, vids["A-M"], 1)
        html = client.get(f"/s/{shop.slug}/cart?lang=en").get_data(as_text=True)
        assert "CN¥169.00" in html
        self._update(client, shop.slug, vids["B-1"], 0)
        html = client.get(f"/s/{shop.slug}/cart?lang=en").get_data(as_text=True)
        assert html.count('class="sf-line"') == 1
        assert "CN¥69.00" in html

    def test_the_cart_uses_todays_shop_price(self, app, client, supplier, shop):
        push(supplier, product("A"))
        vids = variant_ids(app)
        self._add(client, shop.slug, vids["A-M"])
        edit_shop(app, shop, lambda s, sh: curation.set_price(s, sh, vids["A-M"], 8000, RATES))
        assert "CN¥80.00" in client.get(f"/s/{shop.slug}/cart?lang=en").get_data(as_text=True)

    def test_each_shop_has_its_own_cart(self, app, client, supplier, shop):
        push(supplier, product("A"))
        other = make_shop(app, "bob@example.com")
        self._add(client, shop.slug, variant_ids(app)["A-M"])
        html = client.get(f"/s/{other.slug}/cart").get_data(as_text=True)
        assert 'class="sf-line"' not in html

    @pytest.mark.parametrize(
        ("variant_key", "quantity", "message"),
        [
            ("A-M", "0", "quantity must be a whole number"),
            ("A-M", "abc", "quantity must be a whole number"),
            ("A-M", "100", "quantity must be a whole number"),
            ("A-M", "6", "Only 5 left"),
            ("OUT-1", "1", "sold out"),
            ("HIDDEN-1", "1", "not sold here"),
            ("none", "1", "not sold here"),
            ("garbage", "1", "Choose a variant"),
        ],
    )
    def test_bad_additions_are_refused_with_a_message(
        self, app, client, supplier, shop, variant_key, quantity, message
    ):
        push(
            supplier,
            product("A", variants=[variant("A-M", stock=5)]),
            product("OUT", variants=[variant("OUT-1", stock=0)]),
            product("HIDDEN", variants=[variant("HIDDEN-1")]),
        )
        ids = product_ids(app)
        edit_shop(app, shop, lambda s, sh: curation.include_products(s, sh, [ids["HIDDEN"]], False))
        vid = "x1" if variant_key == "garbage" else variant_ids(app).get(variant_key, 10**12)
        token = self._token(client, shop.slug)
        response = client.post(
            f"/s/{shop.slug}/cart/add?lang=en",
            data={"variant_id": str(vid), "quantity": quantity, "csrf_token": token},
        )
        assert response.status_code == 422
        assert message in response.get_data(as_text=True)
        assert 'class="sf-line"' not in client.get(f"/s/{shop.slug}/cart").get_data(as_text=True)

    def test_a_form_without_its_token_changes_nothing(self, app, client, supplier, shop):
        push(supplier, product("A"))
        response = self._add(client, shop.slug, variant_ids(app)["A-M"], token="forged")
        assert response.status_code == 422
        assert "表单已过期" in response.get_data(as_text=True)  # the shop speaks Chinese
        assert 'class="sf-line"' not in client.get(f"/s/{shop.slug}/cart").get_data(as_text=True)
