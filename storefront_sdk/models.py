"""Imports every table of the library so ``SQLModel.metadata`` knows them all."""

from __future__ import annotations

from .catalog.models import ApiKey, Category, Product, Supplier, Variant
from .db import metadata
from .idempotency import IdempotencyRecord
from .shops.models import Distributor, ReferralVisit, Shop, ShopFollow, ShopPrice, ShopProduct

__all__ = [
    "ApiKey",
    "Category",
    "Distributor",
    "IdempotencyRecord",
    "Product",
    "ReferralVisit",
    "Shop",
    "ShopFollow",
    "ShopPrice",
    "ShopProduct",
    "Supplier",
    "Variant",
    "metadata",
    "storefront_tables",
]


def storefront_tables() -> list[str]:
    """Names of the library's own tables (the shared metadata may hold the host's too)."""
    return sorted(name for name in metadata.tables if name.startswith("sf_"))
