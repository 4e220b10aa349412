"""A cart's promotions, read from the database and applied by :mod:`..promotions.engine`,
and an order's discounts written when it is placed.

The cart page and :func:`.checkout.place_order` price a cart through :func:`price_lines`,
so what the cart shows is what the order charges (unless a promotion ran out meanwhile:
then the order is refused with :class:`~..promotions.usage.PromotionUnavailable`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..errors import Conflict
from ..promotions import offers, usage
from ..promotions.engine import CartLine, CouponAsked, Pricing, Refusal, Taken, price_cart
from ..promotions.models import THRESHOLD, CouponClaim, Promotion, PromotionCounter
from ..sql import in_values, table_of
from .models import OrderLineDiscount

_promotion = table_of(Promotion).c
_claim = table_of(CouponClaim).c
_counter = table_of(PromotionCounter).c
_line_discount = table_of(OrderLineDiscount)


class PromotionRefused(Conflict):
    """The cart cannot be ordered with its promotions as asked (HTTP 409): the coupon does
    not apply, or a flash-sale line asks more than allowed; ``refusal`` says why (the page
    words it). Nothing was ordered."""

    code = "promotion_refused"

    def __init__(self, refusal: Refusal) -> None:
        super().__init__(f"{refusal.name}: {refusal.code}")
        self.refusal = refusal


@dataclass(frozen=True, slots=True)
class Buyer:
    """Who the promotions are for: the coupon they asked for (a code, or a claimed coupon's
    public id), the consumer signed in and the identity their limits count under (``None``
    before a guest gave their contact: nothing taken yet is assumed)."""

    coupon_code: str | None = None
    consumer_id: int | None = None
    identity_key: str | None = None


def normalise_code(code: str | None) -> str | None:
    """A coupon code as stored (trimmed, upper-case), or ``None`` for an empty one."""
    cleaned = "".join((code or "").split()).upper()
    return cleaned or None


def find_coupon(session: Session, code: str, consumer_id: int | None) -> CouponAsked:
    """The coupon ``code`` names (its code, or a claimed coupon's public id) and whether
    ``consumer_id`` holds a claim on it."""
    typed = code.strip()
    promotion = session.scalars(
        sa.select(Promotion).where(
            sa.or_(_promotion.code == normalise_code(typed), _promotion.public_id == typed)
        )
    ).first()
    if promotion is None:
        return CouponAsked(typed, None)
    claimed = consumer_id is not None and (
        session.scalar(
            sa.select(_claim.id).where(
                _claim.promotion_id == promotion.id, _claim.consumer_id == consumer_id
            )
        )
        is not None
    )
    return CouponAsked(typed, promotion, claimed)


def taken_by(
    session: Session, identity_key: str | None, promotion_ids: Sequence[int]
) -> dict[int, Taken]:
    """What ``identity_key`` has taken of each of ``promotion_ids`` (their counters)."""
    if identity_key is None or not promotion_ids:
        return {}
    rows = session.execute(
        sa.select(_counter.promotion_id, _counter.uses, _counter.units).where(
            _counter.identity_key == identity_key,
            in_values(session, _counter.promotion_id, list(promotion_ids)),
        )
    )
    return {int(row.promotion_id): Taken(int(row.uses), int(row.units)) for row in rows}


def price_lines(
    session: Session, shop_id: int, lines: Sequence[CartLine], buyer: Buyer, now: datetime
) -> Pricing:
    """The live promotions of shop ``shop_id`` and the coupon ``buyer`` asked for applied to
    ``lines`` (:func:`.engine.price_cart`)."""
    promotions = offers.live_promotions(session, shop_id, now, kinds=[THRESHOLD])
    promotions += offers.flash_sales_of(session, shop_id, [ln.variant_id for ln in lines], now)
    code = normalise_code(buyer.coupon_code) and (buyer.coupon_code or "")
    coupon = find_coupon(session, code, buyer.consumer_id) if code else None
    ids = [p.id or 0 for p in promotions]
    if coupon is not None and coupon.promotion is not None:
        ids.append(coupon.promotion.id or 0)
    taken = taken_by(session, buyer.identity_key, ids)
    return price_cart(lines, promotions, coupon, taken, shop_id=shop_id, now=now)


def check_orderable(pricing: Pricing) -> None:
    """Refuses (:class:`PromotionRefused`) a cart whose coupon does not apply or whose
    flash-sale lines ask more than allowed: the consumer would not pay what they were
    shown."""
    if pricing.refusals:
        blocking = [r for r in pricing.refusals if r.blocking]
        raise PromotionRefused((blocking or list(pricing.refusals))[0])


def take_and_record(
    session: Session,
    pricing: Pricing,
    order_id: int,
    line_ids: dict[int, int],
    identity_key: str,
    now: datetime,
) -> None:
    """Takes the usage of every promotion ``pricing`` applied for order ``order_id``
    (:func:`.usage.take`) and writes each line's discounts (``line_ids``: variant id →
    order line id)."""
    uses = [usage.Use(a.promotion, a.amount, a.units) for a in pricing.applied]
    usage.take(session, uses, order_id, identity_key, now)
    rows = [
        {
            "order_id": order_id,
            "order_line_id": line_ids[priced.line.variant_id],
            "promotion_id": discount.promotion_id,
            "funder": discount.funder,
            "amount_minor": discount.amount,
        }
        for priced in pricing.lines
        for discount in priced.discounts
        if discount.amount > 0
    ]
    if rows:
        session.connection().execute(sa.insert(_line_discount), rows)


def flash_units(pricing: Pricing) -> dict[int, int]:
    """Units of each variant sold from a flash sale's quota (not from ``available``)."""
    return {p.line.variant_id: p.flash_units for p in pricing.lines if p.flash_units}
