"""Unpaid orders expire ``STOREFRONT_ORDER_EXPIRY_MINUTES`` after checkout and give their
stock back: in bulk (``flask storefront expire-orders``) and lazily, whenever an overdue
order is looked at, so a shop without the periodic command still frees its stock.

An expired order also gives back what it took of its promotions (uses, discount, the
consumer's counters: :func:`..promotions.usage.give_back`); its flash-sale units go back to
the sale's quota while the sale still holds its reservation, else to the stock."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session
from sqlmodel import col

from .. import signals
from ..catalog import allocation
from ..db import Commit
from ..promotions import usage
from . import events
from .models import Order, OrderLine
from .states import OrderAction, OrderStatus, advance_order


def release_stock(session: Session, order_id: int, kept: Mapping[int, int] | None = None) -> None:
    """Give the units the order's lines still hold back to the variants, but ``kept``
    (variant id → units gone back to a flash sale's quota instead)."""
    lines = session.scalars(
        sa.select(OrderLine).where(
            col(OrderLine.order_id) == order_id,
            col(OrderLine.stock_held),
        )
    ).all()
    quantities: dict[int, int] = {}
    for line in lines:
        held = line.quantity - line.cancelled_quantity - (kept or {}).get(line.variant_id, 0)
        if held > 0:
            quantities[line.variant_id] = quantities.get(line.variant_id, 0) + held
        line.stock_held = False
        session.add(line)
    session.flush()
    if quantities:
        allocation.release(session, quantities)


def expire_if_due(session: Session, order: Order, now: datetime) -> bool:
    """Expire ``order`` if it is unpaid past its expiry (it must be locked or the session
    the only writer); ``True`` if it did."""
    if order.status != OrderStatus.AWAITING_PAYMENT or order.expires_at is None:
        return False
    if order.expires_at > now:
        return False
    order.status = advance_order(order.status, OrderAction.EXPIRE)
    order.updated_at = now
    session.add(order)
    given = usage.give_back(session, order.id or 0, now)
    kept = {g.variant_id: g.units for g in given if g.variant_id and not g.to_stock}
    release_stock(session, order.id or 0, kept)
    events.record(session, order, "expired", "system")
    signals.send_after_commit(
        session, signals.order_expired, order_id=order.id, order_number=order.number
    )
    return True


def due_orders(session: Session, now: datetime, limit: int) -> list[int]:
    """Ids of unpaid orders past their expiry, oldest first."""
    return list(
        session.scalars(
            sa.select(col(Order.id))
            .where(col(Order.status) == OrderStatus.AWAITING_PAYMENT, col(Order.expires_at) <= now)
            .order_by(col(Order.expires_at))
            .limit(limit)
        )
    )


def expire_orders(
    session: Session, now: datetime, *, commit: Commit, batch: int = 200
) -> list[Order]:
    """Expire every overdue unpaid order, ending each batch with ``commit``; returns those
    expired. Orders locked by a concurrent payment are left for the next run."""
    expired: list[Order] = []
    while True:
        ids = due_orders(session, now, batch)
        if not ids:
            return expired
        locked = sa.select(Order).where(col(Order.id).in_(ids)).order_by(col(Order.id))
        if session.get_bind().dialect.name == "postgresql":
            locked = locked.with_for_update(skip_locked=True)
        orders = list(session.scalars(locked.execution_options(populate_existing=True)))
        done = [order for order in orders if expire_if_due(session, order, now)]
        commit()
        expired.extend(done)
        if len(done) < len(ids):
            return expired  # the rest are being paid right now, or just were
