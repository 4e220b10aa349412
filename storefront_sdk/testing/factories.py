"""Test factories shipped with the library so host apps can reuse them."""

from __future__ import annotations

import itertools
from typing import Any

from sqlalchemy.orm import Session

from ..catalog.models import Supplier
from ..catalog.suppliers import create_api_key, create_supplier

_sequence = itertools.count(1)


def make_supplier(
    session: Session, *, name: str | None = None, currency: str = "CNY"
) -> tuple[Supplier, str]:
    """A flushed supplier and a fresh API key for it."""
    supplier = create_supplier(session, name or f"Supplier {next(_sequence)}", currency)
    _, raw_key = create_api_key(session, supplier.id or 0)
    return supplier, raw_key


def variant_payload(sku: str, **overrides: Any) -> dict[str, Any]:
    """A valid variant body for ``PUT /products``."""
    body: dict[str, Any] = {
        "sku": sku,
        "options": {"Size": "M"},
        "supply_price": 3500,
        "retail_price": 6900,
        "min_price": 5900,
        "stock": 120,
        "weight_grams": 180,
    }
    body.update(overrides)
    return body


def product_payload(
    external_id: str, *, variants: list[dict[str, Any]] | None = None, **overrides: Any
) -> dict[str, Any]:
    """A valid product body for ``PUT /products`` with one variant ``<external_id>-M``."""
    body: dict[str, Any] = {
        "external_id": external_id,
        "title": f"Product {external_id}",
        "title_i18n": {"zh-Hans": f"商品 {external_id}"},
        "description": "Plain text",
        "category": "Apparel/Tops",
        "images": [f"https://cdn.example.com/{external_id}.jpg"],
        "status": "active",
        "currency": "CNY",
        "variants": variants if variants is not None else [variant_payload(f"{external_id}-M")],
    }
    body.update(overrides)
    return body
