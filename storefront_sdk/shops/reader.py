"""What the shop pages show, read through a cache in each process.

Shop pages are the hottest reads of the library and most of what they show is shared: the
catalogue is one for every shop, and a shop's settings and curation change rarely. So a page
is assembled from cached parts:

- the shop's :class:`ShopState` (settings, curation, own prices), per shop;
- :class:`ProductData` (texts, images, active variants with their bounds and stock), per
  product, shared by every shop;
- the ids of a listing (newest first, after the filters), shared by every shop that follows
  the whole catalogue, per shop for curated shops;
- the :class:`CategoryTree`.

The parts live in a :class:`.page_cache.PageCache`, which every committed change to the
catalogue or to a shop clears, in every process. Prices and stock are checked again,
uncached, when something goes into the cart, and a shop's owner always reads the shop fresh
(``fresh=True``).

Which products a shop lists is decided by :meth:`ShopState.lists`, the Python twin of the
SQL condition :func:`.listing.in_shop` (tests hold the two to the same answers).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..catalog.models import ACTIVE, Category, Product, Variant
from ..pricing.prices import Rates, VariantBounds
from ..pricing.rates import RateBook
from ..sql import table_of
from .listing import (
    PAGE_SIZE,
    ListingPage,
    Offer,
    ProductCard,
    ProductPage,
    ShopView,
    listing_ids,
    load_shop,
    lower_keys,
    make_card,
    make_offer,
    normalize_query,
    option_values,
    translated,
)
from .models import ShopFollow, ShopPrice, ShopProduct
from .page_cache import PageCache

#: A shop following the whole catalogue shares the catalogue's listing ids when it took out
#: at most this many products (the shared lists hold this many extra ids).
SHARED_SLACK = 32
#: Cards and offers remembered per product (for that many markup rules and locales).
MEMO_ENTRIES = 32

_product = table_of(Product).c
_variant = table_of(Variant).c
_category = table_of(Category).c
_follow = table_of(ShopFollow).c
_shop_product = table_of(ShopProduct).c
_shop_price = table_of(ShopPrice).c


# --- The parts -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class VariantData:
    """An active variant as the supplier set it."""

    id: int
    sku: str
    options: dict[str, str]
    currency: str
    bounds: VariantBounds
    available: int


@dataclass(frozen=True, slots=True)
class ProductData:
    """A product of the shared catalogue, with its active variants in display order.
    ``titles``/``descriptions`` are the supplier's translations with lower-case keys."""

    id: int
    supplier_id: int
    category_id: int | None
    active: bool
    title: str
    titles: dict[str, str]
    description: str
    descriptions: dict[str, str]
    images: tuple[str, ...]
    currency: str
    updated_at: datetime
    variants: tuple[VariantData, ...]
    #: Offers and cards computed for shops without own prices on this product, by markup
    #: rule, rates (and locale): the same for every such shop.
    memo: dict[Hashable, Any] = field(default_factory=dict, compare=False, repr=False)

    def remember(self, key: Hashable, value: Any) -> None:
        """Keeps ``value`` in :attr:`memo` (at most :data:`MEMO_ENTRIES`: shops with many
        different markup rules start it afresh rather than grow it)."""
        if len(self.memo) >= MEMO_ENTRIES:
            self.memo.clear()
        self.memo[key] = value

    def title_in(self, locale: str) -> str:
        return translated(self.title, self.titles, locale)

    def description_in(self, locale: str) -> str:
        return translated(self.description, self.descriptions, locale)


@dataclass(frozen=True, slots=True)
class ShopState:
    """A shop with its curation: what it took out, added, follows, and its own prices."""

    view: ShopView
    taken_out: frozenset[int]
    added: frozenset[int]
    suppliers: frozenset[int]
    #: Followed categories with all their subcategories.
    categories: frozenset[int]
    #: Own prices by variant id.
    prices: dict[int, int]

    def lists(self, product: ProductData) -> bool:
        """Whether the shop lists ``product`` (the twin of :func:`.listing.in_shop`)."""
        if not product.active or product.id in self.taken_out:
            return False
        return (
            self.view.follows_all
            or product.id in self.added
            or product.supplier_id in self.suppliers
            or product.category_id in self.categories
        )

    def _shares_prices(self, product: ProductData) -> bool:
        """Whether ``product``'s prices here are those of any shop with the same markup
        rule (no own price on any of its variants)."""
        return not self.prices or not any(variant.id in self.prices for variant in product.variants)

    def card(
        self, product: ProductData, locale: str, book: RateBook, key: Hashable = None
    ) -> ProductCard:
        """``product``'s card in ``locale`` at this shop's prices (``key``: its
        :meth:`card_key`, when the caller made it once for many cards)."""
        rates = book.for_product(product.id, product.supplier_id, product.category_id)
        if not self._shares_prices(product):
            return _card(product, product.title_in(locale), self._priced_offers(product, rates))
        memo_key = (key or self.card_key(locale), rates)
        found: ProductCard | None = product.memo.get(memo_key)
        if found is None:
            found = _card(product, product.title_in(locale), self._offers(product, rates))
            product.remember(memo_key, found)
        return found

    def card_key(self, locale: str) -> Hashable:
        """What the cards of products without own prices here depend on (with the
        product's rates)."""
        return ("card", self.view.markup_bp, locale)

    def offers(self, product: ProductData, book: RateBook) -> list[Offer]:
        """``product``'s active variants at this shop's prices."""
        rates = book.for_product(product.id, product.supplier_id, product.category_id)
        if not self._shares_prices(product):
            return self._priced_offers(product, rates)
        return self._offers(product, rates)

    def _offers(self, product: ProductData, rates: Rates) -> list[Offer]:
        key = ("offers", self.view.markup_bp, rates)
        found: tuple[Offer, ...] | None = product.memo.get(key)
        if found is None:
            found = tuple(self._priced_offers(product, rates))
            product.remember(key, found)
        return list(found)

    def _priced_offers(self, product: ProductData, rates: Rates) -> list[Offer]:
        markup = self.view.markup_bp
        return [
            make_offer(
                product.id,
                variant.id,
                variant.sku,
                variant.options,
                variant.currency,
                variant.bounds,
                variant.available,
                rates,
                own_price=self.prices.get(variant.id),
                markup_bp=markup,
            )
            for variant in product.variants
        ]


@dataclass(frozen=True, slots=True)
class CategoryTree:
    """The whole category tree: names, parents, children by name."""

    names: dict[int, str]
    parents: dict[int, int | None]
    children: dict[int | None, list[tuple[int, str]]]

    def subtree(self, category_id: int) -> tuple[int, ...]:
        """``category_id`` and all its subcategories (empty if there is no such category)."""
        if category_id not in self.names:
            return ()
        found, stack = [], [category_id]
        while stack:
            current = stack.pop()
            found.append(current)
            stack.extend(child for child, _ in self.children.get(current, ()))
        return tuple(sorted(found))


# --- Loading ---------------------------------------------------------------------------------


def load_products(session: Session, product_ids: Iterable[int]) -> dict[int, ProductData]:
    """The products among ``product_ids`` (archived ones included), in one query."""
    ids = sorted(set(product_ids))
    if not ids:
        return {}
    rows = session.execute(
        sa.select(
            _product.id,
            _product.supplier_id,
            _product.category_id,
            _product.status,
            _product.title,
            _product.title_i18n,
            _product.description,
            _product.description_i18n,
            _product.images,
            _product.currency,
            _product.updated_at,
            _variant.id.label("variant_id"),
            _variant.sku,
            _variant.options,
            _variant.currency.label("variant_currency"),
            _variant.supply_price_minor,
            _variant.retail_price_minor,
            _variant.min_price_minor,
            _variant.available,
        )
        .outerjoin(
            table_of(Variant),
            sa.and_(_variant.product_id == _product.id, _variant.status == ACTIVE),
        )
        .where(_product.id.in_(ids))
        .order_by(_product.id, _variant.position, _variant.id)
    ).all()
    variants: dict[int, list[VariantData]] = {}
    first: dict[int, Any] = {}
    for row in rows:
        first.setdefault(row.id, row)
        found = variants.setdefault(row.id, [])
        if row.variant_id is not None:
            found.append(
                VariantData(
                    row.variant_id,
                    row.sku,
                    row.options,
                    row.variant_currency,
                    VariantBounds(
                        row.supply_price_minor, row.retail_price_minor, row.min_price_minor
                    ),
                    row.available,
                )
            )
    return {
        product_id: ProductData(
            product_id,
            row.supplier_id,
            row.category_id,
            row.status == ACTIVE,
            row.title,
            lower_keys(row.title_i18n),
            row.description,
            lower_keys(row.description_i18n),
            tuple(row.images or ()),
            row.currency,
            row.updated_at,
            tuple(variants[product_id]),
        )
        for product_id, row in first.items()
    }


def load_shop_state(
    session: Session, tree: CategoryTree, *, slug: str | None = None, host: str | None = None
) -> ShopState:
    """The shop at ``slug`` (or on ``host``) with its curation; :class:`.errors.NotFound`
    when there is none."""
    view = load_shop(session, slug=slug, host=host, with_follows=False)
    chosen = sa.literal("chosen")
    rows = session.execute(
        sa.union_all(
            sa.select(
                _follow.kind,
                _follow.target_id,
                sa.literal(0).label("value"),
            ).where(_follow.shop_id == view.id),
            sa.select(
                chosen,
                _shop_product.product_id,
                sa.case((_shop_product.included, 1), else_=0),
            ).where(_shop_product.shop_id == view.id),
            sa.select(sa.literal("price"), _shop_price.variant_id, _shop_price.price_minor).where(
                _shop_price.shop_id == view.id
            ),
        )
    ).all()
    taken_out: set[int] = set()
    added: set[int] = set()
    suppliers: set[int] = set()
    roots: list[int] = []
    prices: dict[int, int] = {}
    for kind, target, value in rows:
        if kind == "chosen":
            (added if value else taken_out).add(target)
        elif kind == "price":
            prices[target] = value
        elif kind == "supplier":
            suppliers.add(target)
        elif kind == "category":
            roots.append(target)
    categories = {found for root in roots for found in tree.subtree(root)}
    if not view.follows_all:
        # What :func:`.listing.in_shop` needs to decide in SQL.
        view = replace(
            view,
            followed_suppliers=tuple(sorted(suppliers)),
            followed_categories=tuple(sorted(categories)),
        )
    return ShopState(
        view,
        frozenset(taken_out),
        frozenset(added),
        frozenset(suppliers),
        frozenset(categories),
        prices,
    )


def load_category_tree(session: Session) -> CategoryTree:
    """Every category, in one query."""
    rows = session.execute(
        sa.select(_category.id, _category.name, _category.parent_id).order_by(
            _category.name, _category.id
        )
    ).all()
    names: dict[int, str] = {}
    parents: dict[int, int | None] = {}
    children: dict[int | None, list[tuple[int, str]]] = {}
    for id_, name, parent_id in rows:
        names[id_] = name
        parents[id_] = parent_id
        children.setdefault(parent_id, []).append((id_, name))
    return CategoryTree(names, parents, children)


# --- Reading pages ---------------------------------------------------------------------------


class ShopReader:
    """The shop pages' reads of one request: ``session`` is called only when a part must
    come from the database; ``fresh`` bypasses the cache (and refreshes it)."""

    def __init__(
        self,
        cache: PageCache,
        session: Callable[[], Session],
        rates: RateBook,
        *,
        fresh: bool = False,
    ) -> None:
        self.cache = cache
        self.session = session
        self.rates = rates
        self.fresh = fresh

    def tree(self) -> CategoryTree:
        return self.cache.get(
            "tree", None, lambda: load_category_tree(self.session()), fresh=self.fresh
        )

    def category(self, category_id: int) -> tuple[CategoryTree, bool]:
        """The tree and whether ``category_id`` is in it (reloading the tree once, for a
        category created since it was cached)."""
        tree = self.tree()
        if category_id in tree.names or not self.cache.enabled or self.fresh:
            return tree, category_id in tree.names
        if self.cache.tree_reload_allowed():
            generation = self.cache.generation
            tree = load_category_tree(self.session())
            self.cache.keep("tree", {None: tree}, generation)
        return tree, category_id in tree.names

    def shop(self, *, slug: str | None = None, host: str | None = None) -> ShopState:
        """The shop at ``slug`` or on ``host``; :class:`.errors.NotFound` if none."""
        return self.cache.get(
            "shop",
            (slug, host),
            lambda: load_shop_state(self.session(), self.tree(), slug=slug, host=host),
            fresh=self.fresh,
        )

    def products(self, product_ids: Sequence[int]) -> dict[int, ProductData | None]:
        return self.cache.get_many(
            "product",
            list(product_ids),
            lambda missing: load_products(self.session(), missing),
            fresh=self.fresh,
        )

    def listing(
        self,
        state: ShopState,
        locale: str,
        *,
        category_id: int | None = None,
        query: str | None = None,
        after: int | None = None,
        limit: int = PAGE_SIZE,
    ) -> ListingPage:
        """A page of the shop's products, newest first (in ``category_id`` and its
        subcategories, matching ``query``); ``after`` is the last id of the previous page."""
        query = normalize_query(query or "") or None
        view = state.view

        def ids_of(shop: ShopView | None, count: int) -> tuple[int, ...]:
            subtree = None if category_id is None else self.tree().subtree(category_id)
            return listing_ids(
                self.session(), shop, category_ids=subtree, query=query, after=after, limit=count
            )

        if view.follows_all and len(state.taken_out) <= SHARED_SLACK:
            ids = self.cache.get(
                "ids",
                (None, category_id, query, after, limit),
                lambda: ids_of(None, limit + 1 + SHARED_SLACK),
                fresh=self.fresh,
            )
            ids = tuple(id_ for id_ in ids if id_ not in state.taken_out)[: limit + 1]
        else:
            ids = self.cache.get(
                "ids",
                (view.id, category_id, query, after, limit),
                lambda: ids_of(view, limit + 1),
                fresh=self.fresh,
            )
        more = len(ids) > limit
        shown = ids[:limit]
        products = self.products(shown)
        cards, key = [], state.card_key(locale)
        for id_ in shown:
            product = products.get(id_)
            if product is not None and state.lists(product):
                cards.append(state.card(product, locale, self.rates, key))
        return ListingPage(cards, shown[-1] if more else None)

    def product_page(self, state: ShopState, locale: str, product_id: int) -> ProductPage | None:
        """The product as ``state``'s shop sells it; ``None`` when the shop does not list
        it."""
        product = self.products([product_id]).get(product_id)
        if product is None or not state.lists(product):
            return None
        offers = state.offers(product, self.rates)
        return ProductPage(
            _card(product, product.title_in(locale), offers),
            product.description_in(locale),
            list(product.images),
            product.category_id,
            offers,
            option_values(offers),
        )


def _card(product: ProductData, title: str, offers: list[Offer]) -> ProductCard:
    return make_card(
        product.id,
        product.supplier_id,
        title,
        product.images,
        product.currency,
        product.updated_at,
        offers,
        category_id=product.category_id,
    )
