"""An order's status tells the truth on every page: what its supplier parts did (partly
shipped, delivered) on the shop's, the console's and the admin's pages, a declined payment on
the order and payment pages, the province in the address, times in the platform's time
zone, and the order page reloading itself only while something may still change."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from conftest import SupplierClient, new_supplier_client
from flask import Flask
from flask.testing import FlaskClient
from order_support import app_on, buy, dev_pay, stocked_shop
from shop_support import ShopRef, product, push, variant, variant_ids

from storefront_sdk.db import session_scope
from storefront_sdk.orders.models import Order, SupplierOrder
from storefront_sdk.platform_admins import create_admin

_STATUS = re.compile(r'data-testid="order-status">([^<]+)<')


@pytest.fixture
def app(db_url: str) -> Iterator[Flask]:
    with app_on(db_url) as made:
        yield made


def _two_suppliers(app: Flask) -> tuple[SupplierClient, SupplierClient, ShopRef, dict[str, int]]:
    first, shop, _ = stocked_shop(app)
    second = new_supplier_client(app)
    push(second, product("PZ", variants=[variant("Z", stock=5, min_price=None)]))
    return first, second, shop, variant_ids(app)


def _paid(app: Flask, shop: ShopRef, cart: dict[int, int]) -> tuple[FlaskClient, str]:
    consumer = app.test_client()
    token = buy(consumer, shop.slug, cart)
    assert dev_pay(consumer, shop.slug, token).status_code == 303
    return consumer, token


def _part_of(app: Flask, supplier: SupplierClient, token: str) -> str:
    with session_scope(app) as session:
        return session.execute(
            sa.select(SupplierOrder.public_id)
            .join(Order, Order.id == SupplierOrder.order_id)
            .where(Order.token == token, SupplierOrder.supplier_id == supplier.supplier_id)
        ).scalar_one()


def _ship(supplier: SupplierClient, part: str, number: str) -> None:
    answer = supplier.post(
        f"/orders/{part}/shipments", json={"carrier": "SF", "tracking_number": number}
    )
    assert answer.status_code == 201, answer.get_json()


def _deliver(supplier: SupplierClient, part: str) -> None:
    assert supplier.post(f"/orders/{part}/deliver").status_code == 200


def _shop_status(consumer: FlaskClient, shop: ShopRef, token: str) -> str:
    html = consumer.get(f"/s/{shop.slug}/orders/{token}?lang=en").get_data(as_text=True)
    found = _STATUS.search(html)
    assert found, html[:2000]
    return found.group(1)


def _order_number(app: Flask, token: str) -> str:
    with session_scope(app) as session:
        return session.execute(sa.select(Order.number).where(Order.token == token)).scalar_one()


def _signed_in(app: Flask, door: str, email: str) -> FlaskClient:
    """A browser set to English, signed in to ``door`` (``console`` or ``admin``)."""
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    page = client.get(f"/{door}/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token
    answer = client.post(
        f"/{door}/login",
        data={"csrf_token": token.group(1), "email": email, "password": "password123"},
    )
    assert answer.status_code == 303, answer.get_data(as_text=True)
    return client


def _console(app: Flask, owner_email: str) -> FlaskClient:
    return _signed_in(app, "console", owner_email)


def _admin(app: Flask) -> FlaskClient:
    with session_scope(app) as session:
        create_admin(session, "root@example.com", "password123")
    return _signed_in(app, "admin", "root@example.com")


def test_an_order_says_partly_shipped_then_delivered_on_the_shop_console_and_admin(app):
    # given a paid order with a part from each of two suppliers
    first, second, shop, skus = _two_suppliers(app)
    consumer, token = _paid(app, shop, {skus["A"]: 1, skus["Z"]: 1})
    number = _order_number(app, token)
    owner = _console(app, f"owner{first.supplier_id}@example.com")
    admin = _admin(app)
    assert _shop_status(consumer, shop, token) == "Paid"

    # when the first supplier ships its part
    _ship(first, _part_of(app, first, token), "SF1")
    # then every page says the order is partly shipped
    assert _shop_status(consumer, shop, token) == "Partly shipped"
    console_row = (
        '<span data-testid="order-total">CN¥119.00</span> · <span data-status="partially_shipped">'
    )
    console_html = owner.get("/console/orders").get_data(as_text=True)
    assert console_row in console_html, console_html[console_html.find("<h1") :][:800]
    listed = admin.get(f"/admin/orders?q={number}").get_data(as_text=True)
    assert '<td data-status="paid">Partly shipped</td>' in listed
    detail = admin.get(f"/admin/orders/{number}").get_data(as_text=True)
    assert 'data-shown="partially_shipped">Partly shipped</strong>' in detail
    assert '<span data-status="shipped">Shipped</span>' in detail
    assert '<span data-status="pending">Waiting for the supplier</span>' in detail

    # when both parts are delivered
    _deliver(first, _part_of(app, first, token))
    _ship(second, _part_of(app, second, token), "SF2")
    _deliver(second, _part_of(app, second, token))
    # then every page says delivered
    assert _shop_status(consumer, shop, token) == "Delivered"
    console_page = owner.get("/console/orders").get_data(as_text=True)
    assert (
        '<span data-testid="order-total">CN¥119.00</span> · <span data-status="delivered">Delivered'
    ) in (console_page)
    listed = admin.get(f"/admin/orders?q={number}").get_data(as_text=True)
    assert '<td data-status="paid">Delivered</td>' in listed


def test_the_order_page_shows_the_province_and_times_in_the_platforms_time_zone(app):
    # given an order placed at 17:04 UTC, shipped to a province
    _, shop, skus = stocked_shop(app)
    consumer = app.test_client()
    token = buy(consumer, shop.slug, {skus["A"]: 1}, region="Zhejiang", city="Hangzhou")
    with session_scope(app) as session:
        order = session.scalars(sa.select(Order).where(Order.token == token)).one()
        order.created_at = datetime(2026, 1, 1, 17, 4, tzinfo=UTC)
        order.expires_at = datetime(2099, 1, 1, 17, 34, tzinfo=UTC)
    # when the consumer opens the order and its payment page
    english = consumer.get(f"/s/{shop.slug}/orders/{token}?lang=en").get_data(as_text=True)
    chinese = consumer.get(f"/s/{shop.slug}/orders/{token}?lang=zh-Hans").get_data(as_text=True)
    pay = consumer.get(f"/s/{shop.slug}/orders/{token}/pay?lang=en").get_data(as_text=True)
    # then the times are Shanghai's (UTC+8), written as each language writes them
    assert "Placed on Jan 2, 2026, 1:04\u202fAM" in english
    assert "2026年1月2日 01:04" in chinese
    assert "Your order is kept for you until 1:34\u202fAM." in pay
    assert "(UTC)" not in pay
    # and the address names the province
    assert "1 Nanjing Road, Hangzhou, Zhejiang 200000 CN" in english


def test_times_follow_the_platforms_time_zone_setting(db_url):
    with app_on(db_url, STOREFRONT_DEFAULT_TIME_ZONE="Europe/London") as app:
        _, shop, skus = stocked_shop(app)
        consumer = app.test_client()
        token = buy(consumer, shop.slug, {skus["A"]: 1})
        with session_scope(app) as session:
            order = session.scalars(sa.select(Order).where(Order.token == token)).one()
            order.created_at = datetime(2026, 7, 1, 17, 4, tzinfo=UTC)
        page = consumer.get(f"/s/{shop.slug}/orders/{token}?lang=en").get_data(as_text=True)
    assert "Placed on Jul 1, 2026, 6:04\u202fPM" in page  # British summer time


def test_a_declined_payment_says_so_on_the_order_and_payment_pages(app):
    # given an order whose payment was declined
    _, shop, skus = stocked_shop(app)
    consumer = app.test_client()
    token = buy(consumer, shop.slug, {skus["A"]: 1})
    before = consumer.get(f"/s/{shop.slug}/orders/{token}/pay?lang=en").get_data(as_text=True)
    assert 'data-testid="declined"' not in before
    assert dev_pay(consumer, shop.slug, token, "failed").status_code == 303
    # when the consumer is back on the order page, then on the payment page
    order_page = consumer.get(f"/s/{shop.slug}/orders/{token}").get_data(as_text=True)
    pay_page = consumer.get(f"/s/{shop.slug}/orders/{token}/pay").get_data(as_text=True)
    # then both say the payment was declined, and offer to pay again
    declined = "Your payment was declined, so nothing was taken."
    assert declined in order_page
    assert 'data-testid="pay-link"' in order_page
    assert declined in pay_page
    chinese = consumer.get(f"/s/{shop.slug}/orders/{token}?lang=zh-Hans").get_data(as_text=True)
    assert "您的付款被拒绝" in chinese
    # and once paid, the decline is history
    assert dev_pay(consumer, shop.slug, token).status_code == 303
    paid = consumer.get(f"/s/{shop.slug}/orders/{token}?lang=en").get_data(as_text=True)
    assert declined not in paid


def test_the_order_page_reloads_itself_only_while_parcels_are_moving(db_url):
    with app_on(db_url, STOREFRONT_ORDER_REFRESH_SECONDS=7) as app:
        supplier, shop, skus = stocked_shop(app)
        consumer = app.test_client()
        token = buy(consumer, shop.slug, {skus["A"]: 1})
        refresh = '<meta http-equiv="refresh" content="7">'
        unpaid = consumer.get(f"/s/{shop.slug}/orders/{token}").get_data(as_text=True)
        assert refresh not in unpaid  # nothing moves until the consumer pays
        assert dev_pay(consumer, shop.slug, token).status_code == 303
        assert refresh in consumer.get(f"/s/{shop.slug}/orders/{token}").get_data(as_text=True)
        part = _part_of(app, supplier, token)
        _ship(supplier, part, "SF1")
        assert refresh in consumer.get(f"/s/{shop.slug}/orders/{token}").get_data(as_text=True)
        _deliver(supplier, part)
        delivered = consumer.get(f"/s/{shop.slug}/orders/{token}").get_data(as_text=True)
    assert refresh not in delivered
    assert 'http-equiv="refresh"' not in delivered
