"""Reading promotions as their owners see them: a page of a supplier's (or a shop's) own,
where each stands in its window, and category paths turned into the ids a scope holds."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session
from sqlmodel import col

from ..catalog.categories import normalize_path
from ..catalog.models import Category, Product
from ..sql import table_of
from .models import SHOP, SUPPLIER, Promotion

#: Where a promotion stands: not started yet, live, or over (ended early or its window past).
SCHEDULED = "scheduled"
LIVE = "live"
ENDED = "ended"


def standing(promotion: Promotion, now: datetime) -> str:
    """:data:`SCHEDULED`, :data:`LIVE` or :data:`ENDED` at ``now``."""
    if promotion.ended_at is not None or (promotion.ends_at and promotion.ends_at <= now):
        return ENDED
    if promotion.starts_at and promotion.starts_at > now:
        return SCHEDULED
    return LIVE


def owned_promotions(
    session: Session,
    *,
    supplier_id: int | None = None,
    shop_id: int | None = None,
    limit: int = 50,
    after: int | None = None,
) -> tuple[list[Promotion], int | None]:
    """A page of the promotions a supplier (``supplier_id``: those it funds) or a shop
    (``shop_id``: those its owner funds) owns, in id order after row ``after``, and the id
    the next page starts after (``None`` at the end)."""
    query = sa.select(Promotion).order_by(col(Promotion.id)).limit(limit + 1)
    if supplier_id is not None:
        query = query.where(
            col(Promotion.funder) == SUPPLIER, col(Promotion.supplier_id) == supplier_id
        )
    if shop_id is not None:
        query = query.where(col(Promotion.funder) == SHOP, col(Promotion.shop_id) == shop_id)
    if after is not None:
        query = query.where(col(Promotion.id) > after)
    rows = list(session.scalars(query))
    if len(rows) <= limit:
        return rows, None
    return rows[:limit], rows[limit - 1].id


def category_ids(
    session: Session, paths: Sequence[str], supplier_id: int | None
) -> tuple[list[int], list[int]]:
    """The ids of the categories at ``paths`` (with ``supplier_id``: only those it has
    products in), and the indexes of the paths that name none."""
    wanted = [normalize_path(path) for path in paths]
    if not wanted:
        return [], []
    table = table_of(Category).c
    query = sa.select(table.path, table.id).where(table.path.in_(wanted))
    if supplier_id is not None:
        query = query.where(
            sa.exists().where(
                col(Product.category_id) == col(Category.id),
                col(Product.supplier_id) == supplier_id,
            )
        )
    found = {str(path): int(id_) for path, id_ in session.execute(query).all()}
    unknown = [index for index, path in enumerate(wanted) if path not in found]
    return sorted({found[p] for p in wanted if p in found}), unknown


def category_paths(session: Session, ids: Sequence[int]) -> dict[int, str]:
    """``id -> path`` of the categories ``ids``."""
    if not ids:
        return {}
    table = table_of(Category).c
    query = sa.select(table.id, table.path).where(table.id.in_(ids))
    return {int(id_): str(path) for id_, path in session.execute(query).all()}
