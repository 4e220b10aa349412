"""Stock levels: absolute supplier reports turned into sellable ``available`` units."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import NamedTuple

import sqlalchemy as sa
from sqlalchemy.orm import Session
from sqlmodel import col, select

from ..errors import ValidationError
from ..sql import bulk_update, is_postgresql, rows_where_in, table_of
from ..validation import ErrorTree, add_error
from .inputs import StockItemIn
from .models import Variant

#: How far in the future an ``as_of`` may lie (clock skew); later ones are refused, since
#: they would make every genuine report look stale.
MAX_CLOCK_SKEW = timedelta(minutes=5)


class StockReport(NamedTuple):
    """The supplier says its SKU ``sku`` had ``stock`` units at ``stock_as_of``."""

    supplier_id: int
    sku: str
    stock: int
    stock_as_of: datetime


def available_sql(session: Session, stock: str, as_of: str) -> str:
    """SQL for a variant's ``available`` units after a report of ``stock`` units ``as_of``
    (both SQL expressions): the report minus the units of order lines still holding stock
    that it does not reflect, i.e. lines of orders the supplier had not accepted by then
    (``docs/architecture.md``, "Stock accounting"), less their units cancelled or refunded
    as returned before they were shipped (they will not leave); never below zero (a
    supplier reporting less than is already sold to consumers sells nothing more).

    The unsold units of flash sales still holding their reservation (``sf_promotion``:
    ``quota - units_sold`` while ``reserved``) are kept out too, so a report during a sale
    cannot put its quota back on general sale (``docs/promotions.md``)."""
    greatest = "GREATEST" if is_postgresql(session) else "MAX"
    unreflected = (
        "COALESCE((SELECT SUM(l.quantity - l.cancelled_quantity - l.returned_unshipped_quantity) "  # noqa: S608 (our own SQL)
        "FROM sf_order_line l "
        "LEFT JOIN sf_supplier_order so ON so.id = l.supplier_order_id "
        "WHERE l.variant_id = sf_variant.id AND l.stock_held "
        f"AND (so.accepted_at IS NULL OR so.accepted_at > {as_of})), 0)"
    )
    reserved = (
        "COALESCE((SELECT SUM(p.quota - p.units_sold) FROM sf_promotion p "
        "WHERE p.reserved AND p.variant_id = sf_variant.id), 0)"
    )
    return f"{greatest}({stock} - {unreflected} - {reserved}, 0)"


def apply_stock_reports(session: Session, reports: Sequence[StockReport]) -> list[str]:
    """Record ``reports`` (one per SKU); a report older than the one on file is ignored, so
    out-of-order delivery cannot resurrect old stock. Returns the SKUs updated.

    ``available`` becomes :func:`available_sql`; lines the report reflects stop counting
    from then on.
    """
    changed: list[str] = bulk_update(
        session,
        table_of(Variant),
        {name: [getattr(r, name) for r in reports] for name in StockReport._fields},
        keys=("supplier_id", "sku"),
        assign={
            "stock": "new.stock",
            "stock_as_of": "new.stock_as_of",
            "available": available_sql(session, "new.stock", "new.stock_as_of"),
        },
        only_if="sf_variant.stock_as_of <= new.stock_as_of",
        returning="sku",
    )
    if changed:
        forget_reflected(session, reports[0].supplier_id)
    return changed


def forget_reflected(session: Session, supplier_id: int) -> None:
    """Lines whose acceptance the variant's latest report reflects hold no stock any more."""
    session.execute(
        sa.text(
            "UPDATE sf_order_line SET stock_held = false "
            "WHERE stock_held AND supplier_id = :supplier_id AND EXISTS ("
            "SELECT 1 FROM sf_supplier_order so "
            "JOIN sf_variant v ON v.id = sf_order_line.variant_id "
            "WHERE so.id = sf_order_line.supplier_order_id AND so.accepted_at <= v.stock_as_of)"
        ),
        {"supplier_id": supplier_id},
    )


def update_stock(
    session: Session, supplier_id: int, items: Sequence[StockItemIn], now: datetime
) -> int:
    """Apply a supplier's ``PATCH /stock`` items and return how many were applied.

    Any unknown SKU or future ``as_of`` raises :class:`ValidationError`; the caller must then
    roll back (the known SKUs may already be updated in the transaction). Several items for
    one SKU: the latest ``as_of`` wins.
    """
    errors: ErrorTree = {}
    latest: dict[str, StockReport] = {}
    for index, item in enumerate(items):
        as_of = item.as_of or now
        if as_of > now + MAX_CLOCK_SKEW:
            add_error(errors, ["items", index, "as_of"], "Must not be in the future.")
        kept = latest.get(item.sku)
        if kept is None or kept.stock_as_of <= as_of:
            latest[item.sku] = StockReport(supplier_id, item.sku, item.stock, as_of)
    updated: list[str] = [] if errors else apply_stock_reports(session, list(latest.values()))
    missing = latest.keys() - set(updated)
    unknown = missing - _known_skus(session, supplier_id, sorted(missing))
    for index, item in enumerate(items):
        if item.sku in unknown:
            add_error(errors, ["items", index, "sku"], f"Unknown SKU {item.sku!r}.")
    if errors:
        raise ValidationError("stock update refused; nothing was written", errors={"json": errors})
    return len(updated)


def _known_skus(session: Session, supplier_id: int, skus: list[str]) -> set[str]:
    query = select(Variant.sku).where(col(Variant.supplier_id) == supplier_id)
    return {sku for (sku,) in rows_where_in(session, query, col(Variant.sku), skus)}
