"""The promotions live in a shop now: what a cart is priced with and what a page shows.

Live means ``starts_at <= now < ends_at`` and not ended early (``ended_at`` unset); in a
shop means promotions of every shop (``shop_id`` unset) and those of this shop. Both reads
go through the indexes of ``sf_promotion``: ``(kind, ends_at)`` for the live promotions of
some kinds, ``(variant_id, ends_at)`` for the flash sales of a page's variants (one query
for up to a few hundred variants).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..db import UTCDateTime
from ..sql import in_values, table_of
from .models import COUPON, FLASH_SALE, KINDS, CouponClaim, Promotion

_promotion = table_of(Promotion).c


@dataclass(frozen=True)
class FlashOffer:
    """A variant's live flash sale as a page shows it: its price, when it ends, the units of
    its quota still unsold and how many one consumer may buy (``None``: no limit)."""

    promotion_id: int
    public_id: str
    name: str
    price_minor: int
    ends_at: datetime
    units_left: int
    per_consumer: int | None


def live_condition(shop_id: int, now: datetime) -> sa.ColumnElement[bool]:
    """The SQL condition of a promotion live in shop ``shop_id`` at ``now``."""
    at_now = sa.literal(now, UTCDateTime())
    return sa.and_(
        _promotion.starts_at <= at_now,
        _promotion.ends_at > at_now,
        _promotion.ended_at.is_(None),
        sa.or_(_promotion.shop_id.is_(None), _promotion.shop_id == shop_id),
    )


def live_promotions(
    session: Session, shop_id: int, now: datetime, kinds: Sequence[str] = KINDS
) -> list[Promotion]:
    """The promotions of ``kinds`` live in shop ``shop_id`` at ``now``, oldest first."""
    query = (
        sa.select(Promotion)
        .where(_promotion.kind.in_(list(kinds)), live_condition(shop_id, now))
        .order_by(_promotion.id)
    )
    return list(session.scalars(query))


def flash_offers(
    session: Session, shop_id: int, variant_ids: Sequence[int], now: datetime
) -> dict[int, FlashOffer]:
    """The live flash sale of each of ``variant_ids`` in shop ``shop_id``, by variant id
    (variants without one are absent). One sale per variant at a time; should two overlap,
    the older one is the variant's offer."""
    if not variant_ids:
        return {}
    query = (
        sa.select(
            _promotion.id,
            _promotion.public_id,
            _promotion.name,
            _promotion.variant_id,
            _promotion.price_minor,
            _promotion.ends_at,
            _promotion.quota,
            _promotion.units_sold,
            _promotion.per_consumer,
        )
        .where(
            in_values(session, _promotion.variant_id, sorted(set(variant_ids))),
            _promotion.kind == FLASH_SALE,
            live_condition(shop_id, now),
        )
        .order_by(_promotion.id.desc())
    )
    offers: dict[int, FlashOffer] = {}
    for row in session.execute(query):
        offers[int(row.variant_id)] = FlashOffer(
            promotion_id=int(row.id),
            public_id=row.public_id,
            name=row.name,
            price_minor=int(row.price_minor),
            ends_at=row.ends_at,
            units_left=max(int(row.quota or 0) - int(row.units_sold), 0),
            per_consumer=row.per_consumer,
        )
    return offers


def flash_sales_of(
    session: Session, shop_id: int, variant_ids: Sequence[int], now: datetime
) -> list[Promotion]:
    """The flash sales live in shop ``shop_id`` at ``now`` for any of ``variant_ids`` (a
    cart's), oldest first."""
    if not variant_ids:
        return []
    query = (
        sa.select(Promotion)
        .where(
            in_values(session, _promotion.variant_id, sorted(set(variant_ids))),
            _promotion.kind == FLASH_SALE,
            live_condition(shop_id, now),
        )
        .order_by(_promotion.id)
    )
    return list(session.scalars(query))


def claimed_coupons(
    session: Session, consumer_id: int, shop_id: int, now: datetime
) -> list[Promotion]:
    """The coupons ``consumer_id`` claimed that are live in shop ``shop_id`` at ``now``,
    oldest first (what the cart offers them)."""
    claim = table_of(CouponClaim).c
    query = (
        sa.select(Promotion)
        .join(table_of(CouponClaim), claim.promotion_id == _promotion.id)
        .where(
            claim.consumer_id == consumer_id,
            _promotion.kind == COUPON,
            live_condition(shop_id, now),
        )
        .order_by(_promotion.id)
    )
    return list(session.scalars(query))
