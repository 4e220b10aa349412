"""marshmallow schemas of the supplier API's query strings and responses (OpenAPI docs).

Bulk request bodies are pydantic models (``catalog.inputs``); :func:`register_pydantic`
publishes their JSON Schema in the same OpenAPI document.
"""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from marshmallow import fields, validate
from pydantic import BaseModel

from ...catalog.inputs import EARLIEST, LATEST
from ...catalog.models import STATUSES


class PageArgs(ma.Schema):
    """Query of a paginated list (``GET /webhook/deliveries``)."""

    limit = fields.Int(load_default=50, validate=validate.Range(1, 200))
    cursor = fields.Str(load_default=None, validate=validate.Length(max=100))


class ListArgs(PageArgs):
    """Query of ``GET /products``."""

    status = fields.Str(load_default=None, validate=validate.OneOf(STATUSES))
    updated_since = fields.AwareDateTime(
        load_default=None, validate=validate.Range(EARLIEST, LATEST)
    )


class UpsertArgs(ma.Schema):
    """Query of ``PUT /products``."""

    on_error = fields.Str(load_default="abort", validate=validate.OneOf(["abort", "skip"]))


class VariantOut(ma.Schema):
    sku = fields.Str(required=True)
    options = fields.Dict(keys=fields.Str(), values=fields.Str())
    supply_price = fields.Int(required=True)
    retail_price = fields.Int(required=True)
    min_price = fields.Int(allow_none=True)
    stock = fields.Int(required=True, metadata={"description": "Last reported stock"})
    available = fields.Int(required=True, metadata={"description": "Sellable units now"})
    weight_grams = fields.Int(allow_none=True)


class ProductOut(ma.Schema):
    id = fields.Int(required=True)
    external_id = fields.Str(required=True)
    title = fields.Str(required=True)
    title_i18n = fields.Dict(keys=fields.Str(), values=fields.Str())
    description = fields.Str()
    description_i18n = fields.Dict(keys=fields.Str(), values=fields.Str())
    category = fields.Str(allow_none=True)
    images = fields.List(fields.Str())
    status = fields.Str(required=True)
    currency = fields.Str(required=True)
    variants = fields.List(fields.Nested(VariantOut), required=True)
    created_at = fields.DateTime(required=True)
    updated_at = fields.DateTime(required=True)


class ProductPageOut(ma.Schema):
    items = fields.List(fields.Nested(ProductOut), required=True)
    next_cursor = fields.Str(allow_none=True, required=True)


class FailedItemOut(ma.Schema):
    index = fields.Int(required=True)
    external_id = fields.Raw(allow_none=True)
    errors = fields.Dict(required=True)


class SyncResultOut(ma.Schema):
    created = fields.Int(required=True)
    updated = fields.Int(required=True)
    unchanged = fields.Int(required=True)
    failed = fields.List(fields.Nested(FailedItemOut))


class StockResultOut(ma.Schema):
    updated = fields.Int(required=True)


def register_pydantic(spec: Any, model: type[BaseModel]) -> dict[str, Any]:
    """Add ``model``'s JSON Schema (and its nested models) to the OpenAPI components and
    return a request body object referring to it."""
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    for name, definition in schema.pop("$defs", {}).items():
        if name not in spec.components.schemas:
            spec.components.schema(name, component=definition)
    name = model.__name__
    if name not in spec.components.schemas:
        spec.components.schema(name, component=schema)
    return {
        "required": True,
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{name}"}}},
    }


class OrderListArgs(PageArgs):
    """Query of ``GET /orders``."""

    status = fields.Str(
        load_default=None,
        validate=validate.OneOf(
            ["pending", "accepted", "partially_shipped", "shipped", "delivered", "cancelled"]
        ),
    )


class LineQuantityIn(ma.Schema):
    sku = fields.Str(required=True, validate=validate.Length(min=1, max=64))
    quantity = fields.Int(required=True, strict=True, validate=validate.Range(1, 1_000_000))


class ShipmentIn(ma.Schema):
    """Body of ``POST /orders/<id>/shipments``; ``lines`` absent: everything left."""

    carrier = fields.Str(required=True, validate=validate.Length(min=1, max=64))
    tracking_number = fields.Str(required=True, validate=validate.Length(min=1, max=128))
    lines = fields.List(
        fields.Nested(LineQuantityIn), load_default=None, validate=validate.Length(1, 1000)
    )


class CancelIn(ma.Schema):
    """Body of ``POST /orders/<id>/cancel``; ``lines`` absent: every unshipped line."""

    reason = fields.Str(load_default="", validate=validate.Length(max=500))
    lines = fields.List(
        fields.Nested(LineQuantityIn), load_default=None, validate=validate.Length(1, 1000)
    )


class WebhookIn(ma.Schema):
    url = fields.Str(required=True, validate=validate.Length(min=1, max=2048))


class WebhookOut(ma.Schema):
    url = fields.Str(required=True)
    secret = fields.Str(required=True, metadata={"description": "Shown once; PUT rotates it"})


class ShippingIn(ma.Schema):
    """Body of ``PUT /shipping``: what consumers pay for shipping your part of an order."""

    fee = fields.Int(required=True, strict=True, validate=validate.Range(0, 2**31 - 1))
    free_over = fields.Int(
        load_default=None, allow_none=True, strict=True, validate=validate.Range(0, 2**31 - 1)
    )


class ShippingOut(ma.Schema):
    currency = fields.Str(required=True)
    fee = fields.Int(required=True)
    free_over = fields.Int(allow_none=True, required=True)


class LineDiscountOut(ma.Schema):
    promotion_id = fields.Str(
        required=True, metadata={"description": "The supplier's promotion (pr_...)"}
    )
    amount = fields.Int(
        required=True, metadata={"description": "What it took off the line (minor units)"}
    )


class OrderLineOut(ma.Schema):
    sku = fields.Str(required=True)
    external_id = fields.Str(required=True)
    title = fields.Str(required=True)
    options = fields.Dict(keys=fields.Str(), values=fields.Str())
    quantity = fields.Int(required=True)
    supply_price = fields.Int(
        required=True, metadata={"description": "The catalogue's supply price per unit"}
    )
    supply_amount = fields.Int(
        required=True,
        metadata={
            "description": "What the supplier is paid for the line (minor units): supply_price "
            "x quantity less the discounts of its own promotions on it"
        },
    )
    discounts = fields.List(
        fields.Nested(LineDiscountOut),
        required=True,
        metadata={
            "description": "The discounts the supplier's own promotions gave on the line "
            "([] when none); other funders' discounts are not shown"
        },
    )
    shipped_quantity = fields.Int(required=True)
    cancelled_quantity = fields.Int(required=True)
    returned_quantity = fields.Int(
        required=True,
        metadata={"description": "Units the platform refunded as returned (after-sales)"},
    )
    returned_unshipped_quantity = fields.Int(
        required=True,
        metadata={
            "description": "Of the returned units, those refunded before they were shipped: "
            "not to be shipped"
        },
    )
    refunded_amount = fields.Int(
        required=True,
        metadata={
            "description": "What the consumer got back for this line so far (minor units): "
            "cancellations, returns and goodwill"
        },
    )
    supply_deducted = fields.Int(
        required=True,
        metadata={
            "description": "The supplier's share of those refunds (minor units), deducted "
            "from its statement"
        },
    )


class ShipmentOut(ma.Schema):
    id = fields.Str(required=True)
    carrier = fields.Str(required=True)
    tracking_number = fields.Str(required=True)
    lines = fields.List(fields.Dict(), required=True)
    shipped_at = fields.Str(required=True)


class SupplierOrderOut(ma.Schema):
    id = fields.Str(required=True, metadata={"description": "so_..."})
    order_number = fields.Str(required=True)
    status = fields.Str(required=True)
    currency = fields.Str(required=True)
    created_at = fields.Str(required=True)
    updated_at = fields.Str(required=True)
    lines = fields.List(fields.Nested(OrderLineOut), required=True)
    shipping_address = fields.Dict(keys=fields.Str(), values=fields.Str(), required=True)
    contact_phone = fields.Str(allow_none=True)
    shipments = fields.List(fields.Nested(ShipmentOut), required=True)
    accepted_at = fields.Str(allow_none=True)
    delivered_at = fields.Str(allow_none=True)
    cancelled_at = fields.Str(allow_none=True)
    cancel_reason = fields.Str(allow_none=True)


class SupplierOrderPageOut(ma.Schema):
    items = fields.List(fields.Nested(SupplierOrderOut), required=True)
    next_cursor = fields.Str(allow_none=True, required=True)


class DeliveryOut(ma.Schema):
    id = fields.Str(required=True, metadata={"description": "The event id (evt_...)"})
    type = fields.Str(required=True)
    order_id = fields.Str(allow_none=True, metadata={"description": "so_..."})
    status = fields.Str(required=True, metadata={"description": "pending/delivered/failed/skipped"})
    attempts = fields.Int(required=True)
    last_status_code = fields.Int(allow_none=True)
    last_error = fields.Str(allow_none=True)
    last_attempt_at = fields.Str(allow_none=True)
    next_attempt_at = fields.Str(allow_none=True)
    created_at = fields.Str(required=True)


class DeliveryPageOut(ma.Schema):
    items = fields.List(fields.Nested(DeliveryOut), required=True)
    next_cursor = fields.Str(allow_none=True, required=True)
