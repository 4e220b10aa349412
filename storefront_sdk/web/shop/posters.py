"""Share posters of a shop and of its products, as PNG (what chat apps take and a phone saves
on a long press) and as SVG.

``/s/<slug>/poster.png`` and ``/s/<slug>/p/<product_id>/poster.png`` embed the product's
image (fetched under :func:`_image_policy`: no private address, :data:`IMAGE_SECONDS`,
:data:`IMAGE_BYTES`) or the shop's logo (from the logo storage); a poster whose image cannot
be had is drawn without it. ``/s/<slug>/poster.svg`` and
``/s/<slug>/p/<product_id>/poster.svg`` link them instead. The QR code encodes the
absolute referral link (``/r/<code>``, or ``/r/<code>/<product_id>``), the price is the shop's
own (from :meth:`storefront_sdk.shops.reader.ShopReader.product_page`, like the product page) in the
page's locale. ``?inline=1`` serves the poster for display (the console's preview) instead of
as a download. The poster itself may load only images (its CSP), so an SVG opened straight
from the shop's origin cannot run anything.
"""

from __future__ import annotations

import contextlib
import logging
from urllib.parse import urljoin

from flask import Response, abort, current_app, request, url_for

from ... import i18n
from ...catalog.queries import MAX_ID
from ...config import transport_policy
from ...i18n import gettext as _
from ...money import Money, format_money
from ...outbound import TransportPolicy, fetch
from ...shops import poster_png, posters
from ...shops.listing import ProductPage, ShopView
from ...storage import LocalFolderStorage
from ..pages import negotiate_locale
from .pages import current_state, load_state, page_reader

log = logging.getLogger(__name__)
#: Longest wait, in seconds, and most bytes for the image a PNG poster embeds.
IMAGE_SECONDS = 5.0
IMAGE_BYTES = 5 * 1024 * 1024
#: Content-Security-Policy of a poster: images from anywhere, inline styles, nothing else.
CSP = "default-src 'none'; img-src https: http: data:; style-src 'unsafe-inline'"


def shop_poster(slug: str) -> Response:
    """The shop's poster (SVG): its name, logo and welcome text and the QR code of its
    link."""
    shop, locale, link = _shop_parts(slug)
    with i18n.locale_of_page(locale):
        caption = _("Scan the QR code to visit the shop")
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


def shop_poster_png(slug: str) -> Response:
    """The shop's poster as a PNG, its logo embedded (left out when it cannot be read)."""
    shop, locale, link = _shop_parts(slug)
    with i18n.locale_of_page(locale):
        caption = _("Long-press the QR code to visit the shop")
    png = poster_png.shop_poster_png(
        shop_name=shop.name,
        welcome_text=shop.welcome_text,
        logo=_logo_bytes(shop.logo_url),
        link=link,
        caption=caption,
        color=shop.primary_color,
        font=_font(),
    )
    return _png_response(png, f"{shop.slug}.png", locale)


def product_poster(slug: str, product_id: int) -> Response:
    """A product's poster (SVG): image, title, shop price, shop name and the QR code of the
    product's referral link; 404 when the shop does not list the product."""
    shop, locale, found, link = _product_parts(slug, product_id)
    with i18n.locale_of_page(locale):
        price = _price(shop, found, locale)
        caption = _("Scan the QR code to buy")
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


def product_poster_png(slug: str, product_id: int) -> Response:
    """A product's poster as a PNG, its image fetched and embedded (left out when it cannot
    be fetched); 404 when the shop does not list the product."""
    shop, locale, found, link = _product_parts(slug, product_id)
    with i18n.locale_of_page(locale):
        price = _price(shop, found, locale)
        caption = _("Long-press the QR code to buy")
    image = posters.absolute_url(found.images[0]) if found.images else None
    png = poster_png.product_poster_png(
        title=found.card.title,
        price=price,
        image=_fetched_image(image) if image else None,
        shop_name=shop.name,
        link=link,
        caption=caption,
        color=shop.primary_color,
        font=_font(),
    )
    return _png_response(png, f"{shop.slug}-{found.card.id}.png", locale)


def _shop_parts(slug: str) -> tuple[ShopView, str, str]:
    """The shop, its poster's language and its referral link."""
    shop = _load_shop(slug)
    link = url_for("storefront_referral.link", code=shop.referral_code, _external=True)
    return shop, negotiate_locale(shop.locale), link


def _product_parts(slug: str, product_id: int) -> tuple[ShopView, str, ProductPage, str]:
    """The shop, the poster's language, the product as the shop sells it and its referral
    link; 404 when the shop does not list it."""
    shop = _load_shop(slug)
    locale = negotiate_locale(shop.locale)
    if product_id > MAX_ID:
        abort(404)
    found = page_reader().product_page(current_state(), locale, product_id)
    if found is None:
        abort(404)
    link = url_for(
        "storefront_referral.link",
        code=shop.referral_code,
        product_id=found.card.id,
        _external=True,
    )
    return shop, locale, found, link


def _font() -> str | None:
    return poster_png.find_font(current_app.config["STOREFRONT_POSTER_FONT"])


def _image_policy() -> TransportPolicy:
    """How a poster may fetch a supplier's image: the webhooks' address rules (no private
    address unless ``STOREFRONT_WEBHOOK_ALLOW_PRIVATE``), ``http`` too (an image is
    public), at most :data:`IMAGE_SECONDS` and :data:`IMAGE_BYTES`."""
    private = transport_policy(current_app.config).allow_private
    return TransportPolicy(
        allow_http=True,
        allow_private=private,
        timeout=IMAGE_SECONDS,
        max_response_bytes=IMAGE_BYTES,
    )


def _fetched_image(url: str) -> bytes | None:
    """The image at ``url``, or ``None`` (logged) when it cannot be had in time."""
    fetched = fetch(url, _image_policy(), accept="image/png,image/jpeg,image/webp,image/*")
    if not fetched.ok:
        log.info("poster image %s left out: %s", url, fetched.error)
        return None
    return fetched.body


def _logo_bytes(logo_url: str | None) -> bytes | None:
    """The shop's logo: read from the logo storage when it is there, else fetched."""
    if not logo_url:
        return None
    storage = current_app.extensions["storefront"].storage
    if isinstance(storage, LocalFolderStorage):
        name = storage.name_of(logo_url)
        path = storage.path_of(name) if name else None
        if path is not None:
            with contextlib.suppress(OSError):
                return path.read_bytes()[: IMAGE_BYTES + 1]
    absolute = posters.absolute_url(urljoin(request.host_url, logo_url))
    return _fetched_image(absolute) if absolute else None


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


def _png_response(png: bytes, filename: str, locale: str) -> Response:
    return _poster_response(Response(png, content_type="image/png"), filename, locale)


def _svg_response(svg: str, filename: str, locale: str) -> Response:
    response = Response(svg, content_type="image/svg+xml; charset=utf-8")
    return _poster_response(response, filename, locale)


def _poster_response(response: Response, filename: str, locale: str) -> Response:
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
