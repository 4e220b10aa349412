"""On a phone: a distributor sets their own domain and sees the TXT record to create, the
platform admin approves it after a confirmation page, and an address with no open shop shows
the styled "This shop is not open" page."""

from __future__ import annotations

import re

from shop_support import make_shop

from storefront_sdk.db import session_scope
from storefront_sdk.platform_admins import create_admin


def test_a_domain_waits_for_verification_and_the_admin_approves_it(app, live_server, phone):
    app.config["STOREFRONT_CUSTOM_HOSTS"] = True
    make_shop(app, "ann@example.com", locale="en")
    with session_scope(app) as session:
        create_admin(session, "ops@example.com", "password123")
    page = phone

    page.goto(f"{live_server}/console/login?lang=en")
    page.get_by_label("Email address").fill("ann@example.com")
    page.get_by_label("Password").fill("password123")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/console/(\?.*)?$"))
    page.goto(f"{live_server}/console/settings")
    page.locator("#host").fill("shop.annstea.com")
    page.get_by_role("button", name="Save").first.click()
    page.wait_for_load_state()
    box = page.locator("[data-testid=own-host]")
    assert box.get_attribute("data-host-status") == "pending"
    assert page.locator("[data-testid=txt-name]").inner_text() == (
        "_storefront-verify.shop.annstea.com"
    )
    assert page.locator("[data-testid=txt-value]").inner_text().startswith("storefront-verify=")
    box.scroll_into_view_if_needed()
    page.shot("console-pending")

    page.goto(f"{live_server}/admin/login?lang=en")
    page.get_by_label("Email").fill("ops@example.com")
    page.get_by_label("Password").fill("password123")
    page.get_by_role("button", name="Sign in").click()
    page.goto(f"{live_server}/admin/hosts?lang=en")
    assert "shop.annstea.com" in page.locator("[data-testid=hosts]").inner_text()
    page.shot("admin-hosts")
    page.get_by_role("link", name="Approve").click()
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == "Approve shop.annstea.com?"
    page.shot("admin-confirm")
    page.get_by_role("button", name="Yes, approve").click()
    page.wait_for_url(re.compile(r"/admin/hosts$"))
    page.goto(f"{live_server}/admin/hosts?status=verified&lang=en")
    assert "shop.annstea.com" in page.locator("[data-testid=hosts]").inner_text()


def test_an_unknown_shop_shows_the_styled_page(app, live_server, phone):
    page = phone

    response = page.goto(f"{live_server}/s/no-such-shop/?lang=en")

    assert response is not None
    assert response.status == 404
    assert page.locator("h1").inner_text() == "This shop is not open"
    card = page.locator("[data-testid=no-shop]").bounding_box()
    assert card is not None
    assert card["width"] <= 390
    page.shot("no-shop")
