"""The coupon centre of a shop (领券): the claimable coupons live in it, and a consumer's
claims of them.

A claimable coupon works only for the consumer who claimed it (``docs/promotions.md``), so
claiming is what hands it out: one :class:`~.models.CouponClaim` row per coupon and consumer,
inserted with ``ON CONFLICT DO NOTHING`` so a double click or two tabs claim it once.

A shop's coupon centre offers the live claimable coupons of every funder that may apply in
it: the platform's (for every shop or this one), the suppliers' whose products the shop
lists, and the shop's own.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session
from sqlmodel import col

from ..catalog.models import Product
from ..errors import Conflict, NotFound
from ..shops.listing import ShopView, in_shop
from ..sql import insert_row
from .models import COUPON, CouponClaim, Promotion

#: Most coupons one coupon centre shows.
MAX_COUPONS = 100


def live_in_shop(shop: ShopView, now: datetime) -> sa.ColumnElement[bool]:
    """The condition on ``sf_promotion`` of the claimable coupons live in ``shop`` at
    ``now``: started, not ended, not used up, for every shop or this one, and (a
    supplier's) on products the shop lists."""
    supplier_listed = (
        sa.select(col(Product.id))
        .where(col(Product.supplier_id) == col(Promotion.supplier_id), in_shop(shop))
        .exists()
    )
    return sa.and_(
        col(Promotion.kind) == COUPON,
        col(Promotion.claimable).is_(True),
        col(Promotion.starts_at) <= now,
        col(Promotion.ends_at) > now,
        col(Promotion.ended_at).is_(None),
        sa.or_(col(Promotion.shop_id).is_(None), col(Promotion.shop_id) == shop.id),
        sa.or_(col(Promotion.supplier_id).is_(None), supplier_listed),
        # (used up: nothing left to claim)
        sa.or_(col(Promotion.max_uses).is_(None), col(Promotion.uses) < col(Promotion.max_uses)),
        sa.or_(
            col(Promotion.budget_minor).is_(None),
            col(Promotion.discount_given_minor) < col(Promotion.budget_minor),
        ),
    )


def claimable_coupons(session: Session, shop: ShopView, now: datetime) -> list[Promotion]:
    """The coupons a consumer may claim in ``shop`` now, those ending soonest first."""
    query = (
        sa.select(Promotion)
        .where(live_in_shop(shop, now))
        .order_by(col(Promotion.ends_at), col(Promotion.id))
        .limit(MAX_COUPONS)
    )
    return list(session.scalars(query))


def find_claimable(session: Session, shop: ShopView, public_id: str, now: datetime) -> Promotion:
    """The claimable coupon ``public_id`` live in ``shop``; :class:`NotFound` for any other
    (unknown, ended, not claimable, or of another shop)."""
    found = session.scalars(
        sa.select(Promotion).where(col(Promotion.public_id) == public_id, live_in_shop(shop, now))
    ).first()
    if found is None:
        raise NotFound(f"no claimable coupon {public_id!r} in this shop")
    return found


def claimed_ids(session: Session, consumer_id: int, promotion_ids: Iterable[int]) -> set[int]:
    """Those of ``promotion_ids`` the consumer has claimed."""
    ids = sorted(set(promotion_ids))
    if not ids:
        return set()
    query = sa.select(col(CouponClaim.promotion_id)).where(
        col(CouponClaim.consumer_id) == consumer_id, col(CouponClaim.promotion_id).in_(ids)
    )
    return set(session.scalars(query))


class AlreadyClaimed(Conflict):
    """The consumer has claimed this coupon before."""

    code = "already_claimed"


def claim_coupon(
    session: Session, promotion: Promotion, consumer_id: int, shop_id: int, now: datetime
) -> CouponClaim:
    """The consumer claims ``promotion`` in the shop ``shop_id`` (flushed, not committed);
    :class:`AlreadyClaimed` if they already have."""
    claim = CouponClaim(
        promotion_id=promotion.id or 0, consumer_id=consumer_id, shop_id=shop_id, claimed_at=now
    )
    if insert_row(session, claim, skip_duplicate=True) is None:
        raise AlreadyClaimed("this coupon was already claimed by this consumer")
    return claim
