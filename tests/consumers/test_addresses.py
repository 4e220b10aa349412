"""The address book: adding, editing, choosing the default and deleting addresses with
province, city and district; another consumer's address ids answer 404; checkout fills
its form from a saved address and the order carries it."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from consumer_support import app_on, buy, sign_in, stocked_shop
from shop_support import csrf_token, make_shop

from storefront_sdk.catalog.models import Variant
from storefront_sdk.consumers.models import ConsumerAddress
from storefront_sdk.db import session_scope
from storefront_sdk.orders.models import Order

HOME = {
    "name": "Li Lei",
    "phone": "+86 138 0013 8000",
    "province": "Zhejiang",
    "city": "Hangzhou",
    "district": "Xihu",
    "line1": "18 Wensan Road",
    "line2": "Room 301",
    "postal_code": "310000",
    "country": "cn",
}


@pytest.fixture
def app(db_url: str, tmp_path: Path):
    with app_on(db_url, tmp_path / "instance") as app:
        yield app


def add(client, slug: str, **fields) -> object:
    page = client.get(f"/s/{slug}/account/addresses/new").get_data(as_text=True)
    return client.post(
        f"/s/{slug}/account/addresses", data={"csrf_token": csrf_token(page), **HOME, **fields}
    )


def saved(app) -> list[tuple[int, str, str, bool]]:
    with session_scope(app) as session:
        rows = session.scalars(sa.select(ConsumerAddress).order_by(ConsumerAddress.id))
        return [(a.consumer_id, a.line1, a.country, a.is_default) for a in rows]


def address_ids(app) -> list[int]:
    with session_scope(app) as session:
        return list(session.scalars(sa.select(ConsumerAddress.id).order_by(ConsumerAddress.id)))


def post(client, slug: str, path: str, **data) -> object:
    page = client.get(f"/s/{slug}/account/addresses/new").get_data(as_text=True)
    return client.post(path, data={"csrf_token": csrf_token(page), **data})


def test_a_consumer_adds_addresses_and_the_first_is_the_default(app):
    shop = make_shop(app)
    client = app.test_client()
    sign_in(client, app, shop.slug, "ada@example.com")

    first = add(client, shop.slug)
    second = add(client, shop.slug, line1="2 Office Park")

    assert (first.status_code, second.status_code) == (303, 303)
    assert first.headers["Location"] == f"/s/{shop.slug}/account/addresses"
    assert [(line1, country, default) for _, line1, country, default in saved(app)] == [
        ("18 Wensan Road", "CN", True),
        ("2 Office Park", "CN", False),
    ]
    page = client.get(f"/s/{shop.slug}/account/addresses").get_data(as_text=True)
    assert "Zhejiang Hangzhou Xihu 18 Wensan Road Room 301" in page


def test_a_consumer_edits_makes_default_and_deletes_an_address(app):
    shop = make_shop(app)
    client = app.test_client()
    sign_in(client, app, shop.slug, "ada@example.com")
    add(client, shop.slug)
    add(client, shop.slug, line1="2 Office Park")
    first, second = address_ids(app)
    base = f"/s/{shop.slug}/account/addresses"

    page = client.get(f"{base}/{second}").get_data(as_text=True)
    assert 'value="2 Office Park"' in page
    edited = client.post(
        f"{base}/{second}", data={"csrf_token": csrf_token(page), **HOME, "line1": "3 New Road"}
    )
    made_default = post(client, shop.slug, f"{base}/{second}/default")
    assert [(line1, d) for _, line1, _, d in saved(app)] == [
        ("18 Wensan Road", False),
        ("3 New Road", True),
    ]
    deleted = post(client, shop.slug, f"{base}/{second}/delete")

    assert [r.status_code for r in (edited, made_default, deleted)] == [303, 303, 303]
    # the default was deleted: the remaining address takes its place
    assert [(line1, d) for _, line1, _, d in saved(app)] == [("18 Wensan Road", True)]
    assert address_ids(app) == [first]


def test_another_consumers_address_ids_answer_404(app):
    # Given Ada's address
    shop = make_shop(app)
    ada = app.test_client()
    sign_in(ada, app, shop.slug, "ada@example.com")
    add(ada, shop.slug)
    [address_id] = address_ids(app)
    # When Bob tries its id on every page of the address book
    bob = app.test_client()
    sign_in(bob, app, shop.slug, "bob@example.com")
    base = f"/s/{shop.slug}/account/addresses/{address_id}"
    page = bob.get(f"/s/{shop.slug}/account/addresses").get_data(as_text=True)
    token = csrf_token(bob.get(f"/s/{shop.slug}/account/addresses/new").get_data(as_text=True))

    answers = [
        bob.get(base).status_code,
        bob.post(base, data={"csrf_token": token, **HOME, "line1": "Bob's"}).status_code,
        bob.post(f"{base}/default", data={"csrf_token": token}).status_code,
        bob.post(f"{base}/delete", data={"csrf_token": token}).status_code,
    ]

    # Then each is 404 and Ada's address is as it was
    assert answers == [404, 404, 404, 404]
    assert [line1 for _, line1, _, _ in saved(app)] == ["18 Wensan Road"]
    assert "18 Wensan Road" not in page


def test_bad_address_fields_are_refused_field_by_field(app):
    shop = make_shop(app)
    client = app.test_client()
    sign_in(client, app, shop.slug, "ada@example.com")

    response = add(client, shop.slug, name="", phone="call me", country="C1", line1="x" * 201)

    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'data-testid="error-name">Required.' in page
    assert 'data-testid="error-phone">This is not a phone number.' in page
    assert 'data-testid="error-country">A two-letter country code, e.g. CN.' in page
    assert 'data-testid="error-line1">At most 200 characters.' in page
    assert saved(app) == []


def test_the_address_book_needs_a_signed_in_consumer_and_its_form_token(app):
    shop = make_shop(app)
    guest = app.test_client()
    assert guest.get(f"/s/{shop.slug}/account/addresses").status_code == 303
    client = app.test_client()
    sign_in(client, app, shop.slug, "ada@example.com")

    response = client.post(f"/s/{shop.slug}/account/addresses", data=HOME)

    assert response.status_code == 422
    assert "This form has expired." in response.get_data(as_text=True)
    assert saved(app) == []


def test_checkout_fills_in_the_saved_address_and_the_order_carries_it(app):
    # Given a consumer with a default address
    shop, variant_id = stocked_shop(app)
    client = app.test_client()
    sign_in(client, app, shop.slug, "ada@example.com")
    add(client, shop.slug)

    # When they open the checkout
    with session_scope(app) as session:
        product_id = session.get_one(Variant, variant_id).product_id
    page = client.get(f"/s/{shop.slug}/p/{product_id}").get_data(as_text=True)
    client.post(
        f"/s/{shop.slug}/cart/add",
        data={"csrf_token": csrf_token(page), "variant_id": variant_id, "quantity": 1},
    )
    checkout = client.get(f"/s/{shop.slug}/checkout").get_data(as_text=True)

    # Then the form holds their verified contact and the address (district before line 2)
    assert 'name="email" value="ada@example.com"' in checkout
    assert 'name="region" value="Zhejiang"' in checkout
    assert 'name="line2" value="Xihu Room 301"' in checkout
    assert 'name="phone" value="+86 138 0013 8000"' in checkout
    assert 'data-testid="saved-addresses"' in checkout

    # And an order placed with those values ships there
    token = buy(
        client,
        shop.slug,
        variant_id,
        email="ada@example.com",
        phone="+86 138 0013 8000",
        name="Li Lei",
        line1="18 Wensan Road",
        line2="Xihu Room 301",
        city="Hangzhou",
        region="Zhejiang",
        postal_code="310000",
    )
    with session_scope(app) as session:
        order = session.scalars(sa.select(Order).where(Order.token == token)).one()
        assert order.shipping_address["region"] == "Zhejiang"
        assert order.shipping_address["line2"] == "Xihu Room 301"


def test_a_guests_checkout_has_no_saved_addresses(app):
    shop, variant_id = stocked_shop(app)
    client = app.test_client()
    with session_scope(app) as session:
        product_id = session.get_one(Variant, variant_id).product_id
    page = client.get(f"/s/{shop.slug}/p/{product_id}").get_data(as_text=True)
    client.post(
        f"/s/{shop.slug}/cart/add",
        data={"csrf_token": csrf_token(page), "variant_id": variant_id, "quantity": 1},
    )

    checkout = client.get(f"/s/{shop.slug}/checkout").get_data(as_text=True)

    assert 'data-testid="saved-addresses"' not in checkout
    assert 'name="email" value=""' in checkout
