"""The supplier API's orders: pull them (``/orders``), and accept, ship (partial
shipments allowed), deliver or cancel lines of one (``/orders/<so_...>/...``)."""

from __future__ import annotations

from typing import Any

from ...db import utcnow
from ...fulfillment import supplier_orders
from ..sessions import get_session
from . import schemas
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


def _lines(loaded: dict[str, Any]) -> list[supplier_orders.LineQuantity] | None:
    lines = loaded.get("lines")
    if lines is None:
        return None
    return [supplier_orders.LineQuantity(line["sku"], line["quantity"]) for line in lines]


class Orders(SupplierResource):
    @documented(422)
    @operation.arguments(schemas.OrderListArgs, location="query")
    @operation.response(200, schemas.SupplierOrderPageOut)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """Pull your orders, oldest first (``?status=pending`` for new ones)."""
        items, next_cursor = supplier_orders.list_orders(
            get_session(),
            current_supplier_id(),
            status=args["status"],
            limit=args["limit"],
            cursor=cursor_of(args["cursor"]),
        )
        return page_of(items, next_cursor)


class OrderItem(SupplierResource):
    @documented(404)
    @operation.response(200, schemas.SupplierOrderOut)
    def get(self, order_id: str) -> dict[str, Any]:
        """One of your orders (``so_...``)."""
        return supplier_orders.get_order(get_session(), current_supplier_id(), order_id)


class OrderAccept(SupplierResource):
    @documented(404, writes=True)
    @operation.response(200, schemas.SupplierOrderOut)
    def post(self, order_id: str) -> dict[str, Any]:
        """Accept the order (idempotent). Stock reports after this include its units."""
        return supplier_orders.accept(get_session(), current_supplier_id(), order_id, utcnow())


class OrderShipments(SupplierResource):
    @documented(404, 422, writes=True)
    @operation.doc(requestBody=body_ref("Shipment"))
    @operation.response(201, schemas.SupplierOrderOut)
    def post(self, order_id: str) -> dict[str, Any]:
        """Record a parcel: carrier, tracking number and its lines (default: all left)."""
        loaded = load_body(schemas.ShipmentIn())
        return supplier_orders.ship(
            get_session(),
            current_supplier_id(),
            order_id,
            loaded["carrier"],
            loaded["tracking_number"],
            _lines(loaded),
            utcnow(),
        )


class OrderDeliver(SupplierResource):
    @documented(404, writes=True)
    @operation.response(200, schemas.SupplierOrderOut)
    def post(self, order_id: str) -> dict[str, Any]:
        """Mark the shipped order delivered (the return window starts)."""
        return supplier_orders.deliver(get_session(), current_supplier_id(), order_id, utcnow())


class OrderCancel(SupplierResource):
    @documented(404, 422, writes=True)
    @operation.doc(requestBody=body_ref("Cancel"))
    @operation.response(200, schemas.SupplierOrderOut)
    def post(self, order_id: str) -> dict[str, Any]:
        """Cancel unshipped lines (all when ``lines`` is absent); the consumer is refunded
        for them."""
        loaded = load_body(schemas.CancelIn())
        return supplier_orders.cancel(
            get_session(),
            current_supplier_id(),
            order_id,
            loaded["reason"],
            _lines(loaded),
            utcnow(),
        )
