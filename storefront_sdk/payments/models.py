"""The table of provider events already applied to orders (a replay is a no-op)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from ..db import id_field, reference_field, timestamp_field


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
