"""Commission rates at every scope, the most specific winning: product, then its category
(the nearest one up the tree that sets a rate), then its supplier, then the platform (the
rows an admin set, else ``STOREFRONT_COMMISSION_LEVEL1_BP``/``LEVEL2_BP``). Each level is
resolved on its own: a category may set level 1 and leave level 2 to the platform.

A change is refused when, under the new rates, some active variant in the scope would not
split its retail price into non-negative parts (``docs/architecture.md``, invariant 2); the
message names the products. (Shop prices below retail are bounded by the rates themselves: a
shop's own price that no longer fits falls back to retail, see
:func:`.prices.shop_price`.)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..catalog.models import ACTIVE, Category, Product, Supplier, Variant
from ..errors import NotFound, ValidationError
from ..sql import insert_for, table_of
from .models import CATEGORY, PLATFORM, PRODUCT, SCOPES, SUPPLIER, CommissionRate
from .prices import BP, Rates

#: ``(level 1 bp, level 2 bp)`` set at one scope; ``None`` leaves a level to wider scopes.
Override = tuple[int | None, int | None]
#: Products named in a refusal at most.
NAMED_AT_MOST = 5

_rate = table_of(CommissionRate).c
_category = table_of(Category).c
_product = table_of(Product).c
_variant = table_of(Variant).c


@dataclass(frozen=True)
class RateBook:
    """Every rate set, ready to resolve any product's :class:`Rates` without a query."""

    default: Rates
    platform: Override = (None, None)
    suppliers: Mapping[int, Override] = field(default_factory=dict)
    categories: Mapping[int, Override] = field(default_factory=dict)
    products: Mapping[int, Override] = field(default_factory=dict)
    #: Each category's parent (only needed where categories set rates).
    parents: Mapping[int, int | None] = field(default_factory=dict)

    @property
    def uniform(self) -> bool:
        """No scope narrower than the platform sets anything: one rate for all."""
        return not (self.suppliers or self.categories or self.products)

    @property
    def base(self) -> Rates:
        """The platform's rates (the defaults unless an admin set others)."""
        level1, level2 = self.platform
        return Rates(
            self.default.level1_bp if level1 is None else level1,
            self.default.level2_bp if level2 is None else level2,
        )

    def for_product(self, product_id: int, supplier_id: int, category_id: int | None) -> Rates:
        """The rates of a sale of ``product_id``."""
        if self.uniform:
            return self.base
        level1, level2 = self.products.get(product_id, (None, None))
        seen: set[int] = set()
        while category_id is not None and category_id not in seen and None in (level1, level2):
            seen.add(category_id)
            found = self.categories.get(category_id)
            if found is not None:
                level1 = found[0] if level1 is None else level1
                level2 = found[1] if level2 is None else level2
            category_id = self.parents.get(category_id)
        supplier = self.suppliers.get(supplier_id, (None, None))
        level1 = supplier[0] if level1 is None else level1
        level2 = supplier[1] if level2 is None else level2
        base = self.base
        return Rates(
            base.level1_bp if level1 is None else level1,
            base.level2_bp if level2 is None else level2,
        )


def default_rates(config: Mapping[str, Any]) -> Rates:
    """The platform's rates in the configuration (``STOREFRONT_COMMISSION_LEVEL1_BP`` and
    ``STOREFRONT_COMMISSION_LEVEL2_BP``): what applies where no admin set a rate."""
    return Rates(
        config["STOREFRONT_COMMISSION_LEVEL1_BP"], config["STOREFRONT_COMMISSION_LEVEL2_BP"]
    )


def load_rate_book(session: Session, default: Rates) -> RateBook:
    """The rates set in the database over ``default`` (two small queries at most)."""
    by_scope: dict[str, dict[int, Override]] = {scope: {} for scope in SCOPES}
    for row in session.execute(
        sa.select(_rate.scope, _rate.target_id, _rate.level1_bp, _rate.level2_bp)
    ):
        by_scope[row.scope][row.target_id] = (row.level1_bp, row.level2_bp)
    parents = _category_parents(session) if by_scope[CATEGORY] else {}
    return RateBook(
        default,
        by_scope[PLATFORM].get(0, (None, None)),
        by_scope[SUPPLIER],
        by_scope[CATEGORY],
        by_scope[PRODUCT],
        parents,
    )


def _category_parents(session: Session) -> dict[int, int | None]:
    """Each category's parent (what :meth:`RateBook.for_product` walks up)."""
    return {row[0]: row[1] for row in session.execute(sa.select(_category.id, _category.parent_id))}


@dataclass(frozen=True, slots=True)
class RateChange:
    """What an admin asks: rates at ``scope`` (``target_id`` 0 for the platform)."""

    scope: str
    target_id: int
    level1_bp: int | None
    level2_bp: int | None


def set_rates(session: Session, book: RateBook, change: RateChange, now: datetime) -> RateBook:
    """Set (or, with both levels ``None``, clear) the rates of a scope; the new book.
    Refused with :class:`ValidationError` naming the products whose retail price the new
    rates would split into a negative part."""
    _check_change(session, change)
    rows = dict(_overrides(book, change.scope))
    override = (change.level1_bp, change.level2_bp)
    if change.scope == CATEGORY and not book.parents:
        book = replace(book, parents=_category_parents(session))  # (the tree to walk)
    if override == (None, None):
        rows.pop(change.target_id, None)
    else:
        rows[change.target_id] = override
    new_book = _with(book, change.scope, rows)
    broken = products_left_negative(session, new_book, change.scope, change.target_id)
    if broken:
        names = ", ".join(f"{title} ({external_id})" for title, external_id in broken)
        raise ValidationError("these rates leave a negative part in the retail price of: " + names)
    if override == (None, None):
        session.execute(
            sa.delete(table_of(CommissionRate)).where(
                _rate.scope == change.scope, _rate.target_id == change.target_id
            )
        )
    else:
        insert = insert_for(session, table_of(CommissionRate)).values(
            scope=change.scope,
            target_id=change.target_id,
            level1_bp=change.level1_bp,
            level2_bp=change.level2_bp,
            updated_at=now,
        )
        session.execute(
            insert.on_conflict_do_update(
                index_elements=["scope", "target_id"],
                set_={
                    "level1_bp": insert.excluded.level1_bp,
                    "level2_bp": insert.excluded.level2_bp,
                    "updated_at": insert.excluded.updated_at,
                },
            )
        )
    return new_book


def products_left_negative(
    session: Session, book: RateBook, scope: str, target_id: int
) -> list[tuple[str, str]]:
    """``(title, external id)`` of up to :data:`NAMED_AT_MOST` products in the scope with an
    active variant whose retail price ``book`` splits into a negative part."""
    query = (
        sa.select(
            _product.id,
            _product.supplier_id,
            _product.category_id,
            _product.title,
            _product.external_id,
            _variant.retail_price_minor,
            _variant.supply_price_minor,
        )
        .join(table_of(Variant), _variant.product_id == _product.id)
        .where(_product.status == ACTIVE, _variant.status == ACTIVE)
        .order_by(_product.id)
    )
    if scope == SUPPLIER:
        query = query.where(_product.supplier_id == target_id)
    elif scope == PRODUCT:
        query = query.where(_product.id == target_id)
    elif scope == CATEGORY:
        query = query.where(_product.category_id.in_(_subtree(session, target_id)))
    if book.uniform:  # one rate for all: the database finds them
        rates = book.base
        retail = sa.cast(_variant.retail_price_minor, sa.BigInteger)  # (int4 would overflow)
        supply = _variant.supply_price_minor
        left = retail - supply - retail * rates.level1_bp // BP - retail * rates.level2_bp // BP
        found = session.execute(
            query.where(left < 0)
            .with_only_columns(_product.id, _product.title, _product.external_id)
            .distinct()
            .limit(NAMED_AT_MOST)
        )
        return [(row.title, row.external_id) for row in found]
    broken: dict[int, tuple[str, str]] = {}
    for row in session.execute(query):
        rates = book.for_product(row.id, row.supplier_id, row.category_id)
        retail = row.retail_price_minor
        commissions = retail * rates.level1_bp // BP + retail * rates.level2_bp // BP
        if retail - row.supply_price_minor - commissions < 0:
            broken.setdefault(row.id, (row.title, row.external_id))
            if len(broken) >= NAMED_AT_MOST:
                break
    return list(broken.values())


def _subtree(session: Session, category_id: int) -> list[int]:
    path = session.scalar(sa.select(_category.path).where(_category.id == category_id))
    if path is None:
        raise NotFound(f"no category {category_id}")
    return list(
        session.scalars(
            sa.select(_category.id).where(
                sa.or_(
                    _category.path == path, _category.path.startswith(path + "/", autoescape=True)
                )
            )
        )
    )


def _check_change(session: Session, change: RateChange) -> None:
    if change.scope not in SCOPES:
        raise ValidationError(f"unknown scope {change.scope!r}")
    for name, value in (("level 1", change.level1_bp), ("level 2", change.level2_bp)):
        if value is not None and not 0 <= value <= BP:
            raise ValidationError(f"the {name} rate must be from 0 to {BP} basis points")
    if change.scope == PLATFORM:
        if change.target_id != 0:
            raise ValidationError("platform rates have no target")
        return

    model = {SUPPLIER: Supplier, CATEGORY: Category, PRODUCT: Product}[change.scope]
    found = session.scalar(
        sa.select(table_of(model).c.id).where(table_of(model).c.id == change.target_id)
    )
    if found is None:
        raise NotFound(f"no {change.scope} {change.target_id}")


#: The field of :class:`RateBook` holding each narrower scope's rates.
_FIELDS = {SUPPLIER: "suppliers", CATEGORY: "categories", PRODUCT: "products"}


def _overrides(book: RateBook, scope: str) -> Mapping[int, Override]:
    if scope == PLATFORM:
        return {0: book.platform} if book.platform != (None, None) else {}
    found: Mapping[int, Override] = getattr(book, _FIELDS[scope])
    return found


def _with(book: RateBook, scope: str, rows: dict[int, Override]) -> RateBook:
    if scope == PLATFORM:
        return replace(book, platform=rows.get(0, (None, None)))
    changed: dict[str, Any] = {_FIELDS[scope]: rows}
    return replace(book, **changed)
