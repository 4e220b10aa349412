"""The admin's promotions (``/admin/promotions``): every promotion, newest first, with its
figures (uses, discount given, paid orders and their sales); coupons and spend-and-save
thresholds funded by the platform or by a chosen supplier; flash sales of any supplier's SKU
(e.g. a 48-hour brand sale: its quota reserved from stock at once); ending one after a
confirmation on a page of its own.

Amounts are typed in the currency's units (``12.50``; a flash price in its supplier's
currency) and times in the platform's time zone (``STOREFRONT_DEFAULT_TIME_ZONE``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from flask import Response, request
from sqlmodel import col

from ...catalog.models import Supplier
from ...db import utcnow
from ...errors import NotFound, StorefrontError, ValidationError
from ...promotions import manage
from ...promotions.models import PLATFORM, SUPPLIER, Promotion
from .. import promotion_forms as forms
from ..pages import gettext as _
from ..pages import see_other, time_zone
from ..sessions import get_session
from ..transactions import committed
from .access import me, message, money, newest_page, page

#: Who an admin may make pay.
ADMIN_FUNDERS = (PLATFORM, SUPPLIER)


def promotions_page(error: str | None = None, status: int = 200) -> Response:
    """Every promotion with its figures, and the forms that create them."""
    now, zone = utcnow(), time_zone()
    rows, next_before = newest_page(sa.select(Promotion), col(Promotion.id))
    found = [row[0] for row in rows]
    values = {"currency": "CNY", **forms.default_window(now, zone), **request.form.to_dict()}
    suppliers = get_session().execute(
        sa.select(col(Supplier.id), col(Supplier.name)).order_by(col(Supplier.id))
    )
    return page(
        "promotions.html",
        status,
        rows=forms.promotion_rows(get_session(), found, money, now),
        next_before=next_before,
        suppliers=list(suppliers),
        values=values,
        tier_rows=range(1, forms.TIER_ROWS + 1),
        zone=zone,
        error=error,
    )


def promotions() -> Response:
    """``GET /admin/promotions``."""
    return promotions_page()


def _refused(error: StorefrontError) -> Response:
    return promotions_page(forms.refusal(error), 404 if isinstance(error, NotFound) else 422)


def _funder() -> tuple[str, int | None]:
    funder = request.form.get("funder", "")
    if funder not in ADMIN_FUNDERS:
        raise ValidationError(_("Choose who pays: the platform or a supplier."))
    supplier = forms.count_of(request.form.get("supplier_id"), _("Supplier"))
    if funder == SUPPLIER and supplier is None:
        raise ValidationError(_("Choose the supplier who pays."))
    return funder, supplier


def _window() -> tuple[datetime, datetime]:
    return forms.window_of(
        request.form.get("starts"), request.form.get("ends"), time_zone(), utcnow()
    )


def _currency() -> str:
    currency = request.form.get("currency", "").strip().upper()
    if len(currency) != 3 or not currency.isalpha():
        raise ValidationError(_("Give the currency, such as CNY."))
    return currency


def _common() -> dict[str, Any]:
    funder, supplier_id = _funder()
    starts_at, ends_at = _window()
    return {
        "funder": funder,
        "supplier_id": supplier_id,
        "created_by": f"admin:{me().id}",
        "now": utcnow(),
        "starts_at": starts_at,
        "ends_at": ends_at,
        "name": request.form.get("name", "").strip() or None,
    }


def _discount(currency: str) -> dict[str, Any]:
    if request.form.get("discount") == "percent":
        percent = forms.count_of(request.form.get("percent_off"), _("Percent off"))
        if percent is None or percent > 100:
            raise ValidationError(_("The percent off is a whole number from 1 to 100."))
        return {"percent_off": percent}
    return {
        "amount_off": forms.amount_of(request.form.get("amount_off"), currency, _("Amount off"))
    }


@committed(_refused)
def create_coupon() -> Response:
    """A platform or supplier coupon: a code or claimable, amount or percent off."""
    form, currency = request.form, _currency()
    manage.create_coupon(
        get_session(),
        **_common(),
        **_discount(currency),
        currency=currency,
        code=form.get("code", "").strip() or None,
        claimable=form.get("claimable") == "y",
        min_spend=forms.amount_of(
            form.get("min_spend"), currency, _("Minimum spend"), required=False
        ),
        max_uses=forms.count_of(form.get("max_uses"), _("Uses in all")),
        per_consumer=forms.count_of(form.get("per_consumer"), _("Uses per consumer")),
        budget=forms.amount_of(form.get("budget"), currency, _("Budget"), required=False) or None,
    )
    return see_other(".promotions")


@committed(_refused)
def create_threshold() -> Response:
    """A platform or supplier spend-and-save (满减) with up to three tiers."""
    currency = _currency()
    manage.create_threshold(
        get_session(),
        **_common(),
        tiers=forms.tiers_of(request.form, currency),
        currency=currency,
    )
    return see_other(".promotions")


@committed(_refused)
def create_flash_sale() -> Response:
    """A flash sale of one supplier's SKU: price, quota (reserved now), per consumer."""
    common = _common()
    supplier_id = forms.count_of(request.form.get("supplier_id"), _("Supplier"))
    supplier = get_session().get(Supplier, supplier_id) if supplier_id else None
    if supplier is None:
        raise ValidationError(_("Choose the supplier whose SKU is on sale."))
    sku = request.form.get("sku", "").strip()
    if not sku:
        raise ValidationError(_("Give the SKU on sale."))
    quota = forms.count_of(request.form.get("quota"), _("Quota"))
    if quota is None:
        raise ValidationError(_("Quota: a whole number from 1."))
    manage.create_flash_sale(
        get_session(),
        **{**common, "supplier_id": supplier.id or 0},
        sku=sku,
        price=forms.amount_of(request.form.get("price"), supplier.currency, _("Sale price")),
        quota=quota,
        per_consumer=forms.count_of(request.form.get("per_consumer"), _("Units per consumer")),
    )
    return see_other(".promotions")


def _promotion(public_id: str) -> Promotion:
    try:
        return manage.find_promotion(get_session(), public_id[:40])
    except NotFound:
        raise NotFound(_("There is no such promotion.")) from None


def confirm_end(public_id: str) -> Response:
    """Asks the admin to confirm ending a promotion."""
    try:
        found = _promotion(public_id)
    except NotFound as error:
        return message(error.message, 404)
    row = forms.promotion_rows(get_session(), [found], money, utcnow())[0]
    return page("promotion_end.html", row=row)


@committed(_refused)
def end(public_id: str) -> Response:
    """Ends a promotion now (a flash sale's unsold units go back to stock)."""
    manage.end_promotion(get_session(), _promotion(public_id), utcnow())
    return see_other(".promotions")
