"""Helpers of the shop tests: distributors with shops, products pushed through the API, and
the pages' CSRF tokens."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from flask import Flask
from sqlmodel import select

from storefront_sdk.db import session_scope
from storefront_sdk.shops.accounts import create_distributor
from storefront_sdk.shops.models import Shop
from storefront_sdk.testing.factories import product_payload, variant_payload

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass(frozen=True)
class ShopRef:
    distributor_id: int
    shop_id: int
    slug: str
    referral_code: str


def make_shop(app: Flask, email: str = "ann@example.com", **fields: Any) -> ShopRef:
    """A distributor and their shop; ``fields`` are set on the shop."""
    with session_scope(app) as session:
        signup = create_distributor(session, email, "password123", shop_name=email.split("@")[0])
        for name, value in fields.items():
            setattr(signup.shop, name, value)
        session.flush()
        return ShopRef(
            signup.distributor.id or 0,
            signup.shop.id or 0,
            signup.shop.slug,
            signup.distributor.referral_code,
        )


def edit_shop(app: Flask, ref: ShopRef, action: Any) -> None:
    """Runs ``action(session, shop)`` on the ORM shop in one transaction."""
    with session_scope(app) as session:
        shop = session.scalars(select(Shop).where(Shop.id == ref.shop_id)).one()
        action(session, shop)


def push(supplier: Any, *products: dict[str, Any]) -> None:
    response = supplier.put("/products", json={"products": list(products)})
    assert response.status_code == 200, response.get_json()


def product(external_id: str, **overrides: Any) -> dict[str, Any]:
    return product_payload(external_id, **overrides)


def variant(sku: str, **overrides: Any) -> dict[str, Any]:
    return variant_payload(sku, **overrides)


def product_ids(app: Flask) -> dict[str, int]:
    """``external_id -> id`` of every product."""
    from storefront_sdk.catalog.models import Product

    with session_scope(app) as session:
        return {p.external_id: p.id or 0 for p in session.scalars(select(Product))}


def variant_ids(app: Flask) -> dict[str, int]:
    """``sku -> id`` of every variant."""
    from storefront_sdk.catalog.models import Variant

    with session_scope(app) as session:
        return {v.sku: v.id or 0 for v in session.scalars(select(Variant))}


def csrf_token(html: str) -> str:
    found = _CSRF.search(html)
    assert found, "no csrf_token in the page"
    return found.group(1)


def listed_ids(html: str) -> list[int]:
    """Product ids linked from a listing page's cards, in order."""
    return [int(pid) for pid in re.findall(r'class="sf-card" href="/s/[^/]+/p/(\d+)', html)]
