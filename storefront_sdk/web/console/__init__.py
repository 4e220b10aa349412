"""The distributor console ``/console/``: sign-in and sign-up, passwords (forgotten, changed),
the shop at a glance, links and posters, the team, the orders and bound customers, shop
settings, the product picker, earnings and payouts.

Templates are ``storefront/console/<name>.html``, overridable by the host app. Every URL of
the console is in :data:`ROUTES`; :mod:`.access` runs before and after each view.
"""

from __future__ import annotations

from flask import Blueprint, Flask
from werkzeug.exceptions import HTTPException

from ..routes import add_routes, route
from . import access, auth, home, money, passwords, products, promotions, settings
from .access import CSP

__all__ = ["CSP", "ROUTES", "bp", "init_app", "uploads_bp"]

bp = Blueprint(
    "storefront_console",
    __name__,
    template_folder="../../templates",
    static_folder="../../static/storefront",
    static_url_path="/static",
)
#: Serves the files of the default :class:`~storefront_sdk.storage.LocalFolderStorage`.
uploads_bp = Blueprint("storefront_uploads", __name__)

#: Every page of the console.
ROUTES = (
    route("/login", auth.login, "GET", "POST"),
    route("/logout", auth.logout, "POST"),
    route("/join", auth.join, "GET", "POST", defaults={"code": None}),
    route("/join/<code>", auth.join, "GET", "POST"),
    route("/password/forgot", passwords.forgot_password, "GET", "POST"),
    route("/password/reset/<token>", passwords.reset_password, "GET", "POST"),
    route("/password", passwords.change_password, "GET", "POST"),
    route("/", home.home),
    route("/links", home.links),
    route("/team", home.team),
    route("/orders", home.orders),
    route("/settings", settings.settings),
    route("/settings", settings.save_settings, "POST"),
    route("/settings/host/check", settings.check_host, "POST"),
    route("/settings/logo", settings.upload_logo, "POST"),
    route("/settings/logo/remove", settings.remove_logo, "POST"),
    route("/products", products.products),
    route("/products/include", products.include_product, "POST"),
    route("/products/follow", products.follow, "POST"),
    route("/products/catalogue", products.whole_catalogue, "POST"),
    route("/products/markup", products.markup, "POST"),
    route("/products/price", products.price, "POST"),
    route("/promotions", promotions.promotions),
    route("/promotions/coupon", promotions.create_coupon, "POST"),
    route("/promotions/threshold", promotions.create_threshold, "POST"),
    route("/promotions/<public_id>/end", promotions.confirm_end),
    route("/promotions/<public_id>/end", promotions.end, "POST"),
    route("/earnings", money.earnings),
    route("/payouts", money.payouts_page),
    route("/payouts", money.ask_for_payout, "POST"),
    route("/payouts/stripe", money.connect_stripe, "POST"),
    route("/payouts/account", money.payout_account, "POST"),
)
add_routes(bp, ROUTES)
bp.before_request(access.signup_closed)
bp.before_request(access.guard)
bp.after_request(access.headers)
bp.register_error_handler(HTTPException, access.http_error)
add_routes(uploads_bp, [route("/sf-uploads/<name>", settings.uploaded_file)])


def init_app(app: Flask) -> None:
    """Registers the console (under ``STOREFRONT_CONSOLE_PREFIX``) and the uploads route;
    session cookies default to ``SameSite=Lax`` (Flask's are already ``HttpOnly``)."""
    if app.config.get("SESSION_COOKIE_SAMESITE") is None:
        app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    app.register_blueprint(bp, url_prefix=app.config["STOREFRONT_CONSOLE_PREFIX"])
    app.register_blueprint(uploads_bp)
