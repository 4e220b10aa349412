"""Helpers of the console tests: distributors, CSRF tokens, signed-in clients, products."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlmodel import select

from storefront_sdk.db import session_scope
from storefront_sdk.shops.accounts import create_distributor
from storefront_sdk.shops.models import Shop
from storefront_sdk.testing.factories import product_payload, variant_payload

PASSWORD = "correct-horse-battery"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass(frozen=True)
class Account:
    """A distributor made for a test, with their shop."""

    id: int
    email: str
    shop_id: int
    slug: str
    code: str


def make_distributor(app: Flask, email: str, **options: Any) -> Account:
    """A distributor (password :data:`PASSWORD`) and their shop."""
    with session_scope(app) as session:
        signed_up = create_distributor(session, email, PASSWORD, **options)
        d, shop = signed_up.distributor, signed_up.shop
        return Account(d.id or 0, d.email, shop.id or 0, shop.slug, d.referral_code)


def shop_row(app: Flask, shop_id: int) -> Shop:
    """The shop as stored now."""
    with session_scope(app) as session:
        return session.scalars(select(Shop).where(Shop.id == shop_id)).one()


def csrf_token(client: FlaskClient, page: str = "/console/login") -> str:
    """The CSRF token of ``page``'s forms (GET it first, as a browser would)."""
    response = client.get(page)
    assert response.status_code == 200, response.status_code
    found = _CSRF.search(response.get_data(as_text=True))
    assert found is not None, "no csrf_token on " + page
    return found.group(1)


def post(client: FlaskClient, path: str, data: dict[str, Any], page: str = "/console/") -> Any:
    """POSTs ``data`` to ``path`` with the CSRF token of ``page``."""
    return client.post(path, data={"csrf_token": csrf_token(client, page), **data})


def sign_in(client: FlaskClient, email: str, password: str = PASSWORD) -> Any:
    """Signs ``client`` in as ``email``."""
    response = post(
        client, "/console/login", {"email": email, "password": password}, "/console/login"
    )
    assert response.status_code == 303, response.get_data(as_text=True)
    return response


def signed_in_client(app: Flask, account: Account) -> FlaskClient:
    """A new client signed in as ``account``."""
    client = app.test_client()
    # A browser set to English (pages without any language default to the platform's, Chinese).
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    sign_in(client, account.email)
    return client


def add_products(supplier: Any, *external_ids: str, **variant: Any) -> list[int]:
    """Supplier products ``external_ids`` (one variant each); their ids, in order."""
    body = {
        "products": [
            product_payload(xid, variants=[variant_payload(f"{xid}-M", **variant)])
            for xid in external_ids
        ]
    }
    response = supplier.put("/products", json=body)
    assert response.status_code == 200, response.get_json()
    return [product_id(supplier, xid) for xid in external_ids]


def product_id(supplier: Any, external_id: str) -> int:
    """The catalogue id of a supplier's product."""
    from storefront_sdk.catalog.models import Product

    with session_scope(supplier.client.application) as session:
        return session.scalars(
            select(Product.id).where(
                Product.external_id == external_id, Product.supplier_id == supplier.supplier_id
            )
        ).one()


def variant_id(supplier: Any, sku: str) -> int:
    """The catalogue id of a supplier's variant."""
    from storefront_sdk.catalog.models import Variant

    with session_scope(supplier.client.application) as session:
        return session.scalars(
            select(Variant.id).where(
                Variant.sku == sku, Variant.supplier_id == supplier.supplier_id
            )
        ).one()
