"""Tables of distributors and their shops.

A shop stores only its settings and, later, its departures from the defaults (curation,
prices): never a copy of the catalogue, so 100,000 shops over 1,000,000 products stay cheap.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from ..db import id_field, reference_field, timestamp_field

#: Colour of a new shop's theme (CSS hex).
DEFAULT_PRIMARY_COLOR = "#e4393c"
#: Locale of a new shop's pages.
DEFAULT_LOCALE = "zh-Hans"


class Distributor(SQLModel, table=True):
    """A shop owner. ``parent_id`` is the distributor who recruited them (level 2 of the
    commission); it is set once, at sign-up, so the recruitment tree has no cycles."""

    __tablename__ = "sf_distributor"

    id: int | None = id_field()
    #: Stored lower-case: sign-in is case-insensitive.
    email: str = Field(max_length=254, sa_column_kwargs={"unique": True})
    #: A Werkzeug hash (scrypt); the password itself is never stored.
    password_hash: str = Field(max_length=255)
    name: str = Field(default="", max_length=100)
    #: Code of the distributor's referral and invite links (``/r/<code>``).
    referral_code: str = Field(max_length=16, sa_column_kwargs={"unique": True})
    parent_id: int | None = reference_field("sf_distributor.id", nullable=True, index=True)
    created_at: datetime | None = timestamp_field()


class Shop(SQLModel, table=True):
    """A distributor's white-label shop: its address (slug or own host name) and theme."""

    __tablename__ = "sf_shop"

    id: int | None = id_field()
    distributor_id: int = reference_field("sf_distributor.id", unique=True)
    #: ``/s/<slug>/``: lower-case letters, digits and hyphens.
    slug: str = Field(max_length=48, sa_column_kwargs={"unique": True})
    name: str = Field(max_length=100)
    logo_url: str | None = Field(default=None, max_length=2048)
    #: ``#rrggbb``, checked by the settings service (it ends up in the page's CSS).
    primary_color: str = Field(default=DEFAULT_PRIMARY_COLOR, max_length=7)
    welcome_text: str = Field(default="", sa_column=sa.Column(sa.Text, nullable=False))
    locale: str = Field(default=DEFAULT_LOCALE, max_length=35)
    #: A host name served as this shop (``Host`` header), if the owner has one.
    host: str | None = Field(default=None, max_length=253, sa_column_kwargs={"unique": True})
    created_at: datetime | None = timestamp_field()
    updated_at: datetime | None = timestamp_field()
