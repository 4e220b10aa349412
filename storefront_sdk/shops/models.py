"""Tables of distributors and their shops.

A shop stores only its settings and, later, its departures from the defaults (curation,
prices): never a copy of the catalogue, so 100,000 shops over 1,000,000 products stay cheap.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from ..db import BigIntKey, id_field, reference_field, timestamp_field

#: Colour of a new shop's theme (CSS hex).
DEFAULT_PRIMARY_COLOR = "#e4393c"
#: Locale of a new shop's pages: none fixed, each visitor's own language (then the
#: platform's ``STOREFRONT_DEFAULT_LOCALE``).
DEFAULT_LOCALE = ""
#: How prices show their currency: ``symbol`` (¥12.00, CN¥12.00) or ``code`` (CNY 12.00).
CURRENCY_DISPLAYS = ("symbol", "code")
#: Where a shop's own host name stands: ``pending`` until its DNS record is found or the
#: platform approves it, then ``verified`` (served) or ``refused`` (never served).
HOST_STATUSES = ("pending", "verified", "refused")
#: What a shop follows besides single products.
FOLLOW_KINDS = ("supplier", "category")


class Distributor(SQLModel, table=True):
    """A shop owner. ``parent_id`` is the distributor who recruited them (level 2 of the
    commission); it is set once, at sign-up, so the recruitment tree has no cycles."""

    __tablename__ = "sf_distributor"
    __table_args__ = (
        sa.CheckConstraint("status IN ('pending', 'active', 'suspended')", name="status"),
    )

    id: int | None = id_field()
    #: Stored lower-case: sign-in is case-insensitive.
    email: str = Field(max_length=254, sa_column_kwargs={"unique": True})
    #: A Werkzeug hash (scrypt); the password itself is never stored.
    password_hash: str = Field(max_length=255)
    name: str = Field(default="", max_length=100)
    #: Code of the distributor's referral and invite links (``/r/<code>``).
    referral_code: str = Field(max_length=16, sa_column_kwargs={"unique": True})
    parent_id: int | None = reference_field("sf_distributor.id", nullable=True, index=True)
    #: ``active``; ``pending`` until the platform approves (when sign-ups need approval);
    #: ``suspended`` by the platform: the shop sells nothing and earns nothing meanwhile.
    status: str = Field(
        default="active", max_length=16, sa_column_kwargs={"server_default": "active"}
    )
    #: The connected Stripe account payouts go to (Stripe Connect), once onboarded.
    stripe_account_id: str | None = Field(default=None, max_length=255)
    #: Bumped by signing out, changing or resetting the password: every session signed in
    #: under an older generation (a copied cookie too) stops working.
    session_generation: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    created_at: datetime | None = timestamp_field()


class Shop(SQLModel, table=True):
    """A distributor's white-label shop: its address (slug or own host name) and theme."""

    __tablename__ = "sf_shop"
    __table_args__ = (
        sa.CheckConstraint(
            "host_status IS NULL OR host_status IN ('pending', 'verified', 'refused')",
            name="host_status",
        ),
    )

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
    #: One of :data:`HOST_STATUSES` while the shop has a host name; only ``verified`` serves.
    host_status: str | None = Field(default=None, max_length=16)
    #: The secret the host's DNS TXT record must carry (``storefront-verify=<token>``).
    host_token: str | None = Field(default=None, max_length=64)
    currency_display: str = Field(default="symbol", max_length=8)
    #: The IANA time zone its pages show times in; ``None``: the platform's default.
    time_zone: str | None = Field(default=None, max_length=64)
    #: ``True`` until the owner curates: the shop lists the whole active catalogue.
    follows_all: bool = True
    #: The bulk markup rule in basis points of retail (``-500`` = 5 % off), if any.
    markup_bp: int | None = None
    created_at: datetime | None = timestamp_field()
    #: Bumped by every change of settings or curation (pages' ``Last-Modified``).
    updated_at: datetime | None = timestamp_field()


class ShopFollow(SQLModel, table=True):
    """A whole supplier or category (with its subcategories) the shop lists."""

    __tablename__ = "sf_shop_follow"
    __table_args__ = (sa.CheckConstraint("kind IN ('supplier', 'category')", name="kind"),)

    shop_id: int = reference_field("sf_shop.id", primary_key=True)
    kind: str = Field(max_length=8, primary_key=True)
    #: A supplier id or a category id, after ``kind``.
    target_id: int = Field(
        default=None, sa_column=sa.Column(BigIntKey, primary_key=True, autoincrement=False)
    )


class ShopProduct(SQLModel, table=True):
    """A product the owner added (``included``) or took out of the shop (not ``included``,
    which wins over any follow)."""

    __tablename__ = "sf_shop_product"

    shop_id: int = reference_field("sf_shop.id", primary_key=True)
    product_id: int = reference_field("sf_product.id", primary_key=True, index=True)
    included: bool = True
    created_at: datetime | None = timestamp_field()


class ShopPrice(SQLModel, table=True):
    """The owner's own price for one variant, within the supplier's bounds."""

    __tablename__ = "sf_shop_price"
    __table_args__ = (sa.CheckConstraint("price_minor > 0", name="price"),)

    shop_id: int = reference_field("sf_shop.id", primary_key=True)
    variant_id: int = reference_field("sf_variant.id", primary_key=True, index=True)
    product_id: int = reference_field("sf_product.id", index=True)
    price_minor: int
