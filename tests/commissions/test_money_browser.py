"""In a real browser at a phone's size: a distributor follows their earnings (the chart fits
the screen) and asks for a payout; the platform admin approves it and marks it paid; the
distributor sees it paid."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from commission_world import World, dispose, make_world
from flask import Flask


@pytest.fixture
def world(db_url: str) -> Iterator[World]:
    made = make_world(db_url, STOREFRONT_PAYOUT_MINIMUM_MINOR=500)
    yield made
    dispose(made)


@pytest.fixture
def app(world: World) -> Flask:  # (the browser fixtures serve this app)
    return world.app


def _sign_in(page: Any, base: str, path: str, email: str) -> None:
    page.goto(f"{base}{path}/login?lang=en")
    page.get_by_label(re.compile("Email")).fill(email)
    page.get_by_label("Password").fill("password123")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()


def test_a_distributor_is_paid_out_what_they_earned(
    world: World, live_server: str, phone: Any
) -> None:
    world.deliver(world.buy({"TEE": 2, "TEA": 1}))
    world.settle()
    page = phone
    _sign_in(page, live_server, "/console", "bob@example.com")
    page.goto(f"{live_server}/console/earnings?lang=en")
    assert page.get_by_test_id("available").inner_text() == "CN¥11.99"
    chart = page.locator("svg.c-chart").bounding_box()
    assert chart is not None
    assert 0 < chart["width"] <= 390
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # nothing overflows
    page.shot("earnings")
    page.goto(f"{live_server}/console/payouts?lang=en")
    page.get_by_test_id("ask-CNY").click()
    page.wait_for_load_state()
    assert page.get_by_test_id("payout-asked").is_visible()
    page.shot("payout-asked")

    admin = page.context.browser.new_context(
        viewport={"width": 1200, "height": 900}, locale="en-US"
    ).new_page()
    _sign_in(admin, live_server, "/admin", "root@example.com")
    admin.goto(f"{live_server}/admin/payouts?status=requested")
    admin.get_by_role("button", name="Approve").click()
    admin.get_by_role("button", name="Yes, approve").click()
    admin.wait_for_load_state()
    admin.goto(f"{live_server}/admin/payouts?status=approved")
    admin.get_by_label("Bank reference").fill("ICBC-20261201")
    admin.get_by_role("button", name="Mark paid").click()
    admin.wait_for_load_state()
    admin.context.close()

    page.goto(f"{live_server}/console/payouts?lang=en")
    status = page.locator("[data-testid=payouts] td[data-status]").first
    assert status.get_attribute("data-status") == "paid"
    assert "ICBC-20261201" in status.inner_text()
    page.shot("paid")


def test_a_distributor_sees_why_a_customer_is_theirs(
    world: World, live_server: str, phone: Any
) -> None:
    # Given a customer bound to Bob by a first paid order, and a second one renewing it
    world.buy({"TEE": 1}, email="loyal@example.com", binding_days=30)
    world.buy({"TEA": 1}, email="loyal@example.com", binding_days=30)
    # When Bob opens his orders on his phone
    page = phone
    _sign_in(page, live_server, "/console", "bob@example.com")
    page.goto(f"{live_server}/console/orders?lang=en")
    # Then the binding history tells both steps, newest first, and fits the screen
    history = page.get_by_test_id("binding-history").locator("li")
    assert [history.nth(i).get_attribute("data-kind") for i in range(2)] == ["renewed", "bound"]
    assert history.count() == 2
    assert "lo***@example.com" in history.first.inner_text()
    assert "Binding renewed by a new order." in history.first.inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.shot("binding-history")


def test_a_distributor_sees_their_orders_and_a_balance_below_zero_explained_on_a_phone(
    world: World, live_server: str, phone: Any
) -> None:
    # Given Bob's paid-out commission taken back by a full refund, a second order refunded
    # in part, and his own purchase in his shop
    first = world.buy({"TEE": 1})
    world.deliver(first)
    world.settle()
    world.pay_out(world.bob)
    world.refund(first, "TEE", 5000)
    world.refund(world.buy({"TEE": 2}), "TEE", 5000)
    world.buy({"CAP": 1}, email="bob@example.com")
    # When he opens his orders on his phone
    page = phone
    _sign_in(page, live_server, "/console", "bob@example.com")
    page.goto(f"{live_server}/console/orders?lang=en")
    # Then each order says whose it is, with what is left after refunds, and fits the screen
    orders = page.get_by_test_id("orders").locator("li[data-order]")
    credits = [orders.nth(i).get_attribute("data-credit") for i in range(3)]
    assert credits == ["your_own_purchase", "credited", "credited"]
    assert "CN¥50.00 of CN¥100.00 refunded" in orders.nth(1).inner_text()
    assert "Your commission: CN¥5.00" in orders.nth(1).inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.shot("console-orders-after-refunds")
    # and his payouts page explains why his balance is below zero
    page.goto(f"{live_server}/console/payouts?lang=en")
    explained = page.get_by_test_id("negative-CNY")
    assert explained.is_visible()
    assert "CN¥5.00 taken back" in explained.inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.shot("payouts-below-zero")
