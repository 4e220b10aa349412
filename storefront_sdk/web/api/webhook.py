"""The supplier API's settings of the handoff: the webhook URL (and its signing secret),
recent deliveries (retry one), and the shipping fee."""

from __future__ import annotations

from typing import Any

from flask import current_app

from ...catalog import suppliers
from ...catalog.models import Supplier
from ...config import transport_policy
from ...db import utcnow
from ...fulfillment import dispatch
from ...fulfillment.handoff import rfc3339
from ...fulfillment.models import OutboxEvent
from ...orders.models import SupplierOrder
from ..sessions import get_session
from . import schemas
from .access import (
    SupplierResource,
    body_ref,
    current_supplier,
    current_supplier_id,
    cursor_of,
    documented,
    load_body,
    page_of,
)
from .openapi import operation


class Webhook(SupplierResource):
    @documented(422, writes=True)
    @operation.doc(requestBody=body_ref("Webhook"))
    @operation.response(200, schemas.WebhookOut)
    def put(self) -> dict[str, Any]:
        """Set where order events go; returns a new signing secret (shown once)."""
        loaded = load_body(schemas.WebhookIn())
        secret = suppliers.set_webhook(
            get_session(), current_supplier(), loaded["url"], transport_policy(current_app.config)
        )
        return {"url": loaded["url"], "secret": secret}

    @documented(writes=True)
    @operation.response(204)
    def delete(self) -> None:
        """Stop webhook deliveries (pull still works)."""
        suppliers.remove_webhook(get_session(), current_supplier())


class Deliveries(SupplierResource):
    @documented(422)
    @operation.arguments(schemas.PageArgs, location="query")
    @operation.response(200, schemas.DeliveryPageOut)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """Recent webhook deliveries, newest first."""
        events, next_cursor = dispatch.recent_deliveries(
            get_session(),
            current_supplier_id(),
            limit=args["limit"],
            cursor=cursor_of(args["cursor"]),
        )
        return page_of([_delivery(get_session(), event) for event in events], next_cursor)


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


class DeliveryRetry(SupplierResource):
    @documented(404, writes=True)
    @operation.response(200, schemas.DeliveryOut)
    def post(self, event_id: str) -> dict[str, Any]:
        """Send a delivery again now (a failed one gets a fresh retry schedule)."""
        session = get_session()
        event = dispatch.requeue(session, current_supplier_id(), event_id, utcnow())
        return _delivery(session, event)


class Shipping(SupplierResource):
    @documented()
    @operation.response(200, schemas.ShippingOut)
    def get(self) -> dict[str, Any]:
        """What consumers pay for shipping your part of an order."""
        return _shipping(current_supplier())

    @documented(422, writes=True)
    @operation.doc(requestBody=body_ref("Shipping"))
    @operation.response(200, schemas.ShippingOut)
    def put(self) -> dict[str, Any]:
        """Set the shipping fee of your part of an order, and the amount from which it is
        free (``free_over``, optional), in your currency's minor units."""
        loaded = load_body(schemas.ShippingIn())
        supplier = current_supplier()
        suppliers.set_shipping(get_session(), supplier, loaded["fee"], loaded["free_over"])
        return _shipping(supplier)


def _shipping(supplier: Supplier) -> dict[str, Any]:
    return {
        "currency": supplier.currency,
        "fee": supplier.shipping_fee_minor,
        "free_over": supplier.free_shipping_over_minor,
    }
