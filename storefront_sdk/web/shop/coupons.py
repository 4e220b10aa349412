"""The coupon a visitor applied in a shop's cart (kept in their session with the cart), the
consumer signed in, and the words of what promotions give and refuse.

The engine (:mod:`storefront_sdk.promotions.engine`) says why a promotion does not apply
with a code and a figure; this module words them in the page's language.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from flask import session

from ... import i18n
from ...consumers.models import Consumer
from ...db import utcnow
from ...orders.discounts import Buyer, normalise_code
from ...orders.totals import OrderTotals
from ...promotions import engine, offers
from ...promotions.models import PLATFORM, SHOP, SUPPLIER
from ...shops.listing import ShopView
from ..shop_reads import read_session
from .pages import money_formatter_of, page_locale

#: Session key of the coupons applied, by shop id.
COUPON_KEY = "sf_coupon"
#: Session key of the consumer signed in (``docs/consumers.md``).
CONSUMER_KEY = "sf_consumer_id"
#: The longest coupon code or claimed coupon id accepted.
MAX_CODE = 40


def coupon_of(shop: ShopView) -> str | None:
    """The coupon the visitor applied in ``shop``'s cart, if any."""
    found = (session.get(COUPON_KEY) or {}).get(str(shop.id))
    return found if isinstance(found, str) and found else None


def save_coupon(shop: ShopView, code: str | None) -> None:
    """Keeps ``code`` as the coupon of ``shop``'s cart (``None`` removes it)."""
    coupons = dict(session.get(COUPON_KEY) or {})
    if code:
        coupons[str(shop.id)] = code
    else:
        coupons.pop(str(shop.id), None)
    session[COUPON_KEY] = coupons


def clean_code(raw: str) -> str | None:
    """A typed coupon code without its spaces (at most :data:`MAX_CODE` characters: a longer
    one is no code, and the cart says so), ``None`` if empty: a code is stored upper-case; a
    claimed coupon's id (``pr_...``) is kept as typed."""
    typed = "".join(raw.split())[:MAX_CODE]
    if not typed:
        return None
    return typed if typed.startswith("pr_") else normalise_code(typed)


def signed_in_consumer() -> int | None:
    """The consumer signed in to the shops (the session's ``sf_consumer_id``), if they
    still exist."""
    found = session.get(CONSUMER_KEY)
    if not isinstance(found, int) or isinstance(found, bool):
        return None
    return found if read_session().get(Consumer, found) is not None else None


def buyer_of(shop: ShopView) -> Buyer:
    """Who the cart's promotions are for: its coupon and the consumer signed in (whose
    limits count under ``consumer:<id>``; a guest's are known once they give a contact)."""
    consumer = signed_in_consumer()
    identity = f"consumer:{consumer}" if consumer is not None else None
    return Buyer(coupon_of(shop), consumer, identity)


def funder_label(funder: str) -> str:
    """Who pays for a discount, as the consumer sees it."""
    labels = {
        SUPPLIER: i18n.gettext("Supplier offer"),
        SHOP: i18n.gettext("Shop coupon"),
        PLATFORM: i18n.gettext("Platform subsidy"),
    }
    return str(labels.get(funder, funder))


def refusal_message(refusal: engine.Refusal, money: Callable[[int], str]) -> str:
    """Why a promotion does not apply, in the page's language (``money`` formats an amount
    of the cart's currency)."""
    name, figure = refusal.name, refusal.figure
    words = {
        engine.UNKNOWN_CODE: lambda: i18n.gettext(
            "There is no coupon %(code)s. Check the code and try again.", code=name
        ),
        engine.NOT_STARTED: lambda: i18n.gettext(
            "The coupon %(name)s cannot be used yet.", name=name
        ),
        engine.ENDED: lambda: i18n.gettext("The coupon %(name)s has ended.", name=name),
        engine.OTHER_SHOP: lambda: i18n.gettext(
            "The coupon %(name)s is not valid in this shop.", name=name
        ),
        engine.CLAIM_REQUIRED: lambda: i18n.gettext(
            "The coupon %(name)s works only for the consumer who claimed it: sign in with "
            "the account that claimed it.",
            name=name,
        ),
        engine.USED_UP: lambda: i18n.gettext("The coupon %(name)s is used up.", name=name),
        engine.PER_CONSUMER: lambda: i18n.gettext(
            "You have already used the coupon %(name)s as many times as allowed (%(count)s).",
            name=name,
            count=figure,
        ),
        engine.NOTHING_APPLIES: lambda: i18n.gettext(
            "The coupon %(name)s does not apply to anything in your cart.", name=name
        ),
        engine.MIN_SPEND: lambda: i18n.gettext(
            "Spend %(amount)s more to use the coupon %(name)s.",
            amount=money(figure),
            name=name,
        ),
        engine.BUDGET: lambda: i18n.gettext(
            "The coupon %(name)s has run out of budget.", name=name
        ),
        engine.UNFUNDABLE: lambda: i18n.gettext(
            "The coupon %(name)s cannot be used on these items.", name=name
        ),
        engine.FLASH_LIMIT: lambda: i18n.gettext(
            "%(name)s: you may buy %(count)s more at the flash-sale price; please change "
            "the quantity.",
            name=name,
            count=figure,
        ),
        engine.FLASH_QUOTA: lambda: i18n.gettext(
            "%(name)s: only %(count)s left at the flash-sale price; please change the quantity.",
            name=name,
            count=figure,
        ),
    }
    word = words.get(refusal.code)
    return str(word()) if word is not None else refusal.code


def coupon_context(shop: ShopView, totals: Mapping[str, OrderTotals]) -> dict[str, Any]:
    """What the cart and checkout pages show of promotions: the coupon applied and, if it
    does not apply, why (``coupon_refusal``); the flash-sale lines refused; the coupons
    the consumer signed in claimed; and ``funder_label``."""
    money = money_formatter_of(shop, page_locale())
    refusals: list[str] = []
    for currency, quote in sorted(totals.items()):
        for refusal in quote.pricing.refusals if quote.pricing is not None else ():
            worded = refusal_message(refusal, _in(money, currency))
            if worded not in refusals:
                refusals.append(worded)
    consumer = signed_in_consumer()
    claimed = (
        offers.claimed_coupons(read_session(), consumer, shop.id, utcnow())
        if consumer is not None
        else []
    )
    return {
        "coupon": coupon_of(shop),
        "promotion_refusals": refusals,
        "claimed_coupons": claimed,
        "funder_label": funder_label,
    }


def _in(money: Callable[[int | None, str], str], currency: str) -> Callable[[int], str]:
    def formatted(amount: int) -> str:
        return money(amount, currency)

    return formatted
