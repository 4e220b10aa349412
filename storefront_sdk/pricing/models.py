"""The table of commission rates: what an admin set at each scope (see :mod:`.rates`)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from ..db import one_of, timestamp_field

#: Scopes of a commission rate, from the least to the most specific.
PLATFORM = "platform"
SUPPLIER = "supplier"
CATEGORY = "category"
PRODUCT = "product"
SCOPES = (PLATFORM, SUPPLIER, CATEGORY, PRODUCT)


class CommissionRate(SQLModel, table=True):
    """Rates set for one scope (``target_id`` 0 for the platform): each level's rate in
    basis points of the retail price, or ``None`` to leave it to a wider scope."""

    __tablename__ = "sf_commission_rate"
    __table_args__ = (
        sa.CheckConstraint(one_of("scope", SCOPES), name="scope"),
        sa.CheckConstraint(
            "(level1_bp IS NULL OR level1_bp BETWEEN 0 AND 10000) "
            "AND (level2_bp IS NULL OR level2_bp BETWEEN 0 AND 10000)",
            name="bp",
        ),
    )

    scope: str = Field(max_length=16, primary_key=True)
    target_id: int = Field(
        default=0, sa_column=sa.Column(sa.BigInteger, primary_key=True, autoincrement=False)
    )
    level1_bp: int | None = None
    level2_bp: int | None = None
    updated_at: datetime | None = timestamp_field()
