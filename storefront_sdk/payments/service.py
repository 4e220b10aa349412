"""Payments applied to orders: the one place an order becomes paid.

An order becomes ``paid`` only from :func:`apply_payment`, fed by a verified provider event
(Stripe's signed webhook, a dev-mode button) or by the provider's answer to a server-side
retrieval, never by what the browser says. Applying the same state twice, or states out of
order, changes nothing the second time: ``succeeded`` wins over ``processing``, and nothing
moves a paid order back. Payment, split into supplier orders, outbox rows and customer
binding are one transaction (``docs/architecture.md``, invariant 4).
"""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.util import identity_key
from sqlmodel import col

from .. import signals
from ..commissions import ledger
from ..db import Commit
from ..fulfillment import handoff
from ..orders import events, refunds
from ..orders.models import (
    REFUND_FAILED,
    REFUND_LATE_PAYMENT,
    REFUND_PENDING,
    REFUND_SUCCEEDED,
    Order,
    Refund,
)
from ..orders.refunds import lock_order, request_refund
from ..orders.states import ORDER_TRANSITIONS, OrderAction, OrderStatus, advance_order
from ..referrals.binding import KEEP, BindingTerms, bind_customer
from ..sql import set_loaded, table_of
from .models import ProviderEvent
from .providers import (
    CANCELED,
    FAILED,
    OPEN,
    PROCESSING,
    SUCCEEDED,
    PaymentError,
    PaymentProvider,
    PaymentStart,
    PaymentState,
)

#: Retry delays of refunds the provider could not make (then every last one).
REFUND_RETRY_DELAYS = (timedelta(minutes=1), timedelta(minutes=10), timedelta(hours=1))


def start_payment(session: Session, order: Order, provider: PaymentProvider) -> PaymentStart:
    """The order's payment, started with the provider on first use (the same one after)."""
    if order.payment_ref is not None:
        return provider.resume(order.payment_ref)
    started = provider.start(
        order.total_minor, order.currency, order.token, key=f"storefront-order-{order.token}"
    )
    claimed = session.connection().execute(_CLAIM, {"order": order.id, "ref": started.ref})
    if claimed.rowcount != 1:
        # A twin request started one first: keep theirs, and drop ours unless the provider
        # gave us both the same one (Stripe does: the idempotency key is the order's).
        session.refresh(order)
        assert order.payment_ref is not None
        if started.ref != order.payment_ref:
            provider.cancel(started.ref)
        return provider.resume(order.payment_ref)
    set_loaded(order, payment_ref=started.ref)
    return started


_CLAIM = (
    sa.update(table_of(Order))
    .where(table_of(Order).c.id == sa.bindparam("order"), table_of(Order).c.payment_ref.is_(None))
    .values(payment_ref=sa.bindparam("ref"))
)


def seen_event(session: Session, provider: str, event_id: str, event_type: str) -> bool:
    """Records a provider event; ``True`` if it was already applied (a replay)."""
    try:
        with session.begin_nested():
            session.add(ProviderEvent(provider=provider, event_id=event_id, type=event_type))
            session.flush()
    except IntegrityError:
        return True
    return False


def record_refused_event(
    session: Session, provider: str, event_id: str, event_type: str, problem: str
) -> None:
    """Records a signed event refused for its shape, with its ``problem`` (once: a
    redelivery of the same event adds nothing)."""
    row = ProviderEvent(
        provider=provider, event_id=event_id[:255], type=event_type[:64], problem=problem[:255]
    )
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:
        pass  # recorded when it first came


def find_by_payment(session: Session, provider: str, ref: str) -> Order | None:
    """The order paid by the provider's payment ``ref``."""
    return session.scalars(
        sa.select(Order).where(
            col(Order.payment_provider) == provider,
            col(Order.payment_ref) == ref,
        )
    ).first()


def apply_payment(
    session: Session,
    order_id: int,
    state: PaymentState,
    *,
    actor: str,
    now: datetime,
    binding_days: int,
    binding_policy: str = KEEP,
) -> str:
    """Bring the order in line with its payment's ``state``; returns what happened
    (``paid``, ``processing``, ``failed``, ``late``, ``mismatch``, ``unchanged``). A paid
    order binds its customer for ``binding_days`` under ``binding_policy``
    (:mod:`storefront_sdk.referrals.binding`)."""
    if state.status == SUCCEEDED:
        paid = _pay_if_due(session, order_id, state, now)
        if paid is not None:
            _hand_off(session, paid, actor, now, BindingTerms(binding_days, binding_policy))
            return "paid"
    order = lock_order(session, order_id)
    if state.ref != order.payment_ref:
        return "unchanged"  # not this order's payment (or one it replaced)
    if state.amount_minor != order.total_minor or state.currency != order.currency:
        events.record(
            session,
            order,
            "payment_mismatch",
            actor,
            {"amount": state.amount_minor, "currency": state.currency},
        )
        return "mismatch"
    status = OrderStatus(order.status)
    if state.status == SUCCEEDED:
        # (Payable orders were paid above: this one is paid already, or ended.)
        if status in (OrderStatus.EXPIRED, OrderStatus.CANCELLED):
            # Money arrived for an order whose stock went back: give it back.
            request_refund(
                session,
                order,
                order.total_minor,
                "paid after the order ended",
                now,
                kind=REFUND_LATE_PAYMENT,
            )
            events.record(session, order, "late_payment", actor, {"ref": state.ref})
            return "late"
        return "unchanged"
    if state.status == PROCESSING and status == OrderStatus.AWAITING_PAYMENT:
        _move(session, order, OrderAction.PAYMENT_PROCESSING, now)
        events.record(session, order, "payment_processing", actor, {"ref": state.ref})
        return "processing"
    if state.status == FAILED and status in (
        OrderStatus.AWAITING_PAYMENT,
        OrderStatus.PROCESSING,
    ):
        _move(session, order, OrderAction.PAYMENT_FAILED, now)
        events.record(session, order, "payment_failed", actor, {"reason": state.failure})
        return "failed"
    return "unchanged"


def _move(session: Session, order: Order, action: OrderAction, now: datetime) -> None:
    order.status = advance_order(order.status, action)
    order.updated_at = now
    session.add(order)


_order = table_of(Order)
#: Statuses an order is paid from (the transition table's ``pay`` that changes something).
PAYABLE = tuple(
    status
    for status, actions in ORDER_TRANSITIONS.items()
    if actions.get(OrderAction.PAY) not in (None, status)
)
#: Pay an order if its payment is this one, of its amount, and it is payable: one
#: conditional update, which racing events for the same order pass one at a time.
_PAY = (
    sa.update(_order)
    .where(
        _order.c.id == sa.bindparam("order"),
        _order.c.payment_ref == sa.bindparam("paid_ref"),
        _order.c.total_minor == sa.bindparam("amount"),
        _order.c.currency == sa.bindparam("paid_currency"),
        _order.c.status.in_(PAYABLE),
    )
    .values(status=OrderStatus.PAID, paid_at=sa.bindparam("now"), updated_at=sa.bindparam("now"))
    .returning(
        *(
            _order.c[name]
            for name in (
                "id",
                "number",
                "status",
                "paid_at",
                "currency",
                "discount_minor",
                "shipping_parts",
                "shipping_address",
                "contact_phone",
                "customer_key",
                "shop_id",
                "credited_distributor_id",
                "credit_source",
                "referral_token_id",
                "payment_ref",
            )
        )
    )
)


def _pay_if_due(
    session: Session, order_id: int, state: PaymentState, now: datetime
) -> sa.Row[Any] | None:
    """The order, paid now by ``state`` (a succeeded payment), if it was payable by it."""
    paid = (
        session.connection()
        .execute(
            _PAY,
            {
                "order": order_id,
                "paid_ref": state.ref,
                "amount": state.amount_minor,
                "paid_currency": state.currency,
                "now": now,
            },
        )
        .first()
    )
    if paid is not None:
        loaded = session.identity_map.get(identity_key(Order, order_id))
        if loaded is not None:  # (an object of this session would say otherwise)
            set_loaded(loaded, status=paid.status, paid_at=paid.paid_at, updated_at=now)
    return paid


def _hand_off(
    session: Session, order: sa.Row[Any], actor: str, now: datetime, binding: BindingTerms
) -> None:
    """What paying ``order`` sets off: its split into supplier orders with their outbox
    events, its commissions (pending), the customer's binding, the audit trail and
    ``order_paid`` after commit."""
    made = handoff.split(session, order, now)
    ledger.earn(session, order.id, order.currency, made.lines, now)
    bind_customer(session, order, now, binding)
    events.record_many(
        session,
        order.id,
        [
            ("paid", actor, {"ref": order.payment_ref}, None),
            ("handed_off", "system", {"supplier_orders": made.parts}, None),
        ],
        now,
    )
    signals.send_after_commit(
        session, signals.order_paid, order_id=order.id, order_number=order.number
    )


#: An order whose payment has been settling this long is asked about by ``expire-orders``
#: (its provider's news of the outcome may have been lost).
SETTLING_CHECK_AFTER = timedelta(hours=1)


def reconcile_payments(
    session: Session,
    providers: dict[str, PaymentProvider],
    now: datetime,
    *,
    commit: Commit,
    binding_days: int,
    binding_policy: str = KEEP,
    limit: int = 200,
) -> dict[str, int]:
    """Ask the provider about the payments of orders about to be given up on: unpaid
    orders past their expiry (a payment that succeeded unannounced pays its order instead
    of being refunded as late) and payments settling for over
    :data:`SETTLING_CHECK_AFTER`. Each order is committed on its own with ``commit``
    (which also ends the reading transaction before the provider is asked); what happened, by
    outcome of :func:`apply_payment` (``unreachable``: the provider did not answer)."""
    overdue = sa.or_(
        sa.and_(
            _order.c.status == OrderStatus.AWAITING_PAYMENT,
            _order.c.expires_at <= now,
        ),
        sa.and_(
            _order.c.status == OrderStatus.PROCESSING,
            _order.c.updated_at <= now - SETTLING_CHECK_AFTER,
        ),
    )
    asked = [name for name, provider in providers.items() if provider.retrievable]
    rows = session.execute(
        sa.select(_order.c.id, _order.c.status, _order.c.payment_ref, _order.c.payment_provider)
        .where(
            overdue,
            _order.c.payment_ref.is_not(None),
            _order.c.payment_provider.in_(asked),
        )
        .order_by(_order.c.id)
        .limit(limit)
    ).all()
    commit()  # no transaction stays open while the provider is asked
    outcomes: dict[str, int] = {}
    for order_id, status, ref, name in rows:
        provider = providers[name]
        try:
            state = provider.retrieve(ref)
        except PaymentError:
            outcome = "unreachable"
        else:
            if status == OrderStatus.PROCESSING and state.status in (OPEN, CANCELED):
                # Settling no more, and not paid: the attempt failed (the provider says so
                # now, whatever news of it was lost), and the order may expire.
                state = dataclasses.replace(state, status=FAILED, failure="no longer settling")
            outcome = apply_payment(
                session,
                order_id,
                state,
                actor=f"provider:{name}",
                now=now,
                binding_days=binding_days,
                binding_policy=binding_policy,
            )
            commit()
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    return outcomes


def run_refunds(
    session: Session,
    providers: dict[str, PaymentProvider],
    now: datetime,
    *,
    commit: Commit,
    limit: int = 50,
) -> int:
    """Ask the provider for every due pending refund; returns how many it made. Each is
    committed on its own with ``commit``, so one provider failure holds up nothing else."""
    query = (
        sa.select(col(Refund.id))
        .where(col(Refund.status) == REFUND_PENDING, col(Refund.next_attempt_at) <= now)
        .order_by(col(Refund.id))
        .limit(limit)
    )
    made = 0
    for refund_id in list(session.scalars(query)):
        refund = session.get_one(Refund, refund_id, with_for_update=True, populate_existing=True)
        order = session.get_one(Order, refund.order_id)
        if refund.status != REFUND_PENDING:
            commit()
            continue
        provider = providers.get(order.payment_provider)
        refund.attempts += 1
        refund.updated_at = now
        try:
            if provider is None or order.payment_ref is None:
                raise PaymentError(f"no {order.payment_provider} provider configured")
            refund.provider_ref = provider.refund(
                order.payment_ref, refund.amount_minor, key=f"storefront-refund-{refund.id}"
            )
        except PaymentError as error:
            refund.last_error = error.message[:500]
            delay = REFUND_RETRY_DELAYS[min(refund.attempts, len(REFUND_RETRY_DELAYS)) - 1]
            refund.next_attempt_at = now + delay
            if refund.attempts >= 20:
                refund.status = REFUND_FAILED
        else:
            refund.status = REFUND_SUCCEEDED
            refund.next_attempt_at = None
            refunds.record_refund(session, order, refund, now)
            made += 1
        session.add(refund)
        commit()
    return made
