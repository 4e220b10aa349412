"""Orders that carried promotions, for the money tests: promotions of each funder, and the
discounts they gave written onto a placed order's lines as checkout writes them (each
line's :class:`LineBreakdown` with its funders' discounts, stored by ``line_columns``, one
``sf_order_line_discount`` row per promotion and line, the order's total less them)."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from storefront_sdk.orders.checkout import line_columns
from storefront_sdk.orders.models import Order, OrderLine, OrderLineDiscount
from storefront_sdk.pricing.breakdown import LineBreakdown
from storefront_sdk.promotions.models import COUPON, Promotion

#: SKU → [(promotion id, minor units off the line)].
Discounts = Mapping[str, Sequence[tuple[int, int]]]


def make_promotion(
    session: Session,
    funder: str,
    name: str,
    now: datetime,
    *,
    supplier_id: int | None = None,
    shop_id: int | None = None,
    kind: str = COUPON,
) -> Promotion:
    """A flushed promotion of ``funder`` (its rules do not matter here: the discounts are
    given by :func:`give`); live for a month from ``now``."""
    promotion = Promotion(
        public_id=f"pr_{secrets.token_urlsafe(12)}",
        kind=kind,
        funder=funder,
        name=name,
        supplier_id=supplier_id,
        shop_id=shop_id,
        currency="CNY",
        starts_at=now - timedelta(days=1),
        ends_at=now + timedelta(days=30),
        created_by="test",
        created_at=now,
    )
    session.add(promotion)
    session.flush()
    return promotion


def give(discounts: Discounts) -> Callable[[Session, Order], None]:
    """What :meth:`World.buy` calls (``discounts=``): each SKU's line of the placed order
    gets the promotions' discounts, each out of its funder's part."""

    def apply(session: Session, order: Order) -> None:
        apply_discounts(session, order, discounts)

    return apply


def apply_discounts(session: Session, order: Order, discounts: Discounts) -> None:
    """Write ``discounts`` onto ``order``'s (unpaid) lines and total."""
    lines = {
        line.sku: line
        for line in session.scalars(sa.select(OrderLine).where(OrderLine.order_id == order.id))
    }
    funders = {
        promotion.id: promotion.funder for promotion in session.scalars(sa.select(Promotion))
    }
    total = 0
    for sku, given in discounts.items():
        line = lines[sku]
        by_funder = {"supplier": 0, "shop": 0, "platform": 0}
        for promotion_id, amount in given:
            by_funder[funders[promotion_id]] += amount
            session.add(
                OrderLineDiscount(
                    order_id=order.id or 0,
                    order_line_id=line.id or 0,
                    promotion_id=promotion_id,
                    funder=funders[promotion_id],
                    amount_minor=amount,
                )
            )
        for column, value in line_columns(with_discounts(line, by_funder)).items():
            setattr(line, column, value)
        session.add(line)
        total += sum(by_funder.values())
    order.discount_minor += total
    order.total_minor -= total
    session.add(order)
    session.flush()


def with_discounts(line: OrderLine, by_funder: Mapping[str, int]) -> LineBreakdown:
    """The stored line's breakdown (no discount yet) with ``by_funder``'s discounts."""
    assert line.discount_minor == 0, "the line already carries discounts"
    return LineBreakdown(
        line.unit_price_minor,
        line.quantity,
        line.retail_price_minor,
        line.supply_price_minor,
        line.level1_minor,
        line.level2_minor,
        line.platform_minor,
        supplier_discount=by_funder["supplier"],
        shop_discount=by_funder["shop"],
        platform_discount=by_funder["platform"],
    )


#: Per SKU: the percentages of each funder's capacity its promotion takes off the line
#: (supplier, shop, platform).
Shares = Mapping[str, tuple[int, int, int]]


def give_shares(
    promotions: Mapping[str, int], shares: Shares, owner_id: int
) -> Callable[[Session, Order], None]:
    """What :meth:`World.buy` calls: each SKU's line gets, from each funder's promotion
    (``promotions``: funder → promotion id), its percentage of that funder's capacity on
    the line (``growth.md``): the supplier's part; the level 1 when the shop's owner
    (``owner_id``) earns it, else nothing; for the platform, what is left of the line but
    one minor unit (so a line never costs nothing)."""

    def apply(session: Session, order: Order) -> None:
        lines = {
            line.sku: line
            for line in session.scalars(sa.select(OrderLine).where(OrderLine.order_id == order.id))
        }
        given: dict[str, list[tuple[int, int]]] = {}
        for sku, (supplier, shop, platform) in shares.items():
            line = lines.get(sku)
            if line is None:
                continue
            amounts = {"supplier": line.supply_amount_minor * supplier // 100}
            owner_earns = line.level1_distributor_id == owner_id
            amounts["shop"] = line.level1_minor * shop // 100 if owner_earns else 0
            rest = line.amount_minor - amounts["supplier"] - amounts["shop"] - 1
            amounts["platform"] = max(rest, 0) * platform // 100
            given[sku] = [
                (promotions[funder], amount) for funder, amount in amounts.items() if amount > 0
            ]
        apply_discounts(session, order, {sku: found for sku, found in given.items() if found})

    return apply
