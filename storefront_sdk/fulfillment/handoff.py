"""The handoff: a paid order split into one supplier order per supplier, each announced to
its supplier through the outbox, in the transaction that marks the order paid (DESIGN.md
invariant 4). Also the supplier order as the supplier sees it, the same in the pull API and
in webhooks: no retail price, no distributor.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import col

from ..orders.models import Order, OrderLine, Shipment, SupplierOrder
from ..orders.states import SupplierOrderStatus
from .models import OutboxEvent

#: Event types (``webhooks.md``).
ORDER_CREATED = "order.created"
ORDER_CANCELLED = "order.cancelled"
ORDER_REFUND_REQUESTED = "order.refund_requested"


def new_id(prefix: str) -> str:
    """A public identifier: ``prefix`` + 24 random URL-safe characters."""
    return f"{prefix}_{secrets.token_urlsafe(18)}"


def rfc3339(moment: datetime | None) -> str | None:
    """``2026-11-23T10:00:00Z`` (UTC, whole seconds), as the API writes times."""
    return None if moment is None else moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def split(session: Session, order: Order, now: datetime) -> list[SupplierOrder]:
    """Make ``order``'s supplier orders (``pending``) and queue ``order.created`` for each."""
    lines = order_lines(session, order.id or 0)
    by_supplier: dict[int, list[OrderLine]] = {}
    for line in lines:
        by_supplier.setdefault(line.supplier_id, []).append(line)
    made = []
    for supplier_id, supplier_lines in sorted(by_supplier.items()):
        part = SupplierOrder(
            public_id=new_id("so"),
            order_id=order.id or 0,
            supplier_id=supplier_id,
            status=SupplierOrderStatus.PENDING,
            currency=order.currency,
            shipping_minor=order.shipping_parts.get(str(supplier_id), 0),
            created_at=now,
            updated_at=now,
        )
        session.add(part)
        session.flush()
        session.execute(
            sa.update(OrderLine)
            .where(col(OrderLine.id).in_([line.id for line in supplier_lines]))
            .values(supplier_order_id=part.id),
            execution_options={"synchronize_session": False},
        )
        for line in supplier_lines:  # (what the UPDATE wrote, without a reload)
            set_committed_value(line, "supplier_order_id", part.id)
        queue(session, part, ORDER_CREATED, now, order=order, lines=supplier_lines, shipments=[])
        made.append(part)
    return made


def queue(
    session: Session,
    part: SupplierOrder,
    event_type: str,
    now: datetime,
    *,
    order: Order | None = None,
    lines: Sequence[OrderLine] | None = None,
    shipments: Sequence[Shipment] | None = None,
) -> OutboxEvent:
    """Write an event about ``part`` to the outbox (delivered by ``flask storefront
    dispatch``); its body carries the supplier order as it is now."""
    event_id = new_id("evt")
    body = {
        "id": event_id,
        "type": event_type,
        "created": rfc3339(now),
        "data": {"object": supplier_order_object(session, part, order, lines, shipments)},
    }
    event = OutboxEvent(
        event_id=event_id,
        supplier_id=part.supplier_id,
        supplier_order_id=part.id,
        type=event_type,
        body=json.dumps(body, ensure_ascii=False, separators=(",", ":")),
        next_attempt_at=now,
        created_at=now,
    )
    session.add(event)
    return event


def supplier_order_lines(session: Session, part: SupplierOrder) -> list[OrderLine]:
    """The lines of supplier order ``part``, in order."""
    return list(
        session.scalars(
            sa.select(OrderLine)
            .where(col(OrderLine.supplier_order_id) == part.id)
            .order_by(col(OrderLine.id))
        )
    )


def order_lines(session: Session, order_id: int) -> list[OrderLine]:
    """The lines of order ``order_id``, in order."""
    return list(
        session.scalars(
            sa.select(OrderLine)
            .where(col(OrderLine.order_id) == order_id)
            .order_by(col(OrderLine.id))
        )
    )


def supplier_order_object(
    session: Session,
    part: SupplierOrder,
    order: Order | None = None,
    lines: Sequence[OrderLine] | None = None,
    shipments: Sequence[Shipment] | None = None,
) -> dict[str, Any]:
    """The supplier order as ``supplier-api.md`` shows it (pull API and webhooks alike)."""
    if order is None:
        order = session.get_one(Order, part.order_id)
    if lines is None:
        lines = supplier_order_lines(session, part)
    if shipments is None:
        shipments = list(
            session.scalars(
                sa.select(Shipment)
                .where(col(Shipment.supplier_order_id) == part.id)
                .order_by(col(Shipment.id))
            )
        )
    return {
        "id": part.public_id,
        "order_number": order.number,
        "status": part.status,
        "currency": part.currency,
        "created_at": rfc3339(part.created_at),
        "updated_at": rfc3339(part.updated_at),
        "lines": [
            {
                "sku": line.sku,
                "external_id": line.external_id,
                "title": line.title,
                "options": line.options,
                "quantity": line.quantity,
                "supply_price": line.supply_price_minor,
                "shipped_quantity": line.shipped_quantity,
                "cancelled_quantity": line.cancelled_quantity,
            }
            for line in lines
        ],
        "shipping_address": dict(order.shipping_address),
        "contact_phone": order.contact_phone or order.shipping_address.get("phone") or None,
        "shipments": [
            {
                "id": shipment.public_id,
                "carrier": shipment.carrier,
                "tracking_number": shipment.tracking_number,
                "lines": shipment.lines,
                "shipped_at": rfc3339(shipment.shipped_at),
            }
            for shipment in shipments
        ],
        "accepted_at": rfc3339(part.accepted_at),
        "delivered_at": rfc3339(part.delivered_at),
        "cancelled_at": rfc3339(part.cancelled_at),
        "cancel_reason": part.cancel_reason,
    }
