"""Reading and archiving a supplier's products — always scoped to that supplier."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..errors import NotFound, ValidationError
from .models import ARCHIVED, Category, Product, Stock, Variant


@dataclass(frozen=True, slots=True)
class ProductPage:
    """One page of products and the cursor of the next page (``None`` at the end)."""

    items: list[dict[str, Any]]
    next_cursor: str | None


def encode_cursor(last_id: int) -> str:
    """An opaque cursor positioned after product ``last_id``."""
    return base64.urlsafe_b64encode(f"p{last_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    """The product id a cursor points after; :class:`ValidationError` if it is not ours."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
        if not raw.startswith("p") or not raw[1:].isdigit() or len(raw) > 20:
            raise ValueError(raw)
        return int(raw[1:])
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
    query = sa.select(Product).where(Product.supplier_id == supplier_id)
    if cursor:
        query = query.where(Product.id > decode_cursor(cursor))  # type: ignore[operator]
    if status:
        query = query.where(Product.status == status)
    if updated_since is not None:
        query = query.where(Product.updated_at >= updated_since)  # type: ignore[operator]
    rows = session.scalars(query.order_by(Product.id).limit(limit + 1)).all()  # type: ignore[arg-type]
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
    product = session.scalars(
        sa.select(Product).where(
            Product.supplier_id == supplier_id, Product.external_id == external_id
        )
    ).one_or_none()
    if product is None:
        raise NotFound(f"no product with external_id {external_id!r}")
    return product


def _with_details(session: Session, products: list[Product]) -> list[dict[str, Any]]:
    if not products:
        return []
    ids = [p.id for p in products]
    variants: dict[int, list[dict[str, Any]]] = {pid: [] for pid in ids if pid is not None}
    rows = session.execute(
        sa.select(Variant, Stock.available)
        .outerjoin(Stock, Stock.variant_id == Variant.id)  # type: ignore[arg-type]
        .where(Variant.product_id.in_(ids), Variant.status != ARCHIVED)  # type: ignore[attr-defined]
        .order_by(Variant.product_id, Variant.position)  # type: ignore[arg-type]
    )
    stock_on_file: dict[int, int] = {}
    for variant, available in rows.tuples():
        variants[variant.product_id].append(_variant_dict(variant, available or 0))
        stock_on_file[variant.id] = available or 0  # type: ignore[index]
    reported = _reported(session, list(stock_on_file))
    for entries in variants.values():
        for entry in entries:
            entry["stock"] = reported.get(entry.pop("_id"), 0)
    paths = _category_paths(session, {p.category_id for p in products if p.category_id})
    return [_product_dict(p, variants[p.id], paths) for p in products]  # type: ignore[index]


def _reported(session: Session, variant_ids: list[int]) -> dict[int, int]:
    if not variant_ids:
        return {}
    rows = session.execute(
        sa.select(Stock.variant_id, Stock.reported).where(Stock.variant_id.in_(variant_ids))  # type: ignore[attr-defined]
    )
    return dict(rows.tuples().all())


def _category_paths(session: Session, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = session.execute(sa.select(Category.id, Category.path).where(Category.id.in_(ids)))  # type: ignore[union-attr]
    return dict(rows.tuples().all())  # type: ignore[arg-type]


def _variant_dict(variant: Variant, available: int) -> dict[str, Any]:
    return {
        "_id": variant.id,
        "sku": variant.sku,
        "options": variant.options,
        "supply_price": variant.supply_price_minor,
        "retail_price": variant.retail_price_minor,
        "min_price": variant.min_price_minor,
        "weight_grams": variant.weight_grams,
        "available": available,
    }


def _product_dict(product: Product, variants: list[dict[str, Any]], paths: dict[int, str]) -> dict[str, Any]:
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
