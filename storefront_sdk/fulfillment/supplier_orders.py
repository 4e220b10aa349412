"""What a supplier does with its orders through the API: pull, accept, ship (in parts),
deliver, cancel lines (an order whose suppliers all cancelled gives its promotions' uses
back: :func:`..promotions.usage.give_back`). Every function is scoped to the calling
supplier: another supplier's order is :class:`~storefront_sdk.errors.NotFound`, as one that
does not exist.

Each action locks the supplier order's row (PostgreSQL), so two calls on one order apply
one after the other; what is allowed in which status is the transition table's business
(:mod:`storefront_sdk.orders.states`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session
from sqlmodel import col

from .. import signals
from ..commissions import ledger
from ..errors import NotFound, ValidationError
from ..orders import events
from ..orders.models import Order, OrderLine, Shipment, SupplierOrder
from ..orders.refunds import request_refund
from ..orders.states import SupplierOrderAction, SupplierOrderStatus, advance_supplier_order
from ..pricing.breakdown import units_amount
from ..promotions import usage
from ..validation import ErrorTree, add_error
from .handoff import new_id, supplier_order_lines, supplier_order_object

MAX_PAGE = 200


@dataclass(frozen=True, slots=True)
class LineQuantity:
    """``quantity`` units of the line with ``sku``."""

    sku: str
    quantity: int


def list_orders(
    session: Session,
    supplier_id: int,
    *,
    status: str | None,
    limit: int,
    cursor: int | None,
) -> tuple[list[dict[str, Any]], int | None]:
    """A page of the supplier's orders, oldest first, and the cursor of the next page."""
    query = (
        sa.select(SupplierOrder)
        .where(col(SupplierOrder.supplier_id) == supplier_id)
        .order_by(col(SupplierOrder.id))
        .limit(limit + 1)
    )
    if status is not None:
        query = query.where(col(SupplierOrder.status) == status)
    if cursor is not None:
        query = query.where(col(SupplierOrder.id) > cursor)
    found = list(session.scalars(query))
    page = found[:limit]
    next_cursor = page[-1].id if len(found) > limit and page else None
    return [supplier_order_object(session, part) for part in page], next_cursor


def get_order(session: Session, supplier_id: int, public_id: str) -> dict[str, Any]:
    return supplier_order_object(session, _find(session, supplier_id, public_id, lock=False))


def _find(session: Session, supplier_id: int, public_id: str, *, lock: bool) -> SupplierOrder:
    query = sa.select(SupplierOrder).where(
        col(SupplierOrder.public_id) == public_id,
        col(SupplierOrder.supplier_id) == supplier_id,
    )
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    part = session.scalars(query).first()
    if part is None:
        raise NotFound(f"no order {public_id!r}")
    return part


def units_left(line: OrderLine) -> int:
    """Units of ``line`` neither shipped nor cancelled, nor returned before shipping (the
    platform refunded those: they are not shipped or cancelled any more)."""
    return (
        line.quantity
        - line.shipped_quantity
        - line.cancelled_quantity
        - line.returned_unshipped_quantity
    )


def move_part(part: SupplierOrder, action: SupplierOrderAction, now: datetime) -> None:
    """Moves the supplier order by ``action`` (refused when its status does not allow it)."""
    part.status = advance_supplier_order(part.status, action)
    part.updated_at = now


def announce(
    session: Session, signal: Any, order: Order, part: SupplierOrder, **extra: Any
) -> None:
    """Sends ``signal`` about the supplier order after commit."""
    signals.send_after_commit(
        session,
        signal,
        order_id=order.id,
        order_number=order.number,
        supplier_order_id=part.public_id,
        supplier_id=part.supplier_id,
        **extra,
    )


def accept(session: Session, supplier_id: int, public_id: str, now: datetime) -> dict[str, Any]:
    """Accept the order (idempotent): from now on the supplier's stock reports made after
    this moment include its units."""
    part = _find(session, supplier_id, public_id, lock=True)
    if part.accepted_at is not None:  # a repeat: nothing changes (409 if it is too late)
        advance_supplier_order(part.status, SupplierOrderAction.ACCEPT)
        return supplier_order_object(session, part)
    move_part(part, SupplierOrderAction.ACCEPT, now)
    part.accepted_at = now
    order = session.get_one(Order, part.order_id)
    events.record(session, order, "accepted", f"supplier:{supplier_id}", supplier_order=part)
    announce(session, signals.supplier_order_accepted, order, part)
    session.add(part)
    session.flush()
    return supplier_order_object(session, part)


def ship(
    session: Session,
    supplier_id: int,
    public_id: str,
    carrier: str,
    tracking_number: str,
    lines: Sequence[LineQuantity] | None,
    now: datetime,
) -> dict[str, Any]:
    """Record a shipment of ``lines`` (default: everything not yet shipped or cancelled).
    Shipping more than is left of a line → :class:`ValidationError` naming it."""
    part = _find(session, supplier_id, public_id, lock=True)
    advance_supplier_order(part.status, SupplierOrderAction.SHIP_PART)  # 409 if shipped...
    order_lines = supplier_order_lines(session, part)
    wanted = _wanted(order_lines, lines, "lines")
    if not wanted:
        raise ValidationError("nothing is left to ship in this order")
    for line in order_lines:
        line.shipped_quantity += wanted.get(line.sku, 0)
        session.add(line)
    rest = sum(units_left(line) for line in order_lines)
    action = SupplierOrderAction.SHIP_PART if rest else SupplierOrderAction.SHIP_REST
    move_part(part, action, now)
    if part.accepted_at is None:
        part.accepted_at = now  # shipping accepts on the way
    shipment = Shipment(
        public_id=new_id("shp"),
        supplier_order_id=part.id or 0,
        carrier=carrier,
        tracking_number=tracking_number,
        lines=[{"sku": sku, "quantity": n} for sku, n in wanted.items()],
        shipped_at=now,
    )
    session.add_all([part, shipment])
    session.flush()
    order = session.get_one(Order, part.order_id)
    events.record(
        session,
        order,
        "shipped",
        f"supplier:{supplier_id}",
        {"shipment": shipment.public_id, "carrier": carrier, "tracking_number": tracking_number},
        supplier_order=part,
    )
    announce(session, signals.supplier_order_shipped, order, part, shipment_id=shipment.public_id)
    return supplier_order_object(session, part, order, order_lines)


def deliver(session: Session, supplier_id: int, public_id: str, now: datetime) -> dict[str, Any]:
    """Mark the shipped order delivered (the return window starts)."""
    part = _find(session, supplier_id, public_id, lock=True)
    move_part(part, SupplierOrderAction.DELIVER, now)
    part.delivered_at = now
    session.add(part)
    session.flush()
    order = session.get_one(Order, part.order_id)
    events.record(session, order, "delivered", f"supplier:{supplier_id}", supplier_order=part)
    announce(session, signals.supplier_order_delivered, order, part)
    return supplier_order_object(session, part, order)


def cancel(
    session: Session,
    supplier_id: int,
    public_id: str,
    reason: str,
    lines: Sequence[LineQuantity] | None,
    now: datetime,
) -> dict[str, Any]:
    """Cancel unshipped ``lines`` (default: all of them) and refund the consumer for them
    (with the part's shipping fee when nothing of it is left to ship)."""
    part = _find(session, supplier_id, public_id, lock=True)
    advance_supplier_order(part.status, SupplierOrderAction.CANCEL_PART)  # 409 if shipped...
    order_lines = supplier_order_lines(session, part)
    wanted = _wanted(order_lines, lines, "lines")
    if not wanted:
        raise ValidationError("nothing is left to cancel in this order")
    detail = _cancel_lines(session, part, order_lines, wanted, now)
    amount = sum(item["amount"] for item in detail)
    rest = sum(units_left(line) for line in order_lines)
    shipped = any(line.shipped_quantity for line in order_lines)
    if rest:
        action = SupplierOrderAction.CANCEL_PART
    else:
        action = SupplierOrderAction.CANCEL_REST if shipped else SupplierOrderAction.CANCEL_ALL
    move_part(part, action, now)
    if part.status == SupplierOrderStatus.CANCELLED:
        part.cancelled_at = now
        amount += part.shipping_minor
    part.cancel_reason = reason[:500] or None
    session.add(part)
    session.flush()
    order = session.get_one(Order, part.order_id)
    events.record(
        session,
        order,
        "cancelled_lines",
        f"supplier:{supplier_id}",
        {"lines": wanted, "reason": reason[:500], "refund": amount},
        supplier_order=part,
    )
    if amount:
        request_refund(
            session,
            order,
            amount,
            f"cancelled by the supplier: {reason}",
            now,
            supplier_order_id=part.id,
            lines=detail,
        )
    if part.status == SupplierOrderStatus.CANCELLED:
        announce(session, signals.supplier_order_cancelled, order, part)
        if wholly_cancelled(session, order.id or 0):
            # Its promotions' uses, counters and flash units go back; the order's stock
            # stays as a supplier's cancellation leaves it (not released).
            usage.give_back(session, order.id or 0, now)
    return supplier_order_object(session, part, order, order_lines)


def wholly_cancelled(session: Session, order_id: int) -> bool:
    """Whether every supplier order of the order is cancelled."""
    statuses = set(
        session.scalars(
            sa.select(col(SupplierOrder.status)).where(col(SupplierOrder.order_id) == order_id)
        )
    )
    return statuses == {SupplierOrderStatus.CANCELLED}


def _cancel_lines(
    session: Session,
    part: SupplierOrder,
    order_lines: list[OrderLine],
    wanted: dict[str, int],
    now: datetime,
) -> list[dict[str, Any]]:
    """Cancel ``wanted`` units (per SKU): the consumer gets these units' share of what the
    line cost them, its discounts included (:func:`units_back`; no more than is left of the
    line after earlier refunds), each part of it reversed; the refund's per-line detail."""
    detail: list[dict[str, Any]] = []
    for line in order_lines:
        units = wanted.get(line.sku, 0)
        if not units:
            continue
        back = min(units_back(line, units), line.amount_minor - line.refunded_minor)
        line.cancelled_quantity += units
        deducted_supply = 0
        if back:
            settled = part.settled_at is not None
            parts = ledger.reverse(session, line, part.currency, back, now, settled=settled)
            deducted_supply = parts.supplier
        else:
            session.add(line)
        detail.append(
            {
                "line_id": line.id,
                "sku": line.sku,
                "quantity": units,
                "amount": back,
                "supply_deducted": deducted_supply,
            }
        )
    return detail


def units_back(line: OrderLine, units: int) -> int:
    """What ``units`` more units of ``line`` given back (cancelled or returned) are worth:
    their share of the line's own net amount (:func:`.breakdown.units_amount`), after the
    units already given back; goodwill refunds do not count as units."""
    before = line.cancelled_quantity + line.returned_quantity
    return units_amount(line.amount_minor, line.quantity, before, units)


def _wanted(
    order_lines: list[OrderLine], lines: Sequence[LineQuantity] | None, field: str
) -> dict[str, int]:
    """Units per SKU to act on: ``lines`` checked against what each line has left, or
    everything left when ``lines`` is ``None``."""
    left = {line.sku: units_left(line) for line in order_lines}
    if lines is None:
        return {sku: n for sku, n in left.items() if n > 0}
    errors: ErrorTree = {}
    wanted: dict[str, int] = {}
    for index, item in enumerate(lines):
        if item.sku not in left:
            add_error(errors, ["json", field, index, "sku"], f"This order has no SKU {item.sku!r}.")
            continue
        wanted[item.sku] = wanted.get(item.sku, 0) + item.quantity
        if wanted[item.sku] > left[item.sku]:
            add_error(
                errors,
                ["json", field, index, "quantity"],
                f"Only {left[item.sku]} unit(s) of {item.sku!r} are left to ship or cancel.",
            )
    if errors:
        raise ValidationError("some lines cannot be changed; nothing was written", errors=errors)
    return wanted
