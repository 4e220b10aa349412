"""Stock levels: absolute supplier reports turned into sellable ``available`` units."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import NamedTuple

from sqlalchemy.orm import Session
from sqlmodel import col, select

from ..errors import ValidationError
from ..sql import bulk_update, chunks, in_values, table_of
from ..validation import ErrorTree, add_error
from .inputs import StockItemIn
from .models import Variant

#: How far in the future an ``as_of`` may lie (clock skew); later ones are refused, since
#: they would make every genuine report look stale.
MAX_CLOCK_SKEW = timedelta(minutes=5)


class StockReport(NamedTuple):
    """The supplier says variant ``id`` had ``stock`` units at ``stock_as_of``."""

    id: int
    stock: int
    stock_as_of: datetime


def apply_stock_reports(session: Session, reports: Sequence[StockReport]) -> int:
    """Record ``reports``; a report older than the one on file is ignored (out-of-order
    delivery must not resurrect old stock). Returns how many were applied."""
    changed = bulk_update(
        session,
        table_of(Variant),
        [report._asdict() for report in reports],
        key="id",
        # Nothing is allocated before orders exist, so available = stock.
        assign={"stock": "new.stock", "stock_as_of": "new.stock_as_of", "available": "new.stock"},
        only_if="sf_variant.stock_as_of <= new.stock_as_of",
    )
    return len(changed)


def update_stock(
    session: Session, supplier_id: int, items: Sequence[StockItemIn], now: datetime
) -> int:
    """Apply a supplier's ``PATCH /stock`` items; any unknown SKU or future ``as_of``
    rejects the whole batch. Several items for one SKU: the latest ``as_of`` wins."""
    variant_ids: dict[str, int] = {}
    for part in chunks(list({item.sku for item in items}), 5000):
        rows = session.execute(
            select(Variant.sku, Variant.id).where(
                col(Variant.supplier_id) == supplier_id, in_values(session, col(Variant.sku), part)
            )
        )
        variant_ids.update({sku: id_ for sku, id_ in rows if id_ is not None})
    errors: ErrorTree = {}
    for index, item in enumerate(items):
        if item.sku not in variant_ids:
            add_error(errors, ["items", index, "sku"], f"Unknown SKU {item.sku!r}.")
        if item.as_of is not None and item.as_of > now + MAX_CLOCK_SKEW:
            add_error(errors, ["items", index, "as_of"], "Must not be in the future.")
    if errors:
        raise ValidationError("stock update refused; nothing was written", errors={"json": errors})
    latest: dict[int, StockReport] = {}
    for item in items:
        report = StockReport(variant_ids[item.sku], item.stock, item.as_of or now)
        kept = latest.get(report.id)
        if kept is None or kept.stock_as_of <= report.stock_as_of:
            latest[report.id] = report
    return apply_stock_reports(session, list(latest.values()))
