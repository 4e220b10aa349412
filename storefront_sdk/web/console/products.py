"""The product picker of the console: what the shop lists (the whole catalogue, followed
suppliers and categories, single products added or taken out) and at which prices (a bulk
markup rule, a variant's own price).

Each change goes through :mod:`storefront_sdk.shops.curation` on the signed-in distributor's
own shop, committed on success and rolled back on a refusal, whose message is shown on the
picker again with 422 (invalid), 404 (unknown id) or 409 (conflict). Prices are typed in
major units ("12.50") and converted exactly by :meth:`Money.from_major`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

import sqlalchemy as sa
from flask import Response, request
from sqlalchemy.orm import Session

from ...catalog.models import ACTIVE, Category, Product, Supplier, Variant
from ...errors import NotFound, StorefrontError, ValidationError
from ...money import Money, format_money
from ...pricing.prices import VariantBounds
from ...shops import curation, listing
from ...shops.models import Shop, ShopFollow
from ...sql import table_of
from ..errors import status_of
from ..pages import gettext as _
from ..pages import see_other
from ..sessions import get_session
from ..shop_reads import shop_rates
from ..transactions import commit_or_refuse
from .access import locale, my_shop, page
from .forms import CatalogueForm, FollowForm, IncludeForm, MarkupForm, PriceForm, first_error

_product = table_of(Product).c
_variant = table_of(Variant).c


@dataclass(frozen=True, slots=True)
class Filters:
    """What the picker shows: search text, supplier, category (with its subcategories),
    and the page (``after`` a product id)."""

    q: str | None = None
    supplier: int | None = None
    category: int | None = None
    after: int | None = None

    def values(self) -> dict[str, Any]:
        """Query parameters of these filters, for links and redirects."""
        return {name: value for name, value in asdict(self).items() if value is not None}


def _id_or_none(value: str | None) -> int | None:
    value = (value or "").strip()
    return int(value) if value.isdigit() and 0 < len(value) <= 18 else None


def _filters(source: Mapping[str, str]) -> Filters:
    text = " ".join(source.get("q", "").split())[: listing.MAX_QUERY]
    return Filters(
        text or None,
        _id_or_none(source.get("supplier")),
        _id_or_none(source.get("category")),
        _id_or_none(source.get("after")),
    )


def products() -> Response:
    """The whole active catalogue, searchable and filtered, each product with whether the
    shop lists it and each variant with its floor, suggested and current price."""
    return _picker_page(_filters(request.args))


def _picker_page(filters: Filters, status: int = 200, error: str | None = None) -> Response:
    session, shop = get_session(), my_shop()
    subtree = listing.subtree_ids(session, [filters.category]) if filters.category else None
    found = curation.picker(
        session,
        shop,
        shop_rates(),
        query=filters.q,
        supplier_id=filters.supplier,
        category_ids=subtree,
        after=filters.after,
    )
    return page(
        "products.html",
        status,
        error=error,
        filters=filters,
        items=[_item(product, shop) for product in found.items],
        next_after=found.next_after,
        suppliers=_suppliers(session),
        categories=_categories(session),
        follows=_follows(session, shop),
        markup=None if shop.markup_bp is None else shop.markup_bp // 100,
    )


def major(minor: int, currency: str) -> str:
    """``minor`` units as the plain decimal a price field shows ("12.50")."""
    return Money(minor, currency).to_major()


def _item(product: curation.PickerProduct, shop: Shop) -> dict[str, Any]:
    def money(minor: int) -> str:
        return format_money(Money(minor, product.currency), locale(), shop.currency_display)

    variants = [
        {
            "id": v.id,
            "label": ", ".join(f"{k}: {value}" for k, value in v.options.items()) or v.sku,
            "sku": v.sku,
            "floor": money(v.range.lowest),
            "suggested": money(v.range.suggested),
            "suggested_major": major(v.range.suggested, product.currency),
            "price": money(v.price),
            "own": major(v.own_price, product.currency) if v.own_price is not None else "",
            "fell_back": v.fell_back,
            "available": v.available,
        }
        for v in product.variants
    ]
    return {"product": product, "variants": variants}


def _suppliers(session: Session) -> list[tuple[int, str]]:
    """Suppliers with at least one active product, by name."""
    supplier = table_of(Supplier).c
    has_products = (
        sa.select(_product.id)
        .where(_product.supplier_id == supplier.id, _product.status == ACTIVE)
        .exists()
    )
    rows = session.execute(
        sa.select(supplier.id, supplier.name).where(has_products).order_by(supplier.name).limit(500)
    ).all()
    return [(row.id, row.name) for row in rows]


def _categories(session: Session) -> list[tuple[int, str, list[tuple[int, str]]]]:
    """Top categories, each with its subcategories."""
    category = table_of(Category).c
    rows = session.execute(
        sa.select(category.id, category.name, category.parent_id)
        .where(category.depth == 1)
        .order_by(category.name)
        .limit(1000)
    ).all()
    children: dict[int, list[tuple[int, str]]] = {}
    for row in rows:
        children.setdefault(row.parent_id, []).append((row.id, row.name))
    return [(id_, name, children.get(id_, [])) for id_, name in listing.categories(session)]


def _follows(session: Session, shop: Shop) -> list[dict[str, Any]]:
    """The suppliers and categories the shop follows, with their names."""
    follow = table_of(ShopFollow)
    found: list[dict[str, Any]] = []
    for kind, table, name in (
        ("supplier", table_of(Supplier), "name"),
        ("category", table_of(Category), "path"),
    ):
        rows = session.execute(
            sa.select(table.c.id, table.c[name])
            .join_from(follow, table, table.c.id == follow.c.target_id)
            .where(follow.c.shop_id == shop.id, follow.c.kind == kind)
            .order_by(table.c[name])
        ).all()
        found.extend({"kind": kind, "id": row[0], "name": row[1]} for row in rows)
    return found


Change = Callable[[Session, Shop], None]


def _act(form: Any, change: Change, anchor: str | None = None) -> Response:
    """Runs one picker change on the signed-in shop, then back to the same picker page."""
    filters = _filters(request.form)
    if not form.validate():
        return _picker_page(filters, 422, first_error(form))

    def run() -> Response:
        change(get_session(), my_shop())
        return see_other(".products", _anchor=anchor, **filters.values())

    def refuse(error: StorefrontError) -> Response:
        return _picker_page(filters, status_of(error) or 400, error.message)

    return commit_or_refuse(run, refuse)


def include_product() -> Response:
    """Adds a product to the shop, or takes it out (which wins over any follow)."""
    form = IncludeForm()

    def change(session: Session, shop: Shop) -> None:
        try:
            curation.include_products(
                session, shop, [form.product_id.data or 0], included=form.action.data == "add"
            )
        except NotFound:
            raise NotFound(_("This product does not exist.")) from None

    return _act(form, change, f"p{form.product_id.data}")


def follow() -> Response:
    """Follows or unfollows a whole supplier or category."""
    form = FollowForm()

    def change(session: Session, shop: Shop) -> None:
        try:
            curation.follow(
                session, shop, form.kind.data, form.target_id.data or 0, on=form.on.data == "on"
            )
        except NotFound:
            raise NotFound(_("This supplier or category does not exist.")) from None

    return _act(form, change)


def whole_catalogue() -> Response:
    """Whether the shop lists the whole active catalogue."""
    form = CatalogueForm()

    def change(session: Session, shop: Shop) -> None:
        curation.set_follows_all(session, shop, form.follows_all.data == "on")

    return _act(form, change)


def markup() -> Response:
    """The bulk markup rule in percent of the suggested price; empty removes it."""
    form = MarkupForm()

    def change(session: Session, shop: Shop) -> None:
        curation.set_markup(session, shop, form.percent.data)

    return _act(form, change)


def price() -> Response:
    """The shop's own price for one variant, or back to the rule (``reset`` or empty)."""
    form = PriceForm()

    def change(session: Session, shop: Shop) -> None:
        variant = _priced_variant(session, form.variant_id.data or 0)
        text = (form.price.data or "").strip()
        amount = None if "reset" in request.form or not text else _amount(text, variant)
        try:
            curation.set_price(session, shop, variant.id, amount, shop_rates())
        except ValidationError:
            raise ValidationError(_price_refusal(variant, shop)) from None

    product_id = request.form.get("product_id", "")
    return _act(form, change, f"p{product_id}" if product_id.isdigit() else None)


def _priced_variant(session: Session, variant_id: int) -> Any:
    row = curation.priced_variant(session, variant_id)
    if row is None:
        raise NotFound(_("This variant does not exist or is no longer sold."))
    return row


def _amount(text: str, variant: Any) -> int:
    try:
        return Money.from_major(text, variant.currency).minor
    except (ValueError, TypeError):
        example = major(variant.retail_price_minor, variant.currency)
        raise ValidationError(
            _(
                "The price of %(product)s (%(sku)s) must be a plain number such as %(example)s.",
                product=variant.title,
                sku=variant.sku,
                example=example,
            )
        ) from None


def _price_refusal(variant: Any, shop: Shop) -> str:
    bounds = VariantBounds(
        variant.supply_price_minor, variant.retail_price_minor, variant.min_price_minor
    )
    allowed = curation.price_range(bounds, curation.rates_of(shop_rates(), variant))

    def money(minor: int) -> str:
        return format_money(Money(minor, variant.currency), locale(), shop.currency_display)

    return _(
        "The price of %(product)s (%(sku)s) must be at least %(lowest)s; the supplier "
        "suggests %(suggested)s.",
        product=variant.title,
        sku=variant.sku,
        lowest=money(allowed.lowest),
        suggested=money(allowed.suggested),
    )
