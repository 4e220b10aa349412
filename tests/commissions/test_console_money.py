"""The console's earnings and payouts pages: balances, the chart, the team's sales and the
ledger of the signed-in distributor only; asking for a payout (CSRF, minimum, one at a
time); names escaped."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from commission_world import World, dispose, make_world
from flask.testing import FlaskClient

from storefront_sdk.commissions.models import Payout
from storefront_sdk.shops.models import Distributor

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def world(db_url: str) -> Iterator[World]:
    made = make_world(db_url, STOREFRONT_PAYOUT_MINIMUM_MINOR=500)
    yield made
    dispose(made)


def _signed_in(world: World, email: str) -> FlaskClient:
    client = world.app.test_client()
    page = client.get("/console/login").get_data(as_text=True)
    response = client.post(
        "/console/login",
        data={"csrf_token": _CSRF.search(page).group(1), "email": email, "password": "password123"},  # type: ignore[union-attr]
    )
    assert response.status_code == 303
    return client


def _text(client: FlaskClient, path: str) -> str:
    response = client.get(path + "?lang=en")
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def _figure(html: str, name: str) -> str:
    found = re.search(rf'data-testid="{name}"[^>]*>([^<]+)<', html)
    assert found, name
    return found.group(1)


def test_the_earnings_page_shows_the_distributors_own_money(world: World) -> None:
    world.buy({"TEE": 2})
    bob = _signed_in(world, "bob@example.com")
    html = _text(bob, "/console/earnings")
    assert _figure(html, "pending") == "CN¥10.00"
    assert _figure(html, "available") == "CN¥0.00"
    assert '<svg class="c-chart"' in html  # the chart, drawn on the server
    assert "CN¥100.00" in html  # the day's sales in the table
    ann = _signed_in(world, "ann@example.com")
    html = _text(ann, "/console/earnings")
    assert _figure(html, "pending") == "CN¥2.00"  # her override only, not Bob's level 1
    team = re.search(r'data-testid="team".*?</table>', html, re.S)
    assert team is not None
    assert "Bob" in team.group(0)
    assert "CN¥100.00" in team.group(0)


def test_a_distributor_without_sales_sees_that_they_have_none(world: World) -> None:
    html = _text(_signed_in(world, "bob@example.com"), "/console/earnings")
    assert 'data-testid="no-earnings"' in html


def test_asking_for_a_payout_moves_the_available_balance_once(world: World) -> None:
    world.deliver(world.buy({"TEE": 2}))
    world.settle()
    bob = _signed_in(world, "bob@example.com")
    page = _text(bob, "/console/payouts")
    token = _CSRF.search(page).group(1)  # type: ignore[union-attr]
    assert 'data-testid="ask-CNY"' in page
    asked = bob.post("/console/payouts", data={"csrf_token": token, "currency": "CNY"})
    assert asked.status_code == 303
    page = _text(bob, "/console/payouts?asked=1")
    assert 'data-status="requested"' in page
    again = bob.post("/console/payouts", data={"csrf_token": token, "currency": "CNY"})
    assert again.status_code == 409
    assert "already on its way" in again.get_data(as_text=True)
    assert world.balances(world.bob) == {"pending": 0, "available": 0, "payout": 1000, "paid": 0}


def test_a_payout_below_the_minimum_is_refused_with_the_figures(world: World) -> None:
    world.deliver(world.buy({"CAP": 1}))  # Bob: 2.00 available, minimum 5.00
    world.settle()
    bob = _signed_in(world, "bob@example.com")
    page = _text(bob, "/console/payouts")
    assert 'data-testid="ask-CNY"' not in page
    token = _CSRF.search(page).group(1)  # type: ignore[union-attr]
    refused = bob.post("/console/payouts?lang=en", data={"csrf_token": token, "currency": "CNY"})
    assert refused.status_code == 422
    assert "Payouts start at CN¥5.00; CN¥2.00 is available now." in refused.get_data(as_text=True)
    with world.session() as session:
        assert session.scalars(sa.select(Payout)).all() == []


def test_a_payout_request_without_the_forms_token_changes_nothing(world: World) -> None:
    world.deliver(world.buy({"TEE": 2}))
    world.settle()
    bob = _signed_in(world, "bob@example.com")
    assert bob.post("/console/payouts", data={"currency": "CNY"}).status_code == 400
    assert world.balances(world.bob)["available"] == 1000


@pytest.mark.parametrize("currency", ["", "cny", "EURO", "<b>", "ABC", "USD"])
def test_a_currency_without_a_balance_is_refused(world: World, currency: str) -> None:
    world.buy({"TEE": 1})  # Bob has CNY only
    bob = _signed_in(world, "bob@example.com")
    token = _CSRF.search(_text(bob, "/console/payouts")).group(1)  # type: ignore[union-attr]
    answer = bob.post("/console/payouts", data={"csrf_token": token, "currency": currency})
    assert answer.status_code == 422
    assert 'data-testid="payout-error"' in answer.get_data(as_text=True)


def test_the_money_pages_need_a_signed_in_distributor(world: World) -> None:
    anonymous = world.app.test_client()
    for path in ("/console/earnings", "/console/payouts"):
        assert anonymous.get(path).status_code == 303


def test_names_on_the_team_table_are_escaped(world: World) -> None:
    with world.session() as session:
        bob = session.get_one(Distributor, world.bob)
        bob.name = "<script>alert(1)</script>"
    world.buy({"TEE": 1})
    html = _text(_signed_in(world, "ann@example.com"), "/console/earnings")
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_a_distributor_never_sees_another_distributors_money(world: World) -> None:
    # Given Bob's settled commissions, a payout he asked for, and a customer bound to him
    world.deliver(world.buy({"TEE": 2}, email="loyal@example.com", binding_days=30))
    world.settle()
    bob = _signed_in(world, "bob@example.com")
    token = _CSRF.search(_text(bob, "/console/payouts")).group(1)  # type: ignore[union-attr]
    assert (
        bob.post("/console/payouts", data={"csrf_token": token, "currency": "CNY"}).status_code
        == 303
    )
    assert 'data-status="requested"' in _text(bob, "/console/payouts")
    assert "lo***@example.com" in _text(bob, "/console/orders")  # bound to him
    # When Ann (his recruiter) looks at her pages, whatever the query says
    ann = _signed_in(world, "ann@example.com")
    payouts_page = _text(ann, "/console/payouts")
    earnings = _text(ann, "/console/earnings?currency=CNY&distributor=2")
    # Then she sees her own figures only: her 2.00 override, no payout, no entries of his
    assert 'data-status="requested"' not in payouts_page
    assert "CN¥10.00" not in earnings  # Bob's 10.00 never shows
    assert _figure(earnings, "available") == "CN¥2.00"
    assert "lo***@example.com" not in _text(ann, "/console/orders")  # his bound customer
