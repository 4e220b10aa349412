"""Tables of consumers: the people who buy in the shops, their sign-in codes and their
address books."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from ..db import UTCDateTime, id_field, reference_field, timestamp_field


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


class SignInCode(SQLModel, table=True):
    """A one-time sign-in code sent to a contact (``docs/consumers.md``). Neither the code
    nor the contact is stored: only keyed hashes of both, with the app's secret key."""

    __tablename__ = "sf_sign_in_code"

    id: int | None = id_field()
    #: HMAC of the normalised contact (``email:...`` or ``phone:...``).
    contact_key: str = Field(max_length=64, index=True)
    #: HMAC of the code, bound to its contact key.
    code_hash: str = Field(max_length=64)
    #: Tries of it so far, each counted before it is checked; at
    #: :data:`storefront_sdk.consumers.codes.MAX_TRIES` it is void (as when a newer code
    #: is sent to the same contact).
    tries: int = Field(default=0)
    created_at: datetime | None = timestamp_field()
    expires_at: datetime = Field(sa_column=sa.Column(UTCDateTime(), nullable=False))
    #: When it signed someone in (a code works once).
    used_at: datetime | None = timestamp_field(nullable=True)


class ConsumerAddress(SQLModel, table=True):
    """A saved shipping address of a consumer's address book (province, city, district),
    offered at checkout."""

    __tablename__ = "sf_consumer_address"

    id: int | None = id_field()
    consumer_id: int = reference_field("sf_consumer.id", index=True)
    name: str = Field(max_length=100)
    phone: str = Field(max_length=32)
    province: str = Field(max_length=100)
    city: str = Field(max_length=100)
    district: str = Field(default="", max_length=50)
    line1: str = Field(max_length=200)
    line2: str = Field(default="", max_length=140)
    postal_code: str = Field(default="", max_length=20)
    country: str = Field(default="CN", max_length=2)
    #: The address checkout fills in first (one per consumer, kept so by the services).
    is_default: bool = Field(default=False)
    created_at: datetime | None = timestamp_field()
