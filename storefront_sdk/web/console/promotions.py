"""The console's promotions (``/console/promotions``): the owner's shop-funded coupons and
spend-and-save thresholds (满减), created here, listed with their figures (uses, discount
given, paid orders and their sales) and ended after a confirmation.

A shop's promotion is paid from its owner's level-1 commission on each line, so checkout
skips it on lines whose commission cannot bear it (the page says so). Every query is the
signed-in distributor's own shop's: another shop's promotion is not found (404).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from flask import Response, request
from sqlmodel import col

from ...db import utcnow
from ...errors import NotFound, StorefrontError
from ...money import Money, format_money
from ...promotions import manage
from ...promotions.models import SHOP, Promotion
from .. import promotion_forms as forms
from ..pages import gettext as _
from ..pages import see_other, time_zone
from ..sessions import get_session
from ..transactions import committed
from .access import locale, me, my_shop, page
from .forms import PlainForm, first_error
from .promotion_forms import CouponForm, ThresholdForm


def _money(minor: int, currency: str) -> str:
    return format_money(Money(minor, currency), locale(), my_shop().currency_display)


def _zone() -> str:
    return time_zone(my_shop().time_zone)


def _mine() -> list[Promotion]:
    query = (
        sa.select(Promotion)
        .where(col(Promotion.funder) == SHOP, col(Promotion.shop_id) == my_shop().id)
        .order_by(col(Promotion.id).desc())
        .limit(forms.LIST_SIZE)
    )
    return list(get_session().scalars(query))


def promotions_page(
    error: str | None = None, status: int = 200, values: dict[str, Any] | None = None
) -> Response:
    """The shop's promotions with their figures, and the forms that create them."""
    now = utcnow()
    return page(
        "promotions.html",
        status,
        rows=forms.promotion_rows(get_session(), _mine(), _money, now),
        values={"currency": "CNY", **forms.default_window(now, _zone()), **(values or {})},
        tier_rows=range(1, forms.TIER_ROWS + 1),
        zone=_zone(),
        error=error,
    )


def promotions() -> Response:
    """``GET /console/promotions``."""
    return promotions_page()


def _refused(error: StorefrontError) -> Response:
    status = 404 if isinstance(error, NotFound) else 422
    return promotions_page(forms.refusal(error), status, dict(request.form.items()))


def _window(form: Any) -> tuple[datetime, datetime]:
    return forms.window_of(form.starts.data, form.ends.data, _zone(), utcnow())


@committed(_refused)
def create_coupon() -> Response:
    """A shop coupon: amount or percent off, a code or claimable, its limits and window."""
    form = CouponForm()
    if not form.validate():
        return promotions_page(first_error(form), 422, dict(request.form.items()))
    currency: str = form.currency.data or ""
    starts_at, ends_at = _window(form)
    percent = form.percent_off.data if form.discount.data == "percent" else None
    amount = None
    if percent is None:
        amount = forms.amount_of(form.amount_off.data, currency, _("Amount off"))
    manage.create_coupon(
        get_session(),
        funder=SHOP,
        created_by=f"distributor:{me().id}",
        now=utcnow(),
        starts_at=starts_at,
        ends_at=ends_at,
        shop_id=my_shop().id,
        percent_off=percent,
        amount_off=amount,
        currency=currency,
        code=form.code.data or None,
        claimable=bool(form.claimable.data),
        min_spend=forms.amount_of(
            form.min_spend.data, currency, _("Minimum spend"), required=False
        ),
        max_uses=form.max_uses.data,
        per_consumer=form.per_consumer.data,
        name=form.name.data or None,
    )
    return see_other(".promotions")


@committed(_refused)
def create_threshold() -> Response:
    """A shop spend-and-save (满减) with up to three tiers."""
    form = ThresholdForm()
    if not form.validate():
        return promotions_page(first_error(form), 422, dict(request.form.items()))
    currency: str = form.currency.data or ""
    starts_at, ends_at = _window(form)
    manage.create_threshold(
        get_session(),
        funder=SHOP,
        created_by=f"distributor:{me().id}",
        now=utcnow(),
        starts_at=starts_at,
        ends_at=ends_at,
        tiers=forms.tiers_of(request.form, currency),
        currency=currency,
        shop_id=my_shop().id,
        name=form.name.data or None,
    )
    return see_other(".promotions")


def _own(public_id: str) -> Promotion:
    try:
        return manage.find_promotion(get_session(), public_id[:40], shop_id=my_shop().id)
    except NotFound:
        raise NotFound(_("This promotion does not exist in your shop.")) from None


def confirm_end(public_id: str) -> Response:
    """Asks the owner to confirm ending one of the shop's promotions."""
    try:
        found = _own(public_id)
    except NotFound as error:
        return page("message.html", 404, message=error.message)
    row = forms.promotion_rows(get_session(), [found], _money, utcnow())[0]
    return page("promotion_end.html", row=row)


@committed(_refused)
def end(public_id: str) -> Response:
    """Ends one of the shop's promotions now (confirmed on the page before)."""
    form = PlainForm()
    if not form.validate():
        return promotions_page(first_error(form), 400)
    manage.end_promotion(get_session(), _own(public_id), utcnow())
    return see_other(".promotions")
