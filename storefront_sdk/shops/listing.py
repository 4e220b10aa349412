"""What a shop shows: its products, their shop prices and stock state, read straight from the
shared catalogue through the shop's curation (never from a per-shop copy).

A product is in a shop when it is active, not taken out by the owner, and either the shop
follows the whole catalogue, or the owner added it, or it belongs to a followed supplier or
category (subcategories included). Prices come from :func:`.pricing.shop_price`.

Here are the SQL side of that rule (:func:`in_shop`, for listings and for the cart's
uncached checks) and the shapes of what pages show; the pages read through
:mod:`.reader`, which caches the shared parts.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..catalog.models import ACTIVE, Category, Product, Variant
from ..errors import NotFound
from ..pricing.prices import Rates, VariantBounds, shop_price
from ..sql import table_of
from .models import Distributor, Shop, ShopFollow, ShopPrice, ShopProduct

if TYPE_CHECKING:
    from ..pricing.rates import RateBook

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
    #: The shop's IANA time zone (``None``: the platform's).
    time_zone: str | None
    #: The owner's referral code (share links ``/r/<code>``).
    referral_code: str
    #: The owner's recruiter (level 2 of the owner's sales; ``None`` unless the recruiter is
    #: active), and the owner's status: a shop whose owner is not ``active`` sells nothing.
    owner_parent_id: int | None = None
    owner_status: str = "active"
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
    #: ``(variant id, shop price)`` of each variant, and the category (for promotions).
    variant_prices: tuple[tuple[int, int], ...] = ()
    category_id: int | None = None


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


#: The columns of a :class:`ShopView`, in its order.
_SHOP_COLUMNS = [
    _shop[name]
    for name in (  # noqa: SIM905 (a plain list of column names)
        "id distributor_id slug name logo_url primary_color welcome_text locale "
        "currency_display host follows_all markup_bp updated_at time_zone"
    ).split()
]


_distributor = table_of(Distributor).c
_recruiter = table_of(Distributor).alias("recruiter")
_SHOP = (
    sa.select(
        *_SHOP_COLUMNS,
        _distributor.referral_code,
        # (a recruiter who is not active earns no override)
        sa.case((_recruiter.c.status == "active", _distributor.parent_id), else_=None),
        _distributor.status,
    )
    .join(table_of(Distributor), _distributor.id == _shop.distributor_id)
    .outerjoin(_recruiter, _recruiter.c.id == _distributor.parent_id)
)
_SHOP_AT_SLUG = _SHOP.where(_shop.slug == sa.bindparam("slug"))
_SHOP_ON_HOST = _SHOP.where(_shop.host == sa.bindparam("host"), _shop.host_status == "verified")


def load_shop(
    session: Session,
    *,
    slug: str | None = None,
    host: str | None = None,
    with_follows: bool = True,
) -> ShopView:
    """The shop at ``slug`` (or served on ``host``), with its follows resolved unless
    ``with_follows`` is false."""
    if host is None:
        found = session.connection().execute(_SHOP_AT_SLUG, {"slug": slug})
    else:
        found = session.connection().execute(_SHOP_ON_HOST, {"host": host.lower()})
    row = found.first()
    if row is None:
        raise NotFound(f"no shop {slug or host!r}")
    view = ShopView(*row)  # type: ignore[call-arg]  # the columns, in order
    if view.follows_all or not with_follows:
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


def _owner_choice(shop: ShopView | None, *, included: bool) -> sa.Exists:
    """The product is one the owner added (``included``) or took out of ``shop`` (``None``:
    of the shop whose id is bound as ``shop``)."""
    shop_id: Any = sa.bindparam("shop") if shop is None else shop.id
    return (
        sa.select(_shop_product.product_id)
        .where(
            _shop_product.shop_id == shop_id,
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


def listing_ids(
    session: Session,
    shop: ShopView | None,
    *,
    category_ids: Sequence[int] | None = None,
    query: str | None = None,
    after: int | None = None,
    limit: int = PAGE_SIZE,
) -> tuple[int, ...]:
    """Ids of up to ``limit`` products ``shop`` lists (every active product for ``None``),
    newest first: in ``category_ids``, matching ``query``, below ``after``.

    A curated shop's products are read as two indexed parts, merged: those it follows (by
    supplier, or by category within ``category_ids``) and those its owner added; so a
    category the shop follows nothing in costs a look at the added products, not a scan of
    the catalogue.
    """
    filters: list[sa.ColumnElement[bool]] = [_product.status == ACTIVE]
    if category_ids is not None:
        filters.append(_product.category_id.in_(category_ids))
    if query:
        filters.append(search_condition(query))
    if after is not None:
        filters.append(_product.id < after)
    newest = _product.id.desc()
    if shop is None or shop.follows_all:
        if shop is not None:
            filters.append(~_owner_choice(shop, included=False))
        return tuple(
            session.scalars(sa.select(_product.id).where(*filters).order_by(newest).limit(limit))
        )
    followed: list[sa.ColumnElement[bool]] = []
    if shop.followed_suppliers:
        followed.append(_product.supplier_id.in_(shop.followed_suppliers))
    categories = shop.followed_categories
    if category_ids is not None:
        categories = tuple(sorted(set(categories) & set(category_ids)))
    if categories:
        followed.append(_product.category_id.in_(categories))
    added = (
        sa.select(_product.id)
        .join(
            table_of(ShopProduct),
            sa.and_(
                _shop_product.product_id == _product.id,
                _shop_product.shop_id == shop.id,
                _shop_product.included.is_(True),
            ),
        )
        .where(*filters)
        .order_by(newest)
        .limit(limit)
        .subquery()
    )
    parts = [sa.select(added.c.id)]
    if followed:
        chosen = (
            sa.select(_product.id)
            .where(*filters, sa.or_(*followed), ~_owner_choice(shop, included=False))
            .order_by(newest)
            .limit(limit)
            .subquery()
        )
        parts.append(sa.select(chosen.c.id))
    merged = sa.union(*parts).subquery()
    stmt = sa.select(merged.c.id).order_by(merged.c.id.desc()).limit(limit)
    return tuple(session.scalars(stmt))


def normalize_query(query: str) -> str:
    """A search text as it is matched: spaces collapsed, at most :data:`MAX_QUERY`
    characters, case-folded."""
    return " ".join(query.split())[:MAX_QUERY].casefold()


def search_condition(query: str) -> sa.ColumnElement[bool]:
    """Products whose titles (any language) contain ``query``, case-insensitively."""
    return _product.search_text.contains(normalize_query(query), autoescape=True)


def option_values(offers: Iterable[Offer]) -> dict[str, list[str]]:
    """Option names in display order, and the values of each (``{"size": ["S", "M"]}``)."""
    values: dict[str, list[str]] = {}
    for offer in offers:
        for name, value in offer.options.items():
            found = values.setdefault(name, [])
            if value not in found:
                found.append(value)
    return values


@dataclass(frozen=True, slots=True)
class CartOffer:
    """A variant in a cart: the offer and its product's title and image."""

    offer: Offer
    title: str
    image: str | None


def offers_for_cart(
    session: Session, shop: ShopView, rates: RateBook, locale: str, variant_ids: Iterable[int]
) -> dict[int, CartOffer]:
    """The variants among ``variant_ids`` that ``shop`` sells now (others are left out)."""
    ids = sorted(set(variant_ids))
    if not ids:
        return {}
    rows = session.connection().execute(cart_variants(shop), {"shop": shop.id, "ids": ids})
    return {row.id: cart_offer(row, shop, rates, locale) for row in rows}


def cart_variants(shop: ShopView) -> sa.Select[Any]:
    """The query of the variants that ``shop`` sells now among those bound as ``ids`` (a
    list), with what :func:`cart_offer` needs; the shop's id is bound as ``shop``. Callers
    may add columns."""
    if shop.follows_all:
        return _CART_OF_FOLLOWING_SHOP  # (one query for every such shop: built once)
    return _cart_variants(in_shop(shop))


def _cart_variants(condition: sa.ColumnElement[bool]) -> sa.Select[Any]:
    return (
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
            _product.title,
            _product.title_i18n,
            _product.images,
            _product.supplier_id,
            _product.category_id,
        )
        .join(table_of(Product), _product.id == _variant.product_id)
        .outerjoin(
            table_of(ShopPrice),
            sa.and_(
                _shop_price.shop_id == sa.bindparam("shop"), _shop_price.variant_id == _variant.id
            ),
        )
        .where(
            _variant.id.in_(sa.bindparam("ids", expanding=True)),
            _variant.status == ACTIVE,
            condition,
        )
    )


_CART_OF_FOLLOWING_SHOP = _cart_variants(
    sa.and_(_product.status == ACTIVE, ~_owner_choice(None, included=False))
)


def cart_offer(row: Any, shop: ShopView, book: RateBook, locale: str) -> CartOffer:
    """A row of :func:`cart_variants` as the shop sells it."""
    rates = book.for_product(row.product_id, row.supplier_id, row.category_id)
    offer = make_offer(
        row.product_id,
        row.id,
        row.sku,
        row.options,
        row.currency,
        VariantBounds(row.supply_price_minor, row.retail_price_minor, row.min_price_minor),
        row.available,
        rates,
        own_price=row.own_price,
        markup_bp=shop.markup_bp,
    )
    title = localized(row.title, row.title_i18n, locale)
    return CartOffer(offer, title, row.images[0] if row.images else None)


def make_offer(
    product_id: int,
    variant_id: int,
    sku: str,
    options: dict[str, str],
    currency: str,
    bounds: VariantBounds,
    available: int,
    rates: Rates,
    *,
    own_price: int | None,
    markup_bp: int | None,
) -> Offer:
    """A variant at the shop's price (:func:`.pricing.shop_price`)."""
    amount = shop_price(bounds, rates, price=own_price, markup_bp=markup_bp).amount
    return Offer(variant_id, product_id, sku, options, currency, amount, bounds.retail, available)


def make_card(
    product_id: int,
    supplier_id: int,
    title: str,
    images: Sequence[str],
    currency: str,
    updated_at: datetime,
    offers: list[Offer],
    category_id: int | None = None,
) -> ProductCard:
    """A product's card: its lowest price in stock (else its lowest price), and whether
    anything is in stock."""
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
        tuple((offer.id, offer.price) for offer in offers),
        category_id,
    )


def localized(default: str, translations: dict[str, str] | None, locale: str) -> str:
    """The supplier's text for ``locale`` (``zh-Hans-CN`` falls back to ``zh-Hans``, then
    ``zh``), else ``default``."""
    return translated(default, lower_keys(translations), locale)


def lower_keys(translations: dict[str, str] | None) -> dict[str, str]:
    """Translations keyed by lower-case BCP 47 tags (``zh_Hans`` → ``zh-hans``)."""
    return {key.replace("_", "-").lower(): text for key, text in (translations or {}).items()}


def translated(default: str, translations: dict[str, str], locale: str) -> str:
    """:func:`localized` for translations already passed through :func:`lower_keys`."""
    if not translations:
        return default
    wanted = locale.replace("_", "-").lower()
    while wanted:
        if text := translations.get(wanted):
            return text
        wanted = wanted.rpartition("-")[0]
    return default


def categories(session: Session, parent_id: int | None = None) -> list[tuple[int, str]]:
    """``(id, name)`` of the categories directly under ``parent_id`` (the top level for
    ``None``), by name."""
    condition = (
        _category.parent_id.is_(None) if parent_id is None else _category.parent_id == parent_id
    )
    rows = session.execute(
        sa.select(_category.id, _category.name).where(condition).order_by(_category.name).limit(100)
    ).all()
    return [(row.id, row.name) for row in rows]
