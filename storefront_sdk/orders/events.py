"""The audit trail of orders (:class:`~.models.OrderEvent`): appended, never changed."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from .models import Order, OrderEvent, SupplierOrder


def record(
    session: Session,
    order: Order,
    kind: str,
    actor: str,
    detail: dict[str, Any] | None = None,
    *,
    supplier_order: SupplierOrder | None = None,
) -> None:
    """Append ``kind`` (done by ``actor``) to ``order``'s history."""
    session.add(
        OrderEvent(
            order_id=order.id or 0,
            supplier_order_id=supplier_order.id if supplier_order is not None else None,
            kind=kind,
            actor=actor,
            detail=detail or {},
        )
    )
