"""The handoff: a paid order split into one supplier order per supplier, each announced to
its supplier through the outbox, in the transaction that marks the order paid
(``docs/architecture.md``, invariant 4). Also the supplier order as the supplier sees it,
the same in the pull API and in webhooks: no retail price, no distributor, nothing of what
the consumer paid for a line nor of the discounts other funders gave on it; each line shows
what the supplier is paid for it (``supply_amount``) and the discounts of the supplier's own
promotions on it (``discounts``, ``growth.md`` "Who pays").
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session
from sqlmodel import col

from ..orders.models import Order, OrderLine, OrderLineDiscount, Refund, Shipment, SupplierOrder
from ..orders.states import SupplierOrderStatus
from ..pricing.breakdown import reversed_parts, stored_parts
from ..promotions.models import SUPPLIER, Promotion
from ..sql import table_of
from .models import PENDING, OutboxEvent

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


@dataclass(frozen=True, slots=True)
class Handoff:
    """What :func:`split` made: the supplier orders' public ids, and the order's lines
    (rows with their split, for the commission ledger)."""

    parts: list[str]
    lines: list[Any]


def split(session: Session, order: Any, now: datetime) -> Handoff:
    """Make the supplier orders (``pending``) of the paid ``order`` (an :class:`Order`, or
    a row with its columns) and queue ``order.created`` for each. Three statements
    whatever the number of suppliers (a fourth when the order carried discounts)."""
    supplier_ids = sorted(int(key) for key in order.shipping_parts)
    connection = session.connection()
    parts = connection.execute(
        _NEW_PARTS,
        [
            {
                "public_id": new_id("so"),
                "order_id": order.id,
                "supplier_id": supplier_id,
                "status": SupplierOrderStatus.PENDING,
                "currency": order.currency,
                "shipping_minor": order.shipping_parts[str(supplier_id)],
                "created_at": now,
                "updated_at": now,
            }
            for supplier_id in supplier_ids
        ],
    ).all()
    lines: dict[int, list[Any]] = {part.id: [] for part in parts}
    assigned = sorted(connection.execute(_ASSIGN_LINES, {"order": order.id}), key=_by_id)
    for line in assigned:
        if line.supplier_order_id not in lines:
            raise LookupError(f"order {order.id} has a line of a supplier it charged nothing")
        lines[line.supplier_order_id].append(line)
    discounts = supplier_discounts(session, [line.id for line in assigned], order.discount_minor)
    connection.execute(
        sa.insert(_outbox),
        [
            outbox_row(
                part,
                ORDER_CREATED,
                now,
                order=order,
                lines=lines[part.id],
                shipments=[],
                discounts=discounts,
            )
            for part in parts
        ],
    )
    return Handoff([part.public_id for part in parts], assigned)


_supplier_order = table_of(SupplierOrder)
_line = table_of(OrderLine)
_outbox = table_of(OutboxEvent)
_discount = table_of(OrderLineDiscount)
_promotion = table_of(Promotion)
_NEW_PARTS = sa.insert(_supplier_order).returning(*_supplier_order.c, sort_by_parameter_order=True)
#: Each line of an order joins its supplier's part (the supplier order of its supplier).
_ASSIGN_LINES = (
    sa.update(_line)
    .where(_line.c.order_id == sa.bindparam("order"))
    .values(
        supplier_order_id=sa.select(_supplier_order.c.id)
        .where(
            _supplier_order.c.order_id == _line.c.order_id,
            _supplier_order.c.supplier_id == _line.c.supplier_id,
        )
        .scalar_subquery()
    )
    .returning(
        *(
            _line.c[name]
            for name in (
                "id",
                "supplier_order_id",
                "sku",
                "external_id",
                "title",
                "options",
                "quantity",
                "supply_price_minor",
                "supply_amount_minor",
                "supplier_discount_minor",
                "shipped_quantity",
                "cancelled_quantity",
                "returned_quantity",
                "returned_unshipped_quantity",
                "refunded_minor",
                "platform_minor",
                "level1_distributor_id",
                "level1_minor",
                "level2_distributor_id",
                "level2_minor",
            )
        )
    )
)


def _by_id(row: Any) -> int:
    return int(row.id)


def queue(
    session: Session,
    part: SupplierOrder,
    event_type: str,
    now: datetime,
    *,
    order: Order | None = None,
    lines: Sequence[OrderLine] | None = None,
    shipments: Sequence[Shipment] | None = None,
    refund: dict[str, Any] | None = None,
) -> OutboxEvent:
    """Write an event about ``part`` to the outbox (delivered by ``flask storefront
    dispatch``); its body carries the supplier order as it is now (and, for
    ``order.refund_requested``, the ``refund`` it reports)."""
    event = OutboxEvent(
        **outbox_row(
            part,
            event_type,
            now,
            body=supplier_order_object(session, part, order, lines, shipments),
            refund=refund,
        )
    )
    session.add(event)
    return event


def outbox_row(
    part: Any,
    event_type: str,
    now: datetime,
    *,
    body: dict[str, Any] | None = None,
    order: Any = None,
    lines: Sequence[Any] = (),
    shipments: Sequence[Any] = (),
    refund: dict[str, Any] | None = None,
    discounts: Mapping[int, list[dict[str, Any]]] | None = None,
) -> dict[str, Any]:
    """The ``sf_outbox_event`` row of an event about ``part``: its body is the supplier
    order ``body`` (else built from ``order``, ``lines``, ``shipments`` and the lines'
    supplier-funded ``discounts``), with ``data.refund`` when a ``refund`` is given."""
    event_id = new_id("evt")
    data = (
        body
        if body is not None
        else supplier_order_fields(part, order, lines, shipments, discounts or {})
    )
    payload: dict[str, Any] = {"object": data}
    if refund is not None:
        payload["refund"] = refund
    document = {
        "id": event_id,
        "type": event_type,
        "created": rfc3339(now),
        "data": payload,
    }
    return {
        "event_id": event_id,
        "supplier_id": part.supplier_id,
        "supplier_order_id": part.id,
        "type": event_type,
        "body": json.dumps(document, ensure_ascii=False, separators=(",", ":")),
        "status": PENDING,
        "attempts": 0,
        "next_attempt_at": now,
        "created_at": now,
    }


def announce_refund(session: Session, order: Order, refund: Refund, now: datetime) -> None:
    """Queue ``order.refund_requested`` (after-sales) to the supplier of each part the
    refund's lines belong to, with that supplier's lines of the refund (``data.refund``)."""
    by_line = {item["line_id"]: item for item in refund.lines}
    lines = [line for line in order_lines(session, order.id or 0) if line.id in by_line]
    for part in session.scalars(
        sa.select(SupplierOrder)
        .where(col(SupplierOrder.id).in_({line.supplier_order_id for line in lines}))
        .order_by(col(SupplierOrder.id))
    ):
        mine = [by_line[line.id] for line in lines if line.supplier_order_id == part.id]
        detail = {
            "kind": refund.kind,
            "reason": refund.reason,
            "amount": sum(item["amount"] for item in mine),
            "supply_deducted": sum(item["supply_deducted"] for item in mine),
            "lines": [
                {key: item[key] for key in ("sku", "quantity", "amount", "supply_deducted")}
                for item in mine
            ],
        }
        queue(session, part, ORDER_REFUND_REQUESTED, now, order=order, refund=detail)


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
    """The supplier order as ``supplier-api.md`` shows it (pull API and webhooks alike);
    what is not given is read."""
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
    discounts = supplier_discounts(session, [line.id or 0 for line in lines], order.discount_minor)
    return supplier_order_fields(part, order, lines, shipments, discounts)


def supplier_discounts(
    session: Session, line_ids: Sequence[int], order_discount: int = 1
) -> dict[int, list[dict[str, Any]]]:
    """The discounts the supplier's own promotions gave on each of ``line_ids`` (``{line
    id: [{"promotion_id": its public id, "amount": minor units}]}``, in promotion order);
    other funders' discounts are never shown to a supplier. Nothing is read for an order
    without discounts (``order_discount`` 0)."""
    if not line_ids or not order_discount:
        return {}
    rows = session.execute(
        sa.select(_discount.c.order_line_id, _promotion.c.public_id, _discount.c.amount_minor)
        .join(_promotion, _promotion.c.id == _discount.c.promotion_id)
        .where(_discount.c.order_line_id.in_(line_ids), _discount.c.funder == SUPPLIER)
        .order_by(_discount.c.order_line_id, _discount.c.promotion_id)
    )
    found: dict[int, list[dict[str, Any]]] = {}
    for line_id, public_id, amount in rows:
        found.setdefault(line_id, []).append({"promotion_id": public_id, "amount": amount})
    return found


def supply_deducted(line: Any) -> int:
    """The supplier's share of what was refunded of ``line`` so far (a model or a row with
    its columns): what its statement deducts (:func:`.reversed_parts` of the line's
    :func:`.stored_parts`)."""
    return reversed_parts(stored_parts(line), line.refunded_minor).supplier


def supplier_order_fields(
    part: Any,
    order: Any,
    lines: Sequence[Any],
    shipments: Sequence[Any],
    discounts: Mapping[int, list[dict[str, Any]]],
) -> dict[str, Any]:
    """:func:`supplier_order_object` of models or rows with their columns, and the lines'
    supplier-funded ``discounts`` (:func:`supplier_discounts`)."""
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
                "supply_amount": line.supply_amount_minor,
                "discounts": list(discounts.get(line.id, [])),
                "shipped_quantity": line.shipped_quantity,
                "cancelled_quantity": line.cancelled_quantity,
                "returned_quantity": line.returned_quantity,
                "returned_unshipped_quantity": line.returned_unshipped_quantity,
                "refunded_amount": line.refunded_minor,
                "supply_deducted": supply_deducted(line),
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
