"""Helpers of the promotion tests: two suppliers' catalogues pushed through the API, and
shorthands for the services' arguments."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from conftest import SupplierClient, new_supplier_client
from flask import Flask
from shop_support import product, push, variant
from sqlmodel import select

from storefront_sdk.catalog.models import Category, Product, Variant
from storefront_sdk.db import session_scope

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
