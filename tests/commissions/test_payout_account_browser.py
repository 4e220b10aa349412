"""In a real browser at a phone's size: a distributor gives the bank account payouts are
paid to and sees it masked; the admin confirms a rejection with a reason, which the
distributor then reads."""

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


def test_a_distributor_gives_a_payout_account_and_reads_why_a_payout_was_rejected(
    world: World, live_server: str, phone: Any
) -> None:
    # Given Bob with 11.99 available, on his payouts page
    world.deliver(world.buy({"TEE": 2, "TEA": 1}))
    world.settle()
    page = phone
    _sign_in(page, live_server, "/console", "bob@example.com")
    page.goto(f"{live_server}/console/payouts?lang=en")
    # When he gives his bank account
    page.get_by_label("Account holder").fill("Bob Li")
    page.get_by_label("Bank (bank accounts only)").fill("ICBC Shanghai")
    page.get_by_label("Account number or Alipay id").fill("6222 0212 3456 5678")
    page.get_by_test_id("save-account").click()
    page.wait_for_load_state()
    # Then he sees it saved and masked
    assert page.get_by_test_id("account-saved").is_visible()
    assert page.get_by_test_id("account-number").inner_text() == "•••• 5678"
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.shot("account-saved")
    page.get_by_test_id("ask-CNY").click()
    page.wait_for_load_state()

    # When the admin rejects the payout, confirming it with a reason
    admin = page.context.browser.new_context(
        viewport={"width": 1200, "height": 900}, locale="en-US"
    ).new_page()
    _sign_in(admin, live_server, "/admin", "root@example.com")
    admin.goto(f"{live_server}/admin/payouts?status=requested&lang=en")
    admin.get_by_role("button", name="Reject").click()
    admin.wait_for_load_state()
    assert "•••• 5678" in admin.get_by_test_id("confirm-account").inner_text()
    admin.get_by_label("Reason (shown to the distributor)").fill("Wrong bank branch.")
    admin.get_by_test_id("confirm").click()
    admin.wait_for_load_state()
    assert re.fullmatch(r"Payout #\d+ rejected\.", admin.get_by_test_id("flash").inner_text())
    admin.context.close()

    # Then Bob reads the reason on his payouts page
    page.goto(f"{live_server}/console/payouts?lang=en")
    assert page.get_by_test_id("payout-note").inner_text() == "Reason: Wrong bank branch."
    page.shot("payout-rejected")
