"""The platform admin ``/admin/``: sign-in, passwords (forgotten, changed), the overview,
suppliers and their API keys, distributors (approve, suspend, reinstate), shops' own host
names (approve, refuse), commission rates, orders and after-sales refunds, promotions, webhook
deliveries, payouts and supplier statements."""

from __future__ import annotations

from flask import Blueprint, Flask
from werkzeug.exceptions import HTTPException

from ..routes import add_routes, route
from . import access, home, hosts, money, orders, partners, passwords, promotions
from .access import CSP

__all__ = ["CSP", "ROUTES", "bp", "init_app"]

bp = Blueprint("storefront_admin", __name__, template_folder="../../templates")

#: An id in a path: 18 digits at most (a PostgreSQL BIGINT).
_ID = "int(max=999999999999999999)"

#: Every page of the admin.
ROUTES = (
    route("/login", home.login, "GET", "POST"),
    route("/logout", home.logout, "POST"),
    route("/password/forgot", passwords.forgot_password, "GET", "POST"),
    route("/password/reset/<token>", passwords.reset_password, "GET", "POST"),
    route("/password", passwords.change_password, "GET", "POST"),
    route("/", home.home),
    route("/suppliers", partners.suppliers),
    route("/suppliers", partners.add_supplier, "POST"),
    route(f"/suppliers/<{_ID}:supplier_id>/keys", partners.add_key, "POST"),
    route(f"/suppliers/<{_ID}:supplier_id>/keys/revoke", partners.revoke_key, "POST"),
    route("/distributors", partners.distributors),
    route(f"/distributors/<{_ID}:distributor_id>/status", partners.set_status, "POST"),
    route("/hosts", hosts.host_names),
    route(f"/hosts/<{_ID}:shop_id>/<decision>", hosts.confirm_host_decision),
    route(f"/hosts/<{_ID}:shop_id>/<decision>", hosts.decide_host_name, "POST"),
    route("/rates", money.rates),
    route("/rates", money.set_rate, "POST"),
    route("/orders", orders.orders),
    route("/orders/<number>", orders.order),
    route("/orders/<number>/refund", orders.refund, "POST"),
    route("/promotions", promotions.promotions),
    route("/promotions/coupon", promotions.create_coupon, "POST"),
    route("/promotions/threshold", promotions.create_threshold, "POST"),
    route("/promotions/flash-sale", promotions.create_flash_sale, "POST"),
    route("/promotions/<public_id>/end", promotions.confirm_end),
    route("/promotions/<public_id>/end", promotions.end, "POST"),
    route("/deliveries", orders.deliveries),
    route("/deliveries/<event_id>/retry", orders.retry, "POST"),
    route("/payouts", money.payouts_page),
    route(f"/payouts/<{_ID}:payout_id>/<action>", money.decide, "POST"),
    route("/payouts.csv", money.payouts_csv),
    route("/statements", money.statements_page),
)
add_routes(bp, ROUTES)
bp.before_request(access.guard)
bp.after_request(access.headers)
bp.register_error_handler(HTTPException, access.http_error)


def init_app(app: Flask) -> None:
    """Registers the admin under ``STOREFRONT_ADMIN_PREFIX``, unless ``STOREFRONT_ADMIN`` is
    off."""
    if app.config["STOREFRONT_ADMIN"]:
        app.register_blueprint(bp, url_prefix=app.config["STOREFRONT_ADMIN_PREFIX"])
