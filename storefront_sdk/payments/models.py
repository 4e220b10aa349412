"""The table of provider events already applied to orders (a replay is a no-op), and of
signed events refused for their shape (``problem`` says why, for the operator)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from ..db import id_field, reference_field, timestamp_field


class ProviderEvent(SQLModel, table=True):
    """A provider event applied once, or refused for its shape (``problem``): its id is
    unique per provider."""

    __tablename__ = "sf_provider_event"
    __table_args__ = (sa.UniqueConstraint("provider", "event_id"),)

    id: int | None = id_field()
    provider: str = Field(max_length=16)
    event_id: str = Field(max_length=255)
    type: str = Field(max_length=64)
    order_id: int | None = reference_field("sf_order.id", nullable=True)
    received_at: datetime | None = timestamp_field()
    #: Why a correctly signed event was refused (its shape was not the provider's); ``None``
    #: for the events applied.
    problem: str | None = Field(default=None, max_length=255)
