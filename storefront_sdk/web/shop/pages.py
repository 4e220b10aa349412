"""The shop door's plumbing: the shop of the request (from its ``/s/<slug>`` or its own host
name), its language, links, cart, and how its pages are rendered.

Server-rendered Jinja, mobile first, themed by CSS variables from the shop's settings; one
small same-origin script; no third-party anything. Every template is
``storefront/shop/<name>.html`` and a host app overrides one by putting a file of that name in
its own templates folder. Catalogue pages carry ``Last-Modified`` and an ``ETag`` and answer
conditional requests with 304. Prices are always computed here, never taken from the browser.

A share token (``?st=``, from a referral link) is carried through every link of the shop, so
attribution survives browsers that drop cookies.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple
from urllib.parse import quote, urlencode

from flask import (
    Response,
    abort,
    current_app,
    has_request_context,
    request,
    session,
    url_for,
)
from flask_wtf.csrf import generate_csrf
from werkzeug.exceptions import NotFound as NotFoundError

from ... import i18n
from ...errors import NotFound, StorefrontError
from ...money import money_formatter
from ...orders.checkout import quote_cart
from ...orders.discounts import Buyer
from ...orders.totals import OrderTotals
from ...referrals.credit import Credit
from ...shops import listing
from ...shops.listing import ShopView
from ...shops.reader import ShopReader, ShopState
from ..identity import claimed_distributor_id
from ..pages import LANGUAGES, form_token_ok, negotiate_locale, time_formats
from ..shop_reads import page_state, read_session, reader, shop_rates

#: Session key of the carts: ``{shop_id: {variant_id: quantity}}`` (strings, JSON-safe).
CART_KEY = "sf_cart"
#: Session key of the signed-in consumer (their ``sf_consumer.id``, an int): nothing else
#: is needed for a consumer to count as signed in (:mod:`.account`).
CONSUMER_KEY = "sf_consumer_id"
#: Most categories in a page's menu.
MENU_SIZE = 100
#: Most lines in one cart, and most units of one line.
MAX_CART_LINES = 50
MAX_QUANTITY = 99
_SHARE_TOKEN = re.compile(r"[A-Za-z0-9_.\-]{10,400}")
_COLOR = re.compile(r"#[0-9a-fA-F]{6}")
_DEFAULT_COLOR = "#e4393c"
#: Content-Security-Policy of every shop page: nothing from anywhere else but images.
CSP = (
    "default-src 'none'; img-src https: http: data:; style-src 'unsafe-inline'; "
    "script-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'self'"
)


def share_token() -> str | None:
    """The share token of this visit, as it came in the URL (checked where it is used)."""
    state = page_state()
    if "share_token" not in state:
        token = request.args.get("st", "")
        state["share_token"] = token if _SHARE_TOKEN.fullmatch(token) else None
    found: str | None = state["share_token"]
    return found


def load_state(slug: str) -> ShopState:
    """The shop at ``slug`` for this request (kept in :func:`page_state`); 404 if there is
    none. Its owner reads everything fresh: they see their changes at once, whichever
    process made them."""
    current_app.extensions["storefront"].page_cache.sync()
    page = page_state()
    try:
        state = reader().shop(slug=slug)
        if claimed_distributor_id() == state.view.distributor_id:
            page["fresh"] = True
            state = reader(fresh=True).shop(slug=slug)
        elif state.view.owner_status != "active":
            abort(404)  # waiting for approval, or suspended: the shop is not open
    except NotFound:
        abort(404)
    page["state"] = state
    return state


def load_shop_of_url(endpoint: str | None, values: dict[str, Any] | None) -> None:
    """Before a view: the shop its URL names (``slug``), or 404."""
    if values is not None and "slug" in values:
        load_state(values["slug"])


def keep_slug_and_token(endpoint: str, values: dict[str, Any]) -> None:
    """``url_for`` within a shop page keeps the shop and the share token."""
    if not has_request_context():
        return
    state: ShopState | None = page_state().get("state")
    if state is not None and current_app.url_map.is_endpoint_expecting(endpoint, "slug"):
        values.setdefault("slug", state.view.slug)
    token = share_token()
    if token and endpoint.startswith("storefront_shop."):
        values.setdefault("st", token)


def current_shop() -> ShopView:
    """The shop of this request, as its pages show it."""
    return current_state().view


def current_state() -> ShopState:
    """The shop of this request (see :func:`load_state`)."""
    state: ShopState = page_state()["state"]
    return state


def page_reader() -> ShopReader:
    """The reader of this request's shop (fresh for its owner, see :func:`load_state`)."""
    return reader(fresh=page_state().get("fresh", False))


def page_locale() -> str:
    """The language of this shop page: ``?lang=``, the shop's, the browser's."""
    page = page_state()
    if "locale" not in page:
        page["locale"] = negotiate_locale(current_shop().locale)
    locale: str = page["locale"]
    return locale


def money_formatter_of(shop: ShopView, locale: str) -> Callable[[int | None, str], str]:
    """The ``money(amount, currency)`` of the shop's templates."""

    def money(amount: int | None, currency: str) -> str:
        return "" if amount is None else format_of(currency, locale, shop)(amount)

    return money


@dataclass(frozen=True, slots=True)
class ShopLinks:
    """The links of one shop page, built from a single ``url_for`` (the share token
    included): ``/s/<slug>/`` + ``p/<id>``, ``c/<id>`` or ``cart``, as the routes below."""

    base: str
    tail: str

    @classmethod
    def of_request(cls) -> ShopLinks:
        """This request's (made once)."""
        page = page_state()
        links: ShopLinks | None = page.get("links")
        if links is None:
            path, mark, query = url_for("storefront_shop.home").partition("?")
            links = page["links"] = cls(path, mark + query)
        return links

    @property
    def home(self) -> str:
        return self.base + self.tail

    @property
    def cart(self) -> str:
        return f"{self.base}cart{self.tail}"

    @property
    def account(self) -> str:
        return f"{self.base}account/{self.tail}"

    @property
    def coupons(self) -> str:
        return f"{self.base}coupons{self.tail}"

    def product(self, product_id: int) -> str:
        return f"{self.base}p/{product_id}{self.tail}"

    def category(self, category_id: int) -> str:
        return f"{self.base}c/{category_id}{self.tail}"


def here(**params: Any) -> str:
    """This page's URL with the query ``params`` (``None`` ones left out) and the share
    token: the language switch and "more" links, without a ``url_for`` each."""
    args = [(name, value) for name, value in params.items() if value]
    token = share_token()
    if token:
        args.append(("st", token))
    path = quote(request.script_root + request.path)
    return f"{path}?{urlencode(args)}" if args else path


def script_url() -> str:
    """The shop script's URL (remembered per app and application root)."""
    known: dict[str, str] = current_app.extensions["storefront"].script_urls
    root = request.script_root
    if root not in known:
        known[root] = url_for("storefront_shop_assets.static", filename="shop.js")
    return known[root]


def claimed_consumer_id() -> int | None:
    """The consumer id the session claims, unchecked against the database (cheap: for the
    header's link). :func:`.account.current_consumer_id` checks it."""
    value = session.get(CONSUMER_KEY)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def cart_of(shop: ShopView) -> dict[str, int]:
    """The visitor's cart in ``shop`` (``{variant id: quantity}``, from the session)."""
    carts = session.get(CART_KEY) or {}
    cart = carts.get(str(shop.id)) or {}
    return {key: value for key, value in cart.items() if isinstance(value, int)}


def save_cart(shop: ShopView, cart: dict[str, int]) -> None:
    """Keep ``cart`` as the visitor's cart in ``shop`` (an empty one is dropped)."""
    carts = dict(session.get(CART_KEY) or {})
    if cart:
        carts[str(shop.id)] = cart
    else:
        carts.pop(str(shop.id), None)
    session[CART_KEY] = carts


def render(template: str, status: int = 200, **context: Any) -> Response:
    """A shop page: ``template`` under the shop's theme, language and links."""
    shop = current_shop()
    locale = page_locale()
    color = shop.primary_color if _COLOR.fullmatch(shop.primary_color) else _DEFAULT_COLOR
    links = ShopLinks.of_request()
    body = i18n.render(
        f"storefront/shop/{template}",
        locale,
        shop=shop,
        theme_color=color,
        money=money_formatter_of(shop, locale),
        home_url=links.home,
        cart_url=links.cart,
        account_url=links.account,
        consumer_signed_in=claimed_consumer_id() is not None,
        coupons_url=links.coupons,
        product_url=links.product,
        category_url=links.category,
        script_url=script_url(),
        here=here,
        cart_count=sum(cart_of(shop).values()),
        share_token=share_token(),
        csrf_token=generate_csrf,
        languages=LANGUAGES,
        **{**time_formats(locale, shop.time_zone), **context},
    )
    response = Response(body, status=status, mimetype="text/html")
    response.headers["Content-Security-Policy"] = CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "strict-origin-when-cross-origin"
    response.content_language = [locale]
    return response


class CardView(NamedTuple):
    """A product card as a listing shows it: the card's fields, its link and its price as
    text (made here rather than by template calls: a listing has many cards)."""

    id: int
    title: str
    image: str | None
    price: int | None
    currency: str
    sold_out: bool
    url: str
    price_text: str
    #: Set by :func:`.promotions.with_promotions`: the shop's price struck through when a
    #: flash sale sells the product for less, the sale, and a threshold's badge (满减).
    was_text: str = ""
    flash: Any = None
    badge: str = ""


def cards(page: listing.ListingPage) -> list[CardView]:
    """The product cards of a listing page, ready to show."""
    shop, locale, links = current_shop(), page_locale(), ShopLinks.of_request()
    formats: dict[str, Callable[[int], str]] = {}
    views = []
    for card in page.items:
        price = ""
        if card.price is not None:
            if card.currency not in formats:
                formats[card.currency] = format_of(card.currency, locale, shop)
            price = formats[card.currency](card.price)
        views.append(
            CardView(
                card.id,
                card.title,
                card.image,
                card.price,
                card.currency,
                card.sold_out,
                links.product(card.id),
                price,
            )
        )
    return views


def menu(categories: list[tuple[int, str]]) -> list[tuple[str, str]]:
    """``(url, name)`` of each category of a page's menu."""
    links = ShopLinks.of_request()
    return [(links.category(id_), name) for id_, name in categories]


def format_of(currency: str, locale: str, shop: ShopView) -> Callable[[int], str]:
    """Amounts of ``currency`` as the shop shows them."""
    formatter: Callable[[int], str] = money_formatter(currency, locale, shop.currency_display)
    return formatter


def cacheable(response: Response, *changed: datetime | None) -> Response:
    """Adds validators to a catalogue page and answers a matching conditional request
    with 304."""
    stamps = [stamp for stamp in changed if stamp is not None]
    if stamps:
        response.last_modified = max(stamps)
    headers = response.headers
    headers["Cache-Control"] = "private, no-cache"
    headers["Vary"] = "Accept-Language, Cookie"
    response.add_etag()
    if "If-None-Match" in request.headers or "If-Modified-Since" in request.headers:
        response.make_conditional(request)
    return response


def fresh_shop() -> ShopView:
    """This request's shop read from the database, not the page cache: the cart prices and
    checks what it sells by the shop's current rules."""
    page = page_state()
    if "fresh_view" not in page:
        page["fresh_view"] = listing.load_shop(read_session(), slug=current_shop().slug)
    view: ShopView = page["fresh_view"]
    return view


def cart_lines(
    shop: ShopView, buyer: Buyer | None = None
) -> tuple[list[dict[str, Any]], dict[str, OrderTotals]]:
    """The cart's lines at today's prices (what the shop still sells) and, by currency, what
    ordering what is in stock comes to for ``buyer`` (their coupon, the consumer signed in):
    items, each promotion's discount, shipping and total, as the order charges. A line
    sold at a flash-sale price says so (``flash``, its ``discounted`` amount)."""
    cart = cart_of(shop)
    quantities = {int(key): n for key, n in cart.items() if key.isdigit()}
    sold = fresh_shop()
    offers = listing.offers_for_cart(read_session(), sold, shop_rates(), page_locale(), quantities)
    # A distributor signed in buys for themselves: no shop discount can be funded.
    credit = Credit(None, "self") if claimed_distributor_id() is not None else None
    totals = quote_cart(
        read_session(), sold, quantities, shop_rates(), page_locale(), buyer=buyer, credit=credit
    )
    priced = {
        p.line.variant_id: p
        for quote in totals.values()
        if quote.pricing is not None
        for p in quote.pricing.lines
    }
    lines = []
    for variant_id, quantity in quantities.items():
        found = offers.get(variant_id)
        if found is None:
            continue
        offer = found.offer
        flash = variant_id in priced and priced[variant_id].flash_units > 0
        lines.append(
            {
                "offer": offer,
                "title": found.title,
                "image": found.image,
                "quantity": quantity,
                "amount": offer.price * quantity,
                "flash": flash,
                "discounted": priced[variant_id].breakdown.amount if flash else None,
                "short": not flash and not offer.sold_out and offer.available < quantity,
            }
        )
    return lines, totals


def form_int(name: str, low: int, high: int, message: str) -> int:
    """The posted whole number ``name`` from ``low`` to ``high``; refused with ``message``."""
    raw = request.form.get(name, "").strip()
    if not raw.isdigit() or len(raw) > 19 or not low <= int(raw) <= high:
        raise StorefrontError(message)
    return int(raw)


def check_csrf() -> None:
    """Refuses (a :class:`StorefrontError`) a form without this session's token."""
    if not form_token_ok():
        raise StorefrontError(
            i18n.gettext("This form has expired. Please reload the page and try again.")
        )


def not_found(error: NotFoundError) -> Any:
    """A 404 of the shop door. A missing product or category of an open shop gets the shop's
    own page. An unknown, suspended or not yet approved shop is the host app's: its own 404
    handler (``@app.errorhandler(404)``, or one for a base class of
    :class:`werkzeug.exceptions.NotFound`) renders it when it has one; otherwise the
    library's styled ``no_shop.html``, which names no shop."""
    if page_state().get("state") is not None:
        return render("not_found.html", status=404)
    handler = host_not_found_handler(error)
    if handler is not None:
        return handler(error)
    return no_shop_page()


def host_not_found_handler(error: NotFoundError) -> Callable[[Any], Any] | None:
    """The app's own handler of ``error``, searched as Flask does for a request of no
    blueprint (by code, then by class), if the app registered one."""
    spec = current_app.error_handler_spec.get(None, {})
    for code in (error.code, None):
        handlers = spec.get(code) or {}
        for cls in type(error).__mro__:
            handler = handlers.get(cls)
            if handler is not None:
                return handler  # type: ignore[no-any-return]
    return None


def no_shop_page() -> Response:
    """The styled 404 of an address with no open shop (a host app may override
    ``storefront/shop/no_shop.html`` with its own branding)."""
    locale = negotiate_locale()
    body = i18n.render("storefront/shop/no_shop.html", locale, languages=LANGUAGES)
    response = Response(body, status=404, mimetype="text/html")
    response.headers["Content-Security-Policy"] = CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.content_language = [locale]
    return response


def no_store(response: Response) -> Response:
    """A page carrying an order's secret: never stored, never sent as a referrer."""
    response.cache_control.no_store = True
    response.headers["Referrer-Policy"] = "no-referrer"
    return response
