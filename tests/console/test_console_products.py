"""The product picker: listing, adding and removing products, following suppliers and
categories, own prices within the supplier's bounds, and the markup rule.

Factory variants: supply 35.00, suggested 69.00, supplier floor 59.00; with the default 10 %
base commission the lowest allowed price is 62.10.
"""

from __future__ import annotations

import re

import pytest
from console_support import (
    add_products,
    csrf_token,
    make_distributor,
    shop_row,
    signed_in_client,
    variant_id,
)
from sqlmodel import select

from storefront_sdk.db import session_scope
from storefront_sdk.shops.models import ShopFollow, ShopPrice, ShopProduct


@pytest.fixture
def ada(app):
    return make_distributor(app, "ada@example.com", shop_name="Ada")


@pytest.fixture
def ada_client(app, ada):
    return signed_in_client(app, ada)


def _post(client, path, **data):
    token = csrf_token(client, "/console/products")
    return client.post(path, data={"csrf_token": token, **data})


def _price_on_shop(client, slug, product_id):
    page = client.get(f"/s/{slug}/p/{product_id}")
    assert page.status_code == 200
    return re.search(r'id="sf-price"[^>]*>([^<]+)<', page.get_data(as_text=True)).group(1)


def _shop_prices(app, shop_id):
    with session_scope(app) as session:
        rows = session.scalars(select(ShopPrice).where(ShopPrice.shop_id == shop_id)).all()
        return {row.variant_id: row.price_minor for row in rows}


def test_the_picker_shows_each_product_with_its_bounds(supplier, ada_client):
    [product] = add_products(supplier, "P1")

    page = ada_client.get("/console/products")

    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert f'id="p{product}"' in text
    assert "Product P1" in text
    assert "CN¥69.00" in text  # suggested, and current price
    assert "CN¥62.10" in text  # lowest allowed
    assert 'data-testid="in-shop"' in text  # a new shop lists the whole catalogue


def test_a_product_can_be_taken_out_and_put_back(app, supplier, ada, ada_client, client):
    [product] = add_products(supplier, "P1")

    response = _post(ada_client, "/console/products/include", product_id=product, action="remove")

    assert response.status_code == 303
    assert response.headers["Location"] == f"/console/products#p{product}"
    assert client.get(f"/s/{ada.slug}/p/{product}").status_code == 404
    assert 'data-testid="in-shop"' not in ada_client.get("/console/products").get_data(as_text=True)

    assert (
        _post(ada_client, "/console/products/include", product_id=product, action="add").status_code
        == 303
    )
    assert client.get(f"/s/{ada.slug}/p/{product}").status_code == 200


def test_following_a_supplier_lists_its_products(
    app, supplier, other_supplier, ada, ada_client, client
):
    # Given a shop that stopped listing the whole catalogue
    [mine] = add_products(supplier, "P1")
    [theirs] = add_products(other_supplier, "Q1")
    assert _post(ada_client, "/console/products/catalogue", follows_all="off").status_code == 303
    assert shop_row(app, ada.shop_id).follows_all is False
    assert client.get(f"/s/{ada.slug}/p/{mine}").status_code == 404

    # When it follows supplier A
    response = _post(
        ada_client,
        "/console/products/follow",
        kind="supplier",
        target_id=supplier.supplier_id,
        on="on",
    )

    # Then A's products are listed, B's are not
    assert response.status_code == 303
    assert client.get(f"/s/{ada.slug}/p/{mine}").status_code == 200
    assert client.get(f"/s/{ada.slug}/p/{theirs}").status_code == 404
    page = ada_client.get(f"/console/products?supplier={supplier.supplier_id}")
    assert "Stop following" in page.get_data(as_text=True)

    # And unfollowing takes them out again
    _post(
        ada_client,
        "/console/products/follow",
        kind="supplier",
        target_id=supplier.supplier_id,
        on="off",
    )
    assert client.get(f"/s/{ada.slug}/p/{mine}").status_code == 404


def test_following_a_category(app, supplier, ada, ada_client, client):
    from storefront_sdk.catalog.models import Category

    [product] = add_products(supplier, "P1")  # in Apparel/Tops
    with session_scope(app) as session:
        apparel = session.scalars(select(Category.id).where(Category.path == "Apparel")).one()
    _post(ada_client, "/console/products/catalogue", follows_all="off")

    response = _post(
        ada_client, "/console/products/follow", kind="category", target_id=apparel, on="on"
    )

    assert response.status_code == 303
    assert client.get(f"/s/{ada.slug}/p/{product}").status_code == 200


@pytest.mark.parametrize(
    ("kind", "target"), [("supplier", 999999), ("category", 999999), ("shop", 1)]
)
def test_following_something_unknown_is_refused(app, ada, ada_client, kind, target):
    response = _post(ada_client, "/console/products/follow", kind=kind, target_id=target, on="on")

    assert response.status_code in (404, 422)
    with session_scope(app) as session:
        assert session.scalars(select(ShopFollow)).all() == []


def test_an_own_price_is_stored_and_sold_at(app, supplier, ada, ada_client, client):
    [product] = add_products(supplier, "P1")
    variant = variant_id(supplier, "P1-M")

    response = _post(
        ada_client, "/console/products/price", variant_id=variant, product_id=product, price="80.00"
    )

    assert response.status_code == 303
    assert _shop_prices(app, ada.shop_id) == {variant: 8000}
    assert _price_on_shop(client, ada.slug, product).endswith("80.00")
    assert 'value="80.00"' in ada_client.get("/console/products").get_data(as_text=True)


def test_resetting_a_price_goes_back_to_the_suggested_price(app, supplier, ada, ada_client, client):
    [product] = add_products(supplier, "P1")
    variant = variant_id(supplier, "P1-M")
    _post(ada_client, "/console/products/price", variant_id=variant, price="80")

    response = _post(
        ada_client, "/console/products/price", variant_id=variant, price="80.00", reset="1"
    )

    assert response.status_code == 303
    assert _shop_prices(app, ada.shop_id) == {}
    assert _price_on_shop(client, ada.slug, product).endswith("69.00")


@pytest.mark.parametrize("price", ["62.09", "0", "-70.00"])
def test_a_price_below_the_bounds_is_refused_naming_the_product(
    app, supplier, ada, ada_client, price
):
    add_products(supplier, "P1")
    variant = variant_id(supplier, "P1-M")

    response = _post(ada_client, "/console/products/price", variant_id=variant, price=price)

    assert response.status_code == 422
    text = response.get_data(as_text=True)
    assert "The price of Product P1 (P1-M) must be at least CN¥62.10" in text
    assert "CN¥69.00" in text
    assert _shop_prices(app, ada.shop_id) == {}


def test_the_lowest_allowed_price_is_accepted(app, supplier, ada, ada_client):
    add_products(supplier, "P1")
    variant = variant_id(supplier, "P1-M")

    assert (
        _post(ada_client, "/console/products/price", variant_id=variant, price="62.10").status_code
        == 303
    )
    assert _shop_prices(app, ada.shop_id) == {variant: 6210}


@pytest.mark.parametrize("price", ["12,50", "abc", "1e3", "70.001", "70.0.0", "0x50", "¥70"])
def test_a_price_that_is_not_a_plain_amount_is_refused(app, supplier, ada, ada_client, price):
    add_products(supplier, "P1")
    variant = variant_id(supplier, "P1-M")

    response = _post(ada_client, "/console/products/price", variant_id=variant, price=price)

    assert response.status_code == 422
    assert "Product P1 (P1-M)" in response.get_data(as_text=True)
    assert _shop_prices(app, ada.shop_id) == {}


@pytest.mark.parametrize("price", ["9" * 20, "9" * 30])
def test_an_absurd_price_is_refused(app, supplier, ada, ada_client, price):
    add_products(supplier, "P1")
    variant = variant_id(supplier, "P1-M")

    response = _post(ada_client, "/console/products/price", variant_id=variant, price=price)

    assert response.status_code == 422
    assert _shop_prices(app, ada.shop_id) == {}


@pytest.mark.parametrize(
    ("path", "data"),
    [
        ("/console/products/price", {"variant_id": "999999", "price": "80"}),
        ("/console/products/include", {"product_id": "999999", "action": "add"}),
    ],
)
def test_unknown_ids_are_404(ada_client, path, data):
    assert _post(ada_client, path, **data).status_code == 404


@pytest.mark.parametrize("value", ["abc", "0", "-1", str(2**64)])
def test_malformed_ids_are_422(ada_client, value):
    response = _post(ada_client, "/console/products/price", variant_id=value, price="80")
    assert response.status_code == 422


def test_the_markup_rule_prices_every_product_without_its_own(
    app, supplier, ada, ada_client, client
):
    [product] = add_products(supplier, "P1")

    response = _post(ada_client, "/console/products/markup", percent="10")

    assert response.status_code == 303
    assert shop_row(app, ada.shop_id).markup_bp == 1000
    assert _price_on_shop(client, ada.slug, product).endswith("75.90")

    assert _post(ada_client, "/console/products/markup", percent="").status_code == 303
    assert shop_row(app, ada.shop_id).markup_bp is None
    assert _price_on_shop(client, ada.slug, product).endswith("69.00")


def test_a_negative_markup_is_a_discount(app, supplier, ada, ada_client, client):
    [product] = add_products(supplier, "P1")

    assert _post(ada_client, "/console/products/markup", percent="-5").status_code == 303
    assert _price_on_shop(client, ada.slug, product).endswith("65.55")


@pytest.mark.parametrize("percent", ["1001", "-101", "ten", "5.5"])
def test_a_bad_markup_is_refused(app, ada, ada_client, percent):
    response = _post(ada_client, "/console/products/markup", percent=percent)

    assert response.status_code == 422
    assert shop_row(app, ada.shop_id).markup_bp is None


def test_search_and_supplier_filter(supplier, other_supplier, ada_client):
    add_products(supplier, "Apple")
    add_products(other_supplier, "Banana")

    found = ada_client.get("/console/products?q=apple").get_data(as_text=True)
    assert "Product Apple" in found
    assert "Product Banana" not in found

    filtered = ada_client.get(f"/console/products?supplier={other_supplier.supplier_id}")
    text = filtered.get_data(as_text=True)
    assert "Product Banana" in text
    assert "Product Apple" not in text


def test_the_picker_pages_through_the_catalogue(supplier, ada_client):
    ids = add_products(supplier, *(f"P{n:02d}" for n in range(23)))

    first = ada_client.get("/console/products").get_data(as_text=True)
    after = re.search(r'href="/console/products\?after=(\d+)"', first).group(1)
    second = ada_client.get(f"/console/products?after={after}").get_data(as_text=True)

    shown = set(map(int, re.findall(r'id="p(\d+)"', first)))
    more = set(map(int, re.findall(r'id="p(\d+)"', second)))
    assert len(shown) == 20
    assert len(more) == 3
    assert shown | more == set(ids)


def test_an_action_keeps_the_filters(supplier, ada_client):
    [product] = add_products(supplier, "P1")
    token = csrf_token(ada_client, "/console/products")

    response = ada_client.post(
        "/console/products/include",
        data={
            "csrf_token": token,
            "product_id": product,
            "action": "remove",
            "q": "P1",
            "supplier": str(supplier.supplier_id),
        },
    )

    assert response.headers["Location"] == (
        f"/console/products?q=P1&supplier={supplier.supplier_id}#p{product}"
    )


def test_the_whole_catalogue_switch(app, ada, ada_client):
    assert _post(ada_client, "/console/products/catalogue", follows_all="off").status_code == 303
    assert shop_row(app, ada.shop_id).follows_all is False
    assert _post(ada_client, "/console/products/catalogue", follows_all="on").status_code == 303
    assert shop_row(app, ada.shop_id).follows_all is True
    assert _post(ada_client, "/console/products/catalogue", follows_all="maybe").status_code == 422


def test_no_curation_rows_for_an_untouched_shop(app, supplier, ada, ada_client):
    add_products(supplier, "P1")
    ada_client.get("/console/products")
    with session_scope(app) as session:
        assert session.scalars(select(ShopProduct)).all() == []
