"""Tables of promotions: what each one gives, who funds it, and what it has been used for.

Money columns are integer minor units of the promotion's ``currency`` (amounts off, minimum
spends, budgets, tiers, flash prices); a percent-off coupon without amounts may have none
and then applies in any currency.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from ..catalog import models as _catalog  # noqa: F401  (sf_supplier, sf_variant, referenced)
from ..consumers import models as _consumers  # noqa: F401  (sf_consumer, referenced)
from ..db import id_field, json_field, one_of, reference_field, timestamp_field
from ..shops import models as _shops  # noqa: F401  (sf_shop, referenced)

#: What a promotion does (``growth.md``, "Promotions").
COUPON = "coupon"
THRESHOLD = "threshold"
FLASH_SALE = "flash_sale"
KINDS = (COUPON, THRESHOLD, FLASH_SALE)

#: Who pays for it (``growth.md``, "Who pays").
SUPPLIER = "supplier"
SHOP = "shop"
PLATFORM = "platform"
FUNDERS = (SUPPLIER, SHOP, PLATFORM)

#: A use of a promotion by an order: taken when the order is placed, given back when it
#: expires, is cancelled or is refunded in full.
USE_TAKEN = "taken"
USE_RETURNED = "returned"
USE_STATUSES = (USE_TAKEN, USE_RETURNED)


class Promotion(SQLModel, table=True):
    """A coupon, a threshold (满减) or a flash sale, with its funder, scope, limits and the
    counters its limits are taken from (each taken by one conditional update, so racing
    checkouts cannot exceed a limit)."""

    __tablename__ = "sf_promotion"
    __table_args__ = (
        sa.CheckConstraint(one_of("kind", KINDS), name="kind"),
        sa.CheckConstraint(one_of("funder", FUNDERS), name="funder"),
        sa.CheckConstraint("funder != 'supplier' OR supplier_id IS NOT NULL", name="supplier"),
        sa.CheckConstraint("funder != 'shop' OR shop_id IS NOT NULL", name="shop"),
        sa.CheckConstraint(
            "percent_off IS NULL OR (percent_off >= 1 AND percent_off <= 100)", name="percent"
        ),
        sa.CheckConstraint("amount_off_minor IS NULL OR amount_off_minor > 0", name="amount_off"),
        sa.CheckConstraint("min_spend_minor >= 0", name="min_spend"),
        sa.CheckConstraint("uses >= 0 AND (max_uses IS NULL OR uses <= max_uses)", name="uses"),
        sa.CheckConstraint(
            "discount_given_minor >= 0 AND (budget_minor IS NULL "
            "OR discount_given_minor <= budget_minor)",
            name="budget",
        ),
        sa.CheckConstraint(
            "units_sold >= 0 AND (quota IS NULL OR units_sold <= quota)", name="quota"
        ),
        sa.CheckConstraint("ends_at > starts_at", name="window"),
        # A code names one promotion (stored upper-case).
        sa.UniqueConstraint("code"),
        sa.Index("ix_sf_promotion_live", "kind", "ends_at"),
        sa.Index("ix_sf_promotion_variant", "variant_id", "ends_at"),
    )

    id: int | None = id_field()
    #: The id suppliers and pages use: ``pr_`` and random characters.
    public_id: str = Field(max_length=40, sa_column_kwargs={"unique": True})
    kind: str = Field(max_length=16)
    funder: str = Field(max_length=16)
    #: What the consumer sees ("满100减20", "Spring sale"); made from the terms if not given.
    name: str = Field(max_length=120)
    #: The supplier it is scoped to (and who pays, for ``supplier``); ``None``: any.
    supplier_id: int | None = reference_field("sf_supplier.id", nullable=True, index=True)
    #: The one shop it applies in (and whose owner pays, for ``shop``); ``None``: every shop.
    shop_id: int | None = reference_field("sf_shop.id", nullable=True, index=True)
    #: Currency of its amounts; ``None`` for a percent-off without amounts (any currency).
    currency: str | None = Field(default=None, max_length=3)
    #: Scope: products and categories it applies to (``[]``: all within the supplier/shop).
    product_ids: list[int] = json_field([])
    category_ids: list[int] = json_field([])
    #: Coupons: the code a consumer types (upper-case), if any; claimable ones are claimed
    #: from the coupon centre or a link and then work only for their claimer.
    code: str | None = Field(default=None, max_length=32)
    claimable: bool = False
    percent_off: int | None = None
    amount_off_minor: int | None = None
    min_spend_minor: int = 0
    #: Thresholds (满减): ``[{"spend": minor, "off": minor}]``, ascending by spend.
    tiers: list[dict[str, Any]] = json_field([])
    #: Flash sales: the variant, its sale price per unit, the units reserved from stock for
    #: it, and whether the unsold ones are still held out of ``available``.
    variant_id: int | None = reference_field("sf_variant.id", nullable=True)
    price_minor: int | None = None
    quota: int | None = None
    reserved: bool = False
    #: Limits (``None``: none): uses in all, uses (flash sales: units) per consumer, and the
    #: total discount it may give.
    max_uses: int | None = None
    per_consumer: int | None = None
    budget_minor: int | None = None
    #: Counters the limits are taken from, given back with the orders that took them.
    uses: int = 0
    discount_given_minor: int = 0
    units_sold: int = 0
    starts_at: datetime | None = timestamp_field()
    ends_at: datetime | None = timestamp_field()
    #: Set when it was ended early (``DELETE``, the console, the admin) or by the job.
    ended_at: datetime | None = timestamp_field(nullable=True)
    #: Who made it: ``supplier:<id>``, ``distributor:<id>``, ``admin:<id>``, ``cli``.
    created_by: str = Field(max_length=64)
    created_at: datetime | None = timestamp_field()


class PromotionUse(SQLModel, table=True):
    """An order's use of a promotion: what it gave and what it took from the limits."""

    __tablename__ = "sf_promotion_use"
    __table_args__ = (
        sa.CheckConstraint(one_of("status", USE_STATUSES), name="status"),
        sa.CheckConstraint("discount_minor >= 0 AND units >= 0", name="amounts"),
        sa.UniqueConstraint("promotion_id", "order_id"),
    )

    id: int | None = id_field()
    promotion_id: int = reference_field("sf_promotion.id")
    order_id: int = reference_field("sf_order.id", index=True)
    #: Whose per-consumer limit it counts against (:func:`identity key
    #: <storefront_sdk.consumers>`): ``consumer:<id>`` or a guest's contact hash.
    identity_key: str = Field(max_length=80)
    discount_minor: int
    #: Flash sales: units sold at the sale price (else 0).
    units: int = 0
    status: str = Field(default=USE_TAKEN, max_length=16)
    created_at: datetime | None = timestamp_field()
    returned_at: datetime | None = timestamp_field(nullable=True)


class PromotionCounter(SQLModel, table=True):
    """What one identity has taken of a promotion (its per-consumer limit): uses, and units
    for a flash sale. Taken by one conditional upsert, so parallel orders cannot pass it."""

    __tablename__ = "sf_promotion_counter"
    __table_args__ = (sa.CheckConstraint("uses >= 0 AND units >= 0", name="counts"),)

    promotion_id: int = reference_field("sf_promotion.id", primary_key=True)
    identity_key: str = Field(max_length=80, primary_key=True)
    uses: int = 0
    units: int = 0


class CouponClaim(SQLModel, table=True):
    """A claimable coupon a consumer claimed (from the coupon centre, a link, or sent to
    their segment): it works only for them."""

    __tablename__ = "sf_coupon_claim"
    __table_args__ = (sa.UniqueConstraint("promotion_id", "consumer_id"),)

    id: int | None = id_field()
    promotion_id: int = reference_field("sf_promotion.id")
    consumer_id: int = reference_field("sf_consumer.id", index=True)
    #: The shop it was claimed in (its coupon centre or link).
    shop_id: int | None = reference_field("sf_shop.id", nullable=True)
    claimed_at: datetime | None = timestamp_field()
