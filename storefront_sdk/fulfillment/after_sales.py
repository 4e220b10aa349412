"""After-sales refunds the platform decides (``/admin/`` orders): parts of a paid order's
lines given back, each part of their money reversed in proportion and each supplier
concerned told. (A supplier cancelling lines it cannot ship is
:func:`.supplier_orders.cancel`.)

A refund says what it is for. **Returned units** (:func:`refund_returned_units`) give
back those units' share of the line's net amount (its discounts frozen on it); they can
then be neither cancelled by the supplier nor refunded again (``returned_quantity``). A
**goodwill** amount (:func:`refund_lines`) gives back money and no unit: the units stay
the supplier's to ship or cancel, and a later cancellation refunds no more than is left of
the line.

A form's one-time key (``form_key``) makes a double submit one refund: the key is looked
up after the order is locked, so a repeat (even a concurrent one) finds the first refund
and changes nothing; a unique key on the table backs that up.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session
from sqlmodel import col

from .. import signals
from ..commissions import ledger
from ..errors import Conflict, NotFound, ValidationError
from ..money import Money, format_money
from ..orders import events
from ..orders.models import (
    REFUND_GOODWILL,
    REFUND_RETURNED,
    Order,
    OrderLine,
    Refund,
    SupplierOrder,
)
from ..orders.refunds import lock_order, request_refund
from ..orders.states import (
    OrderStatus,
    SupplierOrderAction,
    SupplierOrderStatus,
)
from . import handoff
from .supplier_orders import announce, move_part, units_back, units_left

#: Supplier orders that still have units to ship.
OPEN_PARTS = (
    SupplierOrderStatus.PENDING,
    SupplierOrderStatus.ACCEPTED,
    SupplierOrderStatus.PARTIALLY_SHIPPED,
)


class RefundTooLarge(ValidationError):
    """More than is left of a line to refund; ``left`` is what is left (``Money``)."""

    def __init__(self, line_id: int, left: Money) -> None:
        super().__init__(f"at most {format_money(left)} of line {line_id} is left to refund")
        self.line_id = line_id
        self.left = left


class TooManyUnits(ValidationError):
    """More units than a line has left to return (``left``: units neither cancelled nor
    returned, and the supplier is told ``order.cancelled``)."""

    def __init__(self, line_id: int, left: int) -> None:
        super().__init__(f"only {left} unit(s) of line {line_id} are left to return")
        self.line_id = line_id
        self.left = left


def refund_lines(
    session: Session,
    order_id: int,
    amounts: Mapping[int, int],
    reason: str,
    now: datetime,
    *,
    actor: str,
    form_key: str | None = None,
) -> Refund:
    """A goodwill refund of amounts of a paid order's lines (``{line id: minor units}``),
    decided by the platform: each part of each line's money is reversed in proportion
    (commissions from pending, or from available once settled), one refund is queued with
    the provider, and each supplier concerned is told (``order.refund_requested``). No
    unit is given back."""
    order = lock_order(session, order_id)
    repeated = _repeated(session, order, form_key)
    if repeated is not None:
        return repeated
    if not amounts or any(amount < 1 for amount in amounts.values()):
        raise ValidationError("give a positive amount for each line to refund")
    lines = _lock_lines(session, order, list(amounts))
    wanted = {line_id: (0, amount) for line_id, amount in amounts.items()}
    return _refund(session, order, lines, wanted, REFUND_GOODWILL, reason, now, actor, form_key)


def refund_returned_units(
    session: Session,
    order_id: int,
    units: Mapping[int, int],
    reason: str,
    now: datetime,
    *,
    actor: str,
    form_key: str | None = None,
) -> Refund:
    """A refund of units returned (``{line id: units}``): each gives back its share of what
    the line cost the consumer, discounts included (:func:`.supplier_orders.units_back`; no
    more than is left of the line after earlier refunds), its parts reversed as in
    :func:`refund_lines`; the units count as returned and can be neither cancelled nor
    returned again (:class:`TooManyUnits` beyond what is left)."""
    order = lock_order(session, order_id)
    repeated = _repeated(session, order, form_key)
    if repeated is not None:
        return repeated
    if not units or any(count < 1 for count in units.values()):
        raise ValidationError("give a positive number of units for each line to refund")
    lines = _lock_lines(session, order, list(units))
    wanted: dict[int, tuple[int, int]] = {}
    for line_id, count in sorted(units.items()):
        line = _line(lines, order, line_id)
        left = line.quantity - line.cancelled_quantity - line.returned_quantity
        if count > left:
            raise TooManyUnits(line_id, left)
        wanted[line_id] = (
            count,
            min(units_back(line, count), line.amount_minor - line.refunded_minor),
        )
    return _refund(session, order, lines, wanted, REFUND_RETURNED, reason, now, actor, form_key)


def _repeated(session: Session, order: Order, form_key: str | None) -> Refund | None:
    """The refund this form (``form_key``) already made, if any: called with the order
    locked, so a concurrent repeat waits for the first and then finds it."""
    if order.status not in (OrderStatus.PAID, OrderStatus.REFUNDED):
        raise Conflict(f"cannot refund lines of an order that is {order.status}")
    if form_key is None:
        return None
    found: Refund | None = session.scalars(
        sa.select(Refund).where(col(Refund.order_id) == order.id, col(Refund.form_key) == form_key)
    ).first()
    return found


def _lock_lines(session: Session, order: Order, line_ids: list[int]) -> dict[int, OrderLine]:
    """The order's supplier orders first, then the lines (the order suppliers' own changes
    lock them in), each in id order: a concurrent settle waits, or is waited for."""
    session.scalars(
        sa.select(col(SupplierOrder.id))
        .where(col(SupplierOrder.order_id) == order.id)
        .order_by(col(SupplierOrder.id))
        .with_for_update()
    ).all()
    return {
        line.id or 0: line
        for line in session.scalars(
            sa.select(OrderLine)
            .where(col(OrderLine.order_id) == order.id, col(OrderLine.id).in_(line_ids))
            .order_by(col(OrderLine.id))
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    }


def _line(lines: Mapping[int, OrderLine], order: Order, line_id: int) -> OrderLine:
    line = lines.get(line_id)
    if line is None:
        raise NotFound(f"order {order.number} has no line {line_id}")
    return line


def _refund(
    session: Session,
    order: Order,
    lines: Mapping[int, OrderLine],
    wanted: Mapping[int, tuple[int, int]],
    kind: str,
    reason: str,
    now: datetime,
    actor: str,
    form_key: str | None,
) -> Refund:
    """Reverse ``wanted`` (``{line id: (units returned, amount)}``) line by line and queue
    one refund of ``kind`` with its per-line detail."""
    settled = _settled(session, order)
    detail = [
        _reverse_line(session, order, _line(lines, order, line_id), units, amount, now, settled)
        for line_id, (units, amount) in sorted(wanted.items())
    ]
    total = sum(item["amount"] for item in detail)
    if kind == REFUND_RETURNED:
        total += _close_emptied_parts(session, order, lines.values(), now, actor)
    if total < 1:
        raise RefundTooLarge(detail[0]["line_id"], Money(0, order.currency))
    refund = request_refund(
        session, order, total, reason, now, kind=kind, lines=detail, form_key=form_key
    )
    events.record(
        session,
        order,
        "refund_lines",
        actor,
        {"kind": kind, "lines": {str(item["line_id"]): item["amount"] for item in detail}},
    )
    handoff.announce_refund(session, order, refund, now)
    return refund


def _reverse_line(
    session: Session,
    order: Order,
    line: OrderLine,
    units: int,
    amount: int,
    now: datetime,
    settled: Mapping[int, bool],
) -> dict[str, Any]:
    """Give back ``amount`` of ``line`` (and count ``units`` of it returned); the line's
    detail in the refund, with the supplier's share deducted."""
    left = line.amount_minor - line.refunded_minor
    if amount > left:
        raise RefundTooLarge(line.id or 0, Money(left, order.currency))
    if units:
        # Returns take shipped units first; the rest had not left: they will not.
        shipped_kept = line.shipped_quantity - (
            line.returned_quantity - line.returned_unshipped_quantity
        )
        line.returned_unshipped_quantity += units - min(units, shipped_kept)
        line.returned_quantity += units
    deducted = 0
    if amount:
        is_settled = settled.get(line.supplier_order_id or 0, False)
        back = ledger.reverse(session, line, order.currency, amount, now, settled=is_settled)
        deducted = back.supplier
    session.add(line)
    return {
        "line_id": line.id,
        "sku": line.sku,
        "quantity": units,
        "amount": amount,
        "supply_deducted": deducted,
    }


def _close_emptied_parts(
    session: Session, order: Order, lines: Iterable[OrderLine], now: datetime, actor: str
) -> int:
    """Supplier orders of ``lines`` left with nothing to ship by units returned before
    shipping end as a supplier's cancellation of the rest would: ``shipped`` when some of
    it was shipped, else ``cancelled`` (its shipping fee then goes back too: the amount
    returned)."""
    shipping = 0
    for part_id in sorted({line.supplier_order_id for line in lines if line.supplier_order_id}):
        part = session.get_one(SupplierOrder, part_id)
        if part.status not in OPEN_PARTS:
            continue
        part_lines = handoff.supplier_order_lines(session, part)
        if sum(units_left(line) for line in part_lines):
            continue
        shipped = any(line.shipped_quantity for line in part_lines)
        action = SupplierOrderAction.CANCEL_REST if shipped else SupplierOrderAction.CANCEL_ALL
        move_part(part, action, now)
        if part.status == SupplierOrderStatus.CANCELLED:
            part.cancelled_at = now
            part.cancel_reason = "returned before shipping"
            shipping += part.shipping_minor
            handoff.queue(session, part, handoff.ORDER_CANCELLED, now, order=order)
            announce(session, signals.supplier_order_cancelled, order, part)
        session.add(part)
        events.record(
            session,
            order,
            "returned_before_shipping",
            actor,
            {"status": part.status},
            supplier_order=part,
        )
    return shipping


def _settled(session: Session, order: Order) -> dict[int, bool]:
    """Whether each supplier order of ``order`` has settled (its rows are locked)."""
    return {
        part_id or 0: settled_at is not None
        for part_id, settled_at in session.execute(
            sa.select(col(SupplierOrder.id), col(SupplierOrder.settled_at)).where(
                col(SupplierOrder.order_id) == order.id
            )
        )
    }
