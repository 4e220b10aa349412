"""marshmallow schemas of the supplier API's promotions: the body that creates one, the
query of the list, and what a promotion looks like (its terms and figures).

The body checks types and shapes; the terms themselves (percent 1 to 100, tiers rising, a
flash price the supplier can bear...) are checked by :mod:`storefront_sdk.promotions.manage`,
whose messages are located under ``json`` like these.
"""

from __future__ import annotations

import marshmallow as ma
from marshmallow import fields, validate

from ...catalog.inputs import EARLIEST, LATEST
from ...promotions.models import KINDS
from ...validation import MAX_INT
from .schemas import PageArgs

_whole = validate.Range(0, MAX_INT)
_time = validate.Range(EARLIEST, LATEST)


def _amount(description: str) -> fields.Int:
    return fields.Int(strict=True, validate=_whole, metadata={"description": description})


class TierIn(ma.Schema):
    """One tier of a threshold: spend at least ``spend``, save ``off`` (minor units)."""

    spend = fields.Int(required=True, strict=True, validate=_whole)
    off = fields.Int(required=True, strict=True, validate=_whole)


class PromotionIn(ma.Schema):
    """Body of ``POST /promotions``: a coupon, a threshold or a flash sale that you fund.
    Amounts are minor units of ``currency`` (default: yours)."""

    kind = fields.Str(required=True, validate=validate.OneOf(KINDS))
    name = fields.Str(validate=validate.Length(1, 120))
    starts_at = fields.AwareDateTime(
        validate=_time, metadata={"description": "RFC 3339; default: now"}
    )
    ends_at = fields.AwareDateTime(required=True, validate=_time)
    currency = fields.Str(validate=validate.Length(3, 3))
    # coupon
    code = fields.Str(
        validate=validate.Length(1, 64),
        metadata={"description": "3 to 32 letters, digits, hyphens; stored upper-case"},
    )
    claimable = fields.Bool(metadata={"description": "Claimed by consumers from a link"})
    percent_off = fields.Int(strict=True, validate=_whole)
    amount_off = _amount("Amount off (minor units)")
    min_spend = _amount("Minimum spend in scope (minor units)")
    max_uses = fields.Int(strict=True, validate=_whole)
    per_consumer = fields.Int(
        strict=True, validate=_whole, metadata={"description": "Uses (flash sales: units)"}
    )
    budget = _amount("Total discount it may give (minor units)")
    product_ids = fields.List(
        fields.Int(strict=True, validate=validate.Range(1, MAX_INT)),
        validate=validate.Length(max=1000),
        metadata={"description": "Your products' ids (as GET /products shows them)"},
    )
    categories = fields.List(
        fields.Str(validate=validate.Length(1, 900)),
        validate=validate.Length(max=100),
        metadata={"description": "Category paths your products are in"},
    )
    # threshold
    tiers = fields.List(fields.Nested(TierIn), validate=validate.Length(1, 10))
    # flash sale
    sku = fields.Str(validate=validate.Length(1, 64))
    price = _amount("Flash price per unit (minor units)")
    quota = fields.Int(
        strict=True, validate=_whole, metadata={"description": "Units reserved from stock"}
    )


class PromotionListArgs(PageArgs):
    """Query of ``GET /promotions``."""


class PromotionOut(ma.Schema):
    id = fields.Str(required=True, metadata={"description": "pr_..."})
    kind = fields.Str(required=True)
    funder = fields.Str(required=True)
    name = fields.Str(required=True)
    status = fields.Str(required=True, metadata={"description": "scheduled, live or ended"})
    currency = fields.Str(allow_none=True, required=True)
    starts_at = fields.Str(required=True)
    ends_at = fields.Str(required=True)
    ended_at = fields.Str(allow_none=True, required=True)
    created_at = fields.Str(required=True)
    code = fields.Str(allow_none=True)
    claimable = fields.Bool()
    percent_off = fields.Int(allow_none=True)
    amount_off = fields.Int(allow_none=True)
    min_spend = fields.Int()
    max_uses = fields.Int(allow_none=True)
    per_consumer = fields.Int(allow_none=True)
    budget = fields.Int(allow_none=True)
    product_ids = fields.List(fields.Int())
    categories = fields.List(fields.Str())
    tiers = fields.List(fields.Nested(TierIn))
    sku = fields.Str(allow_none=True)
    price = fields.Int(allow_none=True)
    quota = fields.Int(allow_none=True)
    units_sold = fields.Int(required=True)
    uses = fields.Int(required=True)
    discount_given = fields.Int(
        required=True, metadata={"description": "Discount given so far (minor units)"}
    )
    orders = fields.Int(required=True, metadata={"description": "Paid orders that used it"})
    sales = fields.Int(
        required=True, metadata={"description": "Totals of those orders (minor units)"}
    )


class PromotionPageOut(ma.Schema):
    items = fields.List(fields.Nested(PromotionOut), required=True)
    next_cursor = fields.Str(allow_none=True, required=True)
