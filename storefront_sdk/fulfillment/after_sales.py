"""After-sales refunds the platform decides (``/admin/`` orders): parts of a paid order's
lines given back, each part of their money reversed in proportion and each supplier
concerned told. (A supplier cancelling lines it cannot ship is
:func:`.supplier_orders.cancel`.)"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session
from sqlmodel import col

from ..commissions import ledger
from ..errors import Conflict, NotFound, ValidationError
from ..orders import events
from ..orders.models import OrderLine, Refund, SupplierOrder
from ..orders.refunds import lock_order, request_refund
from ..orders.states import OrderStatus
from . import handoff


def refund_lines(
    session: Session,
    order_id: int,
    amounts: Mapping[int, int],
    reason: str,
    now: datetime,
    *,
    actor: str,
) -> Refund:
    """An after-sales refund of parts of a paid order's lines (``{line id: amount}``),
    decided by the platform: each part of each line's money is reversed in proportion
    (commissions from pending, or from available once settled), one refund is queued with
    the provider, and each supplier concerned is told (``order.refund_requested``)."""
    order = lock_order(session, order_id)
    if order.status not in (OrderStatus.PAID, OrderStatus.REFUNDED):
        raise Conflict(f"cannot refund lines of an order that is {order.status}")
    if not amounts or any(amount < 1 for amount in amounts.values()):
        raise ValidationError("give a positive amount for each line to refund")
    # The order's supplier orders first, then the lines (the order suppliers' own changes
    # lock them in that order), each in id order: a concurrent settle waits, or is waited for.
    settled = {
        part.id: part.settled_at is not None
        for part in session.scalars(
            sa.select(SupplierOrder)
            .where(col(SupplierOrder.order_id) == order_id)
            .order_by(col(SupplierOrder.id))
            .with_for_update()
        )
    }
    lines = {
        line.id: line
        for line in session.scalars(
            sa.select(OrderLine)
            .where(col(OrderLine.order_id) == order_id, col(OrderLine.id).in_(list(amounts)))
            .order_by(col(OrderLine.id))
            .with_for_update()
        )
    }
    for line_id, amount in sorted(amounts.items()):
        line = lines.get(line_id)
        if line is None:
            raise NotFound(f"order {order.number} has no line {line_id}")
        left = line.amount_minor - line.refunded_minor
        if amount > left:
            raise ValidationError(
                f"at most {left} (minor units) of line {line_id} is left to refund"
            )
        is_settled = settled.get(line.supplier_order_id or 0, False)
        ledger.reverse(session, line, order.currency, amount, now, settled=is_settled)
    total = sum(amounts.values())
    refund = request_refund(session, order, total, reason, now)
    events.record(
        session, order, "refund_lines", actor, {"lines": {str(k): v for k, v in amounts.items()}}
    )
    parts = {line.supplier_order_id for line in lines.values()}
    handoff.announce_refund(session, order, sorted(p for p in parts if p is not None), now)
    return refund
