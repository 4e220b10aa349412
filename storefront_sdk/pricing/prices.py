"""Shop prices and how each sale splits (``docs/architecture.md``, invariant 2), as pure
integer functions.

For every line, ``shop price = supply + level 1 + level 2 + platform``, no part negative:

- level 1 (the shop's distributor) = base rate x retail + (shop price - retail): a markup
  above retail is the distributor's, a discount below it comes out of their commission;
- level 2 (the recruiter) = override rate x retail;
- the platform keeps the rest: retail - supply - both rates x retail, whatever the shop price.

So a shop may sell above retail freely, and below it by at most its own base commission and
never under the supplier's floor. Amounts are integer minor units of one currency; rates are
basis points. Commission shares are rounded down; the platform's part takes the remainders,
so the parts always sum exactly to the price.
"""

from __future__ import annotations

from dataclasses import dataclass

#: Basis points in 100 %.
BP = 10_000
#: The largest price a shop may set (fits the database's integer columns).
MAX_PRICE = 2**31 - 1


@dataclass(frozen=True, slots=True)
class VariantBounds:
    """What the supplier set for one variant: ``supply`` <= ``floor`` <= ``retail``."""

    supply: int
    retail: int
    floor: int | None = None


@dataclass(frozen=True, slots=True)
class Rates:
    """Commission rates in basis points of the retail price."""

    level1_bp: int
    level2_bp: int


@dataclass(frozen=True, slots=True)
class PriceSplit:
    """Where the money of one unit sold at ``price`` goes."""

    price: int
    supplier: int
    level1: int
    level2: int
    platform: int

    @property
    def valid(self) -> bool:
        """No part is negative (invariant 2)."""
        return min(self.supplier, self.level1, self.level2, self.platform) >= 0


def split_price(bounds: VariantBounds, price: int, rates: Rates) -> PriceSplit:
    """The split of ``price`` for a variant with ``bounds`` under ``rates``."""
    level1_base = bounds.retail * rates.level1_bp // BP
    level1 = level1_base + price - bounds.retail
    level2 = bounds.retail * rates.level2_bp // BP
    platform = price - bounds.supply - level1 - level2
    return PriceSplit(price, bounds.supply, level1, level2, platform)


def lowest_price(bounds: VariantBounds, rates: Rates) -> int:
    """The lowest price a shop may sell at: the supplier's floor, and no lower than retail
    minus the shop's own base commission."""
    lowest = bounds.retail - bounds.retail * rates.level1_bp // BP
    return max(lowest, bounds.floor if bounds.floor is not None else bounds.supply)


def marked_up(retail: int, markup_bp: int) -> int:
    """``retail`` changed by ``markup_bp`` (negative for a discount), rounded half up to a
    minor unit."""
    return (retail * (BP + markup_bp) * 2 + BP) // (2 * BP)


@dataclass(frozen=True, slots=True)
class ShopPrice:
    """The price a shop sells a variant at, and whether the shop's own setting had to be set
    aside because it no longer fits the supplier's bounds (its owner is told)."""

    amount: int
    fell_back: bool = False


def shop_price(
    bounds: VariantBounds,
    rates: Rates,
    *,
    price: int | None = None,
    markup_bp: int | None = None,
) -> ShopPrice:
    """The shop's price for a variant: its explicit ``price``, else its ``markup_bp`` rule,
    else retail. A markup rule below :func:`lowest_price` sells at the lowest price; an
    explicit price that no longer fits (below the lowest, above :data:`MAX_PRICE`) and any
    price leaving a part of the split negative fall back to retail. ``fell_back`` tells the
    owner either way.

    Whether retail itself splits validly depends only on the rates, which the commission
    settings keep in check when they change.
    """
    if price is None and markup_bp is None:
        return ShopPrice(bounds.retail)
    lowest = lowest_price(bounds, rates)
    clamped = False
    if price is not None:
        wanted = price
    else:
        # A discount rule deeper than a variant allows sells that variant at its lowest price.
        wanted = marked_up(bounds.retail, markup_bp or 0)
        if wanted < lowest:
            wanted, clamped = lowest, True
    if lowest <= wanted <= MAX_PRICE and split_price(bounds, wanted, rates).valid:
        return ShopPrice(wanted, fell_back=clamped)
    return ShopPrice(bounds.retail, fell_back=True)
