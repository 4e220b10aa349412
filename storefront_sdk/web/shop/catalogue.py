"""The shop's catalogue pages: ``/s/<slug>/`` (home, and search with ``?q=``), a category
(``/c/<id>``, subcategories included) and a product (``/p/<id>``)."""

from __future__ import annotations

from flask import Response, abort, request

from ...catalog.queries import MAX_ID
from ...shops import listing
from ...shops.listing import ShopView
from .pages import (
    MENU_SIZE,
    cacheable,
    cards,
    current_shop,
    current_state,
    menu,
    money_formatter_of,
    page_locale,
    page_reader,
    render,
)
from .promotions import badge, live_for, with_promotions


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


def home(slug: str) -> Response:
    """The shop's front page; with ``?q=`` its search results."""
    shop, query, read = current_shop(), _query(), page_reader()
    after = _after(request.args.get("after"))
    page = read.listing(current_state(), page_locale(), query=query, after=after)
    top = read.tree().children.get(None, [])[:MENU_SIZE]
    return _listing_page("home.html", shop, page, query, top, None)


def category(slug: str, category_id: int) -> Response:
    """A category of the shop (subcategories included); ``?q=`` searches within it."""
    shop, query, read = current_shop(), _query(), page_reader()
    tree, known = read.category(_id(category_id))
    if not known:
        abort(404)
    page = read.listing(
        current_state(),
        page_locale(),
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
    response = render(
        template,
        page=page,
        cards=with_promotions(cards(page), page.items),
        query=query,
        categories=categories,
        menu=menu(categories),
        category=category,
    )
    return cacheable(response, shop.updated_at, page.last_modified)


def product(slug: str, product_id: int) -> Response:
    """A product: images, the variant picker with prices and stock, add to cart, share."""
    shop = current_shop()
    found = page_reader().product_page(current_state(), page_locale(), _id(product_id))
    if found is None:
        abort(404)
    live = live_for([found.card])
    flash = {offer.id: live.flash[offer.id] for offer in found.offers if offer.id in live.flash}
    buyable = [offer for offer in found.offers if not offer.sold_out or offer.id in flash]
    money = money_formatter_of(shop, page_locale())
    response = render(
        "product.html",
        product=found,
        flash=flash,
        buyable={offer.id for offer in buyable},
        first=buyable[0] if buyable else (found.offers[0] if found.offers else None),
        badge="" if flash else badge(live.threshold_for(found.card), money),
    )
    return cacheable(response, shop.updated_at, found.card.updated_at)
