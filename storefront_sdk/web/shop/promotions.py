"""What the shop pages show of the promotions live now: a flash sale's price with the shop's
price struck through, "Ends in" and its countdown, the units left when few, and the badge of
a threshold (满减) where it applies.

Read outside the page cache, at every page (one indexed query for the page's flash sales
and the shop's live thresholds: :mod:`storefront_sdk.promotions.showcase`), so a sale
shows from its first second and is gone at its last whatever the cache holds; the cached
parts (cards, product pages) carry the variant prices and categories these are matched
with. Without JavaScript the end time is shown in the
shop's time zone; the shop's script turns it into a live countdown.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from ...db import utcnow
from ...promotions.models import Promotion
from ...promotions.offers import FlashOffer
from ...promotions.showcase import page_promotions
from ...shops.listing import ProductCard
from ..promotion_texts import tier_terms
from ..shop_reads import read_session
from .pages import CardView, current_shop, money_formatter_of, page_locale

#: Units left of a sale's quota from which a page says how few are left.
FEW_UNITS = 10


@dataclass(frozen=True, slots=True)
class FlashView:
    """A variant's flash sale as a page shows it."""

    variant_id: int
    price: int
    was: int
    ends_at: datetime
    units_left: int

    @property
    def few_left(self) -> bool:
        return self.units_left <= FEW_UNITS


@dataclass(frozen=True, slots=True)
class LivePromotions:
    """The flash sales of a page's variants (those selling below the shop's price, with
    units left) and the shop's live thresholds."""

    flash: dict[int, FlashView]
    thresholds: list[Promotion]

    def best_flash(self, card: ProductCard) -> FlashView | None:
        """The card's lowest flash price, if any of its variants is on sale."""
        found = [self.flash[id_] for id_, _ in card.variant_prices if id_ in self.flash]
        return min(found, key=lambda view: (view.price, view.variant_id), default=None)

    def threshold_for(self, card: ProductCard) -> Promotion | None:
        """The first live threshold whose scope takes in the card's product."""
        for promotion in self.thresholds:
            if _in_scope(promotion, card):
                return promotion
        return None


def _in_scope(promotion: Promotion, card: ProductCard) -> bool:
    return (
        (promotion.supplier_id is None or promotion.supplier_id == card.supplier_id)
        and (not promotion.product_ids or card.id in promotion.product_ids)
        and (not promotion.category_ids or card.category_id in promotion.category_ids)
        and (promotion.currency is None or promotion.currency == card.currency)
    )


def live_for(cards: Iterable[ProductCard], now: datetime | None = None) -> LivePromotions:
    """The live promotions of a page showing ``cards`` (in this request's shop)."""
    shop, when = current_shop(), now or utcnow()
    prices = {id_: price for card in cards for id_, price in card.variant_prices}
    if not prices:
        return LivePromotions({}, [])
    found = page_promotions(read_session(), shop.id, sorted(prices), when)
    flash = {
        id_: _flash_view(id_, offer, prices[id_])
        for id_, offer in found.flash.items()
        if offer.price_minor < prices[id_] and offer.units_left > 0
    }
    return LivePromotions(flash, found.thresholds)


def _flash_view(variant_id: int, offer: FlashOffer, was: int) -> FlashView:
    return FlashView(variant_id, offer.price_minor, was, offer.ends_at, offer.units_left)


def badge(promotion: Promotion | None, money: Callable[[int, str], str]) -> str:
    """A threshold's badge: its tiers ("满¥100.00减¥20.00")."""
    if promotion is None or not promotion.tiers or promotion.currency is None:
        return ""
    return " · ".join(tier_terms(promotion.tiers[:2], promotion.currency, money))


def with_promotions(views: list[CardView], items: list[ProductCard]) -> list[CardView]:
    """The listing's cards with their flash prices and threshold badges."""
    live = live_for(items)
    money = money_formatter_of(current_shop(), page_locale())
    shown = []
    for view, card in zip(views, items, strict=True):
        flash = live.best_flash(card)
        if flash is not None:
            view = view._replace(
                price_text=money(flash.price, card.currency),
                was_text=money(flash.was, card.currency),
                flash=flash,
                sold_out=False,
            )
        else:
            view = view._replace(badge=badge(live.threshold_for(card), money))
        shown.append(view)
    return shown
