"""The platform admin ``/admin/``: sign-in, the overview, suppliers and their API keys, and
distributors (approve, suspend, reinstate). Rates, orders, deliveries, payouts and
statements are in :mod:`.admin_money`.

Every page needs a signed-in platform admin (``flask storefront create-admin``); a
distributor's console session does not count. Only the ``admin`` role may change anything:
a ``viewer``'s ``POST`` is refused (403) before its view runs. Every ``POST`` carries a
CSRF token; every response is ``no-store`` under a strict Content-Security-Policy.
"""

from __future__ import annotations

import re
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, Flask, Response, abort, g, redirect, request, url_for
from flask_wtf.csrf import generate_csrf, validate_csrf
from sqlmodel import col
from werkzeug.exceptions import HTTPException
from wtforms.validators import ValidationError as CSRFValidationError

from .. import i18n
from ..catalog.models import ApiKey, Supplier
from ..catalog.suppliers import create_api_key, create_supplier, revoke_api_key_by_prefix
from ..commissions.models import Payout, PayoutStatus
from ..db import begin_read, get_session, utcnow
from ..errors import StorefrontError
from ..fulfillment.models import FAILED, OutboxEvent
from ..platform_admins import PlatformAdmin, authenticate_admin
from ..shops.models import Distributor, Shop
from . import identity
from .console import login_failed, login_wait

bp = Blueprint("storefront_admin", __name__, url_prefix="/admin", template_folder="../templates")

#: Content-Security-Policy of every admin page: no script at all.
CSP = (
    "default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'; "
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
#: Rate-limit namespace of failed admin sign-ins (the console's limit applies).
LOGIN_NAMESPACE = "storefront-admin-login"
#: Rows per list page.
PAGE = 50
#: An id typed or sent back by a page (18 digits at most: a PostgreSQL BIGINT).
DIGITS = re.compile(r"[0-9]{1,18}")
_PUBLIC = frozenset({"login", "logout"})
_STATUSES = ("pending", "active", "suspended")


def _(text: str, **variables: Any) -> str:
    return str(i18n.gettext(text, **variables))


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)


def locale() -> str:
    if "sf_admin_locale" not in g:
        g.sf_admin_locale = i18n.negotiate(request.args.get("lang"))
    found: str = g.sf_admin_locale
    return found


def me() -> PlatformAdmin:
    """The signed-in admin (views run behind the access check)."""
    admin: PlatformAdmin = g.sf_admin
    return admin


def page(template: str, status: int = 200, **context: Any) -> Response:
    """An admin page in the admin's language."""
    body = i18n.render(
        f"storefront/admin/{template}",
        locale(),
        admin=g.get("sf_admin"),
        csrf_token=generate_csrf,
        **context,
    )
    return Response(body, status=status, mimetype="text/html")


def message(text: str, status: int) -> Response:
    return page("message.html", status, message=text)


def to(endpoint: str, **values: Any) -> Response:
    """``303 See Other`` after a successful change."""
    return redirect(url_for(endpoint, **values), code=303)  # type: ignore[return-value]


def refused(error: StorefrontError) -> Response:
    """A service's refusal as a page: 422, 404 or 409 with its message (nothing changed)."""
    from .console import status_of

    get_session().rollback()
    return message(error.message, status_of(error))


def page_args() -> int | None:
    """The ``before`` cursor of a list page (ids below it), 400 if malformed."""
    before = request.args.get("before", "")
    if before and not DIGITS.fullmatch(before):
        abort(400, description=_("This page does not exist."))
    return int(before) if before else None


@bp.before_request
def _guard() -> Response | None:
    endpoint = (request.endpoint or "").rpartition(".")[2]
    if request.method == "POST":
        request.max_content_length = 64 * 1024
        try:
            validate_csrf(request.form.get("csrf_token"))
        except CSRFValidationError:
            return message(
                _("This form has expired, so nothing was changed. Reload the page and try again."),
                400,
            )
    if endpoint in _PUBLIC:
        return None
    session_ = get_session()
    if request.method in ("GET", "HEAD"):
        begin_read(session_)
    claimed = identity.claimed_admin_id()
    found = session_.get(PlatformAdmin, claimed) if claimed is not None else None
    if found is None or not identity.check_admin(found.password_hash):
        return redirect(url_for(".login"), code=303)  # type: ignore[return-value]
    g.sf_admin = found
    if request.method == "POST" and found.role != "admin":
        return message(_("Your role may look but not change anything."), 403)
    return None


@bp.after_request
def _headers(response: Response) -> Response:
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = CSP
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Referrer-Policy"] = "same-origin"
    response.cache_control.no_store = True
    response.vary.add("Cookie")
    return response


@bp.errorhandler(HTTPException)
def _http_error(error: HTTPException) -> Response | HTTPException:
    if error.code in (400, 404, 405, 413):
        return message(str(error.description), error.code or 400)
    return error


# --- signing in -----------------------------------------------------------------------------


@bp.route("/login", methods=["GET", "POST"])
def login() -> Response:
    """Sign-in; the same answer for an unknown email and a wrong password; 429 past the
    limit of failed attempts (per email and per client)."""
    if request.method == "GET":
        return page("login.html")
    email = request.form.get("email", "").strip().lower()[:254]
    password = request.form.get("password", "")[:1024]
    wait = login_wait(email, LOGIN_NAMESPACE)
    if wait is not None:
        response = page(
            "login.html", 429, error=_("Too many failed sign-in attempts. Please try again later.")
        )
        response.headers["Retry-After"] = str(wait)
        return response
    session_ = get_session()
    begin_read(session_)
    found = authenticate_admin(session_, email, password) if email and password else None
    if found is None:
        login_failed(email, LOGIN_NAMESPACE)
        return page("login.html", 401, error=_("Wrong email or password."))
    identity.sign_in_admin(found.id or 0, found.password_hash)
    return to(".home")


@bp.post("/logout")
def logout() -> Response:
    identity.sign_out_admin()
    return to(".login")


# --- overview -------------------------------------------------------------------------------


@bp.get("/")
def home() -> Response:
    """What needs the platform's attention."""
    session_ = get_session()

    def count(query: Any) -> int:
        return int(session_.scalar(query) or 0)

    return page(
        "home.html",
        payouts=count(
            sa.select(sa.func.count()).where(col(Payout.status) == PayoutStatus.REQUESTED)
        ),
        approved=count(
            sa.select(sa.func.count()).where(col(Payout.status) == PayoutStatus.APPROVED)
        ),
        failed=count(sa.select(sa.func.count()).where(col(OutboxEvent.status) == FAILED)),
        pending=count(sa.select(sa.func.count()).where(col(Distributor.status) == "pending")),
    )


# --- suppliers and API keys -----------------------------------------------------------------


@bp.get("/suppliers")
def suppliers(new_key: str | None = None, status: int = 200) -> Response:
    session_ = get_session()
    rows = session_.scalars(sa.select(Supplier).order_by(col(Supplier.id).desc()).limit(PAGE)).all()
    keys: dict[int, list[ApiKey]] = {}
    for key in session_.scalars(
        sa.select(ApiKey)
        .where(col(ApiKey.supplier_id).in_([s.id for s in rows]))
        .order_by(col(ApiKey.id))
    ):
        keys.setdefault(key.supplier_id, []).append(key)
    return page("suppliers.html", status, suppliers=rows, keys=keys, new_key=new_key)


@bp.post("/suppliers")
def add_supplier() -> Response:
    session_ = get_session()
    try:
        supplier = create_supplier(
            session_, request.form.get("name", ""), request.form.get("currency", "")
        )
        _, key = create_api_key(session_, supplier.id or 0)
        session_.commit()
    except StorefrontError as error:
        return refused(error)
    return suppliers(new_key=key, status=201)


@bp.post("/suppliers/<int(max=999999999999999999):supplier_id>/keys")
def add_key(supplier_id: int) -> Response:
    session_ = get_session()
    try:
        _, key = create_api_key(session_, supplier_id)
        session_.commit()
    except StorefrontError as error:
        return refused(error)
    return suppliers(new_key=key, status=201)


@bp.post("/suppliers/<int(max=999999999999999999):supplier_id>/keys/revoke")
def revoke_key(supplier_id: int) -> Response:
    session_ = get_session()
    try:
        revoke_api_key_by_prefix(session_, supplier_id, request.form.get("prefix", ""), utcnow())
        session_.commit()
    except StorefrontError as error:
        return refused(error)
    return to(".suppliers")


# --- distributors ---------------------------------------------------------------------------


@bp.get("/distributors")
def distributors() -> Response:
    """Distributors, newest first (``status``, ``q``: email or name contains)."""
    wanted = request.args.get("status", "")
    text = request.args.get("q", "").strip()[:100]
    query = (
        sa.select(Distributor, col(Shop.slug), col(Shop.name))
        .join(Shop, col(Shop.distributor_id) == col(Distributor.id))
        .order_by(col(Distributor.id).desc())
        .limit(PAGE + 1)
    )
    if wanted in _STATUSES:
        query = query.where(col(Distributor.status) == wanted)
    if text:
        query = query.where(
            sa.or_(
                col(Distributor.email).contains(text.lower(), autoescape=True),
                sa.func.lower(col(Distributor.name)).contains(text.lower(), autoescape=True),
            )
        )
    before = page_args()
    if before is not None:
        query = query.where(col(Distributor.id) < before)
    rows = get_session().execute(query).all()
    more = len(rows) > PAGE
    rows = rows[:PAGE]
    return page(
        "distributors.html",
        rows=rows,
        chosen=wanted,
        q=text,
        statuses=_STATUSES,
        next_before=rows[-1][0].id if more and rows else None,
    )


#: What each action makes of a distributor's status, and from which statuses.
_ACTIONS = {
    "approve": ("active", ("pending",)),
    "suspend": ("suspended", ("pending", "active")),
    "reinstate": ("active", ("suspended",)),
}


@bp.post("/distributors/<int(max=999999999999999999):distributor_id>/status")
def set_status(distributor_id: int) -> Response:
    """Approve a pending distributor, suspend one (their shop closes), or reinstate."""
    action = request.form.get("action", "")
    if action not in _ACTIONS:
        abort(400, description=_("Unknown action."))
    target, sources = _ACTIONS[action]
    session_ = get_session()
    distributor = session_.get(Distributor, distributor_id, with_for_update=True)
    if distributor is None:
        return message(_("There is no such distributor."), 404)
    if distributor.status not in sources:
        return message(
            _("This cannot be done to a distributor who is %(status)s.", status=distributor.status),
            409,
        )
    distributor.status = target
    session_.add(distributor)
    session_.commit()
    return to(".distributors")


from . import admin_money as _admin_money  # noqa: E402, F401
