"""Creating and ending promotions, and what they have done: the services behind the
supplier API, the console, the admin and the commands (``docs/promotions.md``).

Each creation checks its terms (:mod:`.terms`) and raises one
:class:`~storefront_sdk.errors.ValidationError` naming every field at fault. A flash sale
reserves its quota from the variant's ``available`` stock when it is created; ending it (early,
or by ``expire-orders`` once its window is over) gives the unsold units back. Services flush
and never commit.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlmodel import col

from ..catalog import allocation
from ..catalog.models import ACTIVE, Product, Variant
from ..errors import NotFound, ValidationError
from ..money import Money
from ..sql import is_postgresql, table_of
from ..validation import ErrorTree, add_error
from . import terms
from .models import (
    COUPON,
    FLASH_SALE,
    SHOP,
    SUPPLIER,
    THRESHOLD,
    USE_TAKEN,
    Promotion,
    PromotionUse,
)

#: A claimable coupon may be used this many times by each claimer unless told otherwise.
CLAIMED_PER_CONSUMER = 1

_promotion = table_of(Promotion)


@dataclass(frozen=True)
class PromotionFigures:
    """What a promotion has done: ``uses`` and ``discount_given`` (minor units) as its
    counters stand (orders awaiting payment included), and the paid ``orders`` that used it
    with their ``sales`` (their totals, minor units)."""

    uses: int
    discount_given: int
    orders: int
    sales: int


def create_coupon(
    session: Session,
    *,
    funder: str,
    created_by: str,
    now: datetime,
    starts_at: datetime,
    ends_at: datetime,
    supplier_id: int | None = None,
    shop_id: int | None = None,
    percent_off: int | None = None,
    amount_off: int | None = None,
    currency: str | None = None,
    code: str | None = None,
    claimable: bool = False,
    min_spend: int = 0,
    max_uses: int | None = None,
    per_consumer: int | None = None,
    budget: int | None = None,
    product_ids: Sequence[int] = (),
    category_ids: Sequence[int] = (),
    name: str | None = None,
) -> Promotion:
    """A coupon: a code to type, or claimable (then each claimer may use it
    ``per_consumer`` times, 1 unless told), giving ``percent_off`` or ``amount_off`` on
    what is in scope, from ``min_spend``, within its limits and window."""
    errors: ErrorTree = {}
    supplier = terms.check_funder(session, errors, funder, supplier_id, shop_id)
    terms.check_window(errors, starts_at, ends_at, now)
    terms.check_discount(errors, percent_off, amount_off, min_spend)
    needed = amount_off is not None or budget is not None or min_spend != 0
    currency = terms.check_currency(errors, currency, supplier, needed)
    code = terms.normalised_code(session, errors, code)
    if code is None and not claimable:
        add_error(errors, ["code"], "A coupon needs a code, or to be claimable.")
    if claimable and per_consumer is None:
        per_consumer = CLAIMED_PER_CONSUMER
    for field, value in (("max_uses", max_uses), ("per_consumer", per_consumer)):
        terms.check_count(errors, field, value, 1)
    terms.check_count(errors, "budget", budget, 1)
    products, categories = terms.check_scope(
        session, errors, supplier_id, product_ids, category_ids
    )
    name = terms.check_name(errors, name)
    if funder == SUPPLIER and supplier_id is not None and percent_off and not errors:
        terms.check_supplier_percent(
            session, errors, supplier_id, percent_off, products, categories
        )
    terms.refuse_if_any(errors, "coupon")
    fields: dict[str, Any] = dict(
        kind=COUPON,
        funder=funder,
        supplier_id=supplier_id,
        shop_id=shop_id,
        currency=currency,
        product_ids=products,
        category_ids=categories,
        code=code,
        claimable=claimable,
        percent_off=percent_off,
        amount_off_minor=amount_off,
        min_spend_minor=min_spend,
        max_uses=max_uses,
        per_consumer=per_consumer,
        budget_minor=budget,
        name=name or _coupon_name(percent_off, amount_off, currency),
    )
    return _added(session, fields, created_by, now, starts_at, ends_at)


def create_threshold(
    session: Session,
    *,
    funder: str,
    created_by: str,
    now: datetime,
    starts_at: datetime,
    ends_at: datetime,
    tiers: Sequence[dict[str, Any]],
    currency: str | None,
    supplier_id: int | None = None,
    shop_id: int | None = None,
    product_ids: Sequence[int] = (),
    category_ids: Sequence[int] = (),
    name: str | None = None,
) -> Promotion:
    """A threshold (满减): spend at least a tier's ``spend`` on what is in scope and save
    its ``off``; the best tier reached applies (``currency``: the supplier's if not given)."""
    errors: ErrorTree = {}
    supplier = terms.check_funder(session, errors, funder, supplier_id, shop_id)
    terms.check_window(errors, starts_at, ends_at, now)
    stored = terms.check_tiers(errors, tiers)
    currency = terms.check_currency(errors, currency, supplier, True)
    products, categories = terms.check_scope(
        session, errors, supplier_id, product_ids, category_ids
    )
    name = terms.check_name(errors, name)
    terms.refuse_if_any(errors, "threshold")
    fields: dict[str, Any] = dict(
        kind=THRESHOLD,
        funder=funder,
        supplier_id=supplier_id,
        shop_id=shop_id,
        currency=currency,
        product_ids=products,
        category_ids=categories,
        tiers=stored,
        name=name or _threshold_name(stored, currency or ""),
    )
    return _added(session, fields, created_by, now, starts_at, ends_at)


def create_flash_sale(
    session: Session,
    *,
    funder: str,
    created_by: str,
    now: datetime,
    supplier_id: int,
    sku: str,
    price: int,
    quota: int,
    starts_at: datetime,
    ends_at: datetime,
    per_consumer: int | None = None,
    name: str | None = None,
) -> Promotion:
    """A flash sale of the supplier's ``sku`` at ``price`` per unit (minor units of the
    variant's currency) for its window, with ``quota`` units reserved from stock at once and
    at most ``per_consumer`` units per consumer. Funded by the supplier (then the price may
    not fall below retail - supply: the supplier's part would be negative) or the platform."""
    errors: ErrorTree = {}
    terms.check_flash_funder(errors, funder)
    # Whoever funds it, a SKU is named by its supplier.
    terms.check_funder(session, errors, SUPPLIER, supplier_id, None)
    terms.check_window(errors, starts_at, ends_at, now)
    terms.check_count(errors, "quota", quota, 1)
    terms.check_count(errors, "per_consumer", per_consumer, 1)
    name = terms.check_name(errors, name)
    variant = _variant_on_sale(session, errors, supplier_id, sku)
    if variant is not None:
        _check_flash_price(errors, funder, variant, price)
        _check_no_overlap(session, errors, variant, starts_at, ends_at)
    terms.refuse_if_any(errors, "flash sale")
    assert variant is not None  # refused above otherwise
    _reserve(session, variant, quota)
    fields: dict[str, Any] = dict(
        kind=FLASH_SALE,
        funder=funder,
        supplier_id=supplier_id,
        currency=variant.currency,
        product_ids=[variant.product_id],
        variant_id=variant.id,
        price_minor=price,
        quota=quota,
        reserved=True,
        per_consumer=per_consumer,
        name=name or f"Flash sale {variant.sku}",
    )
    return _added(session, fields, created_by, now, starts_at, ends_at)


def _variant_on_sale(
    session: Session, errors: ErrorTree, supplier_id: int | None, sku: str
) -> Variant | None:
    variant = session.scalar(
        sa.select(Variant)
        .join(Product, col(Product.id) == col(Variant.product_id))
        .where(
            col(Variant.supplier_id) == supplier_id,
            col(Variant.sku) == sku,
            col(Variant.status) == ACTIVE,
            col(Product.status) == ACTIVE,
        )
    )
    if variant is None:
        add_error(errors, ["sku"], f"No SKU {sku!r} on sale by this supplier.")
    return variant


def _check_flash_price(errors: ErrorTree, funder: str, variant: Variant, price: int) -> None:
    terms.check_count(errors, "price", price, 1)
    if errors.get("price"):
        return
    retail = variant.retail_price_minor
    if price >= retail:
        add_error(errors, ["price"], f"Must be below the retail price ({retail}).")
    elif funder == SUPPLIER and price < retail - variant.supply_price_minor:
        least = retail - variant.supply_price_minor
        add_error(
            errors,
            ["price"],
            f"Must be at least {least}: below it the supplier's part of the retail price "
            f"({retail}) would be negative.",
        )


def _check_no_overlap(
    session: Session, errors: ErrorTree, variant: Variant, starts_at: datetime, ends_at: datetime
) -> None:
    clash = session.scalar(
        sa.select(col(Promotion.public_id)).where(
            col(Promotion.kind) == FLASH_SALE,
            col(Promotion.variant_id) == variant.id,
            col(Promotion.ended_at).is_(None),
            col(Promotion.starts_at) < ends_at,
            col(Promotion.ends_at) > starts_at,
        )
    )
    if clash is not None:
        add_error(errors, ["sku"], f"Flash sale {clash} of this SKU overlaps this window.")


def _reserve(session: Session, variant: Variant, quota: int) -> None:
    try:
        allocation.allocate(session, {variant.id or 0: quota})
    except allocation.SoldOut:
        session.refresh(variant)
        message = f"Only {variant.available} units of SKU {variant.sku} are available."
        raise ValidationError(
            f"flash sale refused: quota: {message}", errors={"quota": [message]}
        ) from None
    session.expire(variant, ["available"])


def _added(
    session: Session,
    fields: dict[str, Any],
    created_by: str,
    now: datetime,
    starts_at: datetime,
    ends_at: datetime,
) -> Promotion:
    promotion = Promotion(
        public_id="pr_" + secrets.token_urlsafe(12),
        created_by=created_by,
        created_at=now,
        starts_at=starts_at,
        ends_at=ends_at,
        **fields,
    )
    try:
        with session.begin_nested():
            session.add(promotion)
            session.flush()
    except IntegrityError:  # a code taken meanwhile by a parallel creation
        message = f"The code {promotion.code} is already taken."
        raise ValidationError(f"coupon refused: code: {message}", errors={"code": [message]})
    return promotion


def _coupon_name(percent_off: int | None, amount_off: int | None, currency: str | None) -> str:
    if percent_off is not None:
        return f"{percent_off}% off"
    return f"{_amount(amount_off or 0, currency or '')} off"


def _threshold_name(tiers: list[dict[str, int]], currency: str) -> str:
    parts = [
        f"Spend {_amount(t['spend'], currency)}, save {_amount(t['off'], currency)}" for t in tiers
    ]
    return ", ".join(parts)[: terms.MAX_NAME]


def _amount(minor: int, currency: str) -> str:
    try:
        return str(Money(minor, currency))
    except ValueError:
        return str(minor)


def end_promotion(session: Session, promotion: Promotion, now: datetime) -> bool:
    """End ``promotion`` now (``ended_at``); a flash sale gives its unsold units back to
    stock (capped as :func:`~storefront_sdk.catalog.allocation.release` caps). Ending an
    ended promotion changes nothing; returns whether this call ended it."""
    ended = session.execute(
        sa.update(_promotion)
        .where(_promotion.c.id == promotion.id, _promotion.c.ended_at.is_(None))
        .values(ended_at=now, reserved=False)
        .returning(_promotion.c.variant_id, _unsold())
    ).first()
    session.expire(promotion)
    if ended is None:
        return False
    _release_unsold(session, ended.variant_id, ended.unsold)
    return True


def _unsold() -> sa.ColumnElement[int]:
    # RETURNING shows the new row: ``reserved`` is false by then, so the unsold units are
    # told by the quota (only a flash sale has one, and it is reserved until it ends).
    return sa.func.coalesce(_promotion.c.quota - _promotion.c.units_sold, 0).label("unsold")


def _release_unsold(session: Session, variant_id: int | None, unsold: int) -> None:
    if variant_id is not None and unsold > 0:
        allocation.release(session, {variant_id: unsold})


def end_expired_flash_sales(session: Session, now: datetime) -> int:
    """End every flash sale whose window is over and still holds its reservation, giving the
    unsold units back; returns how many this call ended. Safe with several workers: rows
    another worker holds are skipped (PostgreSQL), and each end is a conditional update."""
    query = (
        sa.select(_promotion.c.id)
        .where(
            _promotion.c.kind == FLASH_SALE,
            _promotion.c.ended_at.is_(None),
            _promotion.c.ends_at <= now,
        )
        .order_by(_promotion.c.id)
    )
    if is_postgresql(session):
        query = query.with_for_update(skip_locked=True)
    count = 0
    for promotion_id in list(session.scalars(query)):
        promotion = session.get(Promotion, promotion_id)
        if promotion is not None and end_promotion(session, promotion, now):
            count += 1
    return count


def find_promotion(
    session: Session, public_id: str, *, supplier_id: int | None = None, shop_id: int | None = None
) -> Promotion:
    """The promotion ``public_id``, as its owner sees it: with ``supplier_id``, only that
    supplier's own (supplier-funded) ones; with ``shop_id``, only that shop's own
    (shop-funded); else any (the platform). :class:`NotFound` otherwise."""
    query = sa.select(Promotion).where(col(Promotion.public_id) == public_id)
    if supplier_id is not None:
        query = query.where(
            col(Promotion.funder) == SUPPLIER, col(Promotion.supplier_id) == supplier_id
        )
    if shop_id is not None:
        query = query.where(col(Promotion.funder) == SHOP, col(Promotion.shop_id) == shop_id)
    promotion = session.scalar(query)
    if promotion is None:
        raise NotFound(f"no promotion {public_id}")
    return promotion


def promotion_figures(
    session: Session, promotion_ids: Sequence[int]
) -> dict[int, PromotionFigures]:
    """Each promotion's :class:`PromotionFigures` (every id given has an entry)."""
    ids = sorted(set(promotion_ids))
    if not ids:
        return {}
    counters = session.execute(
        sa.select(_promotion.c.id, _promotion.c.uses, _promotion.c.discount_given_minor).where(
            _promotion.c.id.in_(ids)
        )
    ).all()
    paid = _paid_orders(session, ids)
    return {row[0]: PromotionFigures(row[1], row[2], *paid.get(row[0], (0, 0))) for row in counters}


def _paid_orders(session: Session, ids: list[int]) -> dict[int, tuple[int, int]]:
    # sf_order belongs to the floor above (orders/): read as a table, not imported.
    order = sa.table("sf_order", sa.column("id"), sa.column("paid_at"), sa.column("total_minor"))
    rows = session.execute(
        sa.select(
            col(PromotionUse.promotion_id),
            sa.func.count(),
            sa.func.coalesce(sa.func.sum(order.c.total_minor), 0),
        )
        .join(order, order.c.id == col(PromotionUse.order_id))
        .where(
            col(PromotionUse.promotion_id).in_(ids),
            col(PromotionUse.status) == USE_TAKEN,
            order.c.paid_at.is_not(None),
        )
        .group_by(col(PromotionUse.promotion_id))
    ).all()
    return {row[0]: (int(row[1]), int(row[2])) for row in rows}
