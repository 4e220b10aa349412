"""Reading and archiving a supplier's products — always scoped to that supplier."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session
from sqlmodel import col, select

from ..errors import NotFound, ValidationError
from .models import ARCHIVED, Category, Product, Variant

#: Largest id a cursor may name (the primary keys are 64-bit).
MAX_ID = 2**63 - 1


@dataclass(frozen=True, slots=True)
class ProductPage:
    """One page of products and the cursor of the next page (``None`` at the end)."""

    items: list[dict[str, Any]]
    next_cursor: str | None


def encode_cursor(last_id: int) -> str:
    """An opaque cursor positioned after row ``last_id`` (of any list ordered by id)."""
    return base64.urlsafe_b64encode(f"p{last_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    """The row id a cursor points after; :class:`ValidationError` if it is not ours."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
        if not raw.startswith("p") or not raw[1:].isdigit() or len(raw) > 20:
            raise ValueError(raw)
        last_id = int(raw[1:])
        if last_id > MAX_ID:
            raise ValueError(raw)
        return last_id
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise ValidationError(
            "invalid cursor", errors={"query": {"cursor": ["Invalid cursor."]}}
        ) from exc


def list_products(
    session: Session,
    supplier_id: int,
    *,
    limit: int = 50,
    cursor: str | None = None,
    status: str | None = None,
    updated_since: datetime | None = None,
) -> ProductPage:
    """The supplier's products in id order, ``limit`` at a time.

    Id order keeps pages stable while products are added: every product that existed when
    the walk began is returned exactly once.
    """
    query = select(Product).where(col(Product.supplier_id) == supplier_id)
    if cursor:
        query = query.where(col(Product.id) > decode_cursor(cursor))
    if status:
        query = query.where(col(Product.status) == status)
    if updated_since is not None:
        query = query.where(col(Product.updated_at) >= updated_since)
    rows = session.scalars(query.order_by(col(Product.id)).limit(limit + 1)).all()
    more = len(rows) > limit
    products = list(rows[:limit])
    items = _with_details(session, products)
    return ProductPage(items, encode_cursor(products[-1].id) if more and products[-1].id else None)


def get_product(session: Session, supplier_id: int, external_id: str) -> dict[str, Any]:
    """One of the supplier's products; another supplier's answers :class:`NotFound`."""
    product = _find(session, supplier_id, external_id)
    return _with_details(session, [product])[0]


def archive_product(session: Session, supplier_id: int, external_id: str, now: datetime) -> None:
    """Archive the product: it leaves every shop, orders keep referring to it.

    The stored content hash is cleared so that the next ``PUT`` of the same body counts as
    an update and re-activates it.
    """
    product = _find(session, supplier_id, external_id)
    if product.status != ARCHIVED:
        product.status = ARCHIVED
        product.content_hash = ""
        product.updated_at = now
        session.flush()


def _find(session: Session, supplier_id: int, external_id: str) -> Product:
    if not _storable_id(external_id):
        raise NotFound(f"no product with external_id {external_id!r}")
    product = session.scalars(
        select(Product).where(
            col(Product.supplier_id) == supplier_id, col(Product.external_id) == external_id
        )
    ).one_or_none()
    if product is None:
        raise NotFound(f"no product with external_id {external_id!r}")
    return product


def _storable_id(value: str) -> bool:
    # No stored external_id is longer than 64 characters or holds NUL (which PostgreSQL
    # would refuse to even compare).
    return len(value) <= 64 and "\x00" not in value


def _with_details(session: Session, products: list[Product]) -> list[dict[str, Any]]:
    if not products:
        return []
    variants: dict[int | None, list[dict[str, Any]]] = {p.id: [] for p in products}
    rows = session.execute(
        select(Variant)
        .where(col(Variant.product_id).in_(variants), col(Variant.status) != ARCHIVED)
        .order_by(col(Variant.product_id), col(Variant.position))
    )
    for variant in rows.scalars():
        variants[variant.product_id].append(_variant_dict(variant))
    paths = _category_paths(session, {p.category_id for p in products if p.category_id})
    return [_product_dict(p, variants[p.id], paths) for p in products]


def _category_paths(session: Session, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = session.execute(select(Category.id, Category.path).where(col(Category.id).in_(ids)))
    return dict(rows.all())


def _variant_dict(variant: Variant) -> dict[str, Any]:
    return {
        "sku": variant.sku,
        "options": variant.options,
        "supply_price": variant.supply_price_minor,
        "retail_price": variant.retail_price_minor,
        "min_price": variant.min_price_minor,
        "weight_grams": variant.weight_grams,
        "stock": variant.stock,
        "available": variant.available,
    }


def _product_dict(
    product: Product, variants: list[dict[str, Any]], paths: dict[int, str]
) -> dict[str, Any]:
    return {
        "id": product.id,
        "external_id": product.external_id,
        "title": product.title,
        "title_i18n": product.title_i18n,
        "description": product.description,
        "description_i18n": product.description_i18n,
        "category": paths.get(product.category_id) if product.category_id else None,
        "images": product.images,
        "status": product.status,
        "currency": product.currency,
        "variants": variants,
        "created_at": product.created_at,
        "updated_at": product.updated_at,
    }
