"""The supplier API's catalogue: ``/products`` (list, bulk upsert), ``/products/<id>``
(fetch, archive) and ``/stock`` (absolute stock of many SKUs), thin over ``catalog``."""

from __future__ import annotations

from typing import Any

from ...catalog import queries, stock, sync
from ...catalog.inputs import MAX_PRODUCTS_PER_REQUEST, MAX_STOCK_ITEMS_PER_REQUEST, StockItemIn
from ...db import utcnow
from ...validation import validate_items
from ..errors import fail
from ..sessions import get_session
from . import schemas
from .access import (
    SupplierResource,
    body_ref,
    current_supplier,
    current_supplier_id,
    documented,
    envelope,
    read_json_body,
)
from .openapi import operation


class Products(SupplierResource):
    @documented(422)
    @operation.arguments(schemas.ListArgs, location="query")
    @operation.response(200, schemas.ProductPageOut)
    def get(self, args: dict[str, Any]) -> queries.ProductPage:
        """List your products, oldest first, with cursor pagination."""
        return queries.list_products(get_session(), current_supplier_id(), **args)

    @documented(422, writes=True)
    @operation.doc(requestBody=body_ref("ProductsBody"))
    @operation.arguments(schemas.UpsertArgs, location="query")
    @operation.response(200, schemas.SyncResultOut)
    def put(self, args: dict[str, Any]) -> dict[str, Any]:
        """Create or update 1 to 1000 products (atomic unless ``on_error=skip``)."""
        items = envelope(read_json_body(), "products", MAX_PRODUCTS_PER_REQUEST)
        skip = args["on_error"] == "skip"
        result = sync.sync_products(
            get_session(), current_supplier(), items, keep_valid=skip, now=utcnow()
        )
        counts: dict[str, Any] = {
            "created": result.created,
            "updated": result.updated,
            "unchanged": result.unchanged,
        }
        if skip:
            counts["failed"] = result.failed
        return counts


class ProductItem(SupplierResource):
    @documented(404)
    @operation.response(200, schemas.ProductOut)
    def get(self, external_id: str) -> dict[str, Any]:
        """Fetch one of your products by its ``external_id``."""
        return queries.get_product(get_session(), current_supplier_id(), external_id)

    @documented(404, writes=True)
    @operation.response(204)
    def delete(self, external_id: str) -> None:
        """Archive a product: it leaves every shop; past orders keep it."""
        queries.archive_product(get_session(), current_supplier_id(), external_id, utcnow())


class StockLevels(SupplierResource):
    @documented(422, writes=True)
    @operation.doc(requestBody=body_ref("StockBody"))
    @operation.response(200, schemas.StockResultOut)
    def patch(self) -> dict[str, int]:
        """Set absolute stock for 1 to 5000 SKUs; any unknown SKU rejects the batch."""
        items = envelope(read_json_body(), "items", MAX_STOCK_ITEMS_PER_REQUEST)
        valid, failed = validate_items(StockItemIn, items)
        if failed:
            fail(
                422,
                message=f"{len(failed)} item(s) invalid; nothing was written.",
                errors={"json": {"items": {str(i): e for i, e in sorted(failed.items())}}},
            )
        updated = stock.update_stock(
            get_session(), current_supplier_id(), [v for _, v in valid], utcnow()
        )
        return {"updated": updated}
