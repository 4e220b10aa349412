"""Imports every table of the library so ``SQLModel.metadata`` knows them all."""

from __future__ import annotations

from .catalog.models import ApiKey, Category, Product, Supplier, Variant
from .commissions.models import CommissionEntry, Payout
from .commissions.payout_accounts import PayoutAccount, PayoutAccountChange
from .consumers.models import Consumer, ConsumerAddress, SignInCode
from .db import metadata
from .fulfillment.models import DeliveryAttempt, OutboxEvent
from .idempotency import IdempotencyRecord
from .orders.models import (
    Order,
    OrderEvent,
    OrderLine,
    OrderLineDiscount,
    Refund,
    Shipment,
    SupplierOrder,
)
from .payments.models import ProviderEvent
from .platform_admins import PlatformAdmin
from .pricing.models import CommissionRate
from .promotions.models import CouponClaim, Promotion, PromotionCounter, PromotionUse
from .ratelimit import AttemptCounter
from .referrals.models import CustomerBinding, ReferralVisit
from .shops.models import Distributor, Shop, ShopFollow, ShopPrice, ShopProduct

__all__ = [
    "ApiKey",
    "AttemptCounter",
    "Category",
    "CommissionEntry",
    "CommissionRate",
    "Consumer",
    "ConsumerAddress",
    "CouponClaim",
    "CustomerBinding",
    "DeliveryAttempt",
    "Distributor",
    "IdempotencyRecord",
    "Order",
    "OrderEvent",
    "OrderLine",
    "OrderLineDiscount",
    "OutboxEvent",
    "Payout",
    "PayoutAccount",
    "PayoutAccountChange",
    "PlatformAdmin",
    "Product",
    "Promotion",
    "PromotionCounter",
    "PromotionUse",
    "ProviderEvent",
    "ReferralVisit",
    "Refund",
    "Shipment",
    "Shop",
    "ShopFollow",
    "ShopPrice",
    "ShopProduct",
    "SignInCode",
    "Supplier",
    "SupplierOrder",
    "Variant",
    "metadata",
    "storefront_tables",
]


def storefront_tables() -> list[str]:
    """Names of the library's own tables (the shared metadata may hold the host's too)."""
    return sorted(name for name in metadata.tables if name.startswith("sf_"))
