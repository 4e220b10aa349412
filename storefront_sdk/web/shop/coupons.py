<<<<<<< HEAD
"""The shop's coupon centre (领券): ``/s/<slug>/coupons`` lists the coupons a consumer may
claim in the shop, each with its terms, validity and who offers it, and a "Claim" button;
``/s/<slug>/coupons/<public_id>`` is one coupon's claim link, which a shop owner shares.

Claiming needs a signed-in consumer (the session's ``sf_consumer_id``); a visitor who is
not signed in is sent to the shop's sign-in page and back to the coupon. A claim is one row
per coupon and consumer (:mod:`storefront_sdk.promotions.claims`).
=======
"""The coupon a visitor applied in a shop's cart (kept in their session with the cart), the
consumer signed in, and the words of what promotions give and refuse.

The engine (:mod:`storefront_sdk.promotions.engine`) says why a promotion does not apply
with a code and a figure; this module words them in the page's language.
>>>>>>> i13-checkout
"""

from __future__ import annotations

<<<<<<< HEAD
from typing import Any
from urllib.parse import quote

import sqlalchemy as sa
from flask import Response, abort, redirect, request, session
from sqlmodel import col

from ... import i18n
from ...catalog.models import Supplier
from ...consumers.models import Consumer
from ...db import utcnow
from ...errors import NotFound, StorefrontError
from ...promotions import claims
from ...promotions.models import Promotion
from ..pages import gettext as _
from ..promotion_texts import coupon_terms, offered_by
from ..sessions import get_session
from ..shop_reads import read_session, write_session
from ..transactions import commit_or_refuse
from .pages import (
    ShopLinks,
    check_csrf,
    current_shop,
    money_formatter_of,
    page_locale,
    render,
)

#: The session key of the signed-in consumer (the consumers area's sign-in sets it).
CONSUMER_KEY = "sf_consumer_id"
_PUBLIC_ID = 40


def signed_in_consumer() -> int | None:
    """The consumer signed in on this browser, if the session names one that exists."""
    found = session.get(CONSUMER_KEY)
    if not isinstance(found, int) or isinstance(found, bool) or found < 1:
        return None
    exists = read_session().scalar(sa.select(col(Consumer.id)).where(col(Consumer.id) == found))
    return found if exists is not None else None


def login_url(next_path: str) -> str:
    """The shop's sign-in page, coming back to ``next_path`` afterwards."""
    return f"{ShopLinks.of_request().base}account/login?next={quote(next_path, safe='/')}"


def coupon_centre(slug: str) -> Response:
    """The coupons a consumer may claim in this shop."""
    page_locale()  # (the notice is in the page's language)
    found = claims.claimable_coupons(read_session(), current_shop(), utcnow())
    claimed = request.args.get("claimed", "")[:_PUBLIC_ID]
    notice = _("Coupon claimed.") if any(p.public_id == claimed for p in found) else None
    return _page(found, notice=notice)


def coupon_link(slug: str, public_id: str) -> Response:
    """One coupon's claim link (the shop owner shares it)."""
    try:
        found = claims.find_claimable(read_session(), current_shop(), public_id, utcnow())
    except NotFound:
        abort(404)
    return _page([found], single=True)


def claim(slug: str, public_id: str) -> Response:
    """Claims a coupon for the signed-in consumer (else: sign in first, then back here)."""
    try:
        with i18n.locale_of_page(page_locale()):
            check_csrf()
    except StorefrontError as error:
        return _refused(error.message, 400)
    consumer_id = signed_in_consumer()
    if consumer_id is None:
        back = request.script_root + request.path.rpartition("/")[0]
        return redirect(login_url(back), code=303)  # type: ignore[return-value]
    shop = current_shop()
    db = write_session()

    def work() -> Response:
        found = claims.find_claimable(db, shop, public_id, utcnow())
        claims.claim_coupon(db, found, consumer_id, shop.id, utcnow())
        target = f"{ShopLinks.of_request().base}coupons?claimed={quote(public_id)}"
        return redirect(target, code=303)  # type: ignore[return-value]

    def refuse(error: StorefrontError) -> Response:
        if isinstance(error, claims.AlreadyClaimed):
            return _refused(_("You have already claimed this coupon."), 409)
        if isinstance(error, NotFound):
            return _refused(_("This coupon can no longer be claimed."), 404)
        return _refused(_("This coupon could not be claimed. Please try again."), 409)

    return commit_or_refuse(work, refuse)


def _refused(message: str, status: int) -> Response:
    found = claims.claimable_coupons(get_session(), current_shop(), utcnow())
    return _page(found, error=message, status=status)


def _page(
    found: list[Promotion],
    *,
    single: bool = False,
    notice: str | None = None,
    error: str | None = None,
    status: int = 200,
) -> Response:
    consumer_id = signed_in_consumer()
    mine: set[int] = set()
    if consumer_id is not None:
        mine = claims.claimed_ids(get_session(), consumer_id, (p.id or 0 for p in found))
    suppliers = _suppliers(found)
    response = render(
        "coupons.html",
        status=status,
        coupons=[_coupon(p, mine, suppliers) for p in found],
        single=single,
        signed_in=consumer_id is not None,
        notice=notice,
        error=error,
    )
    response.cache_control.no_store = True
    return response


def _suppliers(found: list[Promotion]) -> dict[int, str]:
    ids = sorted({p.supplier_id for p in found if p.supplier_id is not None})
    if not ids:
        return {}
    rows = get_session().execute(
        sa.select(col(Supplier.id), col(Supplier.name)).where(col(Supplier.id).in_(ids))
    )
    return {id_ or 0: name for id_, name in rows}


def _coupon(promotion: Promotion, mine: set[int], suppliers: dict[int, str]) -> dict[str, Any]:
    money = money_formatter_of(current_shop(), page_locale())
    base = ShopLinks.of_request().base
    link = f"{base}coupons/{promotion.public_id}"
    return {
        "public_id": promotion.public_id,
        "name": promotion.name,
        "terms": coupon_terms(promotion, money),
        "offered_by": offered_by(promotion, suppliers),
        "ends_at": promotion.ends_at,
        "claimed": promotion.id in mine,
        # (what the consumer types in the cart: its code, else its public id)
        "code": promotion.code or promotion.public_id,
        "link": link,
        "claim_url": f"{link}/claim",
    }
=======
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
>>>>>>> i13-checkout
