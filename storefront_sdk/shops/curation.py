"""A distributor curating their own shop: settings, what it lists, and its prices.

Every function takes the shop being changed (the caller's own, resolved from the signed-in
distributor) and checks that each product, variant, supplier or category it is given exists;
nothing here reads or writes another shop's rows. Each change bumps ``Shop.updated_at`` so the
shop's pages revalidate (``Last-Modified``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from babel import Locale, UnknownLocaleError
from sqlalchemy.orm import Session

from ..catalog.models import ACTIVE, Category, Product, Supplier, Variant
from ..db import utcnow
from ..errors import NotFound, ValidationError
from ..pricing.prices import (
    BP,
    MAX_PRICE,
    Rates,
    VariantBounds,
    lowest_price,
    shop_price,
    split_price,
)
from ..pricing.rates import RateBook
from ..sql import insert_for, table_of
from .listing import in_shop, load_shop, search_condition
from .models import CURRENCY_DISPLAYS, FOLLOW_KINDS, Shop, ShopFollow, ShopPrice, ShopProduct

#: The bulk markup rule's range, in percent of retail.
MIN_MARKUP_PERCENT = -100
MAX_MARKUP_PERCENT = 1000
_COLOR = re.compile(r"#[0-9a-fA-F]{6}")
_product = table_of(Product).c
_variant = table_of(Variant).c
_shop_price = table_of(ShopPrice).c


def _touch(shop: Shop) -> None:
    shop.updated_at = utcnow()


@dataclass(frozen=True, slots=True)
class Settings:
    """A shop's white-label settings, as the console's form sends them (its own host name
    is set by :func:`storefront_sdk.shops.hosts.set_host`)."""

    name: str
    primary_color: str
    welcome_text: str = ""
    locale: str = ""
    currency_display: str = "symbol"
    time_zone: str = ""


#: The time zones a shop may choose (empty: the platform's default).
TIME_ZONES = (
    "Asia/Shanghai",
    "Asia/Hong_Kong",
    "Asia/Taipei",
    "Asia/Singapore",
    "Asia/Kuala_Lumpur",
    "Asia/Tokyo",
    "Asia/Seoul",
    "Australia/Sydney",
    "Europe/London",
    "Europe/Paris",
    "America/New_York",
    "America/Los_Angeles",
    "UTC",
)


def update_settings(session: Session, shop: Shop, settings: Settings) -> Shop:
    """Checks and stores ``settings``; :class:`ValidationError` names the first bad field."""
    name = settings.name.strip()
    if not 1 <= len(name) <= 100:
        raise ValidationError("the shop name must be 1 to 100 characters")
    if not _COLOR.fullmatch(settings.primary_color):
        raise ValidationError("the colour must be #rrggbb")
    if len(settings.welcome_text) > 2000:
        raise ValidationError("the welcome text must be at most 2000 characters")
    if settings.currency_display not in CURRENCY_DISPLAYS:
        raise ValidationError(f"currency display must be one of {', '.join(CURRENCY_DISPLAYS)}")
    locale = normalise_locale(settings.locale)
    zone = settings.time_zone.strip()
    if zone and zone not in TIME_ZONES:
        raise ValidationError(f"unknown time zone {zone!r}: choose one of the list")
    shop.time_zone = zone or None
    shop.name = name
    shop.primary_color = settings.primary_color.lower()
    shop.welcome_text = settings.welcome_text.replace("\x00", "")
    shop.locale = locale
    shop.currency_display = settings.currency_display
    _touch(shop)
    session.flush()
    return shop


def normalise_locale(tag: str) -> str:
    """``tag`` as a BCP 47 tag Babel knows (``zh_Hans`` → ``zh-Hans``); empty means "the
    visitor's language" (``Accept-Language``)."""
    if not tag.strip():
        return ""
    try:
        locale = Locale.parse(tag.strip().replace("-", "_"))
    except (UnknownLocaleError, ValueError, TypeError):
        raise ValidationError(f"unknown locale {tag!r}") from None
    parts = [locale.language, locale.script, locale.territory]
    return "-".join(part for part in parts if part)


def set_logo(session: Session, shop: Shop, url: str | None) -> None:
    """Stores the logo's URL (from :mod:`.storage`), or removes the logo."""
    shop.logo_url = url
    _touch(shop)
    session.flush()


def set_follows_all(session: Session, shop: Shop, follows_all: bool) -> None:
    """Whether the shop lists the whole active catalogue (its curation still applies:
    taken-out products stay out)."""
    shop.follows_all = follows_all
    _touch(shop)
    session.flush()


def set_markup(session: Session, shop: Shop, percent: int | None) -> None:
    """The bulk markup rule: every variant without its own price sells at retail changed by
    ``percent`` (negative for a discount), or at retail where that would breach the supplier's
    bounds. ``None`` removes the rule."""
    if percent is not None and not MIN_MARKUP_PERCENT <= percent <= MAX_MARKUP_PERCENT:
        raise ValidationError(
            f"markup must be {MIN_MARKUP_PERCENT} to {MAX_MARKUP_PERCENT} percent"
        )
    shop.markup_bp = None if percent is None else percent * (BP // 100)
    _touch(shop)
    session.flush()


def _check_products(session: Session, product_ids: Sequence[int]) -> list[int]:
    ids = sorted(set(product_ids))
    found = set(session.scalars(sa.select(_product.id).where(_product.id.in_(ids))))
    missing = [pid for pid in ids if pid not in found]
    if missing:
        raise NotFound(f"no product {missing[0]}")
    return ids


def include_products(
    session: Session, shop: Shop, product_ids: Sequence[int], included: bool = True
) -> None:
    """Adds products to the shop (``included``) or takes them out (which wins over any
    follow)."""
    ids = _check_products(session, product_ids)
    if not ids:
        return
    table = table_of(ShopProduct)
    statement = insert_for(session, table).values(
        [{"shop_id": shop.id, "product_id": pid, "included": included} for pid in ids]
    )
    session.execute(
        statement.on_conflict_do_update(
            index_elements=["shop_id", "product_id"], set_={"included": included}
        )
    )
    _touch(shop)
    session.flush()


def follow(session: Session, shop: Shop, kind: str, target_id: int, on: bool = True) -> None:
    """Follows (``on``) or unfollows a whole supplier or category."""
    if kind not in FOLLOW_KINDS:
        raise ValidationError(f"can only follow one of {', '.join(FOLLOW_KINDS)}")
    model = Supplier if kind == "supplier" else Category
    if session.get(model, target_id) is None:
        raise NotFound(f"no {kind} {target_id}")
    table = table_of(ShopFollow)
    key = {"shop_id": shop.id, "kind": kind, "target_id": target_id}
    if on:
        session.execute(insert_for(session, table).values(key).on_conflict_do_nothing())
    else:
        session.execute(
            table.delete().where(*(table.c[name] == value for name, value in key.items()))
        )
    _touch(shop)
    session.flush()


@dataclass(frozen=True, slots=True)
class PriceRange:
    """What a shop may charge for a variant, and what the supplier suggests."""

    lowest: int
    suggested: int
    highest: int


def price_range(bounds: VariantBounds, rates: Rates) -> PriceRange:
    return PriceRange(lowest_price(bounds, rates), bounds.retail, MAX_PRICE)


def priced_variant(session: Session, variant_id: int) -> Any:
    """The active variant ``variant_id`` with its product's title and its price bounds
    (``supply_price_minor``, ``retail_price_minor``, ``min_price_minor``), or ``None``."""
    return session.execute(
        sa.select(
            _variant.id,
            _variant.product_id,
            _variant.sku,
            _variant.currency,
            _variant.supply_price_minor,
            _variant.retail_price_minor,
            _variant.min_price_minor,
            _product.title,
            _product.supplier_id,
            _product.category_id,
        )
        .join(table_of(Product), _product.id == _variant.product_id)
        .where(_variant.id == variant_id, _variant.status == ACTIVE)
    ).first()


def rates_of(book: RateBook, row: Any) -> Rates:
    """The rates of the product of ``row`` (one of :func:`priced_variant`)."""
    return book.for_product(row.product_id, row.supplier_id, row.category_id)


def set_price(
    session: Session, shop: Shop, variant_id: int, price: int | None, book: RateBook
) -> None:
    """The shop's own price for one variant (``None`` goes back to the markup rule or
    retail). Refused, naming the product and the allowed range, outside the supplier's
    bounds or where any part of the sale would be negative (invariant 2)."""
    row = priced_variant(session, variant_id)
    if row is None:
        raise NotFound(f"no variant {variant_id}")
    table = table_of(ShopPrice)
    if price is None:
        session.execute(
            table.delete().where(table.c.shop_id == shop.id, table.c.variant_id == variant_id)
        )
    else:
        bounds = VariantBounds(row.supply_price_minor, row.retail_price_minor, row.min_price_minor)
        rates = rates_of(book, row)
        allowed = price_range(bounds, rates)
        if (
            isinstance(price, bool)
            or not allowed.lowest <= price <= allowed.highest
            or not split_price(bounds, price, rates).valid
        ):
            raise ValidationError(
                f"the price of {row.title} ({row.sku}) must be at least {allowed.lowest} "
                f"(minor units); suggested {allowed.suggested}"
            )
        values = {
            "shop_id": shop.id,
            "variant_id": variant_id,
            "product_id": row.product_id,
            "price_minor": price,
        }
        session.execute(
            insert_for(session, table)
            .values(values)
            .on_conflict_do_update(
                index_elements=["shop_id", "variant_id"], set_={"price_minor": price}
            )
        )
    _touch(shop)
    session.flush()


@dataclass(frozen=True, slots=True)
class PickerVariant:
    id: int
    sku: str
    options: dict[str, str]
    range: PriceRange
    #: The shop's own price, if it set one.
    own_price: int | None
    #: What the shop sells at now.
    price: int
    #: The shop's own price or markup no longer fits the bounds: retail is used.
    fell_back: bool
    available: int


@dataclass(frozen=True, slots=True)
class PickerProduct:
    id: int
    supplier_id: int
    supplier_name: str
    title: str
    image: str | None
    currency: str
    category_id: int | None
    in_shop: bool
    variants: list[PickerVariant]


@dataclass(frozen=True, slots=True)
class PickerPage:
    items: list[PickerProduct]
    next_after: int | None


def picker(
    session: Session,
    shop: Shop,
    book: RateBook,
    *,
    query: str | None = None,
    supplier_id: int | None = None,
    category_ids: Sequence[int] | None = None,
    after: int | None = None,
    limit: int = 20,
) -> PickerPage:
    """A page of the whole active catalogue for the console's product picker: each product
    with whether the shop lists it, and each variant's allowed range and current price."""
    view = load_shop(session, slug=shop.slug)
    listed = in_shop(view).label("listed")
    supplier = table_of(Supplier).c
    stmt = (
        sa.select(
            _product.id,
            _product.supplier_id,
            supplier.name,
            _product.title,
            _product.images,
            _product.currency,
            _product.category_id,
            listed,
        )
        .join(table_of(Supplier), supplier.id == _product.supplier_id)
        .where(_product.status == ACTIVE)
    )
    if query:
        stmt = stmt.where(search_condition(query))
    if supplier_id is not None:
        stmt = stmt.where(_product.supplier_id == supplier_id)
    if category_ids is not None:
        stmt = stmt.where(_product.category_id.in_(category_ids))
    if after is not None:
        stmt = stmt.where(_product.id < after)
    rows = session.execute(stmt.order_by(_product.id.desc()).limit(limit + 1)).all()
    more = len(rows) > limit
    rows = rows[:limit]
    ids = [row.id for row in rows]
    variants = session.execute(
        sa.select(
            _variant.id,
            _variant.product_id,
            _variant.sku,
            _variant.options,
            _variant.supply_price_minor,
            _variant.retail_price_minor,
            _variant.min_price_minor,
            _variant.available,
        )
        .where(_variant.product_id.in_(ids), _variant.status == ACTIVE)
        .order_by(_variant.product_id, _variant.position, _variant.id)
    ).all()
    own = dict(
        session.execute(
            sa.select(_shop_price.variant_id, _shop_price.price_minor).where(
                _shop_price.shop_id == shop.id, _shop_price.product_id.in_(ids)
            )
        ).all()
    )
    product_rates = {
        row.id: book.for_product(row.id, row.supplier_id, row.category_id) for row in rows
    }
    by_product: dict[int, list[PickerVariant]] = {}
    for v in variants:
        rates = product_rates[v.product_id]
        bounds = VariantBounds(v.supply_price_minor, v.retail_price_minor, v.min_price_minor)
        current = shop_price(bounds, rates, price=own.get(v.id), markup_bp=shop.markup_bp)
        by_product.setdefault(v.product_id, []).append(
            PickerVariant(
                v.id,
                v.sku,
                v.options,
                price_range(bounds, rates),
                own.get(v.id),
                current.amount,
                current.fell_back,
                v.available,
            )
        )
    items = [
        PickerProduct(
            row.id,
            row.supplier_id,
            row.name,
            row.title,
            row.images[0] if row.images else None,
            row.currency,
            row.category_id,
            bool(row.listed),
            by_product.get(row.id, []),
        )
        for row in rows
    ]
    return PickerPage(items, rows[-1].id if more and rows else None)
