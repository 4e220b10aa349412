"""Helpers of the promotion tests: promotions inserted as rows (the terms a test needs and
nothing else), a shop selling two products of one supplier, two suppliers' catalogues pushed
through the API, and shorthands for the services' arguments.

(Both the checkout and the manage areas added this file; merged here as their union.)
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from conftest import SupplierClient, build_app, new_supplier_client
from flask import Flask
from flask.testing import FlaskClient
from shop_support import csrf_token, make_shop, product, push, variant, variant_ids
from sqlmodel import select

from storefront_sdk.catalog import allocation
from storefront_sdk.catalog.models import Category, Product, Variant
from storefront_sdk.consumers.models import Consumer
from storefront_sdk.db import session_scope, utcnow
from storefront_sdk.promotions.models import (
    COUPON,
    FLASH_SALE,
    THRESHOLD,
    CouponClaim,
    Promotion,
)

#: A window around now that every test promotion is live in, unless told otherwise.
HOUR = timedelta(hours=1)


def promotion_row(kind: str, funder: str, **fields: Any) -> Promotion:
    """A :class:`Promotion` of ``kind`` funded by ``funder``, live for the hour around now."""
    now = utcnow()
    values: dict[str, Any] = {
        "public_id": "pr_" + secrets.token_hex(8),
        "kind": kind,
        "funder": funder,
        "name": f"{kind} {funder}",
        "starts_at": now - HOUR,
        "ends_at": now + HOUR,
        "created_by": "cli",
        "created_at": now,
    }
    values.update(fields)
    return Promotion(**values)


def add_promotion(app: Flask, kind: str, funder: str, **fields: Any) -> int:
    """Insert a promotion (see :func:`promotion_row`); its id."""
    with session_scope(app) as session:
        row = promotion_row(kind, funder, **fields)
        session.add(row)
        session.flush()
        return row.id or 0


def add_coupon(app: Flask, funder: str = "platform", **fields: Any) -> int:
    """A coupon (code ``SAVE10``, 10% off unless told otherwise); its id."""
    fields.setdefault("code", "SAVE10")
    if "amount_off_minor" not in fields:
        fields.setdefault("percent_off", 10)
    return add_promotion(app, COUPON, funder, **fields)


def add_threshold(
    app: Flask, tiers: list[dict[str, int]], funder: str = "platform", **fields: Any
) -> int:
    """A threshold (满减) with ``tiers``, in CNY unless told otherwise; its id."""
    fields.setdefault("currency", "CNY")
    return add_promotion(app, THRESHOLD, funder, tiers=tiers, **fields)


def add_flash_sale(
    app: Flask, variant_id: int, price: int, quota: int, funder: str = "platform", **fields: Any
) -> int:
    """A flash sale of ``quota`` units of ``variant_id`` at ``price``, its quota reserved
    from the stock as the manage area's ``create_flash_sale`` does; its id."""
    with session_scope(app) as session:
        row = promotion_row(
            FLASH_SALE,
            funder,
            variant_id=variant_id,
            price_minor=price,
            quota=quota,
            reserved=True,
            **fields,
        )
        session.add(row)
        session.flush()
        allocation.allocate(session, {variant_id: quota})
        return row.id or 0


def at(minutes: int) -> datetime:
    """Now plus ``minutes``."""
    return utcnow() + timedelta(minutes=minutes)


def sell_two_products(app: Flask, stock: int = 10) -> tuple[Any, Any, dict[str, int]]:
    """A CNY supplier with product P1 (SKU A: supply 30.00, shop price 50.00) and P2 (SKU
    B: supply 10.00, price 20.00), ``stock`` of each, and a shop selling them: the
    supplier's client, the shop and ``sku -> variant id``."""
    supplier = new_supplier_client(app)
    push(
        supplier,
        product(
            "P1",
            variants=[
                variant("A", stock=stock, supply_price=3000, retail_price=5000, min_price=None)
            ],
        ),
        product(
            "P2",
            variants=[
                variant("B", stock=stock, supply_price=1000, retail_price=2000, min_price=None)
            ],
        ),
    )
    return supplier, make_shop(app, f"owner{supplier.supplier_id}@example.com"), variant_ids(app)


ADDRESS = {
    "email": "buyer@example.com",
    "phone": "",
    "name": "Li Lei",
    "line1": "1 Nanjing Road",
    "line2": "",
    "city": "Shanghai",
    "region": "Shanghai",
    "postal_code": "200000",
    "country": "CN",
}
_TOKEN = re.compile(r"/orders/([A-Za-z0-9_\-]+)/pay")
_FIGURE = re.compile(r'data-testid="(items-total|shipping-total|total|discount-amount)">([^<]*)<')


@contextmanager
def shop_app(db_url: str, **config: Any) -> Iterator[Flask]:
    """An app taking dev payments, in English unless told otherwise."""
    config.setdefault("STOREFRONT_DEFAULT_LOCALE", "en")
    app = build_app(db_url, STOREFRONT_PAYMENT_PROVIDER="dev", **config)
    try:
        yield app
    finally:
        app.extensions["storefront"].engine.dispose()


def add_to_cart(client: FlaskClient, slug: str, variant_id: int, quantity: int = 1) -> None:
    """Adds ``quantity`` of ``variant_id`` through the product page's form."""
    with session_scope(client.application) as session:
        product_id = session.get_one(Variant, variant_id).product_id
    page = client.get(f"/s/{slug}/p/{product_id}").get_data(as_text=True)
    response = client.post(
        f"/s/{slug}/cart/add",
        data={"csrf_token": csrf_token(page), "variant_id": variant_id, "quantity": quantity},
    )
    assert response.status_code == 303, response.get_data(as_text=True)[:500]


def apply_coupon(client: FlaskClient, slug: str, code: str) -> str:
    """Types ``code`` in "Coupon code" and presses "Apply"; the cart page then."""
    page = client.get(f"/s/{slug}/cart").get_data(as_text=True)
    response = client.post(
        f"/s/{slug}/cart/coupon", data={"csrf_token": csrf_token(page), "coupon_code": code}
    )
    assert response.status_code == 303, response.get_data(as_text=True)[:500]
    return client.get(f"/s/{slug}/cart").get_data(as_text=True)


def checkout(client: FlaskClient, slug: str, **fields: Any) -> Any:
    """Submits the checkout form (``fields`` over :data:`ADDRESS`); the response."""
    page = client.get(f"/s/{slug}/checkout").get_data(as_text=True)
    key = re.search(r'name="checkout_key" value="([^"]+)"', page)
    assert key, page[:1000]
    data = {"csrf_token": csrf_token(page), "checkout_key": key.group(1), **ADDRESS, **fields}
    return client.post(f"/s/{slug}/checkout", data=data)


def order_token(response: Any) -> str:
    found = _TOKEN.search(response.headers.get("Location", ""))
    assert found, (response.status_code, response.get_data(as_text=True)[:800])
    return found.group(1)


def minor(text: str) -> int:
    """``¥158.00`` (any symbol or sign, separators) in minor units."""
    digits = re.sub(r"[^0-9.]", "", text)
    major, _, cents = digits.partition(".")
    return int(major) * 100 + int(cents or 0)


def figures(page: str) -> dict[str, list[int]]:
    """The cart's figures by name (``items-total``, ``discount-amount``...), in order."""
    found: dict[str, list[int]] = {}
    for name, text in _FIGURE.findall(page):
        found.setdefault(name, []).append(minor(text))
    return found


def add_consumer(app: Flask, email: str) -> int:
    """A verified consumer with ``email``; their id."""
    with session_scope(app) as session:
        consumer = Consumer(email=email, created_at=utcnow())
        session.add(consumer)
        session.flush()
        return consumer.id or 0


def claim(app: Flask, promotion_id: int, consumer_id: int, shop_id: int | None = None) -> None:
    """``consumer_id`` claims the coupon ``promotion_id``."""
    with session_scope(app) as session:
        session.add(
            CouponClaim(
                promotion_id=promotion_id,
                consumer_id=consumer_id,
                shop_id=shop_id,
                claimed_at=utcnow(),
            )
        )


def sign_in(client: FlaskClient, consumer_id: int) -> None:
    """The consumer signs in (the session key of ``docs/consumers.md``)."""
    with client.session_transaction() as session:
        session["sf_consumer_id"] = consumer_id


#: The clock of every promotion test.
NOW = datetime(2026, 12, 3, 10, 0, tzinfo=UTC)
LATER = NOW + timedelta(days=2)


@dataclass(frozen=True)
class Catalogue:
    """Supplier A's product P1 (SKU A: supply 3000, retail 5000; SKU B: supply 1000, retail
    2000) in category Apparel/Tops, and supplier B's product Q1 (SKU Q) in Home/Kitchen."""

    supplier: SupplierClient
    other: SupplierClient
    products: dict[str, int]
    variants: dict[tuple[int, str], int]
    categories: dict[str, int]


def catalogue(app: Flask, stock: int = 10) -> Catalogue:
    """Both suppliers' products, ``stock`` units of each SKU."""
    supplier = new_supplier_client(app)
    other = new_supplier_client(app)
    push(
        supplier,
        product(
            "P1",
            variants=[
                variant("A", stock=stock, supply_price=3000, retail_price=5000, min_price=None),
                variant("B", stock=stock, supply_price=1000, retail_price=2000, min_price=None),
            ],
        ),
    )
    push(other, product("Q1", category="Home/Kitchen", variants=[variant("Q", stock=stock)]))
    with session_scope(app) as session:
        products = {p.external_id: p.id or 0 for p in session.scalars(select(Product))}
        variants = {(v.supplier_id, v.sku): v.id or 0 for v in session.scalars(select(Variant))}
        categories = {c.path: c.id or 0 for c in session.scalars(select(Category))}
    return Catalogue(supplier, other, products, variants, categories)


def window(**overrides: Any) -> dict[str, Any]:
    """``created_by``, ``now`` and a two-day window from now, with ``overrides``."""
    return {"created_by": "cli", "now": NOW, "starts_at": NOW, "ends_at": LATER, **overrides}


def available(app: Flask, variant_id: int) -> int:
    with session_scope(app) as session:
        found = session.get(Variant, variant_id)
        assert found is not None
        return found.available
