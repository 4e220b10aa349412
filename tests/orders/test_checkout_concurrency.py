"""Checkouts racing on PostgreSQL (real row locks, real threads): the last units are sold
exactly once, and twin submissions of one checkout form make one order."""

from __future__ import annotations

import re
import threading
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from order_support import ADDRESS, add_to_cart, app_on, stocked_shop
from shop_support import csrf_token

from storefront_sdk.catalog.allocation import SoldOut
from storefront_sdk.catalog.models import Variant
from storefront_sdk.db import create_engine, make_sessionmaker, session_scope, utcnow
from storefront_sdk.orders.checkout import CheckoutRequest, Contact, place_order
from storefront_sdk.orders.models import Order, OrderLine
from storefront_sdk.pricing.prices import Rates
from storefront_sdk.pricing.rates import RateBook
from storefront_sdk.shops.listing import load_shop

RATES = RateBook(Rates(1000, 200))


@pytest.fixture(autouse=True)
def _cheap_password_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Distributors' passwords are not under test here: hash them cheaply."""
    from werkzeug.security import generate_password_hash

    monkeypatch.setattr(
        "storefront_sdk.shops.accounts.generate_password_hash",
        lambda password: generate_password_hash(password, "pbkdf2:sha256:1"),
    )


def _race(url: str, workers: int, attempt: Callable[[Any, int], Any]) -> list[tuple[str, Any]]:
    """``workers`` threads, each with its own session and connection, run ``attempt(session,
    i)`` at once and commit; each outcome is ``("ordered", order id)``, ``("sold out",
    message)`` or ``("error", repr)``."""
    engine = create_engine(url, {"pool_size": workers, "max_overflow": 0})
    sessions = make_sessionmaker(engine)
    start = threading.Barrier(workers)

    def run(i: int) -> tuple[str, Any]:
        session = sessions()
        try:
            prepared = attempt(session, i)  # reads the shop before the start
            session.commit()
            start.wait()
            order = prepared()
            session.commit()
            return "ordered", order.id
        except SoldOut as error:
            session.rollback()
            return "sold out", error.message
        except Exception as error:  # any other outcome is the failure
            session.rollback()
            return "error", repr(error)
        finally:
            session.close()

    try:
        with ThreadPoolExecutor(workers) as pool:
            return list(pool.map(run, range(workers)))
    finally:
        engine.dispose()


def _checkout(slug: str, cart: dict[int, int], key: Callable[[int], str]) -> Any:
    def attempt(session: Any, i: int) -> Callable[[], Order]:
        request = CheckoutRequest(
            shop=load_shop(session, slug=slug),
            cart=cart,
            contact=Contact(f"buyer{i}@example.com"),
            address=ADDRESS,
            checkout_key=key(i),
            locale="en",
            provider="dev",
        )
        return lambda: place_order(session, request, RATES, utcnow(), timedelta(minutes=30))

    return attempt


def _available(app: Flask, variant_id: int) -> int:
    with session_scope(app) as session:
        return session.get_one(Variant, variant_id).available


def _orders(app: Flask) -> list[tuple[int, int]]:
    """``(order id, units ordered)`` of every order."""
    with session_scope(app) as session:
        rows = session.execute(
            sa.select(Order.id, sa.func.sum(OrderLine.quantity))
            .join(OrderLine, OrderLine.order_id == Order.id)
            .group_by(Order.id)
            .order_by(Order.id)
        )
        return [(int(order_id), int(units)) for order_id, units in rows]


def test_100_concurrent_checkouts_for_the_last_10_units_make_exactly_10_orders(
    pg_app: Flask, postgres_url: str
) -> None:
    _, shop, skus = stocked_shop(pg_app, stock=10)
    results = _race(
        postgres_url,
        100,
        _checkout(shop.slug, {skus["A"]: 1}, lambda i: f"race-key-{i:04d}-0123456789"),
    )
    outcomes = Counter(kind for kind, _ in results)
    assert outcomes == Counter({"ordered": 10, "sold out": 90}), [
        r for r in results if r[0] == "error"
    ][:3]
    assert {message for kind, message in results if kind == "sold out"} == {
        f"not enough stock of variant(s) {skus['A']}"
    }
    ordered = sorted(order_id for kind, order_id in results if kind == "ordered")
    assert _orders(pg_app) == [(order_id, 1) for order_id in ordered]
    assert _available(pg_app, skus["A"]) == 0
    assert _available(pg_app, skus["B"]) == 10


def test_concurrent_twin_submissions_of_one_checkout_key_make_one_order(
    pg_app: Flask, postgres_url: str
) -> None:
    _, shop, skus = stocked_shop(pg_app, stock=10)
    results = _race(
        postgres_url,
        8,
        _checkout(shop.slug, {skus["A"]: 2}, lambda _: "twin-key-0123456789abcdef"),
    )
    assert [kind for kind, _ in results] == ["ordered"] * 8, results
    assert len({order_id for _, order_id in results}) == 1
    assert _orders(pg_app) == [(results[0][1], 2)]
    assert _available(pg_app, skus["A"]) == 8  # allocated once


def test_twin_checkout_forms_posted_at_once_through_the_pages_make_one_order(
    pg_app: Flask, postgres_url: str
) -> None:
    with app_on(postgres_url) as app:  # pg_app emptied the database; this one takes payments
        _twin_forms_through_the_pages(app)


def _twin_forms_through_the_pages(app: Flask) -> None:
    _, shop, skus = stocked_shop(app, stock=10)
    key = "page-twin-key-0123456789abcdef"
    clients = [app.test_client() for _ in range(8)]
    forms = []
    for client in clients:  # the same form open in 8 tabs (each with its session)
        add_to_cart(client, shop.slug, skus["A"], 1)
        page = client.get(f"/s/{shop.slug}/checkout").get_data(as_text=True)
        forms.append({"csrf_token": csrf_token(page), "checkout_key": key, **ADDRESS})
    start = threading.Barrier(len(clients))

    def submit(i: int) -> tuple[int, str]:
        start.wait()
        response = clients[i].post(f"/s/{shop.slug}/checkout", data=forms[i])
        return response.status_code, response.headers.get("Location", "")

    with ThreadPoolExecutor(len(clients)) as pool:
        answers = list(pool.map(submit, range(len(clients))))
    assert {status for status, _ in answers} == {303}, answers
    locations = {location for _, location in answers}
    assert len(locations) == 1
    assert re.search(r"/orders/[\w-]+/pay$", locations.pop())
    assert len(_orders(app)) == 1
    assert _available(app, skus["A"]) == 9
