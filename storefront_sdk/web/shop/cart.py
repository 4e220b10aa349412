"""The shop's cart: each line at today's shop price with its stock state, adding to it and
changing a line (each checked against what the shop sells now)."""

from __future__ import annotations

from flask import Response, redirect, request, url_for

from ... import i18n
from ...catalog.queries import MAX_ID
from ...db import utcnow
from ...errors import StorefrontError
from ...promotions.offers import flash_offers
from ...shops import listing
from ..shop_reads import read_session, shop_rates
from . import coupons
from .pages import (
    MAX_CART_LINES,
    MAX_QUANTITY,
    cart_lines,
    cart_of,
    check_csrf,
    current_shop,
    form_int,
    fresh_shop,
    page_locale,
    render,
    save_cart,
)


def cart(slug: str) -> Response:
    """The cart: each line at today's shop price, with its stock state."""
    return _cart_page()


def _cart_page(error: str | None = None, status: int = 200) -> Response:
    shop = current_shop()
    lines, totals = cart_lines(shop, coupons.buyer_of(shop))
    response = render(
        "cart.html",
        status=status,
        lines=lines,
        totals=totals,
        error=error,
        **coupons.coupon_context(shop, totals),
    )
    response.cache_control.no_store = True
    return response


def apply_coupon(slug: str) -> Response:
    """Applies the coupon typed in "Coupon code" (or a claimed one) to the cart; the cart
    then shows what it gives, or why it does not apply."""
    shop = current_shop()
    with i18n.locale_of_page(page_locale()):
        try:
            check_csrf()
        except StorefrontError as error:
            return _cart_page(error.message, status=422)
        code = coupons.clean_code(request.form.get("coupon_code", ""))
        if code is None:
            return _cart_page(i18n.gettext("Type a coupon code."), status=422)
    coupons.save_coupon(shop, code)
    return redirect(url_for("storefront_shop.cart"), code=303)  # type: ignore[return-value]


def remove_coupon(slug: str) -> Response:
    """Takes the coupon off the cart."""
    shop = current_shop()
    with i18n.locale_of_page(page_locale()):
        try:
            check_csrf()
        except StorefrontError as error:
            return _cart_page(error.message, status=422)
    coupons.save_coupon(shop, None)
    return redirect(url_for("storefront_shop.cart"), code=303)  # type: ignore[return-value]


def cart_add(slug: str) -> Response:
    """Adds ``quantity`` of ``variant_id`` to the cart."""
    return _change_cart(add=True)


def cart_update(slug: str) -> Response:
    """Sets a line's quantity (0 removes it)."""
    return _change_cart(add=False)


def _change_cart(*, add: bool) -> Response:
    shop = current_shop()
    with i18n.locale_of_page(page_locale()):
        try:
            check_csrf()
            variant_id = form_int("variant_id", 1, MAX_ID, i18n.gettext("Choose a variant."))
            low = 1 if add else 0
            quantity = form_int(
                "quantity",
                low,
                MAX_QUANTITY,
                i18n.gettext(
                    "The quantity must be a whole number from %(low)s to %(high)s.",
                    low=low,
                    high=MAX_QUANTITY,
                ),
            )
            cart = cart_of(shop)
            key = str(variant_id)
            if quantity:
                offers = listing.offers_for_cart(
                    read_session(), fresh_shop(), shop_rates(), page_locale(), [variant_id]
                )
                offer = offers.get(variant_id)
                if offer is None:
                    raise StorefrontError(i18n.gettext("This product is not sold here any more."))
                wanted = cart.get(key, 0) + quantity if add else quantity
                # A flash sale's units come from its quota, not from the stock.
                flash = flash_offers(read_session(), shop.id, [variant_id], utcnow())
                sale = flash.get(variant_id)
                left = max(offer.offer.available, sale.units_left if sale else 0)
                if offer.offer.sold_out and left <= 0:
                    raise StorefrontError(i18n.gettext("Sorry, this item is sold out."))
                if wanted > min(left, MAX_QUANTITY):
                    raise StorefrontError(
                        i18n.gettext("Only %(count)s left in stock.", count=min(left, MAX_QUANTITY))
                    )
                if key not in cart and len(cart) >= MAX_CART_LINES:
                    raise StorefrontError(
                        i18n.gettext("A cart holds at most %(count)s items.", count=MAX_CART_LINES)
                    )
                cart[key] = wanted
            else:
                cart.pop(key, None)
        except StorefrontError as error:
            return _cart_page(error.message, status=422)
    save_cart(shop, cart)
    return redirect(url_for("storefront_shop.cart"), code=303)  # type: ignore[return-value]
