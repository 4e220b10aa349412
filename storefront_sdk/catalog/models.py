"""Tables of the shared supply catalogue: suppliers, API keys, categories, products and
variants (SKUs, with their stock)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from ..db import id_field, json_field, reference_field, timestamp_field

#: Product and variant statuses.
ACTIVE = "active"
ARCHIVED = "archived"
STATUSES = (ACTIVE, ARCHIVED)


class Supplier(SQLModel, table=True):
    """A company that owns stock and fulfils orders; all its prices are in ``currency``."""

    __tablename__ = "sf_supplier"

    id: int | None = id_field()
    name: str = Field(max_length=200)
    currency: str = Field(max_length=3)
    webhook_url: str | None = Field(default=None, max_length=2048)
    #: The key order webhooks are signed with (``whsec_...``). Kept in clear: signing
    #: needs it; it is shown to the supplier once, when set or rotated.
    webhook_secret: str | None = Field(default=None, max_length=100)
    #: What a consumer pays for this supplier's part of an order ...
    shipping_fee_minor: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    #: ... unless that part comes to at least this much (``None``: never free).
    free_shipping_over_minor: int | None = None
    created_at: datetime | None = timestamp_field()


class ApiKey(SQLModel, table=True):
    """A supplier's API key. Only ``prefix`` (shown in lists) and a SHA-256 of the secret
    are stored; the full key is shown once, at creation."""

    __tablename__ = "sf_api_key"

    id: int | None = id_field()
    supplier_id: int = reference_field("sf_supplier.id", index=True)
    prefix: str = Field(max_length=32, sa_column_kwargs={"unique": True})
    secret_hash: str = Field(max_length=64)
    created_at: datetime | None = timestamp_field()
    revoked_at: datetime | None = timestamp_field(nullable=True)


class Category(SQLModel, table=True):
    """A node of the one category tree, identified by its path (``Apparel/Tops``)."""

    __tablename__ = "sf_category"

    id: int | None = id_field()
    path: str = Field(max_length=500, sa_column_kwargs={"unique": True})
    name: str = Field(max_length=200)
    parent_id: int | None = reference_field("sf_category.id", nullable=True, index=True)
    depth: int = 0


class Product(SQLModel, table=True):
    """A supplier's product; ``external_id`` is the supplier's own identifier."""

    __tablename__ = "sf_product"
    __table_args__ = (
        sa.UniqueConstraint("supplier_id", "external_id"),
        sa.Index("ix_sf_product_supplier_status", "supplier_id", "status"),
        sa.CheckConstraint("status IN ('active', 'archived')", name="status"),
        # Shop search (``LIKE '%text%'``) on PostgreSQL: a trigram index (pg_trgm).
        sa.Index(
            "ix_sf_product_search_text",
            "search_text",
            postgresql_using="gin",
            postgresql_ops={"search_text": "gin_trgm_ops"},
        ).ddl_if(dialect="postgresql"),
    )

    id: int | None = id_field()
    supplier_id: int = reference_field("sf_supplier.id")
    external_id: str = Field(max_length=64)
    title: str = Field(max_length=300)
    title_i18n: dict[str, str] = json_field({})
    description: str = Field(default="", sa_column=sa.Column(sa.Text, nullable=False))
    description_i18n: dict[str, str] = json_field({})
    category_id: int | None = reference_field("sf_category.id", nullable=True, index=True)
    images: list[str] = json_field([])
    status: str = Field(default=ACTIVE, max_length=16)
    currency: str = Field(max_length=3)
    #: Digest of the supplier's last body for this product (stock excluded): a replay with
    #: the same content is reported ``unchanged`` and writes nothing.
    content_hash: str = Field(max_length=64)
    #: Every title (``title`` and ``title_i18n``), case-folded: what shop search matches.
    search_text: str = Field(
        default="", sa_column=sa.Column(sa.Text, nullable=False, server_default="")
    )
    created_at: datetime | None = timestamp_field()
    updated_at: datetime | None = timestamp_field()


def search_text(title: str, title_i18n: dict[str, str]) -> str:
    """The text shop search matches for a product with these titles."""
    return "\n".join([title, *title_i18n.values()]).casefold()


class Variant(SQLModel, table=True):
    """A sellable SKU of a product: the supplier's price bounds and its stock.

    Stock lives on the variant row so a catalogue sync writes two tables, not three.
    """

    __tablename__ = "sf_variant"
    __table_args__ = (
        sa.UniqueConstraint("supplier_id", "sku"),
        sa.CheckConstraint("supply_price_minor >= 0", name="supply_price"),
        sa.CheckConstraint("retail_price_minor >= supply_price_minor", name="retail_price"),
        sa.CheckConstraint(
            "min_price_minor IS NULL OR (min_price_minor >= supply_price_minor "
            "AND min_price_minor <= retail_price_minor)",
            name="min_price",
        ),
        sa.CheckConstraint("status IN ('active', 'archived')", name="status"),
        sa.CheckConstraint("stock >= 0", name="stock"),
        sa.CheckConstraint("available >= 0", name="available"),
        # Room on each page for in-place (HOT) updates: stock changes many times a day and
        # then touches no index.
        {"postgresql_with": {"fillfactor": 80}},
    )

    id: int | None = id_field()
    product_id: int = reference_field("sf_product.id", index=True)
    supplier_id: int = reference_field("sf_supplier.id")
    sku: str = Field(max_length=64)
    options: dict[str, str] = json_field({})
    currency: str = Field(max_length=3)
    supply_price_minor: int
    retail_price_minor: int
    min_price_minor: int | None = None
    weight_grams: int | None = None
    position: int = 0
    status: str = Field(default=ACTIVE, max_length=16)
    #: The supplier's last absolute stock report and when it was true (``as_of``).
    stock: int = 0
    stock_as_of: datetime | None = timestamp_field()
    #: Units sellable now: ``stock`` minus our allocations that report does not reflect
    #: (``docs/architecture.md``, "Stock accounting"); the CHECK makes overselling impossible.
    available: int = 0
    created_at: datetime | None = timestamp_field()
    updated_at: datetime | None = timestamp_field()
