"""The admin's refund form on an order page: a refund is for returned units or a goodwill
amount (shown as such), amounts are typed and told in the currency's units, and the
form's one-time key makes a double submit one refund (also two submits at once on
PostgreSQL, with real threads)."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa
from commission_world import World, dispose, make_world
from flask.testing import FlaskClient

from storefront_sdk.orders.models import Order, Refund

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
_FORM_KEY = re.compile(r'name="form_key" value="([^"]+)"')


@pytest.fixture
def world(db_url: str) -> Iterator[World]:
    made = make_world(db_url)
    yield made
    dispose(made)


def _admin(world: World) -> FlaskClient:
    client = world.app.test_client()
    # (In English: the admin remembers the language chosen on its first page.)
    token = _CSRF.search(client.get("/admin/login?lang=en").get_data(as_text=True))
    assert token
    answer = client.post(
        "/admin/login",
        data={"csrf_token": token.group(1), "email": "root@example.com", "password": "password123"},
    )
    assert answer.status_code == 303, answer.get_data(as_text=True)
    return client


def _order_page(admin: FlaskClient, number: str) -> str:
    return admin.get(f"/admin/orders/{number}").get_data(as_text=True).replace("\xa0", " ")


def _form(admin: FlaskClient, number: str) -> dict[str, str]:
    """The hidden fields of the order page's (first) refund form."""
    page = _order_page(admin, number)
    csrf, key = _CSRF.search(page), _FORM_KEY.search(page)
    line = re.search(r'name="line_id" value="([0-9]+)"', page)
    assert csrf
    assert key
    assert line
    return {"csrf_token": csrf.group(1), "form_key": key.group(1), "line_id": line.group(1)}


def _number(world: World, order_id: int) -> str:
    with world.session() as session:
        return session.get_one(Order, order_id).number


def _order_id(world: World, number: str) -> int:
    with world.session() as session:
        found = session.scalar(sa.select(Order.id).where(Order.number == number))
    assert found is not None
    return found


def _refunds(world: World) -> list[tuple[str, int]]:
    with world.session() as session:
        return [
            (refund.kind, refund.amount_minor)
            for refund in session.scalars(sa.select(Refund).order_by(Refund.id))
        ]


def test_an_admin_refunds_returned_units_and_the_page_says_so(world: World) -> None:
    # Given two tees (100.00) on an order
    admin = _admin(world)
    number = _number(world, world.buy({"TEE": 2}))
    # When the admin refunds one unit as returned
    form = {**_form(admin, number), "kind": "returned", "units": "1", "reason": "sent back"}
    assert admin.post(f"/admin/orders/{number}/refund", data=form).status_code == 303
    # Then one unit's price went back as a return, and the page shows it as one
    assert _refunds(world) == [("returned", 5000)]
    page = _order_page(admin, number)
    assert "1 returned" in page
    assert (
        "CNY 50.00 · units returned (TEE \u00d7 1) · "
        '<span data-status="pending">Being refunded</span> · sent back'
    ) in page
    # And the last unit can still be returned, but not two more
    form = {**_form(admin, number), "kind": "returned", "units": "2"}
    answer = admin.post(f"/admin/orders/{number}/refund", data=form)
    assert answer.status_code == 422
    assert "Only 1 unit(s) of this line are left to return." in answer.get_data(as_text=True)
    assert _refunds(world) == [("returned", 5000)]


def test_a_goodwill_amount_is_typed_and_refused_in_yuan(world: World) -> None:
    # Given one tee (50.00) with 10.00 refunded as goodwill
    admin = _admin(world)
    number = _number(world, world.buy({"TEE": 1}))
    form = {**_form(admin, number), "kind": "goodwill", "amount": "10.00"}
    assert admin.post(f"/admin/orders/{number}/refund", data=form).status_code == 303
    assert _refunds(world) == [("goodwill", 1000)]
    assert (
        'CNY 10.00 · goodwill · <span data-status="pending">Being refunded</span>'
    ) in _order_page(admin, number)
    # When the admin asks for 40.01 more, then the refusal says what is left in yuan
    form = {**_form(admin, number), "kind": "goodwill", "amount": "40.01"}
    answer = admin.post(f"/admin/orders/{number}/refund", data=form)
    assert answer.status_code == 422
    text = answer.get_data(as_text=True).replace("\xa0", " ")
    assert "At most CNY 40.00 of this line is left to refund." in text
    assert "minor units" not in text
    # And amounts that are not the currency's units, or no kind at all, are refused
    for amount in ("12.505", "ten", "0", "-1"):
        form = {**_form(admin, number), "kind": "goodwill", "amount": amount}
        answer = admin.post(f"/admin/orders/{number}/refund", data=form)
        assert answer.status_code == 422, amount
        assert "The amount is a plain number such as 12.50." in answer.get_data(as_text=True)
    answer = admin.post(
        f"/admin/orders/{number}/refund", data={**_form(admin, number), "amount": "1"}
    )
    assert answer.status_code == 422
    assert _refunds(world) == [("goodwill", 1000)]


def test_a_refund_form_submitted_twice_makes_one_refund(world: World) -> None:
    # Given the refund form of an order's page
    admin = _admin(world)
    number = _number(world, world.buy({"TEE": 1}))
    form = {**_form(admin, number), "kind": "goodwill", "amount": "10.00"}
    # When it is submitted twice
    first = admin.post(f"/admin/orders/{number}/refund", data=form)
    second = admin.post(f"/admin/orders/{number}/refund", data=form)
    # Then both land on the order page and one refund was made
    assert (first.status_code, second.status_code) == (303, 303)
    assert _refunds(world) == [("goodwill", 1000)]
    assert world.balances(world.bob)["pending"] == 400
    # And a form without its key is refused
    answer = admin.post(f"/admin/orders/{number}/refund", data={**form, "form_key": ""})
    assert answer.status_code == 422
    assert _refunds(world) == [("goodwill", 1000)]


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)  # real row locks
def test_a_refund_form_submitted_twice_at_once_makes_one_refund(world: World) -> None:
    # Given the refund form of an order's page, open in two signed-in browsers
    number = _number(world, world.buy({"TEE": 1}))
    admins = [_admin(world), _admin(world)]
    form = {**_form(admins[0], number), "kind": "returned", "units": "1"}
    start = threading.Barrier(2)

    def submit(admin: FlaskClient) -> int:
        data = {**form, "csrf_token": _form(admin, number)["csrf_token"]}
        start.wait()
        return admin.post(f"/admin/orders/{number}/refund", data=data).status_code

    # When both submit the same form at the same moment
    with ThreadPoolExecutor(2) as pool:
        statuses = sorted(pool.map(submit, admins))
    # Then both are answered with the order page and the unit was refunded once
    assert statuses == [303, 303]
    assert _refunds(world) == [("returned", 5000)]
    assert world.lines(_order_id(world, number))["TEE"].returned_quantity == 1
