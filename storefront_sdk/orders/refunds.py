"""Refunds owed to consumers: queued here in the transaction that decides them, made with
the payment provider after commit (:func:`storefront_sdk.payments.service.run_refunds`),
then recorded on the order (:func:`record_refund`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from .. import signals
from ..promotions import usage
from . import events
from .models import REFUND_CANCELLED, REFUND_GOODWILL, REFUND_PENDING, Order, Refund
from .states import OrderAction, OrderStatus, advance_order


def lock_order(session: Session, order_id: int) -> Order:
    """The order, locked for this transaction (PostgreSQL; SQLite writers are serial)."""
    return session.get_one(Order, order_id, with_for_update=True, populate_existing=True)


def request_refund(
    session: Session,
    order: Order,
    amount_minor: int,
    reason: str,
    now: datetime,
    *,
    supplier_order_id: int | None = None,
    kind: str | None = None,
    lines: list[dict[str, Any]] | None = None,
    form_key: str | None = None,
) -> Refund:
    """Queue a refund of ``amount_minor``: made with the provider after commit by
    :func:`storefront_sdk.payments.service.run_refunds` (retried until the provider takes
    it). ``kind`` (default: ``cancelled`` for a supplier order's refund, else
    ``goodwill``), its per-line ``lines`` and the ``form_key`` that asked for it are
    recorded with it."""
    if kind is None:
        kind = REFUND_CANCELLED if supplier_order_id is not None else REFUND_GOODWILL
    refund = Refund(
        order_id=order.id or 0,
        supplier_order_id=supplier_order_id,
        amount_minor=amount_minor,
        currency=order.currency,
        reason=reason[:500],
        kind=kind,
        lines=lines or [],
        form_key=form_key,
        status=REFUND_PENDING,
        next_attempt_at=now,
        created_at=now,
        updated_at=now,
    )
    session.add(refund)
    session.flush()
    events.record(
        session, order, "refund_requested", "system", {"amount": amount_minor, "kind": kind}
    )
    return refund


def record_refund(session: Session, order: Order, refund: Refund, now: datetime) -> None:
    """What a refund the provider made changes: the order's refunded amount (``refunded``
    once all of it went back, its promotions' uses then given back), the audit trail and
    ``order_refunded`` after commit."""
    order = lock_order(session, order.id or 0)
    order.refunded_minor = min(order.total_minor, order.refunded_minor + refund.amount_minor)
    if order.refunded_minor == order.total_minor and order.status == OrderStatus.PAID:
        order.status = advance_order(order.status, OrderAction.REFUND_ALL)
        # Refunded in full: its promotions' uses and counters go back (each once).
        usage.give_back(session, order.id or 0, now)
    order.updated_at = now
    session.add(order)
    events.record(
        session, order, "refunded", "system", {"amount": refund.amount_minor, "refund": refund.id}
    )
    signals.send_after_commit(
        session,
        signals.order_refunded,
        order_id=order.id,
        order_number=order.number,
        refund_id=refund.id,
        amount_minor=refund.amount_minor,
        currency=refund.currency,
    )
