"""The supplier API's promotions: create one you fund (a coupon, a threshold, a flash sale
of your own SKU), list yours with their figures, read one, end one (``DELETE``)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from ...catalog.models import Variant
from ...db import utcnow
from ...errors import ValidationError
from ...fulfillment.handoff import rfc3339
from ...promotions import manage, queries
from ...promotions.models import COUPON, FLASH_SALE, SUPPLIER, THRESHOLD, Promotion
from ...validation import ErrorTree, add_error
from ..errors import fail
from ..sessions import get_session
from . import promotion_schemas as schemas
from .access import (
    SupplierResource,
    body_ref,
    current_supplier_id,
    cursor_of,
    documented,
    load_body,
    page_of,
)
from .openapi import operation

#: The fields of the body each kind takes besides ``kind``, ``name`` and the window.
_FIELDS = {
    COUPON: {
        "code",
        "claimable",
        "percent_off",
        "amount_off",
        "min_spend",
        "max_uses",
        "per_consumer",
        "budget",
        "product_ids",
        "categories",
        "currency",
    },
    THRESHOLD: {"tiers", "currency", "product_ids", "categories"},
    FLASH_SALE: {"sku", "price", "quota", "per_consumer"},
}
_REQUIRED = {COUPON: set(), THRESHOLD: {"tiers"}, FLASH_SALE: {"sku", "price", "quota"}}
_COMMON = {"kind", "name", "starts_at", "ends_at"}
_SCOPE = {"product_ids", "categories"}


class Promotions(SupplierResource):
    @documented(422)
    @operation.arguments(schemas.PromotionListArgs, location="query")
    @operation.response(200, schemas.PromotionPageOut)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """Your promotions, oldest first, with what each has done."""
        session = get_session()
        rows, next_id = queries.owned_promotions(
            session,
            supplier_id=current_supplier_id(),
            limit=args["limit"],
            after=cursor_of(args["cursor"]),
        )
        return page_of(promotions_out(session, rows, utcnow()), next_id)

    @documented(422, writes=True)
    @operation.doc(requestBody=body_ref("Promotion"))
    @operation.response(201, schemas.PromotionOut)
    def post(self) -> dict[str, Any]:
        """Create a promotion you fund; a flash sale reserves its quota from your stock."""
        loaded = load_body(schemas.PromotionIn())
        session = get_session()
        now = utcnow()
        promotion = create(session, current_supplier_id(), loaded, now)
        return promotions_out(session, [promotion], now)[0]


class PromotionItem(SupplierResource):
    @documented(404)
    @operation.response(200, schemas.PromotionOut)
    def get(self, promotion_id: str) -> dict[str, Any]:
        """One of your promotions (``pr_...``)."""
        session = get_session()
        promotion = manage.find_promotion(session, promotion_id, supplier_id=current_supplier_id())
        return promotions_out(session, [promotion], utcnow())[0]

    @documented(404, writes=True)
    @operation.response(200, schemas.PromotionOut)
    def delete(self, promotion_id: str) -> dict[str, Any]:
        """End the promotion now (idempotent); a flash sale's unsold units go back to stock."""
        session = get_session()
        now = utcnow()
        promotion = manage.find_promotion(session, promotion_id, supplier_id=current_supplier_id())
        manage.end_promotion(session, promotion, now)
        session.refresh(promotion)
        return promotions_out(session, [promotion], now)[0]


def create(session: Session, supplier_id: int, loaded: dict[str, Any], now: datetime) -> Promotion:
    """The promotion ``loaded`` (a :class:`~.promotion_schemas.PromotionIn` body) describes,
    funded by the supplier; every problem located under ``json``."""
    kind = loaded["kind"]
    errors = _misplaced(kind, loaded)
    category_ids = _category_ids(session, errors, supplier_id, loaded.get("categories", []))
    if errors:
        fail(422, errors={"json": errors})
    common: dict[str, Any] = {
        "funder": SUPPLIER,
        "created_by": f"supplier:{supplier_id}",
        "now": now,
        "starts_at": _utc(loaded.get("starts_at")) or now,
        "ends_at": _utc(loaded["ends_at"]),
        "supplier_id": supplier_id,
        "name": loaded.get("name"),
    }
    scope = {"product_ids": loaded.get("product_ids", ()), "category_ids": category_ids}
    terms = {k: v for k, v in loaded.items() if k in _FIELDS[kind] - _SCOPE}
    try:
        if kind == COUPON:
            return manage.create_coupon(session, **common, **terms, **scope)
        if kind == THRESHOLD:
            return manage.create_threshold(
                session, **common, **scope, tiers=terms["tiers"], currency=terms.get("currency")
            )
        return manage.create_flash_sale(session, **common, **terms)
    except ValidationError as refused:
        raise ValidationError(refused.message, errors={"json": refused.errors}) from None


def _misplaced(kind: str, loaded: dict[str, Any]) -> ErrorTree:
    errors: ErrorTree = {}
    for field in sorted(set(loaded) - _FIELDS[kind] - _COMMON):
        add_error(errors, [field], f"Not allowed for a {kind.replace('_', ' ')}.")
    for field in sorted(_REQUIRED[kind] - set(loaded)):
        add_error(errors, [field], "Missing data for required field.")
    return errors


def _category_ids(
    session: Session, errors: ErrorTree, supplier_id: int, paths: list[str]
) -> list[int]:
    ids, unknown = queries.category_ids(session, paths, supplier_id)
    for index in unknown:
        add_error(errors, ["categories", index], "None of your products is in this category.")
    return ids


def _utc(moment: datetime | None) -> datetime | None:
    return None if moment is None else moment.astimezone(UTC)


def promotions_out(
    session: Session, promotions: list[Promotion], now: datetime
) -> list[dict[str, Any]]:
    """What the API shows of ``promotions``: terms, where each stands, and figures."""
    figures = manage.promotion_figures(session, [p.id or 0 for p in promotions])
    paths = queries.category_paths(session, sorted({c for p in promotions for c in p.category_ids}))
    skus: dict[int | None, str] = {
        p.variant_id: variant.sku
        for p in promotions
        if p.variant_id is not None and (variant := session.get(Variant, p.variant_id))
    }
    return [_out(p, now, figures[p.id or 0], paths, skus) for p in promotions]


def _out(
    promotion: Promotion,
    now: datetime,
    figures: manage.PromotionFigures,
    paths: dict[int, str],
    skus: dict[int | None, str],
) -> dict[str, Any]:
    return {
        "id": promotion.public_id,
        "kind": promotion.kind,
        "funder": promotion.funder,
        "name": promotion.name,
        "status": queries.standing(promotion, now),
        "currency": promotion.currency,
        "starts_at": rfc3339(promotion.starts_at),
        "ends_at": rfc3339(promotion.ends_at),
        "ended_at": rfc3339(promotion.ended_at),
        "created_at": rfc3339(promotion.created_at),
        "code": promotion.code,
        "claimable": promotion.claimable,
        "percent_off": promotion.percent_off,
        "amount_off": promotion.amount_off_minor,
        "min_spend": promotion.min_spend_minor,
        "max_uses": promotion.max_uses,
        "per_consumer": promotion.per_consumer,
        "budget": promotion.budget_minor,
        "product_ids": promotion.product_ids,
        "categories": [paths[c] for c in promotion.category_ids if c in paths],
        "tiers": promotion.tiers,
        "sku": skus.get(promotion.variant_id),
        "price": promotion.price_minor,
        "quota": promotion.quota,
        "units_sold": promotion.units_sold,
        "uses": figures.uses,
        "discount_given": figures.discount_given,
        "orders": figures.orders,
        "sales": figures.sales,
    }
