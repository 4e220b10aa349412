"""The distributor console ``/console/``: sign-in and sign-up, the shop summary, links and
posters, and the team. Shop settings and the product picker are in :mod:`.console_shop`.

Every page but sign-in and sign-up needs a signed-in distributor (:mod:`.identity`) and acts
only on that distributor's own shop: no URL or form field names a shop. Every ``POST``
carries a CSRF token, checked here before anything else runs; every response is
``no-store`` and under a strict Content-Security-Policy (the one script is same-origin).
Templates are ``storefront/console/<name>.html``, overridable by the host app.
"""

from __future__ import annotations

import hashlib
import math
import time
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa
from babel.dates import format_date
from flask import (
    Blueprint,
    Flask,
    Response,
    abort,
    current_app,
    g,
    redirect,
    request,
    send_file,
    session,
    url_for,
)
from flask_wtf.csrf import generate_csrf, validate_csrf
from sqlalchemy.exc import IntegrityError
from sqlmodel import select
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge
from wtforms.validators import ValidationError as CSRFValidationError

from .. import i18n
from ..db import begin_read, get_session
from ..errors import Conflict, NotFound, StorefrontError, ValidationError
from ..money import money_formatter
from ..orders.models import Order
from ..ratelimit import RateLimiter
from ..referrals.binding import history_of as binding_history
from ..referrals.models import CustomerBinding
from ..shops import accounts
from ..shops.models import Distributor, Shop
from ..sql import table_of
from ..storage import KIND_BY_EXTENSION, MAX_LOGO_BYTES, LocalFolderStorage
from . import identity
from .console_forms import JoinForm, LoginForm, first_error
from .shop_pages import reader


def _(text: str, **variables: Any) -> str:
    """``text`` in the page's language (the library's catalogue), with ``variables``."""
    return str(i18n.gettext(text, **variables))


bp = Blueprint(
    "storefront_console",
    __name__,
    url_prefix="/console",
    template_folder="../templates",
    static_folder="../static/storefront",
    static_url_path="/static",
)
#: Serves the files of the default :class:`~storefront_sdk.storage.LocalFolderStorage`.
uploads_bp = Blueprint("storefront_uploads", __name__)

#: Content-Security-Policy of every console page.
CSP = (
    "default-src 'none'; img-src 'self' https: http: data:; style-src 'unsafe-inline'; "
    "script-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
#: Session key of the language the distributor picked (``?lang=``).
LOCALE_KEY = "sf_console_locale"
#: Rate-limit namespace of failed sign-ins.
LOGIN_NAMESPACE = "storefront-console-login"
#: Largest body of a console form; the logo upload may carry the logo and some more.
MAX_FORM_BYTES = 256 * 1024
MAX_UPLOAD_BODY = MAX_LOGO_BYTES + 64 * 1024
#: Recruits per page of the team.
TEAM_PAGE = 50
#: Orders and bound customers listed on the console's orders page.
ORDERS_PAGE = 50
_PUBLIC = frozenset({"login", "logout", "join", "static"})
_LANGUAGES = (("en", "English"), ("zh-Hans", "简体中文"))


def init_app(app: Flask) -> None:
    """Registers the console and the uploads route; session cookies default to
    ``SameSite=Lax`` (Flask's are already ``HttpOnly``)."""
    if app.config.get("SESSION_COOKIE_SAMESITE") is None:
        app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    app.register_blueprint(bp)
    app.register_blueprint(uploads_bp)


# --- plumbing: locale, access, CSRF, rendering ------------------------------------------


def locale() -> str:
    """The console's language: ``?lang=`` (remembered), else the browser's."""
    if "sf_console_locale" not in g:
        chosen = i18n.negotiate(session.get(LOCALE_KEY))
        if request.args.get("lang"):
            session[LOCALE_KEY] = chosen
        g.sf_console_locale = chosen
    value: str = g.sf_console_locale
    return value


def me() -> Distributor:
    """The signed-in distributor (the view is behind the access check)."""
    distributor: Distributor = g.sf_me
    return distributor


def my_shop() -> Shop:
    """The signed-in distributor's shop, as an ORM object for the curation services."""
    shop: Shop = g.sf_console_shop
    return shop


@bp.before_request
def _guard() -> Response | None:
    endpoint = (request.endpoint or "").rpartition(".")[2]
    if endpoint not in _PUBLIC:
        refused = _require_distributor()
        if refused is not None:
            return refused
    if request.method == "POST":
        return _check_post(endpoint)
    return None


def _require_distributor() -> Response | None:
    session_ = get_session()
    if request.method in ("GET", "HEAD"):
        begin_read(session_)
    claimed = identity.claimed_distributor_id()
    found = session_.get(Distributor, claimed) if claimed is not None else None
    if found is None or not identity.check(found.password_hash):
        wanted = request.script_root + request.full_path.rstrip("?")
        next_url = safe_next(wanted) if request.method in ("GET", "HEAD") else None
        return redirect(url_for(".login", next=next_url), code=303)  # type: ignore[return-value]
    g.sf_me = found
    g.sf_console_shop = session_.scalars(select(Shop).where(Shop.distributor_id == found.id)).one()
    return None


def _check_post(endpoint: str) -> Response | None:
    """Refuses a POST without this session's CSRF token (400) before its view runs."""
    request.max_content_length = MAX_UPLOAD_BODY if endpoint == "upload_logo" else MAX_FORM_BYTES
    try:
        token = request.form.get("csrf_token")
    except RequestEntityTooLarge:
        return message_page(too_large_message(), 413)
    try:
        validate_csrf(token)
    except CSRFValidationError:
        return message_page(
            _(
                "This form has expired or did not come from your console, so nothing was "
                "changed. Reload the page and try again."
            ),
            400,
        )
    return None


def too_large_message() -> str:
    return _("The image is too large: a logo may be at most 1 MB.")


def safe_next(value: str | None) -> str | None:
    """``value`` if it is a path inside the console (where to go after signing in), else
    ``None``: never another site, never a path outside the console."""
    if not value or len(value) > 2000 or not value.isprintable() or "\\" in value:
        return None
    parts = urlsplit(value)
    root = url_for(".home")
    path = parts.path
    if parts.scheme or parts.netloc or not (path == root.rstrip("/") or path.startswith(root)):
        return None
    if "//" in path or "/../" in path + "/" or "/./" in path + "/":
        return None
    return value


def page(template: str, status: int = 200, **context: Any) -> Response:
    """A console page under the console's language."""
    body = i18n.render(
        f"storefront/console/{template}",
        locale(),
        me=g.get("sf_me"),
        shop=g.get("sf_console_shop"),
        csrf_token=generate_csrf,
        languages=_LANGUAGES,
        **context,
    )
    return Response(body, status=status, mimetype="text/html")


def message_page(message: str, status: int) -> Response:
    """A page saying only ``message`` (refusals that have no form to show again)."""
    return page("message.html", status=status, message=message)


def status_of(error: StorefrontError) -> int:
    """The HTTP status of a service's refusal."""
    if isinstance(error, ValidationError):
        return 422
    if isinstance(error, NotFound):
        return 404
    if isinstance(error, Conflict):
        return 409
    return 400


def to(endpoint: str, **values: Any) -> Response:
    """``303 See Other`` to a console page (after a successful POST)."""
    return redirect(url_for(endpoint, **values), code=303)  # type: ignore[return-value]


@bp.after_request
def _headers(response: Response) -> Response:
    response.headers["X-Content-Type-Options"] = "nosniff"
    if request.endpoint == "storefront_console.static":
        return response
    response.headers["Content-Security-Policy"] = CSP
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Referrer-Policy"] = "same-origin"
    response.cache_control.no_store = True
    response.vary.add("Cookie")
    if "sf_console_locale" in g:
        response.content_language = [g.sf_console_locale]
    return response


@bp.errorhandler(HTTPException)
def _http_error(error: HTTPException) -> Response | HTTPException:
    if isinstance(error, RequestEntityTooLarge):
        return message_page(too_large_message(), 413)
    if error.code in (400, 404):
        return message_page(str(error.description), error.code)
    return error


# --- signing in and out, signing up --------------------------------------------------------


def _login_limiter() -> RateLimiter:
    limiter: RateLimiter = current_app.extensions["storefront"].login_limiter
    return limiter


def _login_keys(email: str) -> list[str]:
    digest = hashlib.sha256(email.encode()).hexdigest()[:32]  # no addresses in the store
    return [f"email:{digest}", f"ip:{request.remote_addr or 'unknown'}"]


def login_wait(email: str, namespace: str = LOGIN_NAMESPACE) -> int | None:
    """Seconds to wait if this email or this client failed to sign in too often (in
    ``namespace``: the console's, or the admin's), else ``None``."""
    limiter = _login_limiter()
    for item in limiter.items:
        for key in _login_keys(email):
            if not limiter.strategy.test(item, namespace, key):
                reset_at, _left = limiter.strategy.get_window_stats(item, namespace, key)
                return max(1, min(item.get_expiry(), math.ceil(reset_at - time.time())))
    return None


def login_failed(email: str, namespace: str = LOGIN_NAMESPACE) -> None:
    """Counts a failed sign-in of this email and this client."""
    for key in _login_keys(email):
        _login_limiter().hit(namespace, key)


@bp.route("/login", methods=["GET", "POST"])
def login() -> Response:
    """Sign-in: the same answer for an unknown email and a wrong password; past the limit of
    failed attempts (per email and per client), 429 even with the right password."""
    form = LoginForm()
    next_url = safe_next(request.args.get("next"))
    if request.method == "GET":
        return page("login.html", form=form, next_url=next_url)
    email = (form.email.data or "").strip().lower()
    wait = login_wait(email)
    if wait is not None:
        minutes = max(1, math.ceil(wait / 60))
        message = _(
            "Too many failed sign-in attempts. Please try again in %(minutes)s minutes.",
            minutes=minutes,
        )
        response = page("login.html", 429, form=form, next_url=next_url, error=message)
        response.headers["Retry-After"] = str(wait)
        return response
    if not form.validate():
        return page("login.html", 422, form=form, next_url=next_url, error=first_error(form))
    session_ = get_session()
    begin_read(session_)
    found = accounts.authenticate_distributor(session_, email, form.password.data or "")
    if found is None:
        login_failed(email)
        error = _("Wrong email or password.")
        return page("login.html", 401, form=form, next_url=next_url, error=error)
    _sign_in(found)
    return redirect(next_url or url_for(".home"), code=303)  # type: ignore[return-value]


def _sign_in(distributor: Distributor) -> None:
    chosen = session.get(LOCALE_KEY)
    identity.sign_in(distributor.id or 0, distributor.password_hash)
    if chosen:
        session[LOCALE_KEY] = chosen


@bp.post("/logout")
def logout() -> Response:
    """Signs out (POST only, with the CSRF token, so no link or image can do it)."""
    identity.sign_out()
    return to(".login")


@bp.route("/join", methods=["GET", "POST"], defaults={"code": None})
@bp.route("/join/<code>", methods=["GET", "POST"])
def join(code: str | None) -> Response:
    """Sign-up, through a recruiter's invite link (recorded as the parent) or not."""
    session_ = get_session()
    if request.method == "GET":
        begin_read(session_)
    inviter = None
    if code is not None:
        try:
            inviter = _inviter(code)
        except NotFound:
            message = _("This invite link is not valid. Ask the person who sent it for a new one.")
            return message_page(message, 404)
    form = JoinForm()
    if request.method == "GET":
        return page("join.html", form=form, inviter=inviter, code=code)
    if not form.validate():
        return page(
            "join.html", 422, form=form, inviter=inviter, code=code, error=first_error(form)
        )
    try:
        signed_up = accounts.create_distributor(
            session_,
            form.email.data or "",
            form.password.data or "",
            name=form.name.data or "",
            shop_name=form.shop_name.data or None,
            parent_code=code,
            pending=current_app.config["STOREFRONT_DISTRIBUTOR_APPROVAL"],
        )
        session_.commit()
    except (Conflict, IntegrityError):
        session_.rollback()
        error = _("An account with this email address already exists. Sign in instead.")
        return page("join.html", 409, form=form, inviter=inviter, code=code, error=error)
    except StorefrontError as refused:
        session_.rollback()
        status = status_of(refused)
        return page(
            "join.html", status, form=form, inviter=inviter, code=code, error=refused.message
        )
    _sign_in(signed_up.distributor)
    return to(".home")


def _inviter(code: str) -> dict[str, str]:
    """Who invites, as the sign-up page shows them."""
    session_ = get_session()
    found = accounts.find_by_code(session_, code)
    shop_name = session_.scalars(select(Shop.name).where(Shop.distributor_id == found.id)).first()
    return {"name": found.name, "shop_name": shop_name or ""}


# --- pages ------------------------------------------------------------------------------


def shop_url(shop: Shop) -> str:
    """The public address of ``shop``'s front page."""
    return url_for("storefront_shop.home", slug=shop.slug, _external=True)


def invite_url(distributor: Distributor) -> str:
    """The sign-up link that records ``distributor`` as the recruiter."""
    return url_for(".join", code=distributor.referral_code, _external=True)


@bp.get("/")
def home() -> Response:
    """The shop at a glance and the way to every section."""
    return page("home.html", shop_link=shop_url(my_shop()), markup=_markup_percent(my_shop()))


def _markup_percent(shop: Shop) -> int | None:
    return None if shop.markup_bp is None else shop.markup_bp // 100


@bp.get("/links")
def links() -> Response:
    """The shop's link, referral and invite links, and share posters, with copy buttons."""
    shop, distributor = my_shop(), me()
    read = reader(fresh=True)
    products = read.listing(read.shop(slug=shop.slug), locale(), limit=10).items
    code = distributor.referral_code
    return page(
        "links.html",
        shop_link=shop_url(shop),
        referral_link=url_for("storefront_referral.link", code=code, _external=True),
        invite_link=invite_url(distributor),
        shop_poster=url_for("storefront_posters.shop_poster", slug=shop.slug),
        products=[
            {
                "title": product.title,
                "link": url_for(
                    "storefront_referral.link", code=code, product_id=product.id, _external=True
                ),
                "poster": url_for(
                    "storefront_posters.product_poster", slug=shop.slug, product_id=product.id
                ),
            }
            for product in products
        ],
    )


@bp.get("/team")
def team() -> Response:
    """The invite link and the distributors this distributor recruited (theirs only)."""
    after = request.args.get("after", "")
    if after and (not after.isdigit() or len(after) > 18):
        abort(400, description=_("This page does not exist."))
    recruits, next_after = _recruits(me().id or 0, int(after) if after else None)
    return page("team.html", invite_link=invite_url(me()), recruits=recruits, next_after=next_after)


def _recruits(parent_id: int, after: int | None) -> tuple[list[dict[str, str]], int | None]:
    distributor, shop = table_of(Distributor).c, table_of(Shop).c
    stmt = (
        sa.select(distributor.id, distributor.name, distributor.created_at, shop.name)
        .join(table_of(Shop), shop.distributor_id == distributor.id)
        .where(distributor.parent_id == parent_id)
    )
    if after is not None:
        stmt = stmt.where(distributor.id < after)
    rows = get_session().execute(stmt.order_by(distributor.id.desc()).limit(TEAM_PAGE + 1)).all()
    more = len(rows) > TEAM_PAGE
    rows = rows[:TEAM_PAGE]
    recruits = [{"name": row[1], "shop_name": row[3], "joined": _date(row[2])} for row in rows]
    return recruits, rows[-1][0] if more and rows else None


@bp.get("/orders")
def orders() -> Response:
    """The shop's latest orders, the customers bound to this distributor, and the history of
    those bindings (why a customer is, or is not, theirs)."""
    session_ = get_session()
    order = table_of(Order).c
    recent = session_.execute(
        sa.select(order.number, order.created_at, order.total_minor, order.currency, order.status)
        .where(order.shop_id == my_shop().id)
        .order_by(order.id.desc())
        .limit(ORDERS_PAGE)
    ).all()
    binding = table_of(CustomerBinding).c
    bound = session_.execute(
        sa.select(binding.bound_at, binding.expires_at, order.contact_email, order.contact_phone)
        .join(table_of(Order), order.id == binding.order_id)
        .where(binding.distributor_id == me().id)
        .order_by(binding.id.desc())
        .limit(ORDERS_PAGE)
    ).all()
    shop = my_shop()
    money = money_formatter
    return page(
        "orders.html",
        orders=[
            {
                "number": row.number,
                "date": _date(row.created_at),
                "total": money(row.currency, locale(), shop.currency_display)(row.total_minor),
                "status": row.status,
            }
            for row in recent
        ],
        bindings=[
            {
                "customer": _masked(row.contact_email, row.contact_phone),
                "since": _date(row.bound_at),
                "until": _date(row.expires_at),
            }
            for row in bound
        ],
        history=_binding_history(me().id or 0),
    )


def _binding_history(distributor_id: int) -> list[dict[str, Any]]:
    """The binding events concerning the distributor, each with its customer (masked) and,
    on their own side, the order's number."""
    session_ = get_session()
    events = binding_history(session_, distributor_id)
    order = table_of(Order).c
    ids = sorted({event.order_id for event in events if event.order_id is not None})
    contacts = {
        row.id: row
        for row in session_.execute(
            sa.select(order.id, order.number, order.contact_email, order.contact_phone).where(
                order.id.in_(ids)
            )
        )
    }
    rows = []
    for event in events:
        found = contacts.get(event.order_id or 0)
        rows.append(
            {
                "kind": event.kind,
                "theirs": event.theirs,
                "other": event.other,
                "date": _date(event.happened_at),
                "until": _date(event.expires_at),
                "customer": _masked(found.contact_email, found.contact_phone) if found else "",
                "order": found.number if found is not None and event.theirs else None,
            }
        )
    return rows


def _masked(email: str | None, phone: str | None) -> str:
    """A customer's contact with most of it hidden (``li***@example.com``, ``***5678``)."""
    if email:
        name, _, domain = email.partition("@")
        return f"{name[:2]}***@{domain}"
    return f"***{(phone or '')[-4:]}"


def _date(when: datetime) -> str:
    return format_date(when, "medium", locale=i18n.babel_locale(locale()))


# --- uploaded files -----------------------------------------------------------------------


@uploads_bp.get("/sf-uploads/<name>")
def uploaded_file(name: str) -> Response:
    """A file of the default local storage (random name, image types only)."""
    storage = current_app.extensions["storefront"].storage
    path = storage.path_of(name) if isinstance(storage, LocalFolderStorage) else None
    if path is None:
        abort(404)
    kind = KIND_BY_EXTENSION[path.suffix[1:]]
    response = send_file(path, mimetype=kind.content_type, max_age=365 * 24 * 3600)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.cache_control.public = True
    response.cache_control.immutable = True
    return response


# The settings and product picker pages register themselves on ``bp``.
from . import console_money as _console_money  # noqa: E402, F401
from . import console_shop as _console_shop  # noqa: E402, F401
