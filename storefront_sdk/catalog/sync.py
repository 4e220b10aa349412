"""Bulk catalogue sync: validate and upsert up to 1,000 products per call, in bulk.

One call costs a fixed number of statements whatever its size: two lookups (products by
``external_id``, variants by ``sku``), then multi-row upserts of categories, products,
variants and stock. Products whose content is unchanged are not written at all.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlmodel import col, select

from ..errors import Conflict, ValidationError
from ..sql import bulk_upsert, rows_where_in, table_of
from ..validation import ErrorTree, add_error, validate_items
from .categories import ensure_categories
from .inputs import MAX_VARIANTS_PER_REQUEST, ProductIn
from .models import ACTIVE, ARCHIVED, Product, Supplier, Variant, search_text
from .stock import available_sql, forget_reflected


@dataclass
class SyncResult:
    """What a sync did, counted per product, and the items it left out (``keep_valid``)."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    failed: list[dict[str, Any]] = field(default_factory=list)


def sync_products(
    session: Session, supplier: Supplier, items: Sequence[Any], *, keep_valid: bool, now: datetime
) -> SyncResult:
    """The whole ``PUT /products``: validate ``items`` (raw JSON values), plan, write.

    Any invalid item raises :class:`ValidationError` locating every problem, and nothing is
    written, unless ``keep_valid``: then the valid items are written and the others are
    listed in ``failed`` (``index``, ``external_id``, ``errors``).
    """
    valid, failed = check_products(items, supplier)
    plan = plan_sync(session, supplier, valid)
    problems = failed | plan.conflicts
    if problems and not keep_valid:
        raise ValidationError(
            f"{len(problems)} product(s) invalid; nothing was written.",
            errors={"json": {"products": {str(i): e for i, e in sorted(problems.items())}}},
        )
    result = apply_sync(session, supplier, plan, now)
    result.failed = [
        {"index": i, "external_id": _external_id(items[i]), "errors": errors}
        for i, errors in sorted(problems.items())
    ]
    return result


def _external_id(item: Any) -> str | None:
    value = item.get("external_id") if isinstance(item, dict) else None
    return value if isinstance(value, str) else None


def check_products(
    raw_items: Sequence[Any], supplier: Supplier
) -> tuple[list[tuple[int, ProductIn]], dict[int, ErrorTree]]:
    """Validate items one by one: shape, price bounds, currency and uniqueness in the batch.

    Returns the valid ``(index, product)`` pairs and an error tree per failing index.
    """
    valid, failed = validate_items(ProductIn, raw_items)
    seen_ids: dict[str, int] = {}
    seen_skus: dict[str, int] = {}
    total_variants = 0
    kept: list[tuple[int, ProductIn]] = []
    for index, product in valid:
        errors = _product_errors(product, supplier.currency)
        if product.external_id in seen_ids:
            add_error(
                errors, ["external_id"], f"Duplicate of item {seen_ids[product.external_id]}."
            )
        seen_ids.setdefault(product.external_id, index)
        for position, variant in enumerate(product.variants):
            owner = seen_skus.setdefault(variant.sku, index)
            if owner != index:
                add_error(errors, ["variants", position, "sku"], f"SKU also in item {owner}.")
        total_variants += len(product.variants)
        if total_variants > MAX_VARIANTS_PER_REQUEST:
            add_error(
                errors,
                ["variants"],
                f"More than {MAX_VARIANTS_PER_REQUEST} variants in one request.",
            )
        if errors:
            failed[index] = errors
        else:
            kept.append((index, product))
    return kept, failed


def _product_errors(product: ProductIn, currency: str) -> ErrorTree:
    errors: ErrorTree = {}
    if product.currency != currency:
        add_error(errors, ["currency"], f"Must be the supplier's currency {currency}.")
    skus: set[str] = set()
    for position, variant in enumerate(product.variants):
        where: list[str | int] = ["variants", position]
        if variant.sku in skus:
            add_error(errors, [*where, "sku"], "Duplicate SKU in this product.")
        skus.add(variant.sku)
        if variant.retail_price < variant.supply_price:
            add_error(errors, [*where, "retail_price"], "Must be at least supply_price.")
        if variant.min_price is not None and not (
            variant.supply_price <= variant.min_price <= variant.retail_price
        ):
            add_error(
                errors, [*where, "min_price"], "Must be between supply_price and retail_price."
            )
    return errors


def content_hash(product: ProductIn) -> str:
    """Digest of everything in ``product`` except stock (stock is compared separately)."""
    return hashlib.sha256(product.model_dump_json().encode()).hexdigest()


@dataclass
class SyncPlan:
    """What a sync would do, found without writing: counts, the products to write, and
    errors against the stored catalogue by item index."""

    result: SyncResult
    changes: list[_Change]
    conflicts: dict[int, ErrorTree]


def plan_sync(
    session: Session, supplier: Supplier, items: Sequence[tuple[int, ProductIn]]
) -> SyncPlan:
    """Compare ``items`` (validated by :func:`check_products`) with the stored catalogue.

    Reads only. A SKU that belongs to another of the supplier's products is a conflict;
    the caller decides whether any conflict aborts the whole call.
    """
    plan = SyncPlan(SyncResult(), [], {})
    stored = _stored_products(session, supplier.id, [p.external_id for _, p in items])
    owners = _sku_owners(session, supplier.id, [v.sku for _, p in items for v in p.variants])
    for index, product in items:
        conflicts = _sku_conflicts(product, owners)
        if conflicts:
            plan.conflicts[index] = conflicts
            continue
        digest = content_hash(product)
        previous = stored.get(product.external_id)
        if previous is None:
            plan.result.created += 1
        elif previous != digest or _stock_differs(product, owners):
            plan.result.updated += 1
        else:
            plan.result.unchanged += 1
            continue
        plan.changes.append(_Change(product, digest, existed=previous is not None))
    return plan


def apply_sync(session: Session, supplier: Supplier, plan: SyncPlan, now: datetime) -> SyncResult:
    """Write the products of ``plan`` (conflicting items were left out of it).

    Raises :class:`Conflict` when a concurrent sync of the same supplier changed the same
    products or SKUs after the plan was made: the caller rolls back and the client retries
    (the retry is planned against the new state). Syncs that do not overlap run in parallel.
    """
    if plan.changes:
        try:
            _write(session, supplier, plan.changes, now)
        except IntegrityError as exc:  # a product or SKU created since the plan was made
            raise Conflict(_RACE_MESSAGE) from exc
    return plan.result


_RACE_MESSAGE = "Some of these products or SKUs were changed by a concurrent request; retry."


def upsert_products(
    session: Session, supplier: Supplier, items: Sequence[tuple[int, ProductIn]], now: datetime
) -> tuple[SyncResult, dict[int, ErrorTree]]:
    """Plan and apply in one go, keeping the valid items (for seeding and scripts)."""
    plan = plan_sync(session, supplier, items)
    return apply_sync(session, supplier, plan, now), plan.conflicts


def _stored_products(
    session: Session, supplier_id: int | None, external_ids: list[str]
) -> dict[str, str]:
    query = select(Product.external_id, Product.content_hash).where(
        col(Product.supplier_id) == supplier_id
    )
    return dict(rows_where_in(session, query, col(Product.external_id), external_ids))


class _Change(NamedTuple):
    product: ProductIn
    digest: str
    existed: bool


@dataclass(frozen=True, slots=True)
class _StoredVariant:
    external_id: str
    stock: int


def _sku_owners(
    session: Session, supplier_id: int | None, skus: list[str]
) -> dict[str, _StoredVariant]:
    query = (
        select(Variant.sku, Product.external_id, Variant.stock)
        .join(Product, col(Product.id) == Variant.product_id)
        .where(col(Variant.supplier_id) == supplier_id)
    )
    rows = rows_where_in(session, query, col(Variant.sku), skus)
    return {sku: _StoredVariant(ext, stock) for sku, ext, stock in rows}


def _sku_conflicts(product: ProductIn, owners: dict[str, _StoredVariant]) -> ErrorTree:
    errors: ErrorTree = {}
    for position, variant in enumerate(product.variants):
        owner = owners.get(variant.sku)
        if owner is not None and owner.external_id != product.external_id:
            add_error(
                errors,
                ["variants", position, "sku"],
                f"SKU already belongs to product {owner.external_id!r}.",
            )
    return errors


def _stock_differs(product: ProductIn, owners: dict[str, _StoredVariant]) -> bool:
    return any(
        (stored := owners.get(v.sku)) is None or stored.stock != v.stock for v in product.variants
    )


def _write(session: Session, supplier: Supplier, changed: list[_Change], now: datetime) -> None:
    category_ids = ensure_categories(
        session, {c.product.category for c in changed if c.product.category}
    )
    product_ids, variant_ids = _write_rows(session, supplier, changed, category_ids, now)
    # Only products that existed can have left-out variants.
    existing = [c for c in changed if c.existed]
    _archive_left_out_variants(session, existing, product_ids, variant_ids, now)


def _write_rows(
    session: Session,
    supplier: Supplier,
    changes: list[_Change],
    category_ids: dict[str, int],
    now: datetime,
) -> tuple[dict[str, int], dict[str, int]]:
    # New products (and so their variants) are plain inserts, cheaper than upserts; one
    # created meanwhile by a concurrent sync makes them fail (IntegrityError).
    insert_only = not any(c.existed for c in changes)
    product_ids = _upsert_product_rows(session, supplier, changes, category_ids, now, insert_only)
    variant_ids = _upsert_variant_rows(session, supplier, changes, product_ids, now, insert_only)
    if not insert_only:
        forget_reflected(session, supplier.id or 0)
    return product_ids, variant_ids


def _upsert_product_rows(
    session: Session,
    supplier: Supplier,
    changed: list[_Change],
    category_ids: dict[str, int],
    now: datetime,
    insert_only: bool,
) -> dict[str, int]:
    products = [c.product for c in changed]
    count = len(products)
    columns: dict[str, list[Any]] = {
        "supplier_id": [supplier.id] * count,
        "external_id": [p.external_id for p in products],
        "title": [p.title for p in products],
        "title_i18n": [p.title_i18n for p in products],
        "search_text": [search_text(p.title, p.title_i18n) for p in products],
        "description": [p.description for p in products],
        "description_i18n": [p.description_i18n for p in products],
        "category_id": [category_ids[p.category] if p.category else None for p in products],
        "images": [p.images for p in products],
        "status": [p.status for p in products],
        "currency": [p.currency for p in products],
        "content_hash": [c.digest for c in changed],
        "created_at": [now] * count,
        "updated_at": [now] * count,
    }
    fixed = {"supplier_id", "external_id", "currency", "created_at"}
    written = bulk_upsert(
        session,
        table_of(Product),
        columns,
        conflict=() if insert_only else ["supplier_id", "external_id"],
        update=[name for name in columns if name not in fixed],
        returning=["external_id", "id"],
    )
    return dict(written)


def _upsert_variant_rows(
    session: Session,
    supplier: Supplier,
    changed: list[_Change],
    product_ids: dict[str, int],
    now: datetime,
    insert_only: bool,
) -> dict[str, int]:
    rows = [(c.product, n, v) for c in changed for n, v in enumerate(c.product.variants)]
    count = len(rows)
    columns: dict[str, list[Any]] = {
        "product_id": [product_ids[p.external_id] for p, _, _ in rows],
        "supplier_id": [supplier.id] * count,
        "sku": [v.sku for _, _, v in rows],
        "options": [v.options for _, _, v in rows],
        "currency": [p.currency for p, _, _ in rows],
        "supply_price_minor": [v.supply_price for _, _, v in rows],
        "retail_price_minor": [v.retail_price for _, _, v in rows],
        "min_price_minor": [v.min_price for _, _, v in rows],
        "weight_grams": [v.weight_grams for _, _, v in rows],
        "position": [n for _, n, _ in rows],
        "status": [ACTIVE] * count,
        "stock": [v.stock for _, _, v in rows],
        "stock_as_of": [now] * count,
        "available": [v.stock for _, _, v in rows],  # a new SKU: nothing is allocated yet
        "created_at": [now] * count,
        "updated_at": [now] * count,
    }
    fixed = {"product_id", "supplier_id", "sku", "currency", "created_at"}
    written = dict(
        bulk_upsert(
            session,
            table_of(Variant),
            columns,
            conflict=() if insert_only else ["supplier_id", "sku"],
            update=[name for name in columns if name not in fixed],
            # An existing SKU keeps the units its open orders hold.
            update_sql={
                "available": available_sql(session, "excluded.stock", "excluded.stock_as_of")
            },
            # A SKU never moves to another product (the plan refused that); if one is found
            # under another product now, a concurrent sync put it there.
            only_if="sf_variant.product_id = excluded.product_id",
            returning=["sku", "id"],
        )
    )
    if len(written) != count:
        raise Conflict(_RACE_MESSAGE)
    return written


def _archive_left_out_variants(
    session: Session,
    changed: list[_Change],
    product_ids: dict[str, int],
    variant_ids: dict[str, int],
    now: datetime,
) -> None:
    # Only products that existed before can have left-out variants; batches stay small
    # enough for any backend's parameter limit.
    batch_products: list[int] = []
    batch_variants: list[int] = []
    for product, _, _ in changed:
        batch_products.append(product_ids[product.external_id])
        batch_variants.extend(variant_ids[v.sku] for v in product.variants)
        if len(batch_variants) >= 5000:
            _archive_batch(session, batch_products, batch_variants, now)
            batch_products, batch_variants = [], []
    if batch_products:
        _archive_batch(session, batch_products, batch_variants, now)


def _archive_batch(
    session: Session, product_ids: list[int], keep: list[int], now: datetime
) -> None:
    session.execute(
        sa.update(Variant)
        .where(
            col(Variant.product_id).in_(product_ids),
            col(Variant.id).not_in(keep),
            col(Variant.status) == ACTIVE,
        )
        .values(status=ARCHIVED, updated_at=now)
    )
