"""Helpers of the order tests: an app taking test-mode payments, a shop with products, and a
consumer buying through the pages."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from conftest import SupplierClient, build_app, new_supplier_client
from flask import Flask
from flask.testing import FlaskClient
from shop_support import ShopRef, csrf_token, make_shop, product, push, variant, variant_ids

from storefront_sdk.catalog.models import Variant
from storefront_sdk.db import session_scope
from storefront_sdk.testing.supplier_simulator import SupplierSimulator

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


def order_app(db_url: str, **config: Any) -> Flask:
    """An app with the dev provider and webhooks allowed to local http URLs."""
    return build_app(
        db_url,
        STOREFRONT_PAYMENT_PROVIDER="dev",
        STOREFRONT_WEBHOOK_ALLOW_HTTP=True,
        STOREFRONT_WEBHOOK_ALLOW_PRIVATE=True,
        **config,
    )


@contextmanager
def app_on(db_url: str, **config: Any) -> Iterator[Flask]:
    app = order_app(db_url, **config)
    try:
        yield app
    finally:
        app.extensions["storefront"].engine.dispose()


def stocked_shop(
    app: Flask, stock: int = 10, **prices: Any
) -> tuple[SupplierClient, ShopRef, dict[str, int]]:
    """A supplier with product P1 (SKUs A and B, ``stock`` each) and a shop selling it."""
    supplier = new_supplier_client(app)
    push(
        supplier,
        product(
            "P1",
            variants=[
                variant(
                    "A", stock=stock, supply_price=3000, retail_price=5000, min_price=None, **prices
                ),
                variant("B", stock=stock, supply_price=1000, retail_price=2000, min_price=None),
            ],
        ),
    )
    return supplier, make_shop(app, f"owner{supplier.supplier_id}@example.com"), variant_ids(app)


def add_to_cart(client: FlaskClient, slug: str, variant_id: int, quantity: int = 1) -> None:
    with session_scope(client.application) as session:
        product_id = session.get_one(Variant, variant_id).product_id
    page = client.get(f"/s/{slug}/p/{product_id}").get_data(as_text=True)
    response = client.post(
        f"/s/{slug}/cart/add",
        data={"csrf_token": csrf_token(page), "variant_id": variant_id, "quantity": quantity},
    )
    assert response.status_code == 303, response.get_data(as_text=True)[:500]


def checkout(client: FlaskClient, slug: str, **fields: Any) -> Any:
    """Submit the checkout form (fields over :data:`ADDRESS`); the response."""
    page = client.get(f"/s/{slug}/checkout").get_data(as_text=True)
    key = re.search(r'name="checkout_key" value="([^"]+)"', page)
    assert key, page[:1000]
    data = {"csrf_token": csrf_token(page), "checkout_key": key.group(1), **ADDRESS, **fields}
    return client.post(f"/s/{slug}/checkout", data=data)


def order_token(response: Any) -> str:
    found = _TOKEN.search(response.headers.get("Location", ""))
    assert found, (response.status_code, response.get_data(as_text=True)[:800])
    return found.group(1)


def buy(client: FlaskClient, slug: str, cart: dict[int, int], **fields: Any) -> str:
    """Cart → checkout; the new order's token."""
    for variant_id, quantity in cart.items():
        add_to_cart(client, slug, variant_id, quantity)
    return order_token(checkout(client, slug, **fields))


def dev_pay(client: FlaskClient, slug: str, token: str, outcome: str = "succeeded") -> Any:
    page = client.get(f"/s/{slug}/orders/{token}/pay").get_data(as_text=True)
    return client.post(
        f"/s/{slug}/orders/{token}/dev-pay",
        data={"csrf_token": csrf_token(page), "outcome": outcome},
    )


def api_through(supplier: SupplierClient) -> Any:
    """The supplier API through a Flask test client, as :class:`SupplierSimulator` calls it."""

    def call(method: str, path: str, body: Any = None) -> tuple[int, Any]:
        response = supplier.client.open(
            supplier.base + path,
            method=method,
            json=body,
            headers={"Authorization": f"Bearer {supplier.api_key}"},
        )
        return response.status_code, response.get_json(silent=True)

    return call


def simulator(supplier: SupplierClient) -> SupplierSimulator:
    sim = SupplierSimulator(api_through(supplier))
    sim.start()
    sim.register_webhook()
    return sim
