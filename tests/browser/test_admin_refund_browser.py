"""The platform admin on a phone refunds a returned unit from an order's page and sees
the refund listed as what it is for."""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask

sys.path.insert(0, str(Path(__file__).parents[1] / "commissions"))
from commission_world import World, dispose, make_world

from storefront_sdk.orders.models import Order


@pytest.fixture
def world(db_url: str) -> Iterator[World]:
    made = make_world(db_url)
    yield made
    dispose(made)


@pytest.fixture
def app(world: World) -> Flask:
    return world.app


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_an_admin_refunds_a_returned_unit_on_a_phone(world, live_server, phone):
    order_id = world.buy({"TEE": 2})
    with world.session() as session:
        number = session.scalar(sa.select(Order.number).where(Order.id == order_id))
    page = phone
    page.goto(f"{live_server}/admin/login")
    page.locator("input[name=email]").fill("root@example.com")
    page.locator("input[name=password]").fill("password123")
    page.locator("button[type=submit]").click()
    page.wait_for_load_state()
    page.goto(f"{live_server}/admin/orders/{number}")
    page.shot("order")
    form = page.locator("[data-testid=refund-form]")
    form.locator("select[name=kind]").select_option("returned")
    form.locator("input[name=units]").fill("1")
    form.locator("input[name=reason]").fill("sent back")
    form.get_by_role("button", name="Refund").click()
    page.wait_for_url(re.compile(rf"/admin/orders/{number}$"))
    page.shot("refunded")
    listed = page.locator("[data-testid=refunds] li").inner_text().replace("\xa0", " ")
    assert listed == "CNY 50.00 · units returned (TEE \u00d7 1) · Being refunded · sent back"
    assert page.locator("[data-testid=returned]").inner_text() == "1 returned"
