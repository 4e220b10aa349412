"""Stock levels: absolute supplier reports turned into sellable ``available`` units."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import NamedTuple

from sqlalchemy.orm import Session
from sqlmodel import col, select

from ..errors import ValidationError
from ..sql import insert_for, table_of
from ..validation import ErrorTree, add_error
from .inputs import StockItemIn
from .models import Stock, Variant


class StockReport(NamedTuple):
    """The supplier says ``variant_id`` had ``reported`` units at ``as_of``."""

    variant_id: int
    reported: int
    as_of: datetime


def apply_stock_reports(session: Session, reports: Sequence[StockReport]) -> int:
    """Record ``reports``; a report older than the one on file is ignored (out-of-order
    delivery must not resurrect old stock). Returns how many were applied."""
    if not reports:
        return 0
    table = table_of(Stock)
    insert = insert_for(session, table)
    stmt = insert.on_conflict_do_update(
        index_elements=[table.c.variant_id],
        set_={
            "reported": insert.excluded.reported,
            "as_of": insert.excluded.as_of,
            # Nothing is allocated before orders exist, so available = reported.
            "available": insert.excluded.available,
        },
        where=table.c.as_of <= insert.excluded.as_of,
    ).returning(table.c.variant_id)
    rows = [
        {
            "variant_id": r.variant_id,
            "reported": r.reported,
            "as_of": r.as_of,
            "available": r.reported,
        }
        for r in reports
    ]
    return len(session.execute(stmt, rows).all())


def update_stock(
    session: Session, supplier_id: int, items: Sequence[StockItemIn], now: datetime
) -> int:
    """Apply a supplier's ``PATCH /stock`` items; unknown SKUs reject the whole batch."""
    variant_ids: dict[str, int] = {}
    skus = list({item.sku for item in items})
    for start in range(0, len(skus), 5000):
        rows = session.execute(
            select(Variant.sku, Variant.id).where(
                col(Variant.supplier_id) == supplier_id,
                col(Variant.sku).in_(skus[start : start + 5000]),
            )
        )
        variant_ids.update(dict(rows.all()))
    errors: ErrorTree = {}
    for index, item in enumerate(items):
        if item.sku not in variant_ids:
            add_error(errors, ["items", index, "sku"], f"Unknown SKU {item.sku!r}.")
    if errors:
        raise ValidationError("unknown SKUs; nothing was written", errors={"json": errors})
    latest: dict[int, StockReport] = {}
    for item in items:  # several reports for one SKU in a batch: the latest wins
        report = StockReport(variant_ids[item.sku], item.stock, item.as_of or now)
        kept = latest.get(report.variant_id)
        if kept is None or kept.as_of <= report.as_of:
            latest[report.variant_id] = report
    return apply_stock_reports(session, list(latest.values()))
