"""Whose orders are whose: a guest's orders join the consumer who verifies their contact.

A guest order keeps the hash of its normalised contact (``sf_order.customer_key``: the
email's if one was given, else the phone's, :meth:`.checkout.Contact.customer_key`). When a
consumer signs in with that email address or phone number, every order of the platform
with that key and no consumer yet becomes theirs; an order already joined to a consumer is
never moved to another.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..sql import table_of
from .checkout import Contact
from .models import Order

_order = table_of(Order)


def join_guest_orders(
    session: Session, consumer_id: int, email: str | None, phone: str | None
) -> int:
    """Joins to ``consumer_id`` the guest orders placed with ``email`` (else ``phone``) as
    their contact key; how many were joined."""
    keys = [
        Contact(email=email).customer_key() if email else None,
        Contact(phone=phone).customer_key() if phone else None,
    ]
    wanted = [key for key in keys if key]
    if not wanted:
        return 0
    joined = (
        session.connection()
        .execute(
            sa.update(_order)
            .where(_order.c.consumer_id.is_(None), _order.c.customer_key.in_(wanted))
            .values(consumer_id=consumer_id)
        )
        .rowcount
    )
    return int(joined or 0)
