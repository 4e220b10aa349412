"""Tables of the handoff: the outbox of events to suppliers and the log of each attempt."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from ..db import id_field, reference_field, timestamp_field

#: Delivery statuses. ``pending`` (waiting for its next attempt), ``delivered`` (a 2xx),
#: ``failed`` (the retry horizon passed; re-queued by hand), ``skipped`` (the supplier had
#: no webhook endpoint: pull only).
PENDING = "pending"
DELIVERED = "delivered"
FAILED = "failed"
SKIPPED = "skipped"
STATUSES = (PENDING, DELIVERED, FAILED, SKIPPED)


class OutboxEvent(SQLModel, table=True):
    """One event for one supplier, written in the transaction of the change it reports;
    its ``body`` is fixed then, so every retry sends the same bytes under the same id."""

    __tablename__ = "sf_outbox_event"
    __table_args__ = (
        sa.CheckConstraint(
            "status IN ('pending', 'delivered', 'failed', 'skipped')", name="status"
        ),
        # What dispatchers poll: due pending events.
        sa.Index(
            "ix_sf_outbox_event_due",
            "next_attempt_at",
            postgresql_where=sa.text("status = 'pending'"),
            sqlite_where=sa.text("status = 'pending'"),
        ),
        sa.Index("ix_sf_outbox_event_supplier", "supplier_id", "id"),
    )

    id: int | None = id_field()
    #: ``evt_...``: the ``Storefront-Event-Id``, stable across retries.
    event_id: str = Field(max_length=40, sa_column_kwargs={"unique": True})
    supplier_id: int = reference_field("sf_supplier.id")
    supplier_order_id: int | None = reference_field(
        "sf_supplier_order.id", nullable=True, index=True
    )
    type: str = Field(max_length=64)
    body: str = Field(sa_column=sa.Column(sa.Text, nullable=False))
    status: str = Field(default=PENDING, max_length=16)
    attempts: int = 0
    next_attempt_at: datetime | None = timestamp_field()
    #: A dispatcher holds the event until then (it is being delivered); a dispatcher that
    #: died mid-delivery lets it go when this passes.
    leased_until: datetime | None = timestamp_field(nullable=True)
    last_status_code: int | None = None
    last_error: str | None = Field(default=None, max_length=500)
    last_attempt_at: datetime | None = timestamp_field(nullable=True)
    delivered_at: datetime | None = timestamp_field(nullable=True)
    created_at: datetime | None = timestamp_field()


class DeliveryAttempt(SQLModel, table=True):
    """One try at delivering an outbox event (the delivery log)."""

    __tablename__ = "sf_delivery_attempt"

    id: int | None = id_field()
    outbox_event_id: int = reference_field("sf_outbox_event.id", index=True)
    url: str = Field(max_length=2048)
    status_code: int | None = None
    error: str | None = Field(default=None, max_length=500)
    duration_ms: int = 0
    response_excerpt: str = Field(default="", max_length=500)
    attempted_at: datetime | None = timestamp_field()
