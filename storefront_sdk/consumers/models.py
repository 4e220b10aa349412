"""Tables of consumers: the people who buy in the shops."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from ..db import id_field, timestamp_field


class Consumer(SQLModel, table=True):
    """A verified consumer: one identity on the whole platform, whichever shop they signed
    in through. Each contact is stored normalised (email lower-case, phone digits with an
    optional leading ``+``); at least one is set."""

    __tablename__ = "sf_consumer"

    id: int | None = id_field()
    email: str | None = Field(default=None, max_length=254, sa_column_kwargs={"unique": True})
    phone: str | None = Field(default=None, max_length=32, sa_column_kwargs={"unique": True})
    created_at: datetime | None = timestamp_field()
    last_seen_at: datetime | None = timestamp_field(nullable=True)
