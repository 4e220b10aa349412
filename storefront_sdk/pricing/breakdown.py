"""An order line's price breakdown, and how a refund takes it back: pure integer functions.

At the sale (:func:`break_down_line`), each unit splits as :func:`.prices.split_price`
says; level 1 goes to the distributor credited with the order, level 2 to their recruiter.
A share nobody earns (a distributor's own purchase, a distributor without a recruiter) is
the platform's, so the parts always sum exactly to what was paid. The result is one value,
:class:`LineBreakdown`: what the line costs and where each minor unit of it goes. It is the
seam later features extend (a promotion adds what each funder gives up, taken out of that
funder's part alone); checkout stores it as the line's columns.

A refund takes each part back in proportion (:func:`reversed_parts`): after ``refunded`` of
a line's ``amount`` went back, each distributor's part has given back ``floor(refunded x
part / amount)`` — never more than its share, never less after a later refund, and exactly
all of it once the whole line is refunded; the supplier's part likewise; the platform's
takes what rounding leaves (on a partly refunded line it may be short of its proportion by
up to 3 minor units, made good by the time the line is wholly refunded). Each refund
reverses the difference between two such states, so partial refunds in any number and
order add up exactly.

Units given back (cancelled by the supplier, returned) are worth the line's own amount,
discounts included (:func:`units_amount`): after ``n`` of its ``quantity`` units went back,
``floor(amount x n / quantity)`` did, so the units of a line refunded in any number of steps
add up to exactly what the consumer paid for it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from .prices import PriceSplit, Rates, VariantBounds, split_price


class SplitError(ValueError):
    """The price leaves a part of the split negative (``docs/architecture.md``, invariant
    2)."""


@dataclass(frozen=True, slots=True)
class LineParts:
    """A line's money (or the part of it refunded): the four parts of invariant 2."""

    supplier: int
    level1: int
    level2: int
    platform: int

    @property
    def total(self) -> int:
        return self.supplier + self.level1 + self.level2 + self.platform

    def __sub__(self, other: LineParts) -> LineParts:
        return LineParts(
            self.supplier - other.supplier,
            self.level1 - other.level1,
            self.level2 - other.level2,
            self.platform - other.platform,
        )


@dataclass(frozen=True, slots=True)
class LineBreakdown:
    """``quantity`` units sold at ``unit_price``, and where the money goes: the supplier's
    ``supply`` per unit, level 1 and level 2 (each for the whole line, 0 when nobody earns
    it) and the platform's part, which takes what is left. The parts sum exactly to
    :attr:`amount` (invariant 2)."""

    unit_price: int
    quantity: int
    #: The supplier's suggested price and their own price, per unit.
    retail: int
    supply: int
    level1: int
    level2: int
    platform: int
    #: What each funder's promotions take off the line (``growth.md``, "Who pays"), each
    #: out of its own part: the supplier's, level 1 (the shop's owner), the platform's.
    supplier_discount: int = 0
    shop_discount: int = 0
    platform_discount: int = 0

    @property
    def gross(self) -> int:
        """The line at the shop's price, before promotions."""
        return self.unit_price * self.quantity

    @property
    def discount(self) -> int:
        """Every funder's discount on the line."""
        return self.supplier_discount + self.shop_discount + self.platform_discount

    @property
    def amount(self) -> int:
        """What the consumer pays for the line."""
        return self.gross - self.discount

    @property
    def supply_amount(self) -> int:
        """What the supplier is paid for the line: its supply price less its own discounts."""
        return self.supply * self.quantity - self.supplier_discount

    @property
    def parts(self) -> LineParts:
        """The line's four parts (what refunds reverse in proportion), each net of the
        discounts its holder funded; they sum to :attr:`amount`."""
        return LineParts(
            self.supply_amount,
            self.level1 - self.shop_discount,
            self.level2,
            self.platform - self.platform_discount,
        )


def break_down_line(
    unit_price: int,
    quantity: int,
    bounds: VariantBounds,
    rates: Rates,
    *,
    level1_earned: bool,
    level2_earned: bool,
) -> LineBreakdown:
    """The breakdown of ``quantity`` units sold at ``unit_price``; :class:`SplitError` if
    the price splits into a negative part. Unearned levels are the platform's."""
    unit: PriceSplit = split_price(bounds, unit_price, rates)
    if not unit.valid:
        raise SplitError(f"the price {unit_price} leaves a negative part: {unit}")
    level1 = unit.level1 * quantity if level1_earned else 0
    level2 = unit.level2 * quantity if level2_earned else 0
    supplier = unit.supplier * quantity
    return LineBreakdown(
        unit_price,
        quantity,
        bounds.retail,
        bounds.supply,
        level1,
        level2,
        unit_price * quantity - supplier - level1 - level2,
    )


def stored_parts(line: StoredLine) -> LineParts:
    """The four parts of a stored ``sf_order_line`` row (what :func:`refund_reversal`
    takes back from); ``level1_minor`` and ``platform_minor`` are stored net of their
    funders' discounts."""
    return LineParts(
        line.supply_amount_minor, line.level1_minor, line.level2_minor, line.platform_minor
    )


class StoredLine(Protocol):
    """The money columns of a stored order line (an ``OrderLine`` or a row of it)."""

    @property
    def supply_amount_minor(self) -> int: ...

    @property
    def level1_minor(self) -> int: ...

    @property
    def level2_minor(self) -> int: ...

    @property
    def platform_minor(self) -> int: ...


def units_amount(amount: int, quantity: int, units_before: int, units: int) -> int:
    """What giving back ``units`` more units of a line of ``quantity`` units that cost
    ``amount`` in all returns, when ``units_before`` of them were given back already: the
    line's net amount (its discounts frozen on it) shared out by units, exact in sum."""
    if quantity < 1 or amount < 0:
        raise ValueError(f"a line has a quantity >= 1 and an amount >= 0, got {quantity}, {amount}")
    if units_before < 0 or units < 0 or units_before + units > quantity:
        raise ValueError(
            f"units must be within the line's {quantity}, got {units_before} then {units}"
        )
    return amount * (units_before + units) // quantity - amount * units_before // quantity


def reversed_parts(parts: LineParts, refunded: int) -> LineParts:
    """What ``refunded`` (of the line's whole amount, ``0 <= refunded <= total``) has taken
    back from each part, in all."""
    amount = parts.total
    if not 0 <= refunded <= amount:
        raise ValueError(f"refunded must be from 0 to {amount}, got {refunded}")
    if amount == 0:
        return LineParts(0, 0, 0, 0)
    supplier = refunded * parts.supplier // amount
    level1 = refunded * parts.level1 // amount
    level2 = refunded * parts.level2 // amount
    return LineParts(supplier, level1, level2, refunded - supplier - level1 - level2)


def refund_reversal(parts: LineParts, refunded_before: int, refund: int) -> LineParts:
    """What a refund of ``refund`` takes back from each part of a line of which
    ``refunded_before`` was refunded already."""
    return reversed_parts(parts, refunded_before + refund) - reversed_parts(parts, refunded_before)
