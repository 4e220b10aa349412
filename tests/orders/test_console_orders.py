"""The console's orders page: the shop's orders and the customers bound to its owner, and
nothing of another distributor's."""

from __future__ import annotations

import re

from flask.testing import FlaskClient
from order_support import app_on, buy, dev_pay, stocked_shop
from shop_support import csrf_token, make_shop


def _signed_in(client: FlaskClient, email: str) -> FlaskClient:
    page = client.get("/console/login").get_data(as_text=True)
    response = client.post(
        "/console/login",
        data={"csrf_token": csrf_token(page), "email": email, "password": "password123"},
    )
    assert response.status_code == 303
    return client


def _order_number(client: FlaskClient, slug: str, token: str) -> str:
    page = client.get(f"/s/{slug}/orders/{token}").get_data(as_text=True)
    found = re.search(r'data-testid="order-number">([^<]+)<', page)
    assert found
    return found.group(1)


def test_orders_and_bound_customers_in_the_console(db_url: str) -> None:
    with app_on(db_url) as app:
        supplier, shop, skus = stocked_shop(app)
        make_shop(app, "other@example.com")
        buyer = app.test_client()
        paid = buy(buyer, shop.slug, {skus["A"]: 1}, email="liwei@example.com")
        dev_pay(buyer, shop.slug, paid)
        unpaid = buy(app.test_client(), shop.slug, {skus["B"]: 1}, email="zhang@example.com")
        paid_number = _order_number(buyer, shop.slug, paid)
        unpaid_number = _order_number(buyer, shop.slug, unpaid)

        owner = _signed_in(app.test_client(), f"owner{supplier.supplier_id}@example.com")
        page = owner.get("/console/orders").get_data(as_text=True)
        assert paid_number in page
        assert unpaid_number in page
        assert 'data-status="paid"' in page
        assert 'data-status="awaiting_payment"' in page
        bindings = page.split('data-testid="bindings"')[1]
        assert "li***@example.com" in bindings  # the paid buyer is bound, masked
        assert "zh***" not in bindings  # an unpaid order binds nobody
        assert "liwei@example.com" not in page

        stranger = _signed_in(app.test_client(), "other@example.com")
        theirs = stranger.get("/console/orders").get_data(as_text=True)
        assert paid_number not in theirs
        assert unpaid_number not in theirs
        assert "li***@example.com" not in theirs
        assert app.test_client().get("/console/orders").status_code in (302, 303)
