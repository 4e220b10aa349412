"""A guest's orders join the consumer who signs in with the same contact; a signed-in
consumer's checkout stores who they are; "My orders" shows only their orders in this shop."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from consumer_support import app_on, buy, sign_in, stocked_shop
from shop_support import make_shop

from storefront_sdk.consumers.models import Consumer
from storefront_sdk.db import session_scope
from storefront_sdk.orders.models import Order
from storefront_sdk.orders.owners import join_guest_orders


@pytest.fixture
def app(db_url: str, tmp_path: Path):
    with app_on(db_url, tmp_path / "instance") as app:
        yield app


def owner_of(app, token: str) -> int | None:
    with session_scope(app) as session:
        return session.scalars(sa.select(Order.consumer_id).where(Order.token == token)).one()


def consumer_id(app, email: str) -> int:
    with session_scope(app) as session:
        return int(session.scalars(sa.select(Consumer.id).where(Consumer.email == email)).one())


def test_a_guests_earlier_order_appears_in_my_orders_after_signing_in(app):
    # Given two guests' orders, with different email addresses
    shop, variant_id = stocked_shop(app)
    mine = buy(app.test_client(), shop.slug, variant_id, email="Ada@Example.com")
    theirs = buy(app.test_client(), shop.slug, variant_id, email="bob@example.com")
    assert owner_of(app, mine) is None

    # When Ada signs in with her address (typed differently)
    client = app.test_client()
    sign_in(client, app, shop.slug, "ada@example.COM")

    # Then her order is hers, in "My orders" with its link, and Bob's is not
    assert owner_of(app, mine) == consumer_id(app, "ada@example.com")
    assert owner_of(app, theirs) is None
    page = client.get(f"/s/{shop.slug}/account/orders").get_data(as_text=True)
    assert f'href="/s/{shop.slug}/orders/{mine}"' in page
    assert theirs not in page


def test_a_guest_order_by_phone_joins_the_consumer_of_that_phone(app):
    shop, variant_id = stocked_shop(app)
    token = buy(app.test_client(), shop.slug, variant_id, phone="+86 138 0013 8000")

    sign_in(app.test_client(), app, shop.slug, "+8613800138000")

    with session_scope(app) as session:
        phone_owner = session.scalars(sa.select(Consumer.id)).one()
    assert owner_of(app, token) == phone_owner


def test_an_order_already_joined_never_moves_to_another_consumer(app):
    # Given Ada's order, joined to her
    shop, variant_id = stocked_shop(app)
    token = buy(app.test_client(), shop.slug, variant_id, email="ada@example.com")
    sign_in(app.test_client(), app, shop.slug, "ada@example.com")
    ada = consumer_id(app, "ada@example.com")

    # When another consumer's guest orders are joined with the same contact
    with session_scope(app) as session:
        other = Consumer(phone="+8613800138000")
        session.add(other)
        session.flush()
        joined = join_guest_orders(session, other.id or 0, "ada@example.com", None)

    # Then nothing moves
    assert joined == 0
    assert owner_of(app, token) == ada


def test_a_signed_in_consumers_order_stores_who_they_are(app):
    shop, variant_id = stocked_shop(app)
    client = app.test_client()
    sign_in(client, app, shop.slug, "ada@example.com")

    # even with another contact typed at checkout
    token = buy(client, shop.slug, variant_id, email="gift@example.com")

    assert owner_of(app, token) == consumer_id(app, "ada@example.com")
    page = client.get(f"/s/{shop.slug}/account/").get_data(as_text=True)
    assert f'href="/s/{shop.slug}/orders/{token}"' in page


def test_a_guest_checkout_with_a_verified_contact_joins_that_consumer(app):
    shop, variant_id = stocked_shop(app)
    sign_in(app.test_client(), app, shop.slug, "ada@example.com")

    token = buy(app.test_client(), shop.slug, variant_id, email="ADA@example.com")

    assert owner_of(app, token) == consumer_id(app, "ada@example.com")


def test_guest_checkout_stays_possible(app):
    shop, variant_id = stocked_shop(app)

    token = buy(app.test_client(), shop.slug, variant_id, email="guest@example.com")

    assert owner_of(app, token) is None


def test_my_orders_shows_only_this_shops_orders_and_not_another_consumers(app):
    # Given Ada's orders in two shops, and Bob's order in the first
    shop, variant_id = stocked_shop(app)
    other = make_shop(app, "other-owner@example.com")
    client = app.test_client()
    sign_in(client, app, shop.slug, "ada@example.com")
    here = buy(client, shop.slug, variant_id, email="ada@example.com")
    there = buy(client, other.slug, variant_id, email="ada@example.com")
    bob = app.test_client()
    sign_in(bob, app, shop.slug, "bob@example.com")
    bobs = buy(bob, shop.slug, variant_id, email="bob@example.com")

    # When each looks at "My orders" of a shop
    first = client.get(f"/s/{shop.slug}/account/orders").get_data(as_text=True)
    second = client.get(f"/s/{other.slug}/account/orders").get_data(as_text=True)

    # Then each sees their own orders of that shop only
    assert here in first
    assert there not in first
    assert bobs not in first
    assert there in second
    assert here not in second
    # and nobody's order page is reachable by guessing an id in "My orders": only tokens link
    assert f"/orders/{bobs}" not in first


def test_my_account_shows_no_orders_and_no_coupons_for_a_new_consumer(app):
    shop = make_shop(app)
    client = app.test_client()
    sign_in(client, app, shop.slug, "ada@example.com")

    page = client.get(f"/s/{shop.slug}/account/").get_data(as_text=True)

    assert "No orders in this shop yet." in page
    assert "No coupons claimed." in page
    assert "Points" not in page  # nothing shown that does not exist yet
