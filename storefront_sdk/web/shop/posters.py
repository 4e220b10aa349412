"""Share posters of a shop and of its products, as SVG downloads.

``/s/<slug>/poster.svg`` and ``/s/<slug>/p/<product_id>/poster.svg``: the QR code encodes the
absolute referral link (``/r/<code>``, or ``/r/<code>/<product_id>``), the price is the shop's
own (from :meth:`storefront_sdk.shops.reader.ShopReader.product_page`, like the product page) in the
page's locale. ``?inline=1`` serves the poster for display (the console's preview) instead of
as a download. The poster itself may load only images (its CSP), so an SVG opened straight
from the shop's origin cannot run anything.
"""

from __future__ import annotations

from urllib.parse import urljoin

from flask import Response, abort, request, url_for

from ... import i18n
from ...catalog.queries import MAX_ID
from ...i18n import gettext as _
from ...money import Money, format_money
from ...shops import posters
from ...shops.listing import ProductPage, ShopView
from ..pages import negotiate_locale
from .pages import current_state, load_state, page_reader

#: Content-Security-Policy of a poster: images from anywhere, inline styles, nothing else.
CSP = "default-src 'none'; img-src https: http: data:; style-src 'unsafe-inline'"


def shop_poster(slug: str) -> Response:
    """The shop's poster: its name, logo and welcome text and the QR code of its link."""
    shop = _load_shop(slug)
    locale = negotiate_locale(shop.locale)
    with i18n.locale_of_page(locale):
        caption = _("Scan the QR code to visit the shop")
    link = url_for("storefront_referral.link", code=shop.referral_code, _external=True)
    logo = urljoin(request.host_url, shop.logo_url) if shop.logo_url else None
    svg = posters.shop_poster(
        shop_name=shop.name,
        welcome_text=shop.welcome_text,
        logo_url=logo,
        link=link,
        caption=caption,
        color=shop.primary_color,
    )
    return _svg_response(svg, f"{shop.slug}.svg", locale)


def product_poster(slug: str, product_id: int) -> Response:
    """A product's poster: image, title, shop price, shop name and the QR code of the
    product's referral link; 404 when the shop does not list the product."""
    shop = _load_shop(slug)
    locale = negotiate_locale(shop.locale)
    if product_id > MAX_ID:
        abort(404)
    found = page_reader().product_page(current_state(), locale, product_id)
    if found is None:
        abort(404)
    with i18n.locale_of_page(locale):
        price = _price(shop, found, locale)
        caption = _("Scan the QR code to buy")
    link = url_for(
        "storefront_referral.link",
        code=shop.referral_code,
        product_id=found.card.id,
        _external=True,
    )
    image = urljoin(request.host_url, found.images[0]) if found.images else None
    svg = posters.product_poster(
        title=found.card.title,
        price=price,
        image_url=image,
        shop_name=shop.name,
        link=link,
        caption=caption,
        color=shop.primary_color,
    )
    return _svg_response(svg, f"{shop.slug}-{found.card.id}.svg", locale)


def _load_shop(slug: str) -> ShopView:
    return load_state(slug).view


def _price(shop: ShopView, found: ProductPage, locale: str) -> str | None:
    """The product's lowest shop price ("From ..." when its variants differ in price)."""
    card = found.card
    if card.price is None:
        return None
    formatted = format_money(Money(card.price, card.currency), locale, shop.currency_display)
    on_sale = [offer for offer in found.offers if not offer.sold_out] or found.offers
    if len({offer.price for offer in on_sale}) > 1:
        return str(_("From %(price)s", price=formatted))
    return formatted


def _svg_response(svg: str, filename: str, locale: str) -> Response:
    response = Response(svg, content_type="image/svg+xml; charset=utf-8")
    disposition = "inline" if request.args.get("inline") == "1" else "attachment"
    # ``filename`` is made of a slug and a number: nothing to quote.
    response.headers["Content-Disposition"] = f'{disposition}; filename="{filename}"'
    response.headers["Content-Security-Policy"] = CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.content_language = [locale]
    response.cache_control.private = True
    response.cache_control.no_cache = True
    response.vary.add("Accept-Language")
    response.add_etag()
    response.make_conditional(request)
    return response
