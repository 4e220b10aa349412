"""What a shop page shows of the promotions live now, in one read: the flash sales of the
page's variants and the shop's live thresholds (满减), by the same rule of "live in a shop"
as carts (:func:`.offers.live_condition`).

One statement per page, through the ``(kind, ends_at)`` and ``(variant_id, ends_at)``
indexes, so pages whose products come from the page cache still show a sale from its first
second to its last.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session
from sqlmodel import col

from ..sql import in_values
from .models import FLASH_SALE, THRESHOLD, Promotion
from .offers import FlashOffer, live_condition


@dataclass(frozen=True, slots=True)
class PagePromotions:
    """The live flash sale of each variant (by variant id) and the live thresholds, oldest
    first."""

    flash: dict[int, FlashOffer]
    thresholds: list[Promotion]


def page_promotions(
    session: Session, shop_id: int, variant_ids: Sequence[int], now: datetime
) -> PagePromotions:
    """The promotions a page of ``variant_ids`` shows in shop ``shop_id`` at ``now``."""
    kinds = col(Promotion.kind) == THRESHOLD
    if variant_ids:
        on_page = in_values(session, col(Promotion.variant_id), sorted(set(variant_ids)))
        kinds = sa.or_(kinds, sa.and_(col(Promotion.kind) == FLASH_SALE, on_page))
    query = sa.select(Promotion).where(kinds, live_condition(shop_id, now))
    flash: dict[int, FlashOffer] = {}
    thresholds = []
    for promotion in session.scalars(query.order_by(col(Promotion.id))):
        if promotion.kind == THRESHOLD:
            thresholds.append(promotion)
        elif promotion.variant_id is not None and promotion.variant_id not in flash:
            flash[promotion.variant_id] = _offer(promotion)  # (the older of two overlapping)
    return PagePromotions(flash, thresholds)


def _offer(promotion: Promotion) -> FlashOffer:
    return FlashOffer(
        promotion_id=promotion.id or 0,
        public_id=promotion.public_id,
        name=promotion.name,
        price_minor=promotion.price_minor or 0,
        ends_at=promotion.ends_at or datetime.max,
        units_left=max((promotion.quota or 0) - promotion.units_sold, 0),
        per_consumer=promotion.per_consumer,
    )
