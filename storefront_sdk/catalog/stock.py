"""Stock levels: absolute supplier reports turned into sellable ``available`` units."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import NamedTuple

from sqlalchemy.orm import Session
from sqlmodel import col, select

from ..errors import ValidationError
from ..sql import bulk_update, rows_where_in, table_of
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


def apply_stock_reports(session: Session, reports: Sequence[StockReport]) -> list[str]:
    """Record ``reports`` (one per SKU); a report older than the one on file is ignored, so
    out-of-order delivery cannot resurrect old stock. Returns the SKUs updated."""
    changed: list[str] = bulk_update(
        session,
        table_of(Variant),
        {name: [getattr(r, name) for r in reports] for name in StockReport._fields},
        keys=("supplier_id", "sku"),
        # Nothing is allocated before orders exist, so available = stock.
        assign={"stock": "new.stock", "stock_as_of": "new.stock_as_of", "available": "new.stock"},
        only_if="sf_variant.stock_as_of <= new.stock_as_of",
        returning="sku",
    )
    return changed


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
