"""Tables of consumers' orders and their supplier parts.

An order keeps a snapshot of everything it sold (titles, options, the three prices of each
line), so later catalogue changes never rewrite history; money columns are integer minor
units in the order's one ``currency``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from ..consumers import models as _consumers  # noqa: F401  (sf_consumer, referenced here)
from ..db import id_field, json_field, one_of, reference_field, timestamp_field
from ..promotions import models as _promotions  # noqa: F401  (sf_promotion, referenced)
from .states import OrderStatus, SupplierOrderStatus


class Order(SQLModel, table=True):
    """A consumer's order in one shop, over one or several suppliers."""

    __tablename__ = "sf_order"
    __table_args__ = (
        sa.CheckConstraint(one_of("status", OrderStatus), name="status"),
        sa.CheckConstraint("subtotal_minor >= 0 AND shipping_minor >= 0", name="amounts"),
        sa.CheckConstraint(
            "discount_minor >= 0 AND discount_minor <= subtotal_minor", name="discount"
        ),
        sa.CheckConstraint(
            "total_minor = subtotal_minor - discount_minor + shipping_minor", name="total"
        ),
        sa.CheckConstraint(
            "refunded_minor >= 0 AND refunded_minor <= total_minor", name="refunded"
        ),
        # A double-clicked "place order" (same form token) makes one order.
        sa.UniqueConstraint("shop_id", "checkout_key"),
        sa.Index("ix_sf_order_shop_created", "shop_id", "created_at"),
        sa.Index("ix_sf_order_status_expires", "status", "expires_at"),
        # The checkout counts a client's unpaid orders (``STOREFRONT_UNPAID_ORDERS_PER_CLIENT``).
        sa.Index("ix_sf_order_client_status", "client_key", "status"),
        # ... and an identity's (``STOREFRONT_UNPAID_ORDERS_PER_CONSUMER``).
        sa.Index("ix_sf_order_identity_created", "identity_key", "created_at"),
    )

    id: int | None = id_field()
    #: Human-friendly, unique: ``YYMMDD-XXXXXX`` (what the consumer quotes).
    number: str = Field(max_length=20, sa_column_kwargs={"unique": True})
    #: The secret of the consumer's order page ``/s/<shop>/orders/<token>``.
    token: str = Field(max_length=64, sa_column_kwargs={"unique": True})
    shop_id: int = reference_field("sf_shop.id")
    #: Who the sale is credited to (binding, referral link, else the shop's owner);
    #: ``None`` for a distributor's own purchase, which earns nothing.
    credited_distributor_id: int | None = reference_field("sf_distributor.id", nullable=True)
    #: How the credit was decided: ``binding``, ``referral``, ``shop`` or ``self``.
    credit_source: str = Field(max_length=16)
    #: The distributor who bought, for their own purchase (``self``); ``None`` otherwise,
    #: and for own purchases placed before 0014 (not recorded then).
    self_purchase_distributor_id: int | None = reference_field(
        "sf_distributor.id", nullable=True, index=True
    )
    #: The referral visit (``ReferralVisit.token_id``) the consumer came through, if any,
    #: whoever the sale was credited to.
    referral_token_id: str | None = Field(default=None, max_length=32)
    #: The verified consumer who placed it, or whose contact a guest order gave once they
    #: signed in with it; ``None`` for a guest.
    consumer_id: int | None = reference_field("sf_consumer.id", nullable=True, index=True)
    #: Hash of the normalised contact (customer binding key).
    customer_key: str = Field(max_length=64, index=True)
    checkout_key: str = Field(max_length=64)
    #: Hash of the client address the order was placed from (``None`` before 0012), so
    #: the checkout can count a client's unpaid orders; never the address itself.
    client_key: str | None = Field(default=None, max_length=64)
    #: The identity its per-consumer limits counted under (``consumer:<id>`` or
    #: ``guest:<contact hash>``: :func:`..consumers.identity.identity_key`; ``None`` before
    #: 0017), so the checkout can count an identity's unpaid orders.
    identity_key: str | None = Field(default=None, max_length=80)
    status: str = Field(default=OrderStatus.AWAITING_PAYMENT, max_length=20)
    currency: str = Field(max_length=3)
    #: The lines at the shop's prices, before promotions.
    subtotal_minor: int
    #: Every line's discounts together (``OrderLine.discount_minor``).
    discount_minor: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    shipping_minor: int
    #: Each supplier's shipping fee as charged (``{"<supplier id>": minor units}``).
    shipping_parts: dict[str, int] = json_field({})
    total_minor: int
    refunded_minor: int = 0
    contact_email: str | None = Field(default=None, max_length=254)
    contact_phone: str | None = Field(default=None, max_length=32)
    shipping_address: dict[str, str] = json_field({})
    locale: str = Field(max_length=35)
    payment_provider: str = Field(max_length=16)
    #: The provider's payment (a Stripe PaymentIntent id), once one was started.
    payment_ref: str | None = Field(default=None, max_length=255, index=True)
    expires_at: datetime | None = timestamp_field()
    paid_at: datetime | None = timestamp_field(nullable=True)
    created_at: datetime | None = timestamp_field()
    updated_at: datetime | None = timestamp_field()


class OrderLine(SQLModel, table=True):
    """One variant of an order, with the prices it sold at."""

    __tablename__ = "sf_order_line"
    __table_args__ = (
        sa.CheckConstraint("quantity > 0", name="quantity"),
        sa.CheckConstraint(
            "shipped_quantity >= 0 AND cancelled_quantity >= 0 "
            "AND shipped_quantity + cancelled_quantity <= quantity",
            name="fulfilled",
        ),
        # A unit is refunded once: cancelled by its supplier or returned, never both; one
        # returned before it was shipped is not shipped any more.
        sa.CheckConstraint(
            "returned_quantity >= 0 AND cancelled_quantity + returned_quantity <= quantity "
            "AND returned_unshipped_quantity >= 0 "
            "AND returned_unshipped_quantity <= returned_quantity "
            "AND shipped_quantity + cancelled_quantity + returned_unshipped_quantity <= quantity",
            name="returned",
        ),
        sa.CheckConstraint(
            "amount_minor = unit_price_minor * quantity - discount_minor", name="amount"
        ),
        # Each funder's discount comes out of its own part (``growth.md``, "Who pays").
        sa.CheckConstraint(
            "supplier_discount_minor >= 0 AND shop_discount_minor >= 0 "
            "AND platform_discount_minor >= 0 AND discount_minor = supplier_discount_minor "
            "+ shop_discount_minor + platform_discount_minor",
            name="discount",
        ),
        sa.CheckConstraint(
            "supply_amount_minor = supply_price_minor * quantity - supplier_discount_minor "
            "AND supply_amount_minor >= 0",
            name="supply_amount",
        ),
        sa.CheckConstraint(
            "refunded_minor >= 0 AND refunded_minor <= amount_minor", name="refunded"
        ),
        # No part is negative but the platform's, and that only by what it funded (a
        # subsidy).
        sa.CheckConstraint(
            "level1_minor >= 0 AND level2_minor >= 0 "
            "AND platform_minor + platform_discount_minor >= 0",
            name="split",
        ),
        # Every paid cent is accounted for (``docs/architecture.md``, invariant 2).
        sa.CheckConstraint(
            "amount_minor = supply_amount_minor + level1_minor + level2_minor + platform_minor",
            name="parts",
        ),
        # Stock reports subtract the units of lines still holding stock (reconciliation).
        sa.Index(
            "ix_sf_order_line_held",
            "variant_id",
            postgresql_where=sa.text("stock_held"),
            sqlite_where=sa.text("stock_held"),
        ),
    )

    id: int | None = id_field()
    order_id: int = reference_field("sf_order.id", index=True)
    supplier_id: int = reference_field("sf_supplier.id")
    supplier_order_id: int | None = reference_field(
        "sf_supplier_order.id", nullable=True, index=True
    )
    product_id: int = reference_field("sf_product.id")
    variant_id: int = reference_field("sf_variant.id")
    sku: str = Field(max_length=64)
    external_id: str = Field(max_length=64)
    title: str = Field(max_length=300)
    options: dict[str, str] = json_field({})
    image: str | None = Field(default=None, max_length=2048)
    quantity: int
    currency: str = Field(max_length=3)
    #: What the consumer paid per unit (the shop's price).
    unit_price_minor: int
    retail_price_minor: int
    supply_price_minor: int
    #: What the consumer pays for the line: ``unit_price_minor * quantity`` less its
    #: discounts, allocated when the order was placed and frozen.
    amount_minor: int
    #: The line's discounts, by funder (their sum: ``discount_minor``); which promotions
    #: gave them: :class:`OrderLineDiscount`.
    discount_minor: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    supplier_discount_minor: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    shop_discount_minor: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    platform_discount_minor: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    #: What the supplier is paid for the line: ``supply_price_minor * quantity`` less the
    #: discounts it funded (``supply_amount`` in the supplier API).
    supply_amount_minor: int
    shipped_quantity: int = 0
    cancelled_quantity: int = 0
    #: Units the platform refunded as returned (after-sales): they are neither cancelled
    #: nor refunded again.
    returned_quantity: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    #: Of those, units that had not been shipped when they were refunded: they are not
    #: shipped any more (returns take shipped units first).
    returned_unshipped_quantity: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    refunded_minor: int = 0
    #: The line's units are still taken from ``available`` and not yet reflected in the
    #: supplier's stock reports (see :mod:`storefront_sdk.catalog.allocation`).
    stock_held: bool = True
    #: How ``amount_minor`` splits (``docs/architecture.md``, invariant 2): the supplier's
    #: part is ``supply_amount_minor``; level 1 (less the shop's discounts) goes to the
    #: distributor credited with the order, level 2 to their recruiter (``None``: nobody,
    #: the platform keeps it); the platform's part is less the platform's discounts.
    level1_distributor_id: int | None = reference_field(
        "sf_distributor.id", nullable=True, index=True
    )
    level2_distributor_id: int | None = reference_field(
        "sf_distributor.id", nullable=True, index=True
    )
    level1_minor: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    level2_minor: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    platform_minor: int = Field(default=0, sa_column_kwargs={"server_default": "0"})


class OrderLineDiscount(SQLModel, table=True):
    """One promotion's discount on one order line, as allocated when the order was placed
    (largest remainder, exact to the minor unit) and frozen."""

    __tablename__ = "sf_order_line_discount"
    __table_args__ = (
        sa.CheckConstraint("amount_minor > 0", name="amount"),
        sa.CheckConstraint("funder IN ('supplier', 'shop', 'platform')", name="funder"),
        sa.UniqueConstraint("order_line_id", "promotion_id"),
    )

    id: int | None = id_field()
    order_id: int = reference_field("sf_order.id", index=True)
    order_line_id: int = reference_field("sf_order_line.id")
    promotion_id: int = reference_field("sf_promotion.id", index=True)
    #: Its promotion's funder, copied (the line's part it came out of).
    funder: str = Field(max_length=16)
    amount_minor: int


class SupplierOrder(SQLModel, table=True):
    """The part of a paid order one supplier fulfils (``so_...`` in the supplier API)."""

    __tablename__ = "sf_supplier_order"
    __table_args__ = (
        sa.CheckConstraint(one_of("status", SupplierOrderStatus), name="status"),
        sa.UniqueConstraint("order_id", "supplier_id"),
        sa.Index("ix_sf_supplier_order_supplier_status", "supplier_id", "status", "id"),
        # What ``settle`` looks for: delivered parts whose commissions are not available yet.
        sa.Index(
            "ix_sf_supplier_order_unsettled",
            "delivered_at",
            postgresql_where=sa.text("settled_at IS NULL AND delivered_at IS NOT NULL"),
            sqlite_where=sa.text("settled_at IS NULL AND delivered_at IS NOT NULL"),
        ),
    )

    id: int | None = id_field()
    public_id: str = Field(max_length=40, sa_column_kwargs={"unique": True})
    order_id: int = reference_field("sf_order.id")
    supplier_id: int = reference_field("sf_supplier.id")
    status: str = Field(default=SupplierOrderStatus.PENDING, max_length=20)
    currency: str = Field(max_length=3)
    #: What the consumer paid for this supplier's shipping.
    shipping_minor: int = 0
    created_at: datetime | None = timestamp_field()
    updated_at: datetime | None = timestamp_field()
    accepted_at: datetime | None = timestamp_field(nullable=True)
    delivered_at: datetime | None = timestamp_field(nullable=True)
    cancelled_at: datetime | None = timestamp_field(nullable=True)
    cancel_reason: str | None = Field(default=None, max_length=500)
    #: When its lines' commissions became available (delivered, return window passed).
    settled_at: datetime | None = timestamp_field(nullable=True)


class Shipment(SQLModel, table=True):
    """A parcel a supplier sent: carrier, tracking number and the units in it."""

    __tablename__ = "sf_shipment"

    id: int | None = id_field()
    public_id: str = Field(max_length=40, sa_column_kwargs={"unique": True})
    supplier_order_id: int = reference_field("sf_supplier_order.id", index=True)
    carrier: str = Field(max_length=64)
    tracking_number: str = Field(max_length=128)
    #: ``[{"sku": ..., "quantity": n}]``
    lines: list[dict[str, Any]] = json_field([])
    shipped_at: datetime | None = timestamp_field()


class OrderEvent(SQLModel, table=True):
    """The audit trail of an order: every change of status, payment, shipment, refund,
    with who did it. Rows are only ever added."""

    __tablename__ = "sf_order_event"

    id: int | None = id_field()
    order_id: int = reference_field("sf_order.id", index=True)
    supplier_order_id: int | None = reference_field("sf_supplier_order.id", nullable=True)
    #: ``placed``, ``paid``, ``expired``, ``shipped``, ``refund``...
    kind: str = Field(max_length=32)
    #: ``consumer``, ``provider:stripe``, ``supplier:<id>``, ``system``.
    actor: str = Field(max_length=64)
    detail: dict[str, Any] = json_field({})
    created_at: datetime | None = timestamp_field()


#: Refund statuses: asked of the provider, confirmed, or refused by it (retried).
REFUND_PENDING = "pending"
REFUND_SUCCEEDED = "succeeded"
REFUND_FAILED = "failed"

#: What a refund is for: units its supplier cancelled, units returned (after-sales), a
#: goodwill amount that gives back no unit, or a payment that came after its order ended
#: (given back whole).
REFUND_CANCELLED = "cancelled"
REFUND_RETURNED = "returned"
REFUND_GOODWILL = "goodwill"
REFUND_LATE_PAYMENT = "late_payment"
REFUND_KINDS = (REFUND_CANCELLED, REFUND_RETURNED, REFUND_GOODWILL, REFUND_LATE_PAYMENT)


class Refund(SQLModel, table=True):
    """Money given back to the consumer for some lines (and shipping) of an order."""

    __tablename__ = "sf_refund"
    __table_args__ = (
        sa.CheckConstraint("amount_minor > 0", name="amount"),
        sa.CheckConstraint("status IN ('pending', 'succeeded', 'failed')", name="status"),
        sa.CheckConstraint(one_of("kind", REFUND_KINDS), name="kind"),
        sa.Index("ix_sf_refund_status", "status", "next_attempt_at"),
        # A form submitted twice (same one-time key) makes one refund.
        sa.UniqueConstraint("order_id", "form_key"),
    )

    id: int | None = id_field()
    order_id: int = reference_field("sf_order.id", index=True)
    supplier_order_id: int | None = reference_field("sf_supplier_order.id", nullable=True)
    amount_minor: int
    currency: str = Field(max_length=3)
    reason: str = Field(max_length=500)
    #: :data:`REFUND_KINDS`; refunds made before kinds were recorded are ``goodwill``
    #: (those of a supplier's cancellation, ``cancelled``; of a late payment,
    #: ``late_payment``).
    kind: str = Field(
        default=REFUND_GOODWILL, max_length=16, sa_column_kwargs={"server_default": "goodwill"}
    )
    #: Per line: ``[{"line_id", "sku", "quantity" (units returned or cancelled),
    #: "amount", "supply_deducted"}]`` in minor units (what suppliers reconcile).
    lines: list[dict[str, Any]] = json_field([])
    #: The one-time key of the admin's refund form that asked for it (double submits).
    form_key: str | None = Field(default=None, max_length=64)
    status: str = Field(default=REFUND_PENDING, max_length=16)
    #: The provider's refund id, once it accepted the refund.
    provider_ref: str | None = Field(default=None, max_length=255)
    attempts: int = 0
    last_error: str | None = Field(default=None, max_length=500)
    next_attempt_at: datetime | None = timestamp_field(nullable=True)
    created_at: datetime | None = timestamp_field()
    updated_at: datetime | None = timestamp_field()
