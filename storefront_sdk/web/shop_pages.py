"""The consumer's H5 shop: ``/s/<slug>/`` home and search, category, product and cart pages.

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
    Blueprint,
    Response,
    abort,
    current_app,
    g,
    has_request_context,
    redirect,
    request,
    session,
    url_for,
)
from flask_wtf.csrf import CSRFError, generate_csrf, validate_csrf
from sqlalchemy.orm import Session
from wtforms.validators import ValidationError as CSRFValidationError

from .. import i18n
from ..catalog.queries import MAX_ID
from ..db import begin_read, get_session
from ..errors import NotFound, StorefrontError
from ..money import money_formatter
from ..pricing.prices import Rates
from ..pricing.rates import RateBook, load_rate_book
from ..shops import listing
from ..shops.listing import ShopView
from ..shops.page_cache import PageCache
from ..shops.reader import ShopReader, ShopState
from .identity import claimed_distributor_id

bp = Blueprint(
    "storefront_shop",
    __name__,
    template_folder="../templates",
    static_folder="../static/storefront",
    static_url_path="/sf-static",
)

#: Session key of the carts: ``{shop_id: {variant_id: quantity}}`` (strings, JSON-safe).
CART_KEY = "sf_cart"
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


def shop_rates() -> RateBook:
    """The commission rates of every product, which shop prices are checked against (kept
    in the page cache; a change of rates clears it in every process)."""
    state = page_state()
    if "rates" not in state:
        cache: PageCache = current_app.extensions["storefront"].page_cache
        state["rates"] = cache.get(
            "rates", None, lambda: load_rate_book(_read_session(), default_rates())
        )
    book: RateBook = state["rates"]
    return book


def default_rates() -> Rates:
    """The platform's rates in the configuration (``STOREFRONT_COMMISSION_LEVEL*_BP``)."""
    config = current_app.config
    return Rates(
        config["STOREFRONT_COMMISSION_LEVEL1_BP"], config["STOREFRONT_COMMISSION_LEVEL2_BP"]
    )


def page_state() -> dict[str, Any]:
    """What this request worked out so far (its shop, locale, links, share token). Kept with
    the request rather than in ``g``, which one app context may share between requests."""
    found: dict[str, Any] = request.environ.setdefault("storefront.shop_page", {})
    return found


def share_token() -> str | None:
    """The share token of this visit, as it came in the URL (checked where it is used)."""
    state = page_state()
    if "share_token" not in state:
        token = request.args.get("st", "")
        state["share_token"] = token if _SHARE_TOKEN.fullmatch(token) else None
    found: str | None = state["share_token"]
    return found


def _read_session() -> Session:
    """The request's session, started as a read (once) when a page part must come from the
    database."""
    session_ = get_session()
    if not g.get("sf_read_begun"):
        g.sf_read_begun = True
        if not session_.in_transaction():  # (a console page may have begun it already)
            # Shop pages only read: no snapshot needed, so no BEGIN/ROLLBACK round trips.
            begin_read(session_, snapshot=False)
    return session_


def reader(*, fresh: bool = False) -> ShopReader:
    """The shop pages' reads, through the app's page cache (``fresh``: bypassing it)."""
    cache: PageCache = current_app.extensions["storefront"].page_cache
    return ShopReader(cache, _read_session, shop_rates(), fresh=fresh)


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


@bp.url_value_preprocessor
def _load_shop(endpoint: str | None, values: dict[str, Any] | None) -> None:
    if values is not None and "slug" in values:
        load_state(values["slug"])


@bp.url_defaults
def _keep_slug_and_token(endpoint: str, values: dict[str, Any]) -> None:
    if not has_request_context():
        return
    state: ShopState | None = page_state().get("state")
    if state is not None and current_app.url_map.is_endpoint_expecting(endpoint, "slug"):
        values.setdefault("slug", state.view.slug)
    token = share_token()
    if token and endpoint.startswith("storefront_shop.") and endpoint != "storefront_shop.static":
        values.setdefault("st", token)


def _shop() -> ShopView:
    return current_state().view


def current_state() -> ShopState:
    """The shop of this request (see :func:`load_state`)."""
    state: ShopState = page_state()["state"]
    return state


def page_reader() -> ShopReader:
    """The reader of this request's shop (fresh for its owner, see :func:`load_state`)."""
    return reader(fresh=page_state().get("fresh", False))


def _locale() -> str:
    page = page_state()
    if "locale" not in page:
        page["locale"] = i18n.negotiate(_shop().locale)
    locale: str = page["locale"]
    return locale


def _money_formatter(shop: ShopView, locale: str) -> Callable[[int | None, str], str]:
    def money(amount: int | None, currency: str) -> str:
        return "" if amount is None else _format(currency, locale, shop)(amount)

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


def _script_url() -> str:
    """The shop script's URL (remembered per app and application root)."""
    known: dict[str, str] = current_app.extensions["storefront"].script_urls
    root = request.script_root
    if root not in known:
        known[root] = url_for("storefront_shop.static", filename="shop.js")
    return known[root]


def _cart(shop: ShopView) -> dict[str, int]:
    carts = session.get(CART_KEY) or {}
    cart = carts.get(str(shop.id)) or {}
    return {key: value for key, value in cart.items() if isinstance(value, int)}


def _save_cart(shop: ShopView, cart: dict[str, int]) -> None:
    carts = dict(session.get(CART_KEY) or {})
    if cart:
        carts[str(shop.id)] = cart
    else:
        carts.pop(str(shop.id), None)
    session[CART_KEY] = carts


def _page(template: str, status: int = 200, **context: Any) -> Response:
    shop = _shop()
    locale = _locale()
    color = shop.primary_color if _COLOR.fullmatch(shop.primary_color) else _DEFAULT_COLOR
    links = ShopLinks.of_request()
    body = i18n.render(
        f"storefront/shop/{template}",
        locale,
        shop=shop,
        theme_color=color,
        money=_money_formatter(shop, locale),
        home_url=links.home,
        cart_url=links.cart,
        product_url=links.product,
        category_url=links.category,
        script_url=_script_url(),
        here=here,
        cart_count=sum(_cart(shop).values()),
        share_token=share_token(),
        csrf_token=generate_csrf,
        languages=[("en", "English"), ("zh-Hans", "简体中文")],
        **context,
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


def _cards(page: listing.ListingPage) -> list[CardView]:
    shop, locale, links = _shop(), _locale(), ShopLinks.of_request()
    formats: dict[str, Callable[[int], str]] = {}
    views = []
    for card in page.items:
        price = ""
        if card.price is not None:
            if card.currency not in formats:
                formats[card.currency] = _format(card.currency, locale, shop)
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


def _menu(categories: list[tuple[int, str]]) -> list[tuple[str, str]]:
    """``(url, name)`` of each category of a page's menu."""
    links = ShopLinks.of_request()
    return [(links.category(id_), name) for id_, name in categories]


def _format(currency: str, locale: str, shop: ShopView) -> Callable[[int], str]:
    formatter: Callable[[int], str] = money_formatter(currency, locale, shop.currency_display)
    return formatter


def _cacheable(response: Response, *changed: datetime | None) -> Response:
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


def _after(value: str | None) -> int | None:
    if value is None:
        return None
    if not value.isdigit() or len(value) > 18:
        abort(400, description="'after' must be a product id")
    return int(value)


def _id(value: int) -> int:
    """A path id, or 404 for one no row can have (beyond the database's BIGINT)."""
    if value > MAX_ID:
        abort(404)
    return value


def _query() -> str | None:
    text = " ".join(request.args.get("q", "").split())
    return text[: listing.MAX_QUERY] or None


@bp.get("/s/<slug>/")
def home(slug: str) -> Response:
    """The shop's front page; with ``?q=`` its search results."""
    shop, query, read = _shop(), _query(), page_reader()
    after = _after(request.args.get("after"))
    page = read.listing(current_state(), _locale(), query=query, after=after)
    top = read.tree().children.get(None, [])[:MENU_SIZE]
    return _listing_page("home.html", shop, page, query, top, None)


@bp.get("/s/<slug>/c/<int:category_id>")
def category(slug: str, category_id: int) -> Response:
    """A category of the shop (subcategories included); ``?q=`` searches within it."""
    shop, query, read = _shop(), _query(), page_reader()
    tree, known = read.category(_id(category_id))
    if not known:
        abort(404)
    page = read.listing(
        current_state(),
        _locale(),
        category_id=category_id,
        query=query,
        after=_after(request.args.get("after")),
    )
    found = (category_id, tree.names[category_id], tree.parents[category_id])
    children = tree.children.get(category_id, [])[:MENU_SIZE]
    return _listing_page("category.html", shop, page, query, children, found)


def _listing_page(
    template: str,
    shop: ShopView,
    page: listing.ListingPage,
    query: str | None,
    categories: list[tuple[int, str]],
    category: tuple[int, str, int | None] | None,
) -> Response:
    """A page of products (home, search, category) with its menu of ``categories``."""
    response = _page(
        template,
        page=page,
        cards=_cards(page),
        query=query,
        categories=categories,
        menu=_menu(categories),
        category=category,
    )
    return _cacheable(response, shop.updated_at, page.last_modified)


@bp.get("/s/<slug>/p/<int:product_id>")
def product(slug: str, product_id: int) -> Response:
    """A product: images, the variant picker with prices and stock, add to cart, share."""
    shop = _shop()
    found = page_reader().product_page(current_state(), _locale(), _id(product_id))
    if found is None:
        abort(404)
    response = _page("product.html", product=found)
    return _cacheable(response, shop.updated_at, found.card.updated_at)


def _fresh_shop() -> ShopView:
    """This request's shop read from the database, not the page cache: the cart prices and
    checks what it sells by the shop's current rules."""
    page = page_state()
    if "fresh_view" not in page:
        page["fresh_view"] = listing.load_shop(_read_session(), slug=_shop().slug)
    view: ShopView = page["fresh_view"]
    return view


def _cart_lines(shop: ShopView) -> tuple[list[dict[str, Any]], dict[str, int]]:
    cart = _cart(shop)
    offers = listing.offers_for_cart(
        _read_session(),
        _fresh_shop(),
        shop_rates(),
        _locale(),
        (int(key) for key in cart if key.isdigit()),
    )
    lines = []
    totals: dict[str, int] = {}
    for key, quantity in cart.items():
        found = offers.get(int(key)) if key.isdigit() else None
        if found is None:
            continue
        offer = found.offer
        amount = offer.price * quantity
        if not offer.sold_out:
            totals[offer.currency] = totals.get(offer.currency, 0) + amount
        lines.append(
            {
                "offer": offer,
                "title": found.title,
                "image": found.image,
                "quantity": quantity,
                "amount": amount,
                "short": not offer.sold_out and offer.available < quantity,
            }
        )
    return lines, totals


@bp.get("/s/<slug>/cart")
def cart(slug: str) -> Response:
    """The cart: each line at today's shop price, with its stock state."""
    return _cart_page()


def _cart_page(error: str | None = None, status: int = 200) -> Response:
    shop = _shop()
    lines, totals = _cart_lines(shop)
    response = _page("cart.html", status=status, lines=lines, totals=totals, error=error)
    response.cache_control.no_store = True
    return response


def _form_int(name: str, low: int, high: int, message: str) -> int:
    raw = request.form.get(name, "").strip()
    if not raw.isdigit() or len(raw) > 19 or not low <= int(raw) <= high:
        raise StorefrontError(message)
    return int(raw)


def _check_csrf() -> None:
    try:
        validate_csrf(request.form.get("csrf_token"))
    except (CSRFError, CSRFValidationError):
        raise StorefrontError(
            i18n.gettext("This form has expired. Please reload the page and try again.")
        ) from None


@bp.post("/s/<slug>/cart/add")
def cart_add(slug: str) -> Response:
    """Adds ``quantity`` of ``variant_id`` to the cart."""
    return _change_cart(add=True)


@bp.post("/s/<slug>/cart/update")
def cart_update(slug: str) -> Response:
    """Sets a line's quantity (0 removes it)."""
    return _change_cart(add=False)


def _change_cart(*, add: bool) -> Response:
    shop = _shop()
    with i18n.locale_of_page(_locale()):
        try:
            _check_csrf()
            variant_id = _form_int("variant_id", 1, MAX_ID, i18n.gettext("Choose a variant."))
            low = 1 if add else 0
            quantity = _form_int(
                "quantity",
                low,
                MAX_QUANTITY,
                i18n.gettext(
                    "The quantity must be a whole number from %(low)s to %(high)s.",
                    low=low,
                    high=MAX_QUANTITY,
                ),
            )
            cart = _cart(shop)
            key = str(variant_id)
            if quantity:
                offers = listing.offers_for_cart(
                    _read_session(), _fresh_shop(), shop_rates(), _locale(), [variant_id]
                )
                offer = offers.get(variant_id)
                if offer is None:
                    raise StorefrontError(i18n.gettext("This product is not sold here any more."))
                wanted = cart.get(key, 0) + quantity if add else quantity
                if offer.offer.sold_out:
                    raise StorefrontError(i18n.gettext("Sorry, this item is sold out."))
                if wanted > min(offer.offer.available, MAX_QUANTITY):
                    raise StorefrontError(
                        i18n.gettext(
                            "Only %(count)s left in stock.",
                            count=min(offer.offer.available, MAX_QUANTITY),
                        )
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
    _save_cart(shop, cart)
    return redirect(url_for("storefront_shop.cart"), code=303)  # type: ignore[return-value]


@bp.errorhandler(404)
def _not_found(error: Any) -> Any:
    """A missing product or category of a shop gets the shop's own page."""
    if page_state().get("state") is None:
        return error
    return _page("not_found.html", status=404)
