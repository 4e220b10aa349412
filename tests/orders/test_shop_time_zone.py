"""A shop's own time zone: its pages and its owner's console write times in the zone the
shop chose in its settings, else in the platform's (``STOREFRONT_DEFAULT_TIME_ZONE``)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from order_support import app_on, buy, dev_pay, stocked_shop
from shop_support import ShopRef

from storefront_sdk.db import session_scope
from storefront_sdk.errors import ValidationError
from storefront_sdk.orders.models import Order
from storefront_sdk.shops import curation
from storefront_sdk.shops.models import Shop

#: 17:04 UTC on New Year's Day: already 2 January in Shanghai, still 1 January in London.
PLACED = datetime(2026, 1, 1, 17, 4, tzinfo=UTC)


@pytest.fixture
def app(db_url: str) -> Iterator[Flask]:
    with app_on(db_url) as made:
        yield made


def _owner(app: Flask, shop: ShopRef) -> FlaskClient:
    with session_scope(app) as session:
        email = session.execute(
            sa.text("SELECT email FROM sf_distributor WHERE id = :id"), {"id": shop.distributor_id}
        ).scalar_one()
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    page = client.get("/console/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token
    answer = client.post(
        "/console/login",
        data={"csrf_token": token.group(1), "email": email, "password": "password123"},
    )
    assert answer.status_code == 303
    return client


def _save_zone(owner: FlaskClient, zone: str) -> int:
    page = owner.get("/console/settings").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token
    data = {
        "csrf_token": token.group(1),
        "name": "Ann's shop",
        "primary_color": "#123abc",
        "welcome_text": "",
        "locale": "en",
        "currency_display": "symbol",
        "host": "",
        "time_zone": zone,
    }
    return owner.post("/console/settings", data=data).status_code


def _order_at(app: Flask, shop: ShopRef, sku: int) -> tuple[FlaskClient, str]:
    consumer = app.test_client()
    token = buy(consumer, shop.slug, {sku: 1})
    with session_scope(app) as session:
        order = session.scalars(sa.select(Order).where(Order.token == token)).one()
        order.created_at = PLACED
        order.expires_at = datetime(2099, 1, 1, 17, 34, tzinfo=UTC)
    return consumer, token


def _zone_of(app: Flask, shop: ShopRef) -> str | None:
    with session_scope(app) as session:
        return session.get_one(Shop, shop.shop_id).time_zone


def test_the_order_page_shows_times_in_the_zone_the_shop_chose(app):
    # given a shop whose owner chose Europe/London, and an order placed at 17:04 UTC
    _, shop, skus = stocked_shop(app)
    assert _save_zone(_owner(app, shop), "Europe/London") == 303
    consumer, token = _order_at(app, shop, skus["A"])
    # when the consumer opens the order and its payment page
    page = consumer.get(f"/s/{shop.slug}/orders/{token}?lang=en").get_data(as_text=True)
    pay = consumer.get(f"/s/{shop.slug}/orders/{token}/pay?lang=en").get_data(as_text=True)
    # then the times are London's (GMT in winter)
    assert "Placed on Jan 1, 2026, 5:04\u202fPM" in page
    assert "Your order is kept for you until 5:34\u202fPM." in pay


def test_the_order_page_shows_the_platforms_zone_when_the_shop_chose_none(app):
    # given a shop that kept the platform's zone (Asia/Shanghai)
    _, shop, skus = stocked_shop(app)
    assert _save_zone(_owner(app, shop), "") == 303
    consumer, token = _order_at(app, shop, skus["A"])
    # when the consumer opens the order
    page = consumer.get(f"/s/{shop.slug}/orders/{token}?lang=en").get_data(as_text=True)
    # then the time is Shanghai's (UTC+8)
    assert _zone_of(app, shop) is None
    assert "Placed on Jan 2, 2026, 1:04\u202fAM" in page


def test_the_console_orders_dates_follow_the_shops_zone(app):
    # given a paid order placed at 17:04 UTC on 1 January
    _, shop, skus = stocked_shop(app)
    owner = _owner(app, shop)
    consumer, token = _order_at(app, shop, skus["A"])
    assert dev_pay(consumer, shop.slug, token).status_code == 303
    # when the owner looks at the orders before and after choosing Europe/London
    before = owner.get("/console/orders").get_data(as_text=True)
    assert _save_zone(owner, "Europe/London") == 303
    after = owner.get("/console/orders").get_data(as_text=True)
    # then the order's date is Shanghai's day, then London's
    assert "Jan 2, 2026" in before
    assert "Jan 1, 2026" not in before
    assert "Jan 1, 2026" in after
    assert "Jan 2, 2026" not in after


def test_the_settings_page_offers_the_platforms_zone_and_the_list(app):
    _, shop, _ = stocked_shop(app)
    page = _owner(app, shop).get("/console/settings").get_data(as_text=True)
    # (each zone named as the page's language names it)
    assert '<option value="" selected>The platform&#39;s (China (Shanghai) Time)</option>' in page
    assert '<option value="Europe/London">United Kingdom Time</option>' in page
    assert '<option value="UTC">UTC</option>' in page


@pytest.mark.parametrize("zone", ["Mars/Olympus", "Europe/Berlin", "utc "])
def test_a_zone_not_in_the_list_is_refused_and_changes_nothing(app, zone):
    # given a shop that chose Asia/Tokyo
    _, shop, _ = stocked_shop(app)
    owner = _owner(app, shop)
    assert _save_zone(owner, "Asia/Tokyo") == 303
    # when a zone that is not offered is posted
    page = owner.get("/console/settings").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token
    answer = owner.post(
        "/console/settings",
        data={
            "csrf_token": token.group(1),
            "name": "Renamed",
            "primary_color": "#000000",
            "locale": "en",
            "currency_display": "symbol",
            "time_zone": zone,
        },
    )
    # then it is refused with a clear message and nothing changed
    assert answer.status_code == 422
    assert "Choose a time zone from the list." in answer.get_data(as_text=True)
    assert _zone_of(app, shop) == "Asia/Tokyo"
    with session_scope(app) as session:
        assert session.get_one(Shop, shop.shop_id).name == "Ann's shop"


def test_the_settings_service_refuses_a_zone_not_in_the_list(app):
    # given a shop
    _, shop, _ = stocked_shop(app)
    # when the service is asked to store a zone it does not offer
    settings = curation.Settings("Ann", "#123abc", time_zone="Europe/Berlin")
    with session_scope(app) as session:
        row = session.get_one(Shop, shop.shop_id)
        with pytest.raises(ValidationError) as refused:
            curation.update_settings(session, row, settings)
    # then it names the zone and nothing is stored
    assert refused.value.message == "unknown time zone 'Europe/Berlin': choose one of the list"
    assert _zone_of(app, shop) is None
