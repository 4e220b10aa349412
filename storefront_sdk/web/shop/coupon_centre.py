"""The shop's coupon centre (领券): ``/s/<slug>/coupons`` lists the coupons a consumer may
claim in the shop, each with its terms, validity and who offers it, and a "Claim" button;
``/s/<slug>/coupons/<public_id>`` is one coupon's claim link, which a shop owner shares.

Claiming needs a signed-in consumer (the session's ``sf_consumer_id``); a visitor who is
not signed in is sent to the shop's sign-in page and back to the coupon. A claim is one row
per coupon and consumer (:mod:`storefront_sdk.promotions.claims`).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import sqlalchemy as sa
from flask import Response, abort, redirect, request
from sqlmodel import col

from ... import i18n
from ...catalog.models import Supplier
from ...db import utcnow
from ...errors import NotFound, StorefrontError
from ...promotions import claims
from ...promotions.models import Promotion
from ..pages import gettext as _
from ..promotion_texts import coupon_terms, offered_by
from ..sessions import get_session
from ..shop_reads import read_session, write_session
from ..transactions import commit_or_refuse
from .account import current_consumer_id
from .pages import (
    ShopLinks,
    check_csrf,
    current_shop,
    money_formatter_of,
    page_locale,
    render,
)

_PUBLIC_ID = 40


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
    consumer_id = current_consumer_id()
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
    consumer_id = current_consumer_id()
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
