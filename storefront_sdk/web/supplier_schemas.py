"""marshmallow schemas of the supplier API's query strings and responses (OpenAPI docs).

Bulk request bodies are pydantic models (``catalog.inputs``); :func:`register_pydantic`
publishes their JSON Schema in the same OpenAPI document.
"""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from marshmallow import fields, validate
from pydantic import BaseModel

from ..catalog.inputs import EARLIEST, LATEST
from ..catalog.models import STATUSES


class ListArgs(ma.Schema):
    """Query of ``GET /products``."""

    limit = fields.Int(load_default=50, validate=validate.Range(1, 200))
    cursor = fields.Str(load_default=None, validate=validate.Length(max=100))
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
