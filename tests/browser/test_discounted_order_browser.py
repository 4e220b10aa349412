"""On a phone, the platform admin reads a discounted order's lines (gross, discounts by
funder, net amount, parts, a subsidy) and a supplier's statement with its discounts, and
the shop's owner reads their commission after their own coupon."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask

sys.path.insert(0, str(Path(__file__).parents[1] / "commissions"))
from commission_world import World, dispose, make_world
from money_discounts import give, make_promotion

from storefront_sdk.orders.models import Order
from storefront_sdk.shops.models import Shop


@pytest.fixture
def world(db_url: str) -> Iterator[World]:
    made = make_world(db_url)
    yield made
    dispose(made)


@pytest.fixture
def app(world: World) -> Flask:
    return world.app


def _order(world: World) -> str:
    """A TEE with the supplier's 10.00 and Bob's 3.00 coupon, a CAP with 15.00 off by the
    platform (more than its 7.60 part: a subsidy); paid and delivered; its number."""
    with world.session() as session:
        shop_id = session.scalar(sa.select(Shop.id).where(Shop.slug == world.shop_slug))
        supplier = make_promotion(
            session, "supplier", "Tee week", world.now, supplier_id=world.supplier_id
        )
        shop = make_promotion(session, "shop", "Bob's coupon", world.now, shop_id=shop_id)
        platform = make_promotion(session, "platform", "Opening day", world.now)
        session.commit()
        ids = (supplier.id or 0, shop.id or 0, platform.id or 0)
    discounts = give({"TEE": [(ids[0], 1000), (ids[1], 300)], "CAP": [(ids[2], 1500)]})
    order_id = world.buy({"TEE": 1, "CAP": 1}, discounts=discounts)
    world.deliver(order_id)
    with world.session() as session:
        return session.get_one(Order, order_id).number


def _sign_in(page, live_server: str, door: str, email: str) -> None:
    page.goto(f"{live_server}/{door}/login?lang=en")
    page.locator("input[name=email]").fill(email)
    page.locator("input[name=password]").fill("password123")
    page.locator("button[type=submit]").click()
    page.wait_for_load_state()


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_an_admin_reads_a_discounted_order_and_statement_on_a_phone(world, live_server, phone):
    number = _order(world)
    page = phone
    _sign_in(page, live_server, "admin", "root@example.com")
    page.goto(f"{live_server}/admin/orders/{number}?lang=en")
    page.shot("order")
    discounts = page.locator("[data-testid=line-discounts]")
    assert discounts.nth(0).inner_text().replace("\xa0", " ") == (
        "-CNY 10.00 · Tee week (funded by the supplier)\n"
        "-CNY 3.00 · Bob's coupon (funded by the shop)"
    )
    assert page.locator("[data-testid=subsidy]").inner_text() == "platform subsidy"
    start = (world.now - timedelta(days=1)).date().isoformat()
    end = (world.now + timedelta(days=1)).date().isoformat()
    page.goto(f"{live_server}/admin/statements?supplier={world.supplier_id}&from={start}&to={end}")
    page.shot("statement")
    cells = page.locator("[data-money=supplier-discount]")
    assert [cells.nth(i).inner_text().replace("\xa0", " ") for i in range(2)] == [
        "CNY 10.00",
        "CNY 0.00",
    ]


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_an_owner_reads_their_commission_after_their_coupon_on_a_phone(world, live_server, phone):
    number = _order(world)
    page = phone
    _sign_in(page, live_server, "console", "bob@example.com")
    page.goto(f"{live_server}/console/orders?lang=en")
    page.shot("orders")
    row = page.locator(f'[data-order="{number}"]')
    assert (
        row.locator("[data-testid=order-shop-discount]").inner_text().replace("\xa0", " ")
        == "(after your coupon CN¥3.00)"
    )
