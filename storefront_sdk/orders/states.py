"""The lifecycles of a consumer's order and of a supplier order, as transition tables.

Every change of status goes through :func:`advance`, so what may happen in which status is
written down once, here, and an action not allowed in the current status is refused the same
way everywhere (:class:`~storefront_sdk.errors.Conflict`, HTTP 409, naming the status).

**Order** (the consumer's, over every supplier): ``awaiting_payment`` with its stock
allocated until it expires; ``processing`` while an asynchronous payment method (Alipay,
WeChat Pay) settles; ``paid`` only on a verified provider event or a server-side retrieval;
``expired`` or ``cancelled`` before payment (stock released); ``refunded`` when every paid
line was refunded. Fulfilment after payment is the supplier orders' business.

**Supplier order** (the part one supplier fulfils, ``supplier-api.md``): ``pending`` (handed
off) → ``accepted`` → ``partially_shipped`` → ``shipped`` → ``delivered``; or ``cancelled``
once every line is cancelled. Shipping a pending order accepts it on the way (a supplier
who ships at once need not call accept first); accepting twice is a no-op (the API promises
idempotence).
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import TypeVar

from ..errors import Conflict


class OrderStatus(StrEnum):
    AWAITING_PAYMENT = "awaiting_payment"
    PROCESSING = "processing"
    PAID = "paid"
    EXPIRED = "expired"
    CANCELLED = "cancelled"
    REFUNDED = "refunded"


class OrderAction(StrEnum):
    #: An asynchronous payment was submitted and is settling.
    PAYMENT_PROCESSING = "payment_processing"
    #: The provider confirmed the payment (verified event or server-side retrieval).
    PAY = "pay"
    #: An attempt failed; the consumer may pay again while the order has not expired.
    PAYMENT_FAILED = "payment_failed"
    EXPIRE = "expire"
    CANCEL = "cancel"
    #: Every paid line has been refunded.
    REFUND_ALL = "refund_all"


class SupplierOrderStatus(StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    PARTIALLY_SHIPPED = "partially_shipped"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"


class SupplierOrderAction(StrEnum):
    ACCEPT = "accept"
    #: A shipment that leaves some (not cancelled) lines unshipped.
    SHIP_PART = "ship_part"
    #: A shipment after which nothing is left to ship.
    SHIP_REST = "ship_rest"
    DELIVER = "deliver"
    #: Cancelling some unshipped lines, with others still to fulfil.
    CANCEL_PART = "cancel_part"
    #: Cancelling the last lines that were still to fulfil, none shipped.
    CANCEL_ALL = "cancel_all"
    #: Cancelling the last unshipped lines of an order whose other lines were shipped.
    CANCEL_REST = "cancel_rest"


_O, _OA = OrderStatus, OrderAction
#: ``{status: {action: next status}}`` of orders; a status absent from the keys is final.
ORDER_TRANSITIONS: Mapping[OrderStatus, Mapping[OrderAction, OrderStatus]] = {
    _O.AWAITING_PAYMENT: {
        _OA.PAYMENT_PROCESSING: _O.PROCESSING,
        _OA.PAY: _O.PAID,
        _OA.PAYMENT_FAILED: _O.AWAITING_PAYMENT,
        _OA.EXPIRE: _O.EXPIRED,
        _OA.CANCEL: _O.CANCELLED,
    },
    # A settling payment keeps its stock: it neither expires nor is cancelled meanwhile.
    _O.PROCESSING: {
        _OA.PAYMENT_PROCESSING: _O.PROCESSING,
        _OA.PAY: _O.PAID,
        _OA.PAYMENT_FAILED: _O.AWAITING_PAYMENT,
    },
    _O.PAID: {_OA.PAY: _O.PAID, _OA.REFUND_ALL: _O.REFUNDED},
}

_S, _SA = SupplierOrderStatus, SupplierOrderAction
#: ``{status: {action: next status}}`` of supplier orders; absent statuses are final.
SUPPLIER_ORDER_TRANSITIONS: Mapping[
    SupplierOrderStatus, Mapping[SupplierOrderAction, SupplierOrderStatus]
] = {
    _S.PENDING: {
        _SA.ACCEPT: _S.ACCEPTED,
        _SA.SHIP_PART: _S.PARTIALLY_SHIPPED,
        _SA.SHIP_REST: _S.SHIPPED,
        _SA.CANCEL_PART: _S.PENDING,
        _SA.CANCEL_ALL: _S.CANCELLED,
    },
    _S.ACCEPTED: {
        _SA.ACCEPT: _S.ACCEPTED,
        _SA.SHIP_PART: _S.PARTIALLY_SHIPPED,
        _SA.SHIP_REST: _S.SHIPPED,
        _SA.CANCEL_PART: _S.ACCEPTED,
        _SA.CANCEL_ALL: _S.CANCELLED,
    },
    _S.PARTIALLY_SHIPPED: {
        _SA.ACCEPT: _S.PARTIALLY_SHIPPED,
        _SA.SHIP_PART: _S.PARTIALLY_SHIPPED,
        _SA.SHIP_REST: _S.SHIPPED,
        _SA.CANCEL_PART: _S.PARTIALLY_SHIPPED,
        _SA.CANCEL_REST: _S.SHIPPED,
    },
    _S.SHIPPED: {_SA.ACCEPT: _S.SHIPPED, _SA.DELIVER: _S.DELIVERED},
}

#: What each action is called in messages ("cannot ship an order that is delivered").
_VERBS = {
    _OA.PAYMENT_PROCESSING: "start a payment for",
    _OA.PAY: "pay",
    _OA.PAYMENT_FAILED: "fail a payment of",
    _OA.EXPIRE: "expire",
    _OA.CANCEL: "cancel",
    _OA.REFUND_ALL: "refund",
    _SA.ACCEPT: "accept",
    _SA.SHIP_PART: "ship",
    _SA.SHIP_REST: "ship",
    _SA.DELIVER: "deliver",
    _SA.CANCEL_PART: "cancel lines of",
    _SA.CANCEL_ALL: "cancel",
    _SA.CANCEL_REST: "cancel lines of",
}


def advance_order(status: OrderStatus | str, action: OrderAction) -> OrderStatus:
    """The order's status after ``action``; :class:`Conflict` naming ``status`` if the
    action is not allowed in it."""
    return _advance(ORDER_TRANSITIONS, OrderStatus(status), action)


def advance_supplier_order(
    status: SupplierOrderStatus | str, action: SupplierOrderAction
) -> SupplierOrderStatus:
    """The supplier order's status after ``action``; :class:`Conflict` naming ``status``
    if the action is not allowed in it."""
    return _advance(SUPPLIER_ORDER_TRANSITIONS, SupplierOrderStatus(status), action)


S = TypeVar("S", OrderStatus, SupplierOrderStatus)
A = TypeVar("A", OrderAction, SupplierOrderAction)


def _advance(table: Mapping[S, Mapping[A, S]], status: S, action: A) -> S:
    found = table.get(status, {}).get(action)
    if found is None:
        verb = _VERBS.get(action, str(action))
        raise Conflict(f"cannot {verb} an order that is {status.value}")
    return found


def is_final(status: OrderStatus | SupplierOrderStatus) -> bool:
    """Whether nothing can happen to an order in ``status`` any more."""
    if isinstance(status, OrderStatus):
        return status not in ORDER_TRANSITIONS
    return status not in SUPPLIER_ORDER_TRANSITIONS
