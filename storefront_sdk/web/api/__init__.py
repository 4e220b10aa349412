"""The suppliers' and the providers' door: the supplier API (``<STOREFRONT_API_PREFIX>/
supplier/...``: catalogue sync, stock, order handoff, webhook settings, shipping,
promotions) with its
OpenAPI document, and the payment providers' hooks (``/hooks/stripe``).

Every operation of the supplier API is in :data:`ROUTES`; :func:`.access.guard_request`
runs before each (size limit, key, rate limit) and every error is answered in the one JSON
shape (:mod:`..errors`).
"""

from __future__ import annotations

from flask import Blueprint as FlaskBlueprint
from flask import Flask
from flask_smorest import Blueprint

from ...catalog.inputs import ProductsBody, StockBody
from ..pages import api_headers
from ..routes import add_routes, bound_bodies, route
from . import access, catalogue, orders, promotion_schemas, promotions, schemas, stripe, webhook
from .openapi import StorefrontApi, attach_error_handlers, init_api

__all__ = ["HOOK_ROUTES", "ROUTES", "hooks", "init_app", "supplier_api"]

supplier_api = Blueprint(
    "storefront_supplier_api",
    __name__,
    description="Catalogue sync and order handoff for suppliers (bearer API key).",
)
#: Payment providers' events.
hooks = FlaskBlueprint("storefront_hooks", __name__)

#: Every resource of the supplier API (its methods are the view's).
ROUTES = (
    ("/products", catalogue.Products),
    ("/products/<path:external_id>", catalogue.ProductItem),
    ("/stock", catalogue.StockLevels),
    ("/orders", orders.Orders),
    ("/orders/<order_id>", orders.OrderItem),
    ("/orders/<order_id>/accept", orders.OrderAccept),
    ("/orders/<order_id>/shipments", orders.OrderShipments),
    ("/orders/<order_id>/deliver", orders.OrderDeliver),
    ("/orders/<order_id>/cancel", orders.OrderCancel),
    ("/webhook", webhook.Webhook),
    ("/webhook/deliveries", webhook.Deliveries),
    ("/webhook/deliveries/<event_id>/retry", webhook.DeliveryRetry),
    ("/shipping", webhook.Shipping),
    ("/promotions", promotions.Promotions),
    ("/promotions/<promotion_id>", promotions.PromotionItem),
)
#: Relative to ``STOREFRONT_HOOKS_PREFIX``.
HOOK_ROUTES = (route("/stripe", stripe.stripe_webhook, "POST"),)

for rule, resource in ROUTES:
    supplier_api.add_url_rule(rule, view_func=resource)
supplier_api.before_request(access.guard_request)
supplier_api.after_request(api_headers)
attach_error_handlers(supplier_api)
add_routes(hooks, HOOK_ROUTES)
bound_bodies(hooks, "STOREFRONT_MAX_HOOK_BYTES")
hooks.after_request(api_headers)

#: Request bodies documented as schemas of their own (bulk bodies are pydantic models).
_COMPONENTS = (
    ("Shipment", schemas.ShipmentIn),
    ("Cancel", schemas.CancelIn),
    ("Webhook", schemas.WebhookIn),
    ("Shipping", schemas.ShippingIn),
    ("Promotion", promotion_schemas.PromotionIn),
)


def init_app(app: Flask) -> StorefrontApi:
    """Registers the supplier API (under ``STOREFRONT_API_PREFIX``), its OpenAPI document
    and the providers' hooks (under ``STOREFRONT_HOOKS_PREFIX``); the ``Api``."""
    api = init_api(app)
    schemas.register_pydantic(api.spec, ProductsBody)
    schemas.register_pydantic(api.spec, StockBody)
    for name, schema in _COMPONENTS:
        api.spec.components.schema(name, schema=schema)
    api.register_blueprint(
        supplier_api, url_prefix=app.config["STOREFRONT_API_PREFIX"] + "/supplier"
    )
    app.register_blueprint(hooks, url_prefix=app.config["STOREFRONT_HOOKS_PREFIX"])
    return api
