"""Checkouts racing for a promotion's last uses on PostgreSQL (real row locks, real
threads): a coupon of 10 uses gives exactly 10 discounted orders, a flash sale of 20 units
sells exactly 20, nobody above their limit; the rest are refused (409), nothing else
happens."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from flask import Flask
from promotion_support import ADDRESS, add_coupon, add_flash_sale, sell_two_products

from storefront_sdk.catalog.allocation import SoldOut
from storefront_sdk.catalog.models import Variant
from storefront_sdk.db import create_engine, make_sessionmaker, session_scope, utcnow
from storefront_sdk.errors import Conflict
from storefront_sdk.orders.checkout import CheckoutRequest, Contact, place_order
from storefront_sdk.orders.models import Order, OrderLine
from storefront_sdk.pricing.prices import Rates
from storefront_sdk.pricing.rates import RateBook
from storefront_sdk.promotions.models import Promotion, PromotionCounter
from storefront_sdk.shops.listing import load_shop

RATES = RateBook(Rates(1000, 200))
#: Threads at once (each with its own connection: the test cluster allows 200 in all).
WORKERS = 100


def _race(url: str, attempts: int, attempt: Callable[[Any, int], Any]) -> list[tuple[str, Any]]:
    """``attempts`` checkouts over :data:`WORKERS` threads started together, each with its
    own session; each outcome is ``("ordered", order id)``, ``("refused", error class
    name)`` for a 409, or ``("error", repr)``."""
    engine = create_engine(url, {"pool_size": WORKERS, "max_overflow": 0})
    sessions = make_sessionmaker(engine)
    start = threading.Barrier(WORKERS)

    def one(i: int) -> tuple[str, Any]:
        session = sessions()
        try:
            order = attempt(session, i)()
            session.commit()
            return "ordered", order.id
        except (Conflict, SoldOut) as error:
            session.rollback()
            return "refused", type(error).__name__
        except Exception as error:  # any other outcome is the failure
            session.rollback()
            return "error", repr(error)
        finally:
            session.close()

    def run(worker: int) -> list[tuple[str, Any]]:
        start.wait()
        return [one(i) for i in range(worker, attempts, WORKERS)]

    try:
        with ThreadPoolExecutor(WORKERS) as pool:
            return [outcome for done in pool.map(run, range(WORKERS)) for outcome in done]
    finally:
        engine.dispose()


def _checkout(
    slug: str, cart: dict[int, int], email: Callable[[int], str], coupon: str | None = None
) -> Callable[[Any, int], Callable[[], Order]]:
    def attempt(session: Any, i: int) -> Callable[[], Order]:
        request = CheckoutRequest(
            shop=load_shop(session, slug=slug),
            cart=cart,
            contact=Contact(email(i)),
            address=ADDRESS,
            checkout_key=f"race-key-{i:04d}-0123456789",
            locale="en",
            provider="dev",
            coupon_code=coupon,
        )
        return lambda: place_order(session, request, RATES, utcnow(), timedelta(minutes=30))

    return attempt


def test_50_checkouts_for_a_coupon_of_10_uses_make_exactly_10_discounted_orders(
    pg_app: Flask, postgres_url: str
) -> None:
    # Given a 10% coupon of 10 uses and plenty of stock
    _, shop, skus = sell_two_products(pg_app, stock=100)
    coupon = add_coupon(pg_app, code="TEN", max_uses=10)
    # When 50 consumers place an order with it at once
    results = _race(
        postgres_url,
        50,
        _checkout(shop.slug, {skus["B"]: 1}, lambda i: f"buyer{i}@example.com", "TEN"),
    )
    # Then exactly 10 are ordered, each with the discount; the others refused (409)
    outcomes = Counter(kind for kind, _ in results)
    assert outcomes == Counter({"ordered": 10, "refused": 40}), [
        r for r in results if r[0] == "error"
    ][:3]
    assert {name for kind, name in results if kind == "refused"} <= {
        "PromotionUnavailable",
        "PromotionRefused",
    }
    with session_scope(pg_app) as session:
        discounts = session.scalars(sa.select(Order.discount_minor)).all()
        assert discounts == [200] * 10
        used = session.get_one(Promotion, coupon)
        assert (used.uses, used.discount_given_minor) == (10, 2000)
        assert session.get_one(Variant, skus["B"]).available == 90


def test_200_buyers_for_a_flash_sale_of_20_units_buy_exactly_20_none_above_their_limit(
    pg_app: Flask, postgres_url: str
) -> None:
    # Given a flash sale of 20 units of A (its whole stock), 2 per consumer
    _, shop, skus = sell_two_products(pg_app, stock=20)
    sale = add_flash_sale(pg_app, skus["A"], 3900, 20, per_consumer=2)
    # When 200 checkouts race: 60 consumers three times each, 20 others once
    results = _race(
        postgres_url,
        200,
        _checkout(
            shop.slug,
            {skus["A"]: 1},
            lambda i: f"buyer{i % 60}@example.com" if i < 180 else f"once{i}@example.com",
        ),
    )
    # Then exactly 20 units are sold, all at the flash price, nobody above 2
    outcomes = Counter(kind for kind, _ in results)
    assert outcomes["error"] == 0, [r for r in results if r[0] == "error"][:3]
    assert outcomes["ordered"] == 20
    with session_scope(pg_app) as session:
        lines = session.execute(
            sa.select(
                Order.identity_key,
                OrderLine.quantity,
                OrderLine.unit_price_minor,
                OrderLine.amount_minor,
            ).join(OrderLine, OrderLine.order_id == Order.id)
        ).all()
        assert sum(line.quantity for line in lines) == 20
        assert {(line.unit_price_minor, line.amount_minor) for line in lines} == {(5000, 3900)}
        per_identity = Counter(line.identity_key for line in lines)
        assert max(per_identity.values()) <= 2
        assert session.get_one(Promotion, sale).units_sold == 20
        counters = session.scalars(sa.select(PromotionCounter.units)).all()
        assert sum(counters) == 20
        assert max(counters) <= 2
        assert session.get_one(Variant, skus["A"]).available == 0
