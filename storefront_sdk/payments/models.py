"""Tables of payments: the provider's payment per order, the provider events already
applied (replays are no-ops) and refunds."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from ..db import id_field, reference_field, timestamp_field

#: Refund statuses: asked of the provider, confirmed, or refused by it (retried).
REFUND_PENDING = "pending"
REFUND_SUCCEEDED = "succeeded"
REFUND_FAILED = "failed"


class ProviderEvent(SQLModel, table=True):
    """A provider event applied once: its id is unique per provider."""

    __tablename__ = "sf_provider_event"
    __table_args__ = (sa.UniqueConstraint("provider", "event_id"),)

    id: int | None = id_field()
    provider: str = Field(max_length=16)
    event_id: str = Field(max_length=255)
    type: str = Field(max_length=64)
    order_id: int | None = reference_field("sf_order.id", nullable=True)
    received_at: datetime | None = timestamp_field()


class Refund(SQLModel, table=True):
    """Money given back to the consumer for some lines (and shipping) of an order."""

    __tablename__ = "sf_refund"
    __table_args__ = (
        sa.CheckConstraint("amount_minor > 0", name="amount"),
        sa.CheckConstraint("status IN ('pending', 'succeeded', 'failed')", name="status"),
        sa.Index("ix_sf_refund_status", "status", "next_attempt_at"),
    )

    id: int | None = id_field()
    order_id: int = reference_field("sf_order.id", index=True)
    supplier_order_id: int | None = reference_field("sf_supplier_order.id", nullable=True)
    amount_minor: int
    currency: str = Field(max_length=3)
    reason: str = Field(max_length=500)
    status: str = Field(default=REFUND_PENDING, max_length=16)
    #: The provider's refund id, once it accepted the refund.
    provider_ref: str | None = Field(default=None, max_length=255)
    attempts: int = 0
    last_error: str | None = Field(default=None, max_length=500)
    next_attempt_at: datetime | None = timestamp_field(nullable=True)
    created_at: datetime | None = timestamp_field()
    updated_at: datetime | None = timestamp_field()
