"""What the console shows a distributor of their own money and orders, after refunds:
the earnings chart, the team's sales and overrides equal the ledger's net amounts; the
Orders tab lists the orders credited to them (a bound customer's order in another shop
included) and marks own purchases, with totals and commissions after refunds; the Payouts
page explains a balance below zero.

Prices as in ``test_ledger``: a TEE sells for 50.00, Bob (level 1) earns 5.00 of it, Ann
(his recruiter, level 2) 1.00."""

from __future__ import annotations

import re
from collections.abc import Iterator
from html import unescape

import pytest
import sqlalchemy as sa
from commission_world import World, dispose, make_world
from flask.testing import FlaskClient

from storefront_sdk.commissions.models import EARNED, REVERSED, CommissionEntry
from storefront_sdk.orders.models import Order
from storefront_sdk.shops.accounts import create_distributor

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def world(db_url: str) -> Iterator[World]:
    made = make_world(db_url)
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


def _number(world: World, order_id: int) -> str:
    with world.session() as session:
        return session.get_one(Order, order_id).number


def _order_row(html: str, number: str) -> str:
    found = re.search(rf'<li data-order="{number}".*?</li>', html, re.S)
    assert found, number
    return found.group(0)


def _testid(html: str, name: str) -> str:
    found = re.search(rf'data-testid="{name}"[^>]*>([^<]+)<', html)
    assert found, name
    return unescape(found.group(1)).strip()


def _ledger_net(world: World, distributor_id: int, level: int) -> int:
    with world.session() as session:
        return int(
            session.scalar(
                sa.select(sa.func.sum(CommissionEntry.amount_minor)).where(
                    CommissionEntry.distributor_id == distributor_id,
                    CommissionEntry.level == level,
                    CommissionEntry.kind.in_((EARNED, REVERSED)),  # type: ignore[attr-defined]
                )
            )
            or 0
        )


def _shop_of(world: World, email: str) -> str:
    with world.session() as session:
        made = create_distributor(session, email, "password123", shop_name="Cai")
        return made.shop.slug


def test_the_earnings_chart_team_and_overrides_are_net_of_refunds(world: World) -> None:
    # Given two tees sold in Bob's shop, one of them refunded
    order = world.buy({"TEE": 2})
    world.refund(order, "TEE", 5000)
    # When Bob and Ann look at their earnings
    bob = _text(_signed_in(world, "bob@example.com"), "/console/earnings")
    ann = _text(_signed_in(world, "ann@example.com"), "/console/earnings")
    # Then the day's sales and commission are after the refund, as the ledger holds them
    assert _ledger_net(world, world.bob, 1) == 500
    assert _ledger_net(world, world.ann, 2) == 100
    day = world.now.date().isoformat()
    assert (
        f'<tr><td>{day}</td><td class="c-num">CN¥50.00</td><td class="c-num">CN¥5.00</td></tr>'
        in bob
    )
    assert f"{world.now:%m-%d}: CN¥50.00</title></rect>" in bob  # the chart's bar
    assert "CN¥100.00" not in bob
    # and Ann's team table shows Bob's net sales and her net override
    team = re.search(r'data-testid="team".*?</table>', ann, re.S)
    assert team is not None
    assert '<td class="c-num">CN¥50.00</td><td class="c-num">CN¥1.00</td>' in team.group(0)
    assert (
        f'<tr><td>{day}</td><td class="c-num">CN¥0.00</td><td class="c-num">CN¥1.00</td></tr>'
        in ann
    )


def test_an_order_refunded_in_part_shows_its_net_total_and_net_commission(world: World) -> None:
    # Given two tees sold in Bob's shop (100.00), one of them refunded (50.00)
    order = world.buy({"TEE": 2})
    world.refund(order, "TEE", 5000)
    # When Bob opens his Orders tab
    row = _order_row(
        _text(_signed_in(world, "bob@example.com"), "/console/orders"), _number(world, order)
    )
    # Then the order shows what is left of it and of his commission
    assert _testid(row, "order-total") == "CN¥50.00"
    assert _testid(row, "order-refunded") == "CN¥50.00 of CN¥100.00 refunded"
    assert _testid(row, "order-commission") == "Your commission: CN¥5.00"
    assert 'data-credit="credited"' in row


def test_a_bound_customers_order_in_another_shop_is_on_the_credited_distributors_tab(
    world: World,
) -> None:
    # Given a customer bound to Bob who then buys in Cai's shop
    world.buy({"CAP": 1}, email="loyal@example.com", binding_days=30)
    elsewhere = world.buy(
        {"TEE": 1}, email="loyal@example.com", shop_slug=_shop_of(world, "cai@example.com")
    )
    number = _number(world, elsewhere)
    # When Bob, Cai and Ann (Bob's recruiter) open their Orders tabs
    bob = _text(_signed_in(world, "bob@example.com"), "/console/orders")
    cai = _text(_signed_in(world, "cai@example.com"), "/console/orders")
    ann = _text(_signed_in(world, "ann@example.com"), "/console/orders")
    # Then Bob sees it as his, with his commission
    row = _order_row(bob, number)
    assert _testid(row, "order-credit") == "Your bound customer, in another shop."
    assert _testid(row, "order-commission") == "Your commission: CN¥5.00"
    # and Cai, in whose shop it was placed, sees it credited to someone she is not told of
    theirs = _order_row(cai, number)
    assert 'data-credit="credited_elsewhere"' in theirs
    assert _testid(theirs, "order-credit") == (
        "Credited to another distributor: the customer is bound to them."
    )
    assert "order-commission" not in theirs
    assert "Bob" not in cai
    assert "bob@example.com" not in cai
    # and Ann, neither credited nor its shop's owner, does not see it at all
    assert number not in ann


def test_a_distributors_own_purchase_in_their_shop_is_marked(world: World) -> None:
    # Given Bob buying in his own shop with his own email
    own = world.buy({"TEE": 1}, email="bob@example.com")
    # When he opens his Orders tab
    row = _order_row(
        _text(_signed_in(world, "bob@example.com"), "/console/orders"), _number(world, own)
    )
    # Then it is marked as his own purchase, which earns no commission
    assert 'data-credit="your_own_purchase"' in row
    assert _testid(row, "order-credit") == "Your own purchase (no commission)."
    assert "order-commission" not in row


def _own_purchase_in_cais_shop(world: World) -> tuple[int, str]:
    """Bob buys a tee in Cai's shop through his own link, with his own email: the order."""
    cai_shop = _shop_of(world, "cai@example.com")
    order = world.buy(
        {"TEE": 1}, email="bob@example.com", shop_slug=cai_shop, referred_by=world.bob
    )
    with world.session() as session:
        placed = session.get_one(Order, order)
        assert (placed.credited_distributor_id, placed.credit_source) == (None, "self")
        assert placed.self_purchase_distributor_id == world.bob
    return order, _number(world, order)


def test_my_own_purchase_in_another_shop_is_on_my_orders_tab(world: World) -> None:
    # Given Bob buying a 50.00 tee in Cai's shop as himself
    _, number = _own_purchase_in_cais_shop(world)
    # When he opens his Orders tab
    row = _order_row(_text(_signed_in(world, "bob@example.com"), "/console/orders"), number)
    # Then it is there, marked as his own purchase in another shop, earning nothing
    assert 'data-credit="your_own_purchase"' in row
    assert _testid(row, "order-credit") == "Your own purchase (no commission), in another shop."
    assert _testid(row, "order-total") == "CN¥50.00"
    assert "order-commission" not in row
    assert "Cai" not in row
    assert "cai@example.com" not in row


def test_the_other_shops_owner_sees_a_distributors_own_purchase_unnamed(world: World) -> None:
    # Given Bob buying in Cai's shop as himself
    _, number = _own_purchase_in_cais_shop(world)
    # When Cai opens her Orders tab
    row = _order_row(_text(_signed_in(world, "cai@example.com"), "/console/orders"), number)
    # Then it is a distributor's own purchase, Bob not named
    assert 'data-credit="own_purchase"' in row
    assert _testid(row, "order-credit") == "A distributor's own purchase: it earns no commission."
    assert "bob" not in row.lower()


def test_my_own_purchase_is_not_on_a_third_distributors_tab(world: World) -> None:
    # Given Bob buying in Cai's shop as himself, and Ann (his recruiter) elsewhere
    _, number = _own_purchase_in_cais_shop(world)
    # When Ann opens her Orders tab
    html = _text(_signed_in(world, "ann@example.com"), "/console/orders")
    # Then Bob's own purchase is not there, and she earned no override on it
    assert f'data-order="{number}"' not in html
    assert _ledger_net(world, world.ann, 2) == 0


def test_a_balance_below_zero_is_explained_on_the_payouts_page(world: World) -> None:
    # Given Bob's commission on a tee paid out, then the tee refunded in full
    order = world.buy({"TEE": 1})
    world.deliver(order)
    world.settle()
    world.pay_out(world.bob)
    world.refund(order, "TEE", 5000)
    assert world.balances(world.bob)["available"] == -500
    # When he opens his Payouts page
    html = _text(_signed_in(world, "bob@example.com"), "/console/payouts")
    # Then it says why the balance is below zero, which order it was, and what happens next
    found = re.search(r'data-testid="negative-CNY".*?</div>', html, re.S)
    assert found is not None
    explained = found.group(0)
    assert "refunds took back CN¥5.00 more than you have available" in explained
    assert f"Order {_number(world, order)}: CN¥5.00 taken back" in explained
    assert "Your next commissions make up the difference first" in explained
    assert "The platform may also take it back" not in explained  # bank transfers: no clawback
