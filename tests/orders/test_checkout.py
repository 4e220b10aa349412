"""Checkout through the shop's pages, on both backends: prices and shipping computed on the
server, order numbers, order pages scoped to their shop, double submissions, the form's
checks, sold-out carts, self-purchases and customer binding."""

from __future__ import annotations

import re
import secrets
from typing import Any

import pytest
import sqlalchemy as sa
from conftest import new_supplier_client
from flask import Flask
from flask.testing import FlaskClient
from order_support import (
    ADDRESS,
    add_to_cart,
    app_on,
    buy,
    checkout,
    dev_pay,
    order_token,
    stocked_shop,
)
from shop_support import ShopRef, csrf_token, edit_shop, make_shop, product, push, variant

from storefront_sdk import signals
from storefront_sdk.catalog.models import Variant
from storefront_sdk.db import session_scope
from storefront_sdk.orders.models import Order, OrderLine, SupplierOrder
from storefront_sdk.pricing.prices import Rates
from storefront_sdk.pricing.rates import RateBook
from storefront_sdk.referrals.models import CustomerBinding
from storefront_sdk.shops import curation

NUMBER = re.compile(r"(\d{6})-[23456789ABCDEFGHJKMNPQRSTUVWXYZ]{6}")
_ERROR = re.compile(r'data-testid="(error-\w+|checkout-error)">([^<]*)<')


@pytest.fixture(autouse=True)
def _cheap_password_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Distributors' passwords are not under test here: hash them cheaply."""
    from werkzeug.security import generate_password_hash

    monkeypatch.setattr(
        "storefront_sdk.shops.accounts.generate_password_hash",
        lambda password: generate_password_hash(password, "pbkdf2:sha256:1"),
    )


def _english(app: Flask, shop: ShopRef) -> None:
    """The shop's pages in English (before any page is served, so nothing is cached)."""
    edit_shop(app, shop, lambda _session, found: setattr(found, "locale", "en"))


def _errors(response: Any) -> dict[str, str]:
    """The checkout page's messages by ``data-testid``."""
    return dict(_ERROR.findall(response.get_data(as_text=True)))


def _order(app: Flask, token: str) -> Order:
    with session_scope(app) as session:
        return session.scalars(sa.select(Order).where(Order.token == token)).one()


def _orders(app: Flask) -> list[Order]:
    with session_scope(app) as session:
        return list(session.scalars(sa.select(Order).order_by(Order.id)))


def _count(app: Flask, model: Any) -> int:
    with session_scope(app) as session:
        return int(session.scalar(sa.select(sa.func.count()).select_from(model)) or 0)


def _lines(app: Flask, order_id: int | None) -> dict[str, tuple[int, int, int, int]]:
    """``sku -> (quantity, unit price, amount, supply price)`` of the order's lines."""
    with session_scope(app) as session:
        return {
            line.sku: (
                line.quantity,
                line.unit_price_minor,
                line.amount_minor,
                line.supply_price_minor,
            )
            for line in session.scalars(sa.select(OrderLine).where(OrderLine.order_id == order_id))
        }


def _available(app: Flask, variant_id: int) -> int:
    with session_scope(app) as session:
        return session.get_one(Variant, variant_id).available


def _bindings(app: Flask) -> list[tuple[str, int, int]]:
    with session_scope(app) as session:
        return [
            (b.customer_key, b.distributor_id, b.order_id)
            for b in session.scalars(sa.select(CustomerBinding))
        ]


def _form(client: FlaskClient, slug: str, **fields: str) -> dict[str, str]:
    """The checkout form as the page fills it (its CSRF token and checkout key)."""
    page = client.get(f"/s/{slug}/checkout").get_data(as_text=True)
    key = re.search(r'name="checkout_key" value="([^"]+)"', page)
    assert key, page[:800]
    return {"csrf_token": csrf_token(page), "checkout_key": key.group(1), **ADDRESS, **fields}


def test_the_order_is_priced_on_the_server_whatever_the_form_says(db_url: str) -> None:
    with app_on(db_url) as app:
        _, shop, skus = stocked_shop(app)

        def own_price(session: Any, found: Any) -> None:
            curation.set_price(session, found, skus["A"], 5500, RateBook(Rates(1000, 200)))

        edit_shop(app, shop, own_price)  # the shop sells A at 55.00 (retail 50.00)
        client = app.test_client()
        add_to_cart(client, shop.slug, skus["A"], 2)
        add_to_cart(client, shop.slug, skus["B"], 1)
        forged = {
            "price": "1",
            "unit_price": "1",
            "unit_price_minor": "1",
            "amount_minor": "1",
            "subtotal": "1",
            "subtotal_minor": "1",
            "shipping": "0",
            "shipping_minor": "0",
            "total": "1",
            "total_minor": "1",
            "currency": "USD",
            "status": "paid",
            "credit_source": "self",
            "quantity": "99",
        }
        token = order_token(checkout(client, shop.slug, **forged))
        order = _order(app, token)
        assert (order.subtotal_minor, order.shipping_minor, order.total_minor) == (13000, 0, 13000)
        assert (order.currency, order.status, order.credit_source) == (
            "CNY",
            "awaiting_payment",
            "shop",
        )
        assert _lines(app, order.id) == {
            "A": (2, 5500, 11000, 3000),
            "B": (1, 2000, 2000, 1000),
        }
        pay_page = client.get(f"/s/{shop.slug}/orders/{token}/pay").get_data(as_text=True)
        assert "130.00" in pay_page


def test_each_supplier_part_pays_its_own_shipping_fee_unless_over_its_threshold(
    db_url: str,
) -> None:
    with app_on(db_url) as app:
        first, shop, skus = stocked_shop(app)
        second = new_supplier_client(app)
        push(
            second,
            product(
                "P2",
                variants=[
                    variant("C", stock=5, supply_price=1500, retail_price=3000, min_price=None)
                ],
            ),
        )
        for supplier in (first, second):
            response = supplier.put("/shipping", json={"fee": 800, "free_over": 10000})
            assert response.status_code == 200, response.get_json()
        with session_scope(app) as session:
            c_id = session.scalars(sa.select(Variant.id).where(Variant.sku == "C")).one()
        client = app.test_client()
        # First supplier's part: 2 x 50.00 + 20.00 = 120.00 (over 100.00: free);
        # second supplier's part: 30.00 (under 100.00: 8.00).
        token = buy(client, shop.slug, {skus["A"]: 2, skus["B"]: 1, c_id: 1})
        order = _order(app, token)
        assert order.subtotal_minor == 15000
        assert order.shipping_minor == 800
        assert order.total_minor == 15800
        assert order.shipping_parts == {
            str(first.supplier_id): 0,
            str(second.supplier_id): 800,
        }
        assert "158.00" in client.get(f"/s/{shop.slug}/orders/{token}/pay").get_data(as_text=True)
        assert dev_pay(client, shop.slug, token).status_code == 303
        with session_scope(app) as session:
            parts = {
                part.supplier_id: part.shipping_minor
                for part in session.scalars(sa.select(SupplierOrder))
            }
        assert parts == {first.supplier_id: 0, second.supplier_id: 800}


def test_a_part_exactly_at_the_threshold_ships_free(db_url: str) -> None:
    with app_on(db_url) as app:
        supplier, shop, skus = stocked_shop(app)
        assert supplier.put("/shipping", json={"fee": 800, "free_over": 10000}).status_code == 200
        client = app.test_client()
        at_threshold = _order(app, buy(client, shop.slug, {skus["A"]: 2}))
        below = _order(app, buy(client, shop.slug, {skus["B"]: 4}))
        assert (at_threshold.shipping_minor, at_threshold.total_minor) == (0, 10000)
        assert (below.shipping_minor, below.total_minor) == (800, 8800)


def test_order_numbers_are_the_day_and_six_unambiguous_characters(db_url: str) -> None:
    with app_on(db_url) as app:
        _, shop, skus = stocked_shop(app)
        client = app.test_client()
        tokens = [buy(client, shop.slug, {skus["B"]: 1}) for _ in range(3)]
        orders = [_order(app, token) for token in tokens]
        for order in orders:
            found = NUMBER.fullmatch(order.number)
            assert found, order.number
            assert order.created_at is not None
            assert found.group(1) == f"{order.created_at:%y%m%d}"
        assert len({order.number for order in orders}) == 3
        assert len({order.token for order in orders}) == 3
        page = client.get(f"/s/{shop.slug}/orders/{tokens[0]}").get_data(as_text=True)
        assert orders[0].number in page


def test_an_order_page_is_only_found_with_its_token_in_its_own_shop(db_url: str) -> None:
    with app_on(db_url) as app:
        _, shop, skus = stocked_shop(app)
        other = make_shop(app, "other@example.com")
        client = app.test_client()
        token = buy(client, shop.slug, {skus["A"]: 1})
        assert client.get(f"/s/{shop.slug}/orders/{token}").status_code == 200
        wrong = secrets.token_urlsafe(24)
        assert client.get(f"/s/{shop.slug}/orders/{wrong}").status_code == 404
        assert client.get(f"/s/{shop.slug}/orders/{wrong}/pay").status_code == 404
        tampered = token[:-1] + ("A" if token[-1] != "A" else "B")
        assert client.get(f"/s/{shop.slug}/orders/{tampered}").status_code == 404
        assert client.get(f"/s/{shop.slug}/orders/short").status_code == 404
        # Another shop's URL with this order's token
        assert client.get(f"/s/{other.slug}/orders/{token}").status_code == 404
        assert client.get(f"/s/{other.slug}/orders/{token}/pay").status_code == 404
        assert client.get(f"/s/{other.slug}/orders/{token}/return").status_code == 404
        page = client.get(f"/s/{shop.slug}/p/{_product_id(app, skus['A'])}")
        dev = client.post(
            f"/s/{other.slug}/orders/{token}/dev-pay",
            data={"csrf_token": csrf_token(page.get_data(as_text=True)), "outcome": "succeeded"},
        )
        assert dev.status_code == 404
        order = _order(app, token)
        assert (order.status, order.payment_ref) == ("awaiting_payment", None)


def _product_id(app: Flask, variant_id: int) -> int:
    with session_scope(app) as session:
        return session.get_one(Variant, variant_id).product_id


def test_a_double_submitted_checkout_form_makes_one_order(db_url: str) -> None:
    with app_on(db_url) as app:
        _, shop, skus = stocked_shop(app)
        client = app.test_client()
        add_to_cart(client, shop.slug, skus["A"], 2)
        form = _form(client, shop.slug)
        first = client.post(f"/s/{shop.slug}/checkout", data=form)
        second = client.post(f"/s/{shop.slug}/checkout", data=form)
        assert (first.status_code, second.status_code) == (303, 303)
        assert first.headers["Location"] == second.headers["Location"]
        assert re.search(r"/orders/[\w-]+/pay$", first.headers["Location"])
        assert _count(app, Order) == 1
        assert _count(app, OrderLine) == 1
        assert _available(app, skus["A"]) == 8  # allocated once


def test_a_repeated_submission_does_not_announce_the_order_again(db_url: str) -> None:
    placed: list[dict[str, Any]] = []

    def record(sender: Any, **kwargs: Any) -> None:
        placed.append(kwargs)

    with app_on(db_url) as app:
        _, shop, skus = stocked_shop(app)
        client = app.test_client()
        add_to_cart(client, shop.slug, skus["A"], 1)
        form = _form(client, shop.slug)
        with signals.order_placed.connected_to(record):
            for _ in range(2):
                assert client.post(f"/s/{shop.slug}/checkout", data=form).status_code == 303
        [order] = _orders(app)
        # "order_placed: a checkout made an order" -- the twin submission made none.
        assert placed == [{"order_id": order.id, "order_number": order.number}]


def test_a_contact_is_required_and_nothing_is_written_without_one(db_url: str) -> None:
    with app_on(db_url) as app:
        _, shop, skus = stocked_shop(app)
        _english(app, shop)
        client = app.test_client()
        add_to_cart(client, shop.slug, skus["A"], 2)
        response = checkout(client, shop.slug, email="", phone="")
        assert response.status_code == 422
        assert _errors(response) == {"error-email": "Give an email address or a phone number."}
        assert _count(app, Order) == 0
        assert _count(app, OrderLine) == 0
        assert _available(app, skus["A"]) == 10
        # The cart is kept: the form can be corrected and sent again
        assert client.get(f"/s/{shop.slug}/checkout").status_code == 200
        phone_only = checkout(client, shop.slug, email="", phone="+86 138 0013 8000")
        order = _order(app, order_token(phone_only))
        assert (order.contact_email, order.contact_phone) == (None, "+86 138 0013 8000")


def test_invalid_checkout_forms_are_refused_with_a_message_and_nothing_written(
    db_url: str,
) -> None:
    expired = "This form has expired. Please reload the page and try again."
    cases: list[tuple[dict[str, str], str, str]] = [
        ({"email": "not-an-email"}, "error-email", "This is not an email address."),
        ({"email": "a@b"}, "error-email", "This is not an email address."),
        ({"email": "a" * 250 + "@x.cn"}, "error-email", "At most 254 characters."),
        ({"phone": "call me"}, "error-phone", "This is not a phone number."),
        ({"phone": "1" * 33}, "error-phone", "At most 32 characters."),
        ({"name": "x" * 101}, "error-name", "At most 100 characters."),
        ({"line1": "x" * 201}, "error-line1", "At most 200 characters."),
        ({"line2": "x" * 201}, "error-line2", "At most 200 characters."),
        ({"city": "x" * 101}, "error-city", "At most 100 characters."),
        ({"region": "x" * 101}, "error-region", "At most 100 characters."),
        ({"postal_code": "1" * 21}, "error-postal_code", "At most 20 characters."),
        ({"country": "CHN"}, "error-country", "At most 2 characters."),
        ({"country": "C1"}, "error-country", "A two-letter country code, e.g. CN."),
        ({"name": ""}, "error-name", "Required."),
        ({"line1": "   "}, "error-line1", "Required."),
        ({"csrf_token": ""}, "checkout-error", expired),
        ({"csrf_token": "forged"}, "checkout-error", expired),
        ({"checkout_key": "short"}, "checkout-error", expired),
        ({"checkout_key": "x" * 65}, "checkout-error", expired),
    ]
    with app_on(db_url) as app:
        _, shop, skus = stocked_shop(app)
        _english(app, shop)
        client = app.test_client()
        add_to_cart(client, shop.slug, skus["A"], 1)
        for fields, where, message in cases:
            response = checkout(client, shop.slug, **fields)
            assert response.status_code == 422, (fields, response.status_code)
            assert _errors(response).get(where) == message, (fields, _errors(response))
        assert _count(app, Order) == 0
        assert _available(app, skus["A"]) == 10


def test_checkout_without_a_cart_goes_back_to_the_cart(db_url: str) -> None:
    with app_on(db_url) as app:
        _, shop, skus = stocked_shop(app)
        client = app.test_client()
        response = client.get(f"/s/{shop.slug}/checkout")
        assert response.status_code == 303
        assert response.headers["Location"].endswith(f"/s/{shop.slug}/cart")
        # A form posted without a cart (e.g. from a stale tab) orders nothing
        page = client.get(f"/s/{shop.slug}/p/{_product_id(app, skus['A'])}")
        form = {
            "csrf_token": csrf_token(page.get_data(as_text=True)),
            "checkout_key": secrets.token_urlsafe(24),
            **ADDRESS,
        }
        posted = client.post(f"/s/{shop.slug}/checkout", data=form)
        assert posted.status_code == 422
        assert _count(app, Order) == 0


def test_a_cart_sold_out_meanwhile_is_refused_with_409_and_takes_nothing(db_url: str) -> None:
    with app_on(db_url) as app:
        _, shop, skus = stocked_shop(app, stock=5)
        _english(app, shop)
        late, early = app.test_client(), app.test_client()
        add_to_cart(late, shop.slug, skus["A"], 3)
        add_to_cart(late, shop.slug, skus["B"], 1)
        buy(early, shop.slug, {skus["A"]: 3})  # another buyer takes 3 of the 5 first
        assert _available(app, skus["A"]) == 2
        response = checkout(late, shop.slug)
        assert response.status_code == 409
        assert _errors(response) == {
            "checkout-error": "Sorry, not enough stock of: Product P1. Please change your cart."
        }
        assert _count(app, Order) == 1
        assert _available(app, skus["A"]) == 2
        assert _available(app, skus["B"]) == 5  # all or nothing
        assert late.get(f"/s/{shop.slug}/checkout").status_code == 200  # cart kept


def test_the_shop_owner_buying_with_their_own_email_earns_nothing(db_url: str) -> None:
    with app_on(db_url) as app:
        supplier, shop, skus = stocked_shop(app)
        client = app.test_client()
        own_email = f"Owner{supplier.supplier_id}@EXAMPLE.com"  # any case
        token = buy(client, shop.slug, {skus["A"]: 1}, email=own_email)
        order = _order(app, token)
        assert order.credit_source == "self"
        assert order.credited_distributor_id is None
        dev_pay(client, shop.slug, token)
        assert _order(app, token).status == "paid"
        assert _bindings(app) == []  # a self-purchase binds nobody


def test_a_customer_stays_bound_to_the_distributor_of_their_first_paid_order(
    db_url: str,
) -> None:
    with app_on(db_url) as app:
        _, first, skus = stocked_shop(app)
        second = make_shop(app, "bob@example.com")
        client = app.test_client()
        token = buy(client, first.slug, {skus["A"]: 1})
        assert _bindings(app) == []  # unpaid: no binding yet
        dev_pay(client, first.slug, token)
        paid = _order(app, token)
        assert (paid.credited_distributor_id, paid.credit_source) == (first.distributor_id, "shop")
        assert _bindings(app) == [(paid.customer_key, first.distributor_id, paid.id)]

        later = app.test_client()  # another device, through the second distributor's link
        assert later.get(f"/r/{second.referral_code}").status_code == 302
        token2 = buy(later, second.slug, {skus["A"]: 1}, email="Buyer@Example.com")
        order = _order(app, token2)
        assert order.shop_id == second.shop_id
        assert order.credit_source == "binding"
        assert order.credited_distributor_id == first.distributor_id


def test_without_binding_days_the_referral_link_credits_the_later_order(db_url: str) -> None:
    with app_on(db_url, STOREFRONT_CUSTOMER_BINDING_DAYS=0) as app:
        _, first, skus = stocked_shop(app)
        second = make_shop(app, "bob@example.com")
        client = app.test_client()
        token = buy(client, first.slug, {skus["A"]: 1})
        dev_pay(client, first.slug, token)
        assert _order(app, token).status == "paid"
        assert _bindings(app) == []
        later = app.test_client()
        assert later.get(f"/r/{second.referral_code}").status_code == 302
        order = _order(app, buy(later, second.slug, {skus["A"]: 1}))
        assert order.credit_source == "referral"
        assert order.credited_distributor_id == second.distributor_id
