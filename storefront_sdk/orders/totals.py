"""What an order comes to: its lines before promotions, their discounts, each supplier's
shipping fee (its free-shipping threshold checked on its part before promotions; shipping is
never discounted) and the total to pay."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from ..promotions.engine import Pricing


class ShippingRule(Protocol):
    """A supplier's shipping terms (a :class:`~.catalog.models.Supplier`, or a row with the
    same two columns)."""

    @property
    def shipping_fee_minor(self) -> int: ...

    @property
    def free_shipping_over_minor(self) -> int | None: ...


@dataclass
class Part:
    """One supplier's part of an order being placed: its shipping terms and its lines (rows
    of ``sf_order_line`` but for their order)."""

    rule: ShippingRule
    lines: list[dict[str, Any]] = field(default_factory=list)

    @property
    def subtotal(self) -> int:
        """The part's lines at the shop's prices, before promotions."""
        return sum(line["unit_price_minor"] * line["quantity"] for line in self.lines)


def shipping_fee(supplier: ShippingRule, subtotal: int) -> int:
    """What the consumer pays for shipping a supplier's part worth ``subtotal``."""
    free_over = supplier.free_shipping_over_minor
    if free_over is not None and subtotal >= free_over:
        return 0
    return supplier.shipping_fee_minor


@dataclass(frozen=True, slots=True)
class OrderTotals:
    """What an order comes to, in minor units of ``currency``: its items, each supplier's
    shipping fee (by supplier id, as a string) and the total to pay."""

    currency: str
    subtotal: int
    shipping_parts: dict[str, int]
    #: The promotions' discounts on the lines, and what the promotions gave (each one, its
    #: funder and its lines' discounts) and refused (the coupon's reason).
    discount: int = 0
    pricing: Pricing | None = None

    @property
    def shipping(self) -> int:
        """Every supplier's shipping fee together."""
        return sum(self.shipping_parts.values())

    @property
    def total(self) -> int:
        """What the consumer pays: the items less their discounts, and their shipping."""
        return self.subtotal - self.discount + self.shipping


def order_totals(
    currency: str, parts: Mapping[int, Part], pricing: Pricing | None = None
) -> OrderTotals:
    """The totals of an order of ``parts`` (its lines by supplier, before promotions; a
    supplier's free-shipping threshold is checked on its part before promotions) and their
    ``pricing``: the one rule both the cart's figures and :func:`place_order` follow."""
    fees = {str(id_): shipping_fee(part.rule, part.subtotal) for id_, part in parts.items()}
    gross = sum(part.subtotal for part in parts.values())
    discount = pricing.discount if pricing is not None else 0
    return OrderTotals(currency, gross, fees, discount, pricing)
