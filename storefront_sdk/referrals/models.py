"""Tables of referrals: visits through referral links, and customers bound to a
distributor."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from ..db import id_field, reference_field, timestamp_field


class ReferralVisit(SQLModel, table=True):
    """One arrival through a referral link (``/r/<code>``); checkout credits the sale
    to it. ``token_id`` is carried in the signed share token and attribution cookie."""

    __tablename__ = "sf_referral_visit"
    __table_args__ = (sa.Index("ix_sf_referral_visit_distributor", "distributor_id", "created_at"),)

    id: int | None = id_field()
    token_id: str = Field(max_length=32, sa_column_kwargs={"unique": True})
    distributor_id: int = reference_field("sf_distributor.id")
    shop_id: int = reference_field("sf_shop.id")
    product_id: int | None = reference_field("sf_product.id", nullable=True)
    #: The distributor followed their own link: recorded, but it earns nothing.
    self_referral: bool = False
    created_at: datetime | None = timestamp_field()


class CustomerBinding(SQLModel, table=True):
    """A customer bound to the distributor credited with their first paid order, until
    ``expires_at``: their later orders credit that distributor whatever link they use."""

    __tablename__ = "sf_customer_binding"

    id: int | None = id_field()
    customer_key: str = Field(max_length=64, sa_column_kwargs={"unique": True})
    distributor_id: int = reference_field("sf_distributor.id", index=True)
    order_id: int = reference_field("sf_order.id")
    bound_at: datetime | None = timestamp_field()
    expires_at: datetime | None = timestamp_field()
