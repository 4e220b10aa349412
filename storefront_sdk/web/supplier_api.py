"""Supplier API v1: catalogue sync (``/api/v1/supplier/...``), thin over ``catalog``."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import marshmallow as ma
from flask import current_app, g, request
from flask.views import MethodView
from flask_smorest import Blueprint

from ..catalog import queries, stock, suppliers, sync
from ..catalog.inputs import (
    MAX_PRODUCTS_PER_REQUEST,
    MAX_STOCK_ITEMS_PER_REQUEST,
    StockItemIn,
)
from ..catalog.models import Supplier
from ..catalog.suppliers import authenticate
from ..config import transport_policy
from ..db import begin_read, get_session, utcnow
from ..fulfillment import dispatch, supplier_orders
from ..fulfillment.handoff import rfc3339
from ..fulfillment.models import OutboxEvent
from ..orders.models import SupplierOrder
from ..validation import validate_items
from . import supplier_schemas as schemas
from .api import attach_error_handlers
from .errors import ErrorSchema, fail
from .transactions import SAFE_METHODS, unit_of_work

blp = Blueprint(
    "storefront_supplier_api",
    __name__,
    description="Catalogue sync and order handoff for suppliers (bearer API key).",
)
attach_error_handlers(blp)

_RETRY_AFTER = {"Retry-After": {"description": "Seconds to wait", "schema": {"type": "integer"}}}


def _body(component: str) -> dict[str, Any]:
    schema = {"$ref": f"#/components/schemas/{component}"}
    return {"required": True, "content": {"application/json": {"schema": schema}}}


def documented(*errors: int, writes: bool = False) -> Callable[[Any], Any]:
    """OpenAPI documentation shared by the supplier operations: bearer auth, 401 and 429 on
    all, 400/409/413 on writes, plus the given error statuses. (The ``Idempotency-Key``
    header of writes is added by :class:`~.api.IdempotencyKeyPlugin`.)"""
    statuses = {401, 429, *errors} | ({400, 409, 413} if writes else set())
    doc: dict[str, Any] = {"security": [{"supplierKey": []}]}

    def decorate(view: Any) -> Any:
        for status in sorted(statuses, reverse=True):
            headers = _RETRY_AFTER if status == 429 else None
            view = blp.alt_response(status, schema=ErrorSchema, headers=headers)(view)
        return blp.doc(**doc)(view)

    return decorate


def current_supplier() -> Supplier:
    """The supplier whose key authenticated this request."""
    supplier: Supplier = g.storefront_supplier
    return supplier


def current_supplier_id() -> int:
    """The id of :func:`current_supplier` (always set: it was loaded from the database)."""
    supplier_id = current_supplier().id
    assert supplier_id is not None
    return supplier_id


def _supplier_scope() -> str:
    return f"supplier:{current_supplier_id()}"


@blp.before_request
def guard_request() -> None:
    """Size limit, bearer-key authentication and the per-key rate limit, in that order.

    The whole body is received before the database is touched, so a slow upload holds no
    connection, transaction or SQLite lock.
    """
    limit = current_app.config["STOREFRONT_MAX_REQUEST_BYTES"]
    # One byte over the limit is read so that a chunked body (no Content-Length), which
    # werkzeug cuts off silently at the limit, is still recognised as too large.
    request.max_content_length = limit + 1
    if request.content_length is not None and request.content_length > limit:
        fail(413)
    if len(request.get_data(cache=True)) > limit:
        fail(413)
    session = get_session()
    if request.method in SAFE_METHODS:
        begin_read(session)
    scheme, _, raw_key = request.headers.get("Authorization", "").partition(" ")
    found = authenticate(session, raw_key.strip()) if scheme.lower() == "bearer" else None
    if found is None:
        fail(
            401,
            message="Missing, invalid or revoked API key (Authorization: Bearer <key>).",
            headers={"WWW-Authenticate": 'Bearer realm="storefront"'},
        )
    api_key, g.storefront_supplier = found
    limiter = current_app.extensions["storefront"].rate_limiter
    retry_after = limiter.hit("supplier-key", str(api_key.id))
    if retry_after is not None:
        fail(
            429,
            message=f"Rate limit exceeded; retry in {retry_after} s.",
            headers={"Retry-After": str(retry_after)},
        )


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def read_json_body() -> Any:
    """The request body parsed as JSON; ``400`` when it is not JSON."""
    raw = request.get_data(cache=True)  # already received and size-checked by guard_request
    try:
        return json.loads(raw, parse_constant=_reject_constant)  # NaN, Infinity: not JSON
    except (ValueError, RecursionError):
        fail(400, message="The request body is not valid JSON.")


def _envelope(body: Any, name: str, maximum: int) -> list[Any]:
    if not isinstance(body, dict):
        fail(422, errors={"json": {"_schema": ["Expected a JSON object."]}})
    unknown = sorted(k for k in body if k != name)
    items = body.get(name)
    errors: dict[str, Any] = {key: ["Unknown field."] for key in unknown}
    if not isinstance(items, list):
        errors[name] = ["Missing data for required field." if items is None else "Not a list."]
    elif not 1 <= len(items) <= maximum:
        errors[name] = [f"Must hold 1 to {maximum} items."]
    if errors or not isinstance(items, list):
        fail(422, errors={"json": errors})
    return items


class _SupplierResource(MethodView):
    decorators = [unit_of_work(_supplier_scope)]


@blp.route("/products")
class Products(_SupplierResource):
    @documented(422)
    @blp.arguments(schemas.ListArgs, location="query")
    @blp.response(200, schemas.ProductPageOut)
    def get(self, args: dict[str, Any]) -> queries.ProductPage:
        """List your products, oldest first, with cursor pagination."""
        return queries.list_products(get_session(), current_supplier_id(), **args)

    @documented(422, writes=True)
    @blp.doc(requestBody=_body("ProductsBody"))
    @blp.arguments(schemas.UpsertArgs, location="query")
    @blp.response(200, schemas.SyncResultOut)
    def put(self, args: dict[str, Any]) -> dict[str, Any]:
        """Create or update 1 to 1000 products (atomic unless ``on_error=skip``)."""
        items = _envelope(read_json_body(), "products", MAX_PRODUCTS_PER_REQUEST)
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


@blp.route("/products/<path:external_id>")
class ProductItem(_SupplierResource):
    @documented(404)
    @blp.response(200, schemas.ProductOut)
    def get(self, external_id: str) -> dict[str, Any]:
        """Fetch one of your products by its ``external_id``."""
        return queries.get_product(get_session(), current_supplier_id(), external_id)

    @documented(404, writes=True)
    @blp.response(204)
    def delete(self, external_id: str) -> None:
        """Archive a product: it leaves every shop; past orders keep it."""
        queries.archive_product(get_session(), current_supplier_id(), external_id, utcnow())


@blp.route("/stock")
class StockLevels(_SupplierResource):
    @documented(422, writes=True)
    @blp.doc(requestBody=_body("StockBody"))
    @blp.response(200, schemas.StockResultOut)
    def patch(self) -> dict[str, int]:
        """Set absolute stock for 1 to 5000 SKUs; any unknown SKU rejects the batch."""
        items = _envelope(read_json_body(), "items", MAX_STOCK_ITEMS_PER_REQUEST)
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


def _load(schema: ma.Schema) -> dict[str, Any]:
    """The JSON body loaded by ``schema``; ``422`` locating each problem under ``json``."""
    body = read_json_body()
    if not isinstance(body, dict):
        fail(422, errors={"json": {"_schema": ["Expected a JSON object."]}})
    try:
        loaded: dict[str, Any] = schema.load(body)
    except ma.ValidationError as exc:
        fail(422, errors={"json": exc.messages})
    return loaded


def _cursor(raw: str | None) -> int | None:
    return None if raw is None else queries.decode_cursor(raw)


def _page(items: list[Any], next_cursor: int | None) -> dict[str, Any]:
    cursor = None if next_cursor is None else queries.encode_cursor(next_cursor)
    return {"items": items, "next_cursor": cursor}


def _lines(loaded: dict[str, Any]) -> list[supplier_orders.LineQuantity] | None:
    lines = loaded.get("lines")
    if lines is None:
        return None
    return [supplier_orders.LineQuantity(line["sku"], line["quantity"]) for line in lines]


@blp.route("/orders")
class Orders(_SupplierResource):
    @documented(422)
    @blp.arguments(schemas.OrderListArgs, location="query")
    @blp.response(200, schemas.SupplierOrderPageOut)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """Pull your orders, oldest first (``?status=pending`` for new ones)."""
        items, next_cursor = supplier_orders.list_orders(
            get_session(),
            current_supplier_id(),
            status=args["status"],
            limit=args["limit"],
            cursor=_cursor(args["cursor"]),
        )
        return _page(items, next_cursor)


@blp.route("/orders/<order_id>")
class OrderItem(_SupplierResource):
    @documented(404)
    @blp.response(200, schemas.SupplierOrderOut)
    def get(self, order_id: str) -> dict[str, Any]:
        """One of your orders (``so_...``)."""
        return supplier_orders.get_order(get_session(), current_supplier_id(), order_id)


@blp.route("/orders/<order_id>/accept")
class OrderAccept(_SupplierResource):
    @documented(404, writes=True)
    @blp.response(200, schemas.SupplierOrderOut)
    def post(self, order_id: str) -> dict[str, Any]:
        """Accept the order (idempotent). Stock reports after this include its units."""
        return supplier_orders.accept(get_session(), current_supplier_id(), order_id, utcnow())


@blp.route("/orders/<order_id>/shipments")
class OrderShipments(_SupplierResource):
    @documented(404, 422, writes=True)
    @blp.doc(requestBody=_body("Shipment"))
    @blp.response(201, schemas.SupplierOrderOut)
    def post(self, order_id: str) -> dict[str, Any]:
        """Record a parcel: carrier, tracking number and its lines (default: all left)."""
        loaded = _load(schemas.ShipmentIn())
        return supplier_orders.ship(
            get_session(),
            current_supplier_id(),
            order_id,
            loaded["carrier"],
            loaded["tracking_number"],
            _lines(loaded),
            utcnow(),
        )


@blp.route("/orders/<order_id>/deliver")
class OrderDeliver(_SupplierResource):
    @documented(404, writes=True)
    @blp.response(200, schemas.SupplierOrderOut)
    def post(self, order_id: str) -> dict[str, Any]:
        """Mark the shipped order delivered (the return window starts)."""
        return supplier_orders.deliver(get_session(), current_supplier_id(), order_id, utcnow())


@blp.route("/orders/<order_id>/cancel")
class OrderCancel(_SupplierResource):
    @documented(404, 422, writes=True)
    @blp.doc(requestBody=_body("Cancel"))
    @blp.response(200, schemas.SupplierOrderOut)
    def post(self, order_id: str) -> dict[str, Any]:
        """Cancel unshipped lines (all when ``lines`` is absent); the consumer is refunded
        for them."""
        loaded = _load(schemas.CancelIn())
        return supplier_orders.cancel(
            get_session(),
            current_supplier_id(),
            order_id,
            loaded["reason"],
            _lines(loaded),
            utcnow(),
        )


@blp.route("/webhook")
class Webhook(_SupplierResource):
    @documented(422, writes=True)
    @blp.doc(requestBody=_body("Webhook"))
    @blp.response(200, schemas.WebhookOut)
    def put(self) -> dict[str, Any]:
        """Set where order events go; returns a new signing secret (shown once)."""
        loaded = _load(schemas.WebhookIn())
        secret = suppliers.set_webhook(
            get_session(), current_supplier(), loaded["url"], transport_policy(current_app.config)
        )
        return {"url": loaded["url"], "secret": secret}

    @documented(writes=True)
    @blp.response(204)
    def delete(self) -> None:
        """Stop webhook deliveries (pull still works)."""
        suppliers.remove_webhook(get_session(), current_supplier())


@blp.route("/webhook/deliveries")
class Deliveries(_SupplierResource):
    @documented(422)
    @blp.arguments(schemas.PageArgs, location="query")
    @blp.response(200, schemas.DeliveryPageOut)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """Recent webhook deliveries, newest first."""
        events, next_cursor = dispatch.recent_deliveries(
            get_session(),
            current_supplier_id(),
            limit=args["limit"],
            cursor=_cursor(args["cursor"]),
        )
        return _page([_delivery(get_session(), event) for event in events], next_cursor)


def _delivery(session: Any, event: OutboxEvent) -> dict[str, Any]:
    part = session.get(SupplierOrder, event.supplier_order_id) if event.supplier_order_id else None
    return {
        "id": event.event_id,
        "type": event.type,
        "order_id": part.public_id if part is not None else None,
        "status": event.status,
        "attempts": event.attempts,
        "last_status_code": event.last_status_code,
        "last_error": event.last_error,
        "last_attempt_at": rfc3339(event.last_attempt_at),
        "next_attempt_at": rfc3339(event.next_attempt_at) if event.status == "pending" else None,
        "created_at": rfc3339(event.created_at),
    }


@blp.route("/webhook/deliveries/<event_id>/retry")
class DeliveryRetry(_SupplierResource):
    @documented(404, writes=True)
    @blp.response(200, schemas.DeliveryOut)
    def post(self, event_id: str) -> dict[str, Any]:
        """Send a delivery again now (a failed one gets a fresh retry schedule)."""
        session = get_session()
        event = dispatch.requeue(session, current_supplier_id(), event_id, utcnow())
        return _delivery(session, event)


@blp.route("/shipping")
class Shipping(_SupplierResource):
    @documented()
    @blp.response(200, schemas.ShippingOut)
    def get(self) -> dict[str, Any]:
        """What consumers pay for shipping your part of an order."""
        return _shipping(current_supplier())

    @documented(422, writes=True)
    @blp.doc(requestBody=_body("Shipping"))
    @blp.response(200, schemas.ShippingOut)
    def put(self) -> dict[str, Any]:
        """Set the shipping fee of your part of an order, and the amount from which it is
        free (``free_over``, optional), in your currency's minor units."""
        loaded = _load(schemas.ShippingIn())
        supplier = current_supplier()
        suppliers.set_shipping(get_session(), supplier, loaded["fee"], loaded["free_over"])
        return _shipping(supplier)


def _shipping(supplier: Supplier) -> dict[str, Any]:
    return {
        "currency": supplier.currency,
        "fee": supplier.shipping_fee_minor,
        "free_over": supplier.free_shipping_over_minor,
    }
