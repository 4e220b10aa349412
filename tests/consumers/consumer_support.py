"""Helpers of the consumer tests: an app whose dev outbox is the test's own folder, a shop
with a product, reading sign-in codes from the outbox as a consumer would, signing in and
buying through the pages."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from conftest import new_supplier_client
from flask import Flask
from flask.testing import FlaskClient
from shop_support import ShopRef, csrf_token, make_shop, product, push, variant, variant_ids

from storefront_sdk import Storefront
from storefront_sdk.catalog.models import Variant
from storefront_sdk.consumers import codes
from storefront_sdk.db import session_scope

#: What a guest types at checkout (the contact is added by each test).
ADDRESS = {
    "email": "",
    "phone": "",
    "name": "Li Lei",
    "line1": "1 Nanjing Road",
    "line2": "",
    "city": "Shanghai",
    "region": "Shanghai",
    "postal_code": "200000",
    "country": "CN",
}
_STANDALONE_CODE = re.compile(r"(?<![0-9])([0-9]{4,8})(?![0-9])")
_ORDER_TOKEN = re.compile(r"/orders/([A-Za-z0-9_\-]+)/pay")


def consumer_app(db_url: str, instance: Path, **config: Any) -> Flask:
    """An English-speaking app taking test-mode payments, its outbox under ``instance``."""
    app = Flask("storefront_consumer_test", instance_path=str(instance))
    app.config.update(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret-key-0123456789",
            "STOREFRONT_DATABASE_URL": db_url,
            "STOREFRONT_DEFAULT_LOCALE": "en",
            "STOREFRONT_PAYMENT_PROVIDER": "dev",
            **config,
        }
    )
    Storefront(app)
    return app


@contextmanager
def app_on(db_url: str, instance: Path, **config: Any) -> Iterator[Flask]:
    app = consumer_app(db_url, instance, **config)
    try:
        yield app
    finally:
        app.extensions["storefront"].engine.dispose()


def stocked_shop(app: Flask, email: str = "owner@example.com") -> tuple[ShopRef, int]:
    """A shop selling product P1 (SKU A, 10 in stock); the shop and the variant's id."""
    supplier = new_supplier_client(app)
    push(
        supplier,
        product(
            "P1",
            variants=[variant("A", stock=10, supply_price=3000, retail_price=5000, min_price=None)],
        ),
    )
    return make_shop(app, email), variant_ids(app)["A"]


def outbox_files(app: Flask) -> list[Path]:
    """The files of the dev outbox, oldest first."""
    folder = Path(app.instance_path) / "outbox"
    return sorted(folder.iterdir()) if folder.exists() else []


def last_code(app: Flask, to: str) -> str:
    """The sign-in code of the newest message of the outbox, read as a person reads it: the
    message must be to ``to`` (its ``To:`` line) and carry one standalone number."""
    newest = outbox_files(app)[-1].read_text(encoding="utf-8")
    assert f"To: {to}" in newest.splitlines(), newest
    body = newest.split("\n\n", 1)[1]
    codes = _STANDALONE_CODE.findall(body)
    assert len(codes) == 1, body
    return str(codes[0])


def ask_for_code(client: FlaskClient, slug: str, contact: str, **environ: Any) -> Any:
    """Submits the sign-in form with ``contact``; the response."""
    page = client.get(f"/s/{slug}/account/login", environ_base=environ).get_data(as_text=True)
    return client.post(
        f"/s/{slug}/account/login",
        data={"csrf_token": csrf_token(page), "contact": contact},
        environ_base=environ,
    )


def enter_code(client: FlaskClient, slug: str, code: str) -> Any:
    """Submits the code form with ``code``; the response."""
    page = client.get(f"/s/{slug}/account/login/code").get_data(as_text=True)
    return client.post(
        f"/s/{slug}/account/login/code", data={"csrf_token": csrf_token(page), "code": code}
    )


def sign_in(client: FlaskClient, app: Flask, slug: str, contact: str) -> None:
    """Signs ``client`` in with ``contact`` through the pages and the outbox."""
    assert ask_for_code(client, slug, contact).status_code == 303
    normalised = codes.contact_of(contact)
    assert normalised is not None
    response = enter_code(client, slug, last_code(app, normalised.value))
    assert response.status_code == 303, response.get_data(as_text=True)[:800]


def buy(client: FlaskClient, slug: str, variant_id: int, **fields: Any) -> str:
    """One unit of ``variant_id`` in the cart, then the checkout with ``fields`` over
    :data:`ADDRESS`; the order's token."""
    with session_scope(client.application) as session:
        product_id = session.get_one(Variant, variant_id).product_id
    page = client.get(f"/s/{slug}/p/{product_id}").get_data(as_text=True)
    added = client.post(
        f"/s/{slug}/cart/add",
        data={"csrf_token": csrf_token(page), "variant_id": variant_id, "quantity": 1},
    )
    assert added.status_code == 303
    page = client.get(f"/s/{slug}/checkout").get_data(as_text=True)
    key = re.search(r'name="checkout_key" value="([^"]+)"', page)
    assert key, page[:1000]
    data = {"csrf_token": csrf_token(page), "checkout_key": key.group(1), **ADDRESS, **fields}
    response = client.post(f"/s/{slug}/checkout", data=data)
    found = _ORDER_TOKEN.search(response.headers.get("Location", ""))
    assert found, (response.status_code, response.get_data(as_text=True)[:800])
    return found.group(1)
