"""What a shop shows: its products, their shop prices and stock state, read straight from the
shared catalogue through the shop's curation (never from a per-shop copy).

A product is in a shop when it is active, not taken out by the owner, and either the shop
follows the whole catalogue, or the owner added it, or it belongs to a followed supplier or
category (subcategories included). Prices come from :func:`.pricing.shop_price`.

Reads use Core selects of plain columns: these are the hottest queries of the library.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..catalog.models import ACTIVE, Category, Product, Variant
from ..errors import NotFound
from ..sql import table_of
from .models import Distributor, Shop, ShopFollow, ShopPrice, ShopProduct
from .pricing import Rates, VariantBounds, shop_price

#: Products per listing page.
PAGE_SIZE = 20
#: The longest search text (characters).
MAX_QUERY = 100

_product = table_of(Product).c
_variant = table_of(Variant).c
_category = table_of(Category).c
_shop = table_of(Shop).c
_follow = table_of(ShopFollow).c
_shop_product = table_of(ShopProduct).c
_shop_price = table_of(ShopPrice).c


@dataclass(frozen=True, slots=True)
class ShopView:
    """A shop as its pages need it, with its curation resolved to id lists."""

    id: int
    distributor_id: int
    slug: str
    name: str
    logo_url: str | None
    primary_color: str
    welcome_text: str
    locale: str
    currency_display: str
    host: str | None
    follows_all: bool
    markup_bp: int | None
    updated_at: datetime
    #: The owner's referral code (share links ``/r/<code>``).
    referral_code: str
    followed_suppliers: tuple[int, ...] = ()
    #: Followed categories with all their subcategories.
    followed_categories: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class Offer:
    """One variant as the shop sells it."""

    id: int
    product_id: int
    sku: str
    options: dict[str, str]
    currency: str
    price: int
    retail: int
    available: int

    @property
    def sold_out(self) -> bool:
        return self.available <= 0


@dataclass(frozen=True, slots=True)
class ProductCard:
    """A product in a listing: its lowest shop price and whether anything is in stock."""

    id: int
    supplier_id: int
    title: str
    image: str | None
    currency: str
    price: int | None
    sold_out: bool
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class ProductPage:
    """A product with every active variant as the shop sells it."""

    card: ProductCard
    description: str
    images: list[str]
    category_id: int | None
    offers: list[Offer]
    #: Option names in display order, and the values of each (``{"size": ["S", "M"]}``).
    option_values: dict[str, list[str]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ListingPage:
    """One page of a listing; ``next_after`` continues it (``None`` on the last page)."""

    items: list[ProductCard]
    next_after: int | None

    @property
    def last_modified(self) -> datetime | None:
        return max((card.updated_at for card in self.items), default=None)


_SHOP_COLUMNS = [
    _shop[name]
    for name in (
        "id",
        "distributor_id",
        "slug",
        "name",
        "logo_url",
        "primary_color",
        "welcome_text",
        "locale",
        "currency_display",
        "host",
        "follows_all",
        "markup_bp",
        "updated_at",
    )
]


def load_shop(session: Session, *, slug: str | None = None, host: str | None = None) -> ShopView:
    """The shop at ``slug`` (or served on ``host``), with its follows resolved."""
    where = _shop.slug == slug if host is None else _shop.host == host.lower()
    distributor = table_of(Distributor).c
    row = session.execute(
        sa.select(*_SHOP_COLUMNS, distributor.referral_code)
        .join(table_of(Distributor), distributor.id == _shop.distributor_id)
        .where(where)
    ).first()
    if row is None:
        raise NotFound(f"no shop {slug or host!r}")
    view = ShopView(*row)  # type: ignore[call-arg]  # the columns, in order
    if view.follows_all:
        return view
    follows = session.execute(
        sa.select(_follow.kind, _follow.target_id).where(_follow.shop_id == view.id)
    ).all()
    suppliers = tuple(target for kind, target in follows if kind == "supplier")
    categories = subtree_ids(session, [target for kind, target in follows if kind == "category"])
    return replace(view, followed_suppliers=suppliers, followed_categories=categories)


def subtree_ids(session: Session, category_ids: Sequence[int]) -> tuple[int, ...]:
    """``category_ids`` and the ids of all their subcategories."""
    if not category_ids:
        return ()
    top = table_of(Category).alias("top")
    below = table_of(Category).alias("below")
    stmt = (
        sa.select(below.c.id)
        .join(top, top.c.id.in_(category_ids))
        .where(
            sa.or_(
                below.c.path == top.c.path,
                sa.func.substr(below.c.path, 1, sa.func.length(top.c.path) + 1) == top.c.path + "/",
            )
        )
        .distinct()
    )
    return tuple(sorted(session.scalars(stmt)))


def _owner_choice(shop: ShopView, *, included: bool) -> sa.Exists:
    """The product is one the owner added (``included``) or took out of ``shop``."""
    return (
        sa.select(_shop_product.product_id)
        .where(
            _shop_product.shop_id == shop.id,
            _shop_product.product_id == _product.id,
            _shop_product.included.is_(included),
        )
        .exists()
    )


def in_shop(shop: ShopView) -> sa.ColumnElement[bool]:
    """The condition on ``sf_product`` rows of the products ``shop`` lists."""
    conditions = [_product.status == ACTIVE, ~_owner_choice(shop, included=False)]
    if not shop.follows_all:
        chosen: list[sa.ColumnElement[bool]] = [_owner_choice(shop, included=True)]
        if shop.followed_suppliers:
            chosen.append(_product.supplier_id.in_(shop.followed_suppliers))
        if shop.followed_categories:
            chosen.append(_product.category_id.in_(shop.followed_categories))
        conditions.append(sa.or_(*chosen))
    return sa.and_(*conditions)


def search_condition(query: str) -> sa.ColumnElement[bool]:
    """Products whose titles (any language) contain ``query``, case-insensitively."""
    text = " ".join(query.split())[:MAX_QUERY].casefold()
    return _product.search_text.contains(text, autoescape=True)


def list_products(
    session: Session,
    shop: ShopView,
    rates: Rates,
    locale: str,
    *,
    category_ids: Sequence[int] | None = None,
    query: str | None = None,
    after: int | None = None,
    limit: int = PAGE_SIZE,
) -> ListingPage:
    """A page of the shop's products, newest first; ``after`` is the last id of the previous
    page."""
    stmt = sa.select(
        _product.id,
        _product.supplier_id,
        _product.title,
        _product.title_i18n,
        _product.images,
        _product.currency,
        _product.updated_at,
    ).where(in_shop(shop))
    if category_ids is not None:
        stmt = stmt.where(_product.category_id.in_(category_ids))
    if query:
        stmt = stmt.where(search_condition(query))
    if after is not None:
        stmt = stmt.where(_product.id < after)
    rows = session.execute(stmt.order_by(_product.id.desc()).limit(limit + 1)).all()
    more = len(rows) > limit
    rows = rows[:limit]
    offers = _offers(session, shop, rates, [row.id for row in rows])
    items = [
        _card(
            row.id,
            row.supplier_id,
            localized(row.title, row.title_i18n, locale),
            row.images,
            row.currency,
            row.updated_at,
            offers.get(row.id, []),
        )
        for row in rows
    ]
    return ListingPage(items, rows[-1].id if more and rows else None)


def product_page(
    session: Session, shop: ShopView, rates: Rates, locale: str, product_id: int
) -> ProductPage:
    """The product ``product_id`` as ``shop`` sells it; :class:`NotFound` when the shop does
    not list it."""
    row = session.execute(
        sa.select(
            _product.id,
            _product.supplier_id,
            _product.title,
            _product.title_i18n,
            _product.description,
            _product.description_i18n,
            _product.images,
            _product.currency,
            _product.category_id,
            _product.updated_at,
        ).where(_product.id == product_id, in_shop(shop))
    ).first()
    if row is None:
        raise NotFound(f"product {product_id} is not in this shop")
    offers = _offers(session, shop, rates, [row.id]).get(row.id, [])
    card = _card(
        row.id,
        row.supplier_id,
        localized(row.title, row.title_i18n, locale),
        row.images,
        row.currency,
        row.updated_at,
        offers,
    )
    option_values: dict[str, list[str]] = {}
    for offer in offers:
        for name, value in offer.options.items():
            values = option_values.setdefault(name, [])
            if value not in values:
                values.append(value)
    return ProductPage(
        card,
        localized(row.description, row.description_i18n, locale),
        list(row.images),
        row.category_id,
        offers,
        option_values,
    )


@dataclass(frozen=True, slots=True)
class CartOffer:
    """A variant in a cart: the offer and its product's title and image."""

    offer: Offer
    title: str
    image: str | None


def offers_for_cart(
    session: Session, shop: ShopView, rates: Rates, locale: str, variant_ids: Iterable[int]
) -> dict[int, CartOffer]:
    """The variants among ``variant_ids`` that ``shop`` sells now (others are left out)."""
    ids = sorted(set(variant_ids))
    if not ids:
        return {}
    rows = session.execute(
        sa.select(
            _variant.id,
            _variant.product_id,
            _product.title,
            _product.title_i18n,
            _product.images,
        )
        .join(table_of(Product), _product.id == _variant.product_id)
        .where(_variant.id.in_(ids), _variant.status == ACTIVE, in_shop(shop))
    ).all()
    offers = _offers(session, shop, rates, sorted({row.product_id for row in rows}))
    by_id = {offer.id: offer for product_offers in offers.values() for offer in product_offers}
    return {
        row.id: CartOffer(
            by_id[row.id],
            localized(row.title, row.title_i18n, locale),
            row.images[0] if row.images else None,
        )
        for row in rows
        if row.id in by_id
    }


def _offers(
    session: Session, shop: ShopView, rates: Rates, product_ids: Sequence[int]
) -> dict[int, list[Offer]]:
    """Active variants of ``product_ids`` at the shop's prices, by product id."""
    if not product_ids:
        return {}
    rows = session.execute(
        sa.select(
            _variant.id,
            _variant.product_id,
            _variant.sku,
            _variant.options,
            _variant.currency,
            _variant.supply_price_minor,
            _variant.retail_price_minor,
            _variant.min_price_minor,
            _variant.available,
            _shop_price.price_minor.label("own_price"),
        )
        .outerjoin(
            table_of(ShopPrice),
            sa.and_(_shop_price.shop_id == shop.id, _shop_price.variant_id == _variant.id),
        )
        .where(_variant.product_id.in_(product_ids), _variant.status == ACTIVE)
        .order_by(_variant.product_id, _variant.position, _variant.id)
    ).all()
    offers: dict[int, list[Offer]] = {}
    for row in rows:
        bounds = VariantBounds(row.supply_price_minor, row.retail_price_minor, row.min_price_minor)
        amount = shop_price(bounds, rates, price=row.own_price, markup_bp=shop.markup_bp).amount
        offers.setdefault(row.product_id, []).append(
            Offer(
                row.id,
                row.product_id,
                row.sku,
                row.options,
                row.currency,
                amount,
                row.retail_price_minor,
                row.available,
            )
        )
    return offers


def _card(
    product_id: int,
    supplier_id: int,
    title: str,
    images: list[str],
    currency: str,
    updated_at: datetime,
    offers: list[Offer],
) -> ProductCard:
    in_stock = [offer for offer in offers if not offer.sold_out]
    priced = in_stock or offers
    return ProductCard(
        product_id,
        supplier_id,
        title,
        images[0] if images else None,
        currency,
        min((offer.price for offer in priced), default=None),
        not in_stock,
        updated_at,
    )


def localized(default: str, translations: dict[str, str], locale: str) -> str:
    """The supplier's text for ``locale`` (``zh-Hans-CN`` falls back to ``zh-Hans``, then
    ``zh``), else ``default``."""
    if not translations:
        return default
    wanted = locale.replace("_", "-").lower()
    normalised = {key.replace("_", "-").lower(): text for key, text in translations.items()}
    while wanted:
        if text := normalised.get(wanted):
            return text
        wanted = wanted.rpartition("-")[0]
    return default


#: Seconds a category menu is remembered (see :func:`categories`).
CATEGORY_TTL = 30.0


def categories(
    session: Session, parent_id: int | None = None, cache: dict[Any, Any] | None = None
) -> list[tuple[int, str]]:
    """``(id, name)`` of the categories directly under ``parent_id`` (the top level for
    ``None``), by name; remembered in ``cache`` for :data:`CATEGORY_TTL` seconds (categories
    appear only when a supplier syncs a product into a new one)."""
    if cache is None:
        return _categories(session, parent_id)
    now = time.monotonic()
    cached = cache.get(parent_id)
    if cached is not None and cached[0] > now:
        found: list[tuple[int, str]] = cached[1]
        return found
    found = _categories(session, parent_id)
    if len(cache) > 10_000:
        cache.clear()
    cache[parent_id] = (now + CATEGORY_TTL, found)
    return found


def _categories(session: Session, parent_id: int | None) -> list[tuple[int, str]]:
    condition = (
        _category.parent_id.is_(None) if parent_id is None else _category.parent_id == parent_id
    )
    rows = session.execute(
        sa.select(_category.id, _category.name).where(condition).order_by(_category.name).limit(100)
    ).all()
    return [(row.id, row.name) for row in rows]


def category(session: Session, category_id: int) -> tuple[int, str, int | None]:
    """``(id, name, parent_id)`` of a category; :class:`NotFound` if there is none."""
    row = session.execute(
        sa.select(_category.id, _category.name, _category.parent_id).where(
            _category.id == category_id
        )
    ).first()
    if row is None:
        raise NotFound(f"no category {category_id}")
    return row.id, row.name, row.parent_id
