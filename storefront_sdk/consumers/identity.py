"""Whose limits an order counts against: a verified consumer, else a guest's contact.

Per-consumer limits (a coupon's uses per consumer, a flash sale's units per consumer, the
checkout's pace) count verified identities, never a free-text field (``growth.md``,
"Consumers"): an order counts for the consumer signed in, or for the consumer who verified
the contact a guest gave (so guest checkouts with that contact drain nothing more), else for
the guest's normalised contact (its hash: ``orders.checkout.Contact.customer_key``).
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..sql import table_of
from .models import Consumer

_consumer = table_of(Consumer).c


def normalise_email(email: str) -> str:
    """An email address as stored and compared: trimmed, lower-case."""
    return email.strip().lower()


def normalise_phone(phone: str) -> str:
    """A phone number as stored and compared: its digits, with a leading ``+`` if given."""
    digits = "".join(ch for ch in phone if ch.isdigit())
    return ("+" + digits) if phone.strip().startswith("+") else digits


def consumer_for_contact(session: Session, email: str | None, phone: str | None) -> int | None:
    """The verified consumer with this email address (else phone number), if any."""
    for column, value in (
        (_consumer.email, normalise_email(email) if email else None),
        (_consumer.phone, normalise_phone(phone) if phone else None),
    ):
        if value:
            found = (
                session.connection()
                .execute(sa.select(_consumer.id).where(column == value))
                .scalar()
            )
            if found is not None:
                return int(found)
    return None


def identity_key(
    session: Session,
    consumer_id: int | None,
    customer_key: str,
    *,
    email: str | None = None,
    phone: str | None = None,
) -> str:
    """The key an order's per-consumer limits count under: ``consumer:<id>`` for the
    consumer signed in or the one who verified the contact given, else ``guest:<hash of the
    normalised contact>``."""
    if consumer_id is None:
        consumer_id = consumer_for_contact(session, email, phone)
    return f"consumer:{consumer_id}" if consumer_id is not None else f"guest:{customer_key}"
