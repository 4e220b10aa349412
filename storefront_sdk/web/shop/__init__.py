"""The consumer's door: each distributor's H5 shop (``/s/<slug>/``: home and search,
categories, products, cart, checkout, orders and their payment, the consumer's account:
sign-in by code, "My account", "My orders", addresses), referral links
(``/r/<code>``) and share posters, also on a shop's own host name (:mod:`.hosts`).

Every URL of the door is in :data:`ROUTES`, :data:`REFERRAL_ROUTES` and
:data:`POSTER_ROUTES`, relative to their mount points (``STOREFRONT_SHOP_PREFIX``,
``STOREFRONT_REFERRAL_PREFIX``); the shop's scripts are at ``/sf-static/`` on every app.
"""

from __future__ import annotations

from flask import Blueprint, Flask

from ..pages import LibraryTemplates
from ..routes import add_routes, bound_bodies, route
from . import (
    account,
    addresses,
    cart,
    catalogue,
    checkout,
    coupon_centre,
    hosts,
    orders,
    pages,
    posters,
    referral,
)
from .pages import CSP

__all__ = ["CSP", "POSTER_ROUTES", "REFERRAL_ROUTES", "ROUTES", "bp", "init_app"]

bp = Blueprint("storefront_shop", __name__, template_folder="../../templates")
#: The shop pages' scripts (``storefront_shop_assets.static``), outside the shops' mount point.
assets_bp = Blueprint(
    "storefront_shop_assets",
    __name__,
    static_folder="../../static/storefront",
    static_url_path="/sf-static",
)
#: The library's own templates under ``storefront_sdk:`` (for the host's to extend).
library_templates = LibraryTemplates("storefront_templates", __name__)
#: Referral links (``storefront_referral.link``).
referral_bp = Blueprint("storefront_referral", __name__)
#: Share posters (``storefront_posters.shop_poster``, ``.product_poster``, and their
#: ``_png`` twins).
posters_bp = Blueprint("storefront_posters", __name__)

#: Every page of a shop.
ROUTES = (
    route("/<slug>/", catalogue.home),
    route("/<slug>/c/<int:category_id>", catalogue.category),
    route("/<slug>/p/<int:product_id>", catalogue.product),
    route("/<slug>/coupons", coupon_centre.coupon_centre),
    route("/<slug>/coupons/<public_id>", coupon_centre.coupon_link),
    route("/<slug>/coupons/<public_id>/claim", coupon_centre.claim, "POST"),
    route("/<slug>/cart", cart.cart),
    route("/<slug>/cart/add", cart.cart_add, "POST"),
    route("/<slug>/cart/update", cart.cart_update, "POST"),
    route("/<slug>/cart/coupon", cart.apply_coupon, "POST"),
    route("/<slug>/cart/coupon/remove", cart.remove_coupon, "POST"),
    route("/<slug>/checkout", checkout.checkout_page),
    route("/<slug>/checkout", checkout.place_order, "POST"),
    route("/<slug>/orders/<token>", orders.order_page),
    route("/<slug>/orders/<token>/pay", orders.pay),
    route("/<slug>/orders/<token>/return", orders.payment_return),
    route("/<slug>/orders/<token>/dev-pay", orders.dev_pay, "POST"),
    route("/<slug>/account/login", account.account_login),
    route("/<slug>/account/login", account.send_code, "POST"),
    route("/<slug>/account/login/code", account.account_code),
    route("/<slug>/account/login/code", account.verify_code, "POST"),
    route("/<slug>/account/logout", account.sign_out, "POST"),
    route("/<slug>/account/", account.account),
    route("/<slug>/account/orders", account.account_orders),
    route("/<slug>/account/addresses", addresses.address_book),
    route("/<slug>/account/addresses", addresses.save_new_address, "POST"),
    route("/<slug>/account/addresses/new", addresses.new_address),
    route("/<slug>/account/addresses/<int:address_id>", addresses.edit_address),
    route("/<slug>/account/addresses/<int:address_id>", addresses.save_address, "POST"),
    route("/<slug>/account/addresses/<int:address_id>/delete", addresses.delete_address, "POST"),
    route(
        "/<slug>/account/addresses/<int:address_id>/default",
        addresses.make_default_address,
        "POST",
    ),
)
REFERRAL_ROUTES = (
    route("/<code>", referral.link, defaults={"product_id": None}, merge_slashes=False),
    route("/<code>/<int:product_id>", referral.link, merge_slashes=False),
)
POSTER_ROUTES = (
    route("/<slug>/poster.svg", posters.shop_poster),
    route("/<slug>/p/<int:product_id>/poster.svg", posters.product_poster),
    route("/<slug>/poster.png", posters.shop_poster_png),
    route("/<slug>/p/<int:product_id>/poster.png", posters.product_poster_png),
)
add_routes(bp, ROUTES)
for door in (bp, referral_bp, posters_bp):
    bound_bodies(door, "STOREFRONT_MAX_FORM_BYTES")
bp.url_value_preprocessor(pages.load_shop_of_url)
bp.url_defaults(pages.keep_slug_and_token)
bp.register_error_handler(404, pages.not_found)
add_routes(referral_bp, REFERRAL_ROUTES)
add_routes(posters_bp, POSTER_ROUTES)


def init_app(app: Flask) -> None:
    """Registers the shop pages and posters (under ``STOREFRONT_SHOP_PREFIX``), referral
    links (under ``STOREFRONT_REFERRAL_PREFIX``) and their scripts, and serves shops on their
    own host names."""
    shops = app.config["STOREFRONT_SHOP_PREFIX"]
    app.register_blueprint(bp, url_prefix=shops)
    app.register_blueprint(assets_bp)
    app.register_blueprint(library_templates)
    app.register_blueprint(referral_bp, url_prefix=app.config["STOREFRONT_REFERRAL_PREFIX"])
    app.register_blueprint(posters_bp, url_prefix=shops)
    app.extensions["storefront"].shop_hosts = hosts.init_app(app)
