"""Checkout: ``/s/<slug>/checkout`` asks for the contact and the address and makes the
order (stock allocated), then sends the consumer to pay.

The browser never decides a price: the checkout recomputes everything from the database
(:mod:`storefront_sdk.orders.checkout`).
"""

from __future__ import annotations

import re
import secrets
from datetime import timedelta

import sqlalchemy as sa
from flask import Response, current_app, redirect, request, url_for
from sqlmodel import col

from ... import i18n
from ...catalog.allocation import SoldOut
from ...db import utcnow
from ...errors import StorefrontError
from ...orders import checkout, limits
from ...orders.discounts import PromotionRefused
from ...promotions.usage import PromotionUnavailable
from ...shops.accounts import EMAIL
from ...shops.models import Distributor
from .. import identity
from ..payments import provider
from ..sessions import get_session
from ..shop_reads import shop_rates, write_session
from ..transactions import commit_or_refuse
from . import coupons, referral
from .account import current_consumer_id
from .addresses import checkout_prefill, saved_addresses
from .pages import (
    cart_lines,
    cart_of,
    check_csrf,
    current_shop,
    fresh_shop,
    money_formatter_of,
    no_store,
    page_locale,
    render,
    save_cart,
)

#: Form fields of the checkout and their longest lengths.
FIELDS = {
    "email": 254,
    "phone": 32,
    "name": 100,
    "line1": 200,
    "line2": 200,
    "city": 100,
    "region": 100,
    "postal_code": 20,
    "country": 2,
}
REQUIRED = ("name", "line1", "city", "country")
_PHONE = re.compile(r"\+?[0-9][0-9 \-]{4,30}")
_KEY = re.compile(r"[A-Za-z0-9_\-]{16,64}")


def checkout_page(slug: str) -> Response:
    """Contact and address, with the order's lines, shipping and total as they are now."""
    if not cart_of(current_shop()):
        return redirect(url_for("storefront_shop.cart"), code=303)  # type: ignore[return-value]
    with i18n.locale_of_page(page_locale()):
        return _checkout_form(checkout_prefill(request.args.get("address"))[0], {})


def _checkout_form(values: dict[str, str], errors: dict[str, str], status: int = 200) -> Response:
    shop = current_shop()
    lines, totals = cart_lines(shop, coupons.buyer_of(shop))
    key = values.get("checkout_key") or secrets.token_urlsafe(24)
    if provider() is None and "form" not in errors:
        errors = {**errors, "form": _not_set_up()}
    response = render(
        "checkout.html",
        status=status,
        lines=lines,
        totals=totals,
        values=values,
        errors=errors,
        saved_addresses=saved_addresses(),
        checkout_key=key,
        payments_ready=provider() is not None,
        test_mode=getattr(provider(), "test_mode", False),
        **coupons.coupon_context(shop, totals),
    )
    return no_store(response)


def place_order(slug: str) -> Response:
    """Make the order (stock allocated), empty the cart and go to payment."""
    shop = current_shop()
    write_session()
    values = {name: " ".join(request.form.get(name, "").split()) for name in FIELDS}
    values["checkout_key"] = request.form.get("checkout_key", "")
    with i18n.locale_of_page(page_locale()):
        try:
            check_csrf()
        except StorefrontError as error:
            return _checkout_form(values, {"form": error.message}, status=422)
        errors = _check(values)
        found = provider()
        if found is None:
            errors["form"] = _not_set_up()
        if errors:
            return _checkout_form(values, errors, status=422)
        assert found is not None
        cart = {int(key): n for key, n in cart_of(shop).items() if key.isdigit()}
        email = values["email"].lower() or None
        attribution = referral.attribution()
        request_ = checkout.CheckoutRequest(
            shop=fresh_shop(),
            cart=cart,
            contact=checkout.Contact(email, values["phone"] or None),
            address={**values, "phone": values["phone"]},
            checkout_key=values["checkout_key"],
            locale=page_locale(),
            provider=found.name,
            referred_by=attribution.distributor_id if attribution else None,
            referral_token_id=attribution.token_id if attribution else None,
            buyer_distributor_id=identity.claimed_distributor_id(),
            contact_distributor_id=_distributor_with_email(email),
            client_key=limits.client_key_of(
                request.remote_addr or "", current_app.secret_key or ""
            ),
            consumer_id=current_consumer_id(),
            coupon_code=coupons.coupon_of(shop),
        )
        minutes = current_app.config["STOREFRONT_ORDER_EXPIRY_MINUTES"]

        def place() -> Response:
            order = checkout.place_order(
                get_session(),
                request_,
                shop_rates(),
                utcnow(),
                timedelta(minutes=minutes),
                binding_policy=current_app.config["STOREFRONT_CUSTOMER_BINDING_POLICY"],
                unpaid_limit=current_app.config["STOREFRONT_UNPAID_ORDERS_PER_CLIENT"],
                identity_limit=current_app.config["STOREFRONT_UNPAID_ORDERS_PER_CONSUMER"],
            )
            return redirect(url_for("storefront_shop.pay", token=order.token), code=303)  # type: ignore[return-value]

        def refuse(error: StorefrontError) -> Response:
            if isinstance(error, SoldOut):
                return _checkout_form(values, {"form": _sold_out_message(error)}, status=409)
            if isinstance(error, limits.TooManyUnpaidOrders):
                return _checkout_form(values, {"form": _too_many_unpaid(error)}, status=429)
            if isinstance(error, PromotionRefused | PromotionUnavailable):
                return _checkout_form(values, {"form": _promotion_message(error)}, status=409)
            if isinstance(error, checkout.CartChanged):
                message = i18n.gettext(
                    "Some items are no longer sold here; please check your cart."
                )
                return _checkout_form(values, {"form": message}, status=409)
            return _checkout_form(values, {"form": error.message}, status=422)

        response = commit_or_refuse(place, refuse)
    if response.status_code < 400:
        save_cart(shop, {})
        coupons.save_coupon(shop, None)  # used by this order
    return response


def _promotion_message(error: PromotionRefused | PromotionUnavailable) -> str:
    """Why the order was not placed with its promotions; the page then shows the cart's
    figures as they are now."""
    if isinstance(error, PromotionUnavailable):
        text: str = i18n.gettext(
            "The promotion %(name)s is no longer available for this order (it ran out or "
            "ended, or you reached its limit). Nothing was ordered; the figures below are "
            "the new ones.",
            name=error.name,
        )
        return text
    shop = current_shop()
    money = money_formatter_of(shop, page_locale())
    currency = next(iter(cart_lines(shop, coupons.buyer_of(shop))[1]), "CNY")
    return coupons.refusal_message(error.refusal, lambda amount: money(amount, currency))


def _too_many_unpaid(error: limits.TooManyUnpaidOrders) -> str:
    if error.per == "consumer":
        return str(
            i18n.gettext(
                "You have placed %(count)s unpaid orders in the last 10 minutes. Please pay "
                "for one of them, or wait a few minutes, before placing another.",
                count=error.limit,
            )
        )
    text: str = i18n.gettext(
        "You have reached the limit of %(count)s unpaid orders at a time. Please pay for "
        "one of them, or wait until one expires (after %(minutes)s minutes), before placing "
        "another.",
        count=error.limit,
        minutes=current_app.config["STOREFRONT_ORDER_EXPIRY_MINUTES"],
    )
    return text


def _not_set_up() -> str:
    text: str = i18n.gettext("Payments are not set up in this shop yet.")
    return text


def _distributor_with_email(email: str | None) -> int | None:
    if not email:
        return None
    found: int | None = get_session().scalar(
        sa.select(col(Distributor.id)).where(col(Distributor.email) == email)
    )
    return found


def _sold_out_message(error: SoldOut) -> str:
    lines, _ = cart_lines(current_shop())
    titles = [line["title"] for line in lines if line["offer"].id in error.variant_ids]
    text: str = i18n.gettext(
        "Sorry, not enough stock of: %(items)s. Please change your cart.",
        items=", ".join(titles) or "?",
    )
    return text


def _check(values: dict[str, str]) -> dict[str, str]:
    """Messages of the checkout fields that are not acceptable, by field."""
    errors: dict[str, str] = {}
    for name, longest in FIELDS.items():
        if len(values[name]) > longest:
            errors[name] = i18n.gettext("At most %(count)s characters.", count=longest)
    for name in REQUIRED:
        if not values[name]:
            errors.setdefault(name, i18n.gettext("Required."))
    if not values["email"] and not values["phone"]:
        errors.setdefault("email", i18n.gettext("Give an email address or a phone number."))
    if values["email"] and not EMAIL.fullmatch(values["email"]):
        errors.setdefault("email", i18n.gettext("This is not an email address."))
    if values["phone"] and not _PHONE.fullmatch(values["phone"]):
        errors.setdefault("phone", i18n.gettext("This is not a phone number."))
    values["country"] = values["country"].upper()
    if values["country"] and not re.fullmatch(r"[A-Z]{2}", values["country"]):
        errors.setdefault("country", i18n.gettext("A two-letter country code, e.g. CN."))
    if not _KEY.fullmatch(values["checkout_key"]):
        errors["form"] = i18n.gettext(
            "This form has expired. Please reload the page and try again."
        )
    return errors
