"""Where an order is, as its pages say it: its own status until it is paid, then what its
supplier parts tell (every part delivered: delivered; some shipped: partly shipped), and
whether its last payment attempt was declined.

The order's stored status stays what :mod:`.states` makes it (``paid`` through fulfilment);
the consumer, the distributor and the platform read the status :func:`display_status`
derives from it and the parts, so the three pages always agree.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import sqlalchemy as sa
from sqlalchemy.orm import Session
from sqlmodel import col

from .models import OrderEvent, SupplierOrder
from .states import OrderStatus, SupplierOrderStatus, is_final

_S = SupplierOrderStatus
#: Parts whose goods have left the supplier.
_SHIPPED = frozenset({_S.PARTIALLY_SHIPPED, _S.SHIPPED, _S.DELIVERED})
#: The events that say how the latest payment attempt ended.
_PAYMENT_OUTCOMES = ("payment_failed", "payment_processing", "paid")


def display_status(status: OrderStatus | str, parts: Iterable[SupplierOrderStatus | str]) -> str:
    """What an order in ``status`` whose supplier parts are in ``parts`` is shown as: its own
    status but when it is paid, then ``delivered`` (every part not cancelled delivered),
    ``shipped`` (all shipped, some maybe delivered), ``partially_shipped`` (some goods on
    their way), ``accepted`` (a supplier is preparing it), ``cancelled`` (every part
    cancelled) or ``paid`` (waiting for the suppliers)."""
    if OrderStatus(status) is not OrderStatus.PAID:
        return OrderStatus(status).value
    all_parts = [SupplierOrderStatus(part) for part in parts]
    live = [part for part in all_parts if part is not _S.CANCELLED]
    if not all_parts:
        return OrderStatus.PAID.value
    if not live:
        return OrderStatus.CANCELLED.value
    if all(part is _S.DELIVERED for part in live):
        return _S.DELIVERED.value
    if all(part in (_S.SHIPPED, _S.DELIVERED) for part in live):
        return _S.SHIPPED.value
    if any(part in _SHIPPED for part in live):
        return _S.PARTIALLY_SHIPPED.value
    if any(part is _S.ACCEPTED for part in live):
        return _S.ACCEPTED.value
    return OrderStatus.PAID.value


def is_moving(status: OrderStatus | str, parts: Iterable[SupplierOrderStatus | str]) -> bool:
    """Whether the order's page may still change by itself: a payment settling, or a paid
    order with a part not delivered or cancelled yet (or not yet split into parts)."""
    order_status = OrderStatus(status)
    if order_status is OrderStatus.PROCESSING:
        return True
    if order_status is not OrderStatus.PAID:
        return False
    found = [SupplierOrderStatus(part) for part in parts]
    return not found or not all(is_final(part) for part in found)


def display_statuses(session: Session, orders: Sequence[tuple[int, str]]) -> dict[int, str]:
    """:func:`display_status` of each ``(order id, status)``, by order id (one query for the
    parts of them all)."""
    paid = [order_id for order_id, status in orders if status == OrderStatus.PAID]
    parts: dict[int, list[str]] = {}
    if paid:
        rows = session.execute(
            sa.select(col(SupplierOrder.order_id), col(SupplierOrder.status)).where(
                col(SupplierOrder.order_id).in_(paid)
            )
        )
        for order_id, part_status in rows:
            parts.setdefault(order_id, []).append(part_status)
    return {
        order_id: display_status(status, parts.get(order_id, ())) for order_id, status in orders
    }


def payment_declined(session: Session, order_id: int, status: OrderStatus | str) -> bool:
    """Whether the last payment attempt of the order (still awaiting payment) was declined."""
    if OrderStatus(status) is not OrderStatus.AWAITING_PAYMENT:
        return False
    last = session.scalar(
        sa.select(col(OrderEvent.kind))
        .where(col(OrderEvent.order_id) == order_id, col(OrderEvent.kind).in_(_PAYMENT_OUTCOMES))
        .order_by(col(OrderEvent.id).desc())
        .limit(1)
    )
    return last == "payment_failed"
