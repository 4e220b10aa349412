"""What a cart's promotions give each line: pure integer functions, no database.

The rules (``docs/promotions.md``, "Checkout"), in the order they apply:

1. **Flash sales.** A line of a flash sale's variant sells at the sale price: its discount
   is ``(shop price - sale price) x quantity``, funded by the sale's funder. A line whose
   shop price is not above the sale price, or whose quota is sold out, sells normally. A
   cart asking more units than the consumer may still buy, or more than the quota has
   left, is refused (:attr:`Pricing.refusals`). A flash line takes no other discount.
2. **Thresholds** (满减), automatically, the largest saving first; each line belongs to at
   most one; a threshold's eligible amount is the gross of its in-scope non-flash lines
   not taken by an earlier one; its best tier with ``spend <= eligible`` applies.
3. **The coupon**, at most one, on the in-scope non-flash lines at their amount after
   thresholds; every reason it does not apply is a :class:`Refusal`.

A discount is allocated to its lines by largest remainder weighted by each line's amount
so far (ties: the lower variant id first), exact to the minor unit. Each line's share must
fit its funder's capacity on that line (the supplier's supply amount, the shop owner's
level 1 when the owner earns it, the platform's: anything): a threshold that does not fit
is skipped, a coupon refused — never taken from another party.

Refusals carry a code and numbers, not words: the page words them in the consumer's
language.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from ..pricing.breakdown import LineBreakdown
from .models import COUPON, FLASH_SALE, PLATFORM, SHOP, SUPPLIER, THRESHOLD, Promotion

#: Why a coupon does not apply (``Refusal.code``), each worded by the cart page.
UNKNOWN_CODE = "unknown_code"
NOT_STARTED = "not_started"
ENDED = "ended"
OTHER_SHOP = "other_shop"
CLAIM_REQUIRED = "claim_required"
USED_UP = "used_up"
PER_CONSUMER = "per_consumer"
NOTHING_APPLIES = "nothing_applies"
MIN_SPEND = "min_spend"
BUDGET = "budget"
UNFUNDABLE = "unfundable"
#: Why a flash-sale line cannot be ordered as it is.
FLASH_LIMIT = "flash_limit"
FLASH_QUOTA = "flash_quota"


@dataclass(frozen=True, slots=True)
class CartLine:
    """A cart line priced at the shop's price, before promotions, with what scopes it."""

    variant_id: int
    product_id: int
    supplier_id: int
    category_id: int | None
    currency: str
    breakdown: LineBreakdown
    #: Whether the line's level 1 is earned by the shop's owner (the only case a shop
    #: discount can come out of it).
    owner_earns_level1: bool


@dataclass(frozen=True, slots=True)
class Taken:
    """What one identity has taken of a promotion so far (its ``PromotionCounter``)."""

    uses: int = 0
    units: int = 0


@dataclass(frozen=True, slots=True)
class CouponAsked:
    """The coupon a consumer asked for: the code (or claimed coupon id) typed, the live or
    not promotion it names (``None``: unknown) and whether they hold a claim on it."""

    code: str
    promotion: Promotion | None
    claimed: bool = False


@dataclass(frozen=True, slots=True)
class LineDiscount:
    """One promotion's discount on one line."""

    promotion_id: int
    funder: str
    amount: int


@dataclass(frozen=True, slots=True)
class PricedLine:
    """A cart line with its promotions: the breakdown with each funder's discount set, the
    discounts by promotion, and the units it sells at a flash price (else 0)."""

    line: CartLine
    breakdown: LineBreakdown
    discounts: tuple[LineDiscount, ...] = ()
    flash_units: int = 0


@dataclass(frozen=True, slots=True)
class Applied:
    """A promotion the cart takes, with its whole discount and its flash units."""

    promotion: Promotion
    amount: int
    units: int = 0


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why a promotion does not apply: a code (module constants), the promotion's name (or
    the code typed) and the figure its message says (an amount short, a count left...)."""

    code: str
    name: str
    figure: int = 0
    #: Whether the order cannot be placed as the cart is (flash lines over a limit).
    blocking: bool = False


@dataclass(frozen=True, slots=True)
class Pricing:
    """What the promotions give a cart: its lines, the promotions applied, the refusals."""

    lines: tuple[PricedLine, ...]
    applied: tuple[Applied, ...]
    refusals: tuple[Refusal, ...] = ()

    @property
    def discount(self) -> int:
        """Every line's discount together."""
        return sum(priced.breakdown.discount for priced in self.lines)

    @property
    def coupon(self) -> Applied | None:
        """The coupon applied, if any."""
        return next((a for a in self.applied if a.promotion.kind == COUPON), None)


@dataclass
class _Line:
    """A line being priced (mutable while the rules apply in turn)."""

    line: CartLine
    breakdown: LineBreakdown
    discounts: list[LineDiscount] = field(default_factory=list)
    flash_units: int = 0
    threshold_taken: bool = False

    @property
    def amount(self) -> int:
        return self.breakdown.amount


def price_cart(
    lines: Sequence[CartLine],
    promotions: Sequence[Promotion],
    coupon: CouponAsked | None,
    taken: Mapping[int, Taken],
    *,
    shop_id: int,
    now: datetime,
) -> Pricing:
    """The promotions of ``promotions`` (live flash sales and thresholds in the shop) and the
    coupon asked for applied to ``lines``, given what the identity has ``taken`` of each
    promotion (by promotion id)."""
    work = [_Line(line, line.breakdown) for line in sorted(lines, key=lambda ln: ln.variant_id)]
    applied: list[Applied] = []
    refusals: list[Refusal] = []
    flash = [p for p in promotions if p.kind == FLASH_SALE]
    _apply_flash_sales(work, flash, taken, applied, refusals)
    _apply_thresholds(work, [p for p in promotions if p.kind == THRESHOLD], applied)
    if coupon is not None:
        refusal = _apply_coupon(work, coupon, taken, shop_id, now, applied)
        if refusal is not None:
            refusals.append(refusal)
    priced = tuple(PricedLine(w.line, w.breakdown, tuple(w.discounts), w.flash_units) for w in work)
    return Pricing(priced, tuple(applied), tuple(refusals))


def in_scope(promotion: Promotion, line: CartLine) -> bool:
    """Whether ``line`` is within ``promotion``'s supplier, products, categories and
    currency."""
    return (
        (promotion.supplier_id is None or promotion.supplier_id == line.supplier_id)
        and (not promotion.product_ids or line.product_id in promotion.product_ids)
        and (not promotion.category_ids or line.category_id in promotion.category_ids)
        and (promotion.currency is None or promotion.currency == line.currency)
    )


def capacity(funder: str, line: CartLine, breakdown: LineBreakdown) -> int | None:
    """What ``funder`` can still give on a line whose breakdown so far is ``breakdown``
    (``None``: no bound but the line's amount)."""
    if funder == SUPPLIER:
        return breakdown.supply_amount
    if funder == SHOP:
        return breakdown.level1 - breakdown.shop_discount if line.owner_earns_level1 else 0
    return None


def allocate(total: int, weights: Sequence[int]) -> list[int]:
    """``total`` split over ``weights`` by largest remainder (ties: the earlier weight
    first); each share is at most its weight when ``total <= sum(weights)``."""
    whole = sum(weights)
    if whole <= 0:
        return [0] * len(weights)
    shares = [total * weight // whole for weight in weights]
    left = total - sum(shares)
    order = sorted(range(len(weights)), key=lambda i: (-(total * weights[i] % whole), i))
    for i in order[:left]:
        shares[i] += 1
    return shares


def _give(work: _Line, promotion: Promotion, amount: int) -> None:
    """Adds ``promotion``'s ``amount`` to a line, out of its funder's part."""
    if amount <= 0:
        return
    name = {SUPPLIER: "supplier_discount", SHOP: "shop_discount", PLATFORM: "platform_discount"}
    attribute = name[promotion.funder]
    work.breakdown = dataclasses.replace(
        work.breakdown, **{attribute: getattr(work.breakdown, attribute) + amount}
    )
    work.discounts.append(LineDiscount(promotion.id or 0, promotion.funder, amount))


def _fits(promotion: Promotion, lines: Sequence[_Line], shares: Sequence[int]) -> bool:
    for work, share in zip(lines, shares, strict=True):
        room = capacity(promotion.funder, work.line, work.breakdown)
        if share > work.amount or (room is not None and share > room):
            return False
    return True


def _spread(promotion: Promotion, lines: Sequence[_Line], total: int) -> bool:
    """Allocates ``total`` of ``promotion`` over ``lines`` if every share fits its funder's
    capacity; whether it did."""
    shares = allocate(total, [work.amount for work in lines])
    if not _fits(promotion, lines, shares):
        return False
    for work, share in zip(lines, shares, strict=True):
        _give(work, promotion, share)
    return True


def _within_limits(promotion: Promotion, discount: int) -> bool:
    """Whether ``promotion`` still has a use and ``discount`` of budget left."""
    if promotion.max_uses is not None and promotion.uses >= promotion.max_uses:
        return False
    budget = promotion.budget_minor
    return budget is None or promotion.discount_given_minor + discount <= budget


def _apply_flash_sales(
    work: list[_Line],
    sales: Sequence[Promotion],
    taken: Mapping[int, Taken],
    applied: list[Applied],
    refusals: list[Refusal],
) -> None:
    by_variant: dict[int, Promotion] = {}
    for promotion in sorted(sales, key=lambda p: p.id or 0):
        if promotion.variant_id is not None and promotion.funder != SHOP:
            by_variant.setdefault(promotion.variant_id, promotion)
    for line in work:
        sale = by_variant.get(line.line.variant_id)
        if sale is None or sale.price_minor is None:
            continue
        refusal = _flash_refusal(sale, line, taken.get(sale.id or 0, Taken()))
        if refusal is not None:
            refusals.append(refusal)
            continue
        quantity = line.breakdown.quantity
        discount = (line.breakdown.unit_price - sale.price_minor) * quantity
        units_left = (sale.quota or 0) - sale.units_sold
        if discount <= 0 or units_left <= 0 or not _within_limits(sale, discount):
            continue  # sold normally
        room = capacity(sale.funder, line.line, line.breakdown)
        if room is not None and discount > room:
            continue  # its funder cannot bear it: sold normally
        _give(line, sale, discount)
        line.flash_units = quantity
        applied.append(Applied(sale, discount, quantity))


def _flash_refusal(sale: Promotion, line: _Line, taken: Taken) -> Refusal | None:
    """The refusal of a flash line asking more than the consumer may still buy, or more
    than the quota has left (while some is left)."""
    quantity = line.breakdown.quantity
    if line.breakdown.unit_price <= (sale.price_minor or 0):
        return None
    units_left = (sale.quota or 0) - sale.units_sold
    if 0 < units_left < quantity:
        return Refusal(FLASH_QUOTA, sale.name, units_left, blocking=True)
    if sale.per_consumer is not None and units_left > 0:
        may_buy = max(sale.per_consumer - taken.units, 0)
        if quantity > may_buy:
            return Refusal(FLASH_LIMIT, sale.name, may_buy, blocking=True)
    return None


def _threshold_offer(threshold: Promotion, work: Sequence[_Line]) -> tuple[list[_Line], int]:
    """The lines a threshold would take now and the discount of its best tier on them."""
    lines = [
        w
        for w in work
        if not w.flash_units and not w.threshold_taken and in_scope(threshold, w.line)
    ]
    eligible = sum(w.breakdown.gross for w in lines)
    off = 0
    for tier in threshold.tiers:
        if int(tier["spend"]) <= eligible:
            off = max(off, int(tier["off"]))
    return lines, min(off, eligible)


def _apply_thresholds(
    work: list[_Line], thresholds: Sequence[Promotion], applied: list[Applied]
) -> None:
    waiting = sorted(thresholds, key=lambda p: p.id or 0)
    while waiting:
        offers = [(_threshold_offer(t, work), t) for t in waiting]
        (lines, off), best = max(offers, key=lambda o: o[0][1])  # ties: the older one
        waiting.remove(best)
        if off <= 0:
            continue
        if _within_limits(best, off) and _spread(best, lines, off):
            for w in lines:
                w.threshold_taken = True
            applied.append(Applied(best, off))


def _coupon_gate(
    coupon: CouponAsked, taken: Mapping[int, Taken], shop_id: int, now: datetime
) -> Refusal | None:
    """The refusal of a coupon before its lines are looked at, if any."""
    promotion = coupon.promotion
    if promotion is None or promotion.kind != COUPON:
        return Refusal(UNKNOWN_CODE, coupon.code)
    name = promotion.name
    if promotion.starts_at is not None and now < promotion.starts_at:
        return Refusal(NOT_STARTED, name)
    ends_at = promotion.ends_at
    if promotion.ended_at is not None or (ends_at is not None and now >= ends_at):
        return Refusal(ENDED, name)
    if promotion.shop_id is not None and promotion.shop_id != shop_id:
        return Refusal(OTHER_SHOP, name)
    if promotion.claimable and not coupon.claimed:
        return Refusal(CLAIM_REQUIRED, name)
    if promotion.max_uses is not None and promotion.uses >= promotion.max_uses:
        return Refusal(USED_UP, name)
    limit = promotion.per_consumer
    if limit is not None and taken.get(promotion.id or 0, Taken()).uses >= limit:
        return Refusal(PER_CONSUMER, name, limit)
    return None


def coupon_discount(promotion: Promotion, eligible: int) -> int:
    """What a coupon takes off ``eligible`` (its in-scope lines after thresholds)."""
    if promotion.percent_off is not None:
        return eligible * promotion.percent_off // 100
    return min(promotion.amount_off_minor or 0, eligible)


def _apply_coupon(
    work: list[_Line],
    coupon: CouponAsked,
    taken: Mapping[int, Taken],
    shop_id: int,
    now: datetime,
    applied: list[Applied],
) -> Refusal | None:
    refusal = _coupon_gate(coupon, taken, shop_id, now)
    if refusal is not None:
        return refusal
    promotion = coupon.promotion
    assert promotion is not None  # the gate refused an unknown code
    lines = [w for w in work if not w.flash_units and in_scope(promotion, w.line)]
    eligible = sum(w.amount for w in lines)
    if not lines or eligible <= 0:
        return Refusal(NOTHING_APPLIES, promotion.name)
    if eligible < promotion.min_spend_minor:
        return Refusal(MIN_SPEND, promotion.name, promotion.min_spend_minor - eligible)
    discount = coupon_discount(promotion, eligible)
    if discount <= 0:
        return Refusal(NOTHING_APPLIES, promotion.name)
    if not _within_limits(promotion, discount):
        return Refusal(BUDGET, promotion.name)
    if not _spread(promotion, lines, discount):
        return Refusal(UNFUNDABLE, promotion.name)
    applied.append(Applied(promotion, discount))
    return None
