"""What the admin's order detail and the distributor's Orders tab show of an order that
carried promotions: each line's gross, each discount with its promotion and funder, the net
amount and the four parts (a platform part below zero labelled as a subsidy), the order's
totals with its discount; the owner's commission net of their own shop coupon, saying so.

Prices (fen, ``commission_world``): TEE 5000 (supply 3000, level 1 500, level 2 100,
platform 1400); CAP 2000 (1000, 200, 40, 760)."""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from html import unescape
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient

sys.path.insert(0, str(Path(__file__).parents[1] / "commissions"))
from commission_world import World, dispose, make_world
from money_discounts import give, make_promotion

from storefront_sdk.orders.models import Order
from storefront_sdk.shops.models import Shop

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
_TAGS = re.compile(r"<[^>]+>")


@pytest.fixture
def world(db_url: str) -> Iterator[World]:
    made = make_world(db_url, STOREFRONT_DEFAULT_LOCALE="en")
    yield made
    dispose(made)


def _signed_in(world: World, door: str, email: str) -> FlaskClient:
    client = world.app.test_client()
    page = client.get(f"/{door}/login").get_data(as_text=True)
    token = _CSRF.search(page)
    assert token
    answer = client.post(
        f"/{door}/login",
        data={"csrf_token": token.group(1), "email": email, "password": "password123"},
    )
    assert answer.status_code == 303, answer.get_data(as_text=True)
    return client


def _promotions(world: World) -> dict[str, int]:
    with world.session() as session:
        shop_id = session.scalar(sa.select(Shop.id).where(Shop.slug == world.shop_slug))
        made = {
            "supplier": make_promotion(
                session, "supplier", "Tee week", world.now, supplier_id=world.supplier_id
            ),
            "shop": make_promotion(session, "shop", "Bob's 5 off", world.now, shop_id=shop_id),
            "platform": make_promotion(session, "platform", "Big subsidy", world.now),
        }
        session.commit()
        return {funder: promotion.id or 0 for funder, promotion in made.items()}


def _number(world: World, order_id: int) -> str:
    with world.session() as session:
        return session.get_one(Order, order_id).number


def _text(html: str) -> str:
    return " ".join(unescape(_TAGS.sub(" ", html)).replace("\xa0", " ").split())


def _row(html: str, sku: str) -> str:
    found = re.search(rf"<tr><td>[^<]*<div class=\"a-muted\">{sku} .*?</tr>", html, re.S)
    assert found, sku
    return found.group(0)


def test_the_admin_sees_each_lines_gross_discounts_net_amount_and_parts(world: World) -> None:
    # Given a TEE carrying a supplier discount of 10.00 and a shop coupon of 5.00, and a CAP
    # carrying a platform discount of 15.00 (more than the platform's 7.60 on it)
    ids = _promotions(world)
    discounts = give(
        {
            "TEE": [(ids["supplier"], 1000), (ids["shop"], 500)],
            "CAP": [(ids["platform"], 1500)],
        }
    )
    order = world.buy({"TEE": 1, "CAP": 1}, discounts=discounts)
    # When the admin opens the order
    html = _signed_in(world, "admin", "root@example.com").get(
        f"/admin/orders/{_number(world, order)}"
    )
    assert html.status_code == 200
    page = html.get_data(as_text=True)
    # Then each line shows its gross, its discounts with promotion and funder, its net
    # amount and its four parts (the supplier's is its supply amount)
    assert _text(_row(page, "TEE")) == (
        "Product TEE TEE \u00d7 1 CNY 50.00 "
        "-CNY 10.00 · Tee week (funded by the supplier) "
        "-CNY 5.00 · Bob's 5 off (funded by the shop) "
        "CNY 35.00 left: CNY 35.00 CNY 20.00 CNY 0.00 CNY 1.00 CNY 14.00"
    )
    # and the CAP's platform part below zero is labelled a subsidy
    assert _text(_row(page, "CAP")) == (
        "Product CAP CAP \u00d7 1 CNY 20.00 "
        "-CNY 15.00 · Big subsidy (funded by the platform) "
        "CNY 5.00 left: CNY 5.00 CNY 10.00 CNY 2.00 CNY 0.40 -CNY 7.40 platform subsidy"
    )
    # and the order's totals show its discount
    totals = re.search(r'data-testid="totals">(.*?Shipping: [^<]*)</span>', page)
    assert totals
    assert _text(totals.group(1)) == (
        "Subtotal: CNY 70.00 · Discounts: -CNY 30.00 · Shipping: CNY 0.00"
    )


def test_an_order_without_promotions_shows_no_discount(world: World) -> None:
    order = world.buy({"CAP": 1})
    page = _signed_in(world, "admin", "root@example.com").get(
        f"/admin/orders/{_number(world, order)}"
    )
    html = page.get_data(as_text=True)
    assert 'data-testid="totals"' not in html
    assert _text(_row(html, "CAP")) == (
        "Product CAP CAP \u00d7 1 CNY 20.00 — CNY 20.00 left: CNY 20.00 "
        "CNY 10.00 CNY 2.00 CNY 0.40 CNY 7.60"
    )


def test_the_owner_sees_their_commission_after_their_own_coupon(world: World) -> None:
    # Given Bob's 5.00 shop coupon on a TEE (his level 1: 5.00, now 0.00) and a CAP sold
    # without one
    ids = _promotions(world)
    with_coupon = world.buy({"TEE": 1, "CAP": 1}, discounts=give({"TEE": [(ids["shop"], 300)]}))
    without = world.buy({"CAP": 1})
    # When Bob opens his Orders tab
    page = _signed_in(world, "console", "bob@example.com").get("/console/orders?lang=en")
    html = page.get_data(as_text=True)
    # Then the order with his coupon shows his commission net of it, and says so
    row = re.search(rf'<li data-order="{_number(world, with_coupon)}".*?</li>', html, re.S)
    assert row
    assert "Your commission: CN¥4.00 (after your coupon CN¥3.00)" in _text(row.group(0))
    other = re.search(rf'<li data-order="{_number(world, without)}".*?</li>', html, re.S)
    assert other
    assert "Your commission: CN¥2.00" in _text(other.group(0))
    assert "after your coupon" not in other.group(0)


def test_the_admin_reads_the_discounts_in_chinese(world: World) -> None:
    # Given a CAP carrying a platform discount larger than the platform's part
    ids = _promotions(world)
    order = world.buy({"CAP": 1}, discounts=give({"CAP": [(ids["platform"], 1500)]}))
    # When the admin reads the order in Chinese
    admin = _signed_in(world, "admin", "root@example.com")
    page = admin.get(f"/admin/orders/{_number(world, order)}?lang=zh-Hans")
    text = _text(page.get_data(as_text=True))
    # Then the funder, the subsidy and the totals speak Chinese
    assert "Big subsidy (由平台承担)" in text
    assert "平台补贴" in text
    assert "小计" in text
    assert "优惠" in text
    assert "funded by" not in text
    assert "platform subsidy" not in text
