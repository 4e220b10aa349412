"""How many unpaid orders a checkout may add: per client address, and per consumer (their
identity) within :data:`IDENTITY_WINDOW` (``growth.md``, "Limits and their defaults").

Each unpaid order holds its stock until paid or expired, so without limits anyone could
hold a product's stock, or a flash sale's quota, with anonymous unpaid orders. Paid orders
never count.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..errors import Conflict
from ..sql import table_of
from .models import Order
from .states import OrderStatus

_order = table_of(Order).c

#: The window an identity's unpaid orders are counted in
#: (``STOREFRONT_UNPAID_ORDERS_PER_CONSUMER``).
IDENTITY_WINDOW = timedelta(minutes=10)


class TooManyUnpaidOrders(Conflict):
    """The client address (``per="address"``) or the consumer (``per="consumer"``, within
    :data:`IDENTITY_WINDOW`) already holds as many unpaid orders as allowed; nothing was
    ordered."""

    code = "too_many_unpaid_orders"

    def __init__(self, limit: int, per: str = "address") -> None:
        who = "consumer" if per == "consumer" else "client"
        super().__init__(f"this {who} already has {limit} unpaid orders")
        self.limit = limit
        self.per = per


def client_key_of(address: str, secret: str | bytes) -> str:
    """The key of a client address among orders: keyed by the app's ``secret``, so the
    table never holds an address nor a hash anyone can reverse by trying them all."""
    key = secret.encode() if isinstance(secret, str) else secret
    return hmac.new(key, b"client:" + address.encode(), hashlib.sha256).hexdigest()


def count_unpaid(session: Session, client_key: str, now: datetime) -> int:
    """Orders of ``client_key`` that hold their stock waiting for payment: awaiting it and
    not overdue, or being settled (``processing``)."""
    found = session.connection().execute(_UNPAID, {"client": client_key, "now": now}).scalar()
    return int(found or 0)


def count_unpaid_of_identity(session: Session, identity: str, now: datetime) -> int:
    """Orders placed under ``identity`` within :data:`IDENTITY_WINDOW` that are still
    unpaid (as :func:`count_unpaid` counts them)."""
    found = (
        session.connection()
        .execute(_UNPAID_OF_IDENTITY, {"key": identity, "now": now, "since": now - IDENTITY_WINDOW})
        .scalar()
    )
    return int(found or 0)


def check_unpaid(session: Session, client_key: str | None, limit: int, now: datetime) -> None:
    """Refuses (:class:`TooManyUnpaidOrders`) a client address holding ``limit`` unpaid
    orders (``0``: no limit; ``None`` counts for nobody)."""
    if limit and client_key is not None and count_unpaid(session, client_key, now) >= limit:
        raise TooManyUnpaidOrders(limit)


def check_identity(session: Session, identity: str, limit: int, now: datetime) -> None:
    """Refuses (:class:`TooManyUnpaidOrders`) an identity that placed ``limit`` unpaid orders
    within :data:`IDENTITY_WINDOW` (``0``: no limit)."""
    if limit and count_unpaid_of_identity(session, identity, now) >= limit:
        raise TooManyUnpaidOrders(limit, "consumer")


_UNPAID = sa.select(sa.func.count()).where(
    _order.client_key == sa.bindparam("client"),
    sa.or_(
        sa.and_(
            _order.status == OrderStatus.AWAITING_PAYMENT,
            _order.expires_at > sa.bindparam("now"),
        ),
        _order.status == OrderStatus.PROCESSING,
    ),
)


_UNPAID_OF_IDENTITY = sa.select(sa.func.count()).where(
    _order.identity_key == sa.bindparam("key"),
    _order.created_at > sa.bindparam("since"),
    sa.or_(
        sa.and_(
            _order.status == OrderStatus.AWAITING_PAYMENT,
            _order.expires_at > sa.bindparam("now"),
        ),
        _order.status == OrderStatus.PROCESSING,
    ),
)
