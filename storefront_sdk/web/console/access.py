"""The console's plumbing: who is signed in, the language, the access and CSRF checks that
run before every view, the headers of every response, and how its pages are rendered.

Every page but sign-in and sign-up needs a signed-in distributor (:mod:`..identity`) and
acts only on that distributor's own shop: no URL or form field names a shop. Every ``POST``
carries a CSRF token, checked here before anything else runs; every response is
``no-store`` and under a strict Content-Security-Policy (the one script is same-origin).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import Response, abort, current_app, g, redirect, request, url_for
from sqlmodel import select
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from ...db import begin_read
from ...shops.models import Distributor, Shop
from ...storage import MAX_LOGO_BYTES
from .. import identity
from ..pages import (
    LANGUAGES,
    form_token_ok,
    gettext,
    negotiate_locale,
    render_page,
    sign_in_as,
    signed_in,
    signed_in_or_none,
    strict_headers,
    time_formats,
)
from ..pages import LOCALE_KEY as LOCALE_KEY  # kept by sign-in (the visitor's language)
from ..sessions import get_session

_ = gettext

#: Content-Security-Policy of every console page.
CSP = (
    "default-src 'none'; img-src 'self' https: http: data:; style-src 'unsafe-inline'; "
    "script-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
#: Rate-limit namespace of sign-in attempts.
LOGIN_NAMESPACE = "storefront-console-login"
#: Rate-limit namespace of sign-ups.
JOIN_NAMESPACE = "storefront-console-join"
#: Rate-limit namespace of password-reset requests (and the salt of reset links).
RESET_NAMESPACE = "storefront-console-reset"
#: Largest body of a console form; the logo upload may carry the logo and some more.
MAX_FORM_BYTES = 256 * 1024
MAX_UPLOAD_BODY = MAX_LOGO_BYTES + 64 * 1024
#: Views anyone may open.
PUBLIC = frozenset({"login", "logout", "join", "forgot_password", "reset_password", "static"})


def locale() -> str:
    """The console's language: ``?lang=`` (remembered), else the browser's."""
    if "sf_console_locale" not in g:
        g.sf_console_locale = negotiate_locale()
    value: str = g.sf_console_locale
    return value


def me() -> Distributor:
    """The signed-in distributor (the view is behind the access check)."""
    return signed_in(Distributor)


def my_shop() -> Shop:
    """The signed-in distributor's shop, as an ORM object for the curation services."""
    shop: Shop = g.sf_console_shop
    return shop


def signup_closed() -> None:
    """Before every view: the sign-up page is not found when ``STOREFRONT_CONSOLE_SIGNUP``
    is off."""
    if request.endpoint == "storefront_console.join" and not current_app.config.get(
        "STOREFRONT_CONSOLE_SIGNUP", True
    ):
        abort(404, description=_("This page does not exist."))


def guard() -> Response | None:
    """Before every view: a signed-in distributor (but on public pages), then the form's
    CSRF token on a ``POST``."""
    locale()  # the view's own strings (messages, labels) are in the page's language too
    endpoint = (request.endpoint or "").rpartition(".")[2]
    if endpoint not in PUBLIC:
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
    if found is None or not identity.check(found):
        wanted = request.script_root + request.full_path.rstrip("?")
        next_url = safe_next(wanted) if request.method in ("GET", "HEAD") else None
        return redirect(url_for(".login", next=next_url), code=303)  # type: ignore[return-value]
    sign_in_as(found)
    g.sf_console_shop = session_.scalars(select(Shop).where(Shop.distributor_id == found.id)).one()
    return None


def _check_post(endpoint: str) -> Response | None:
    """Refuses a POST without this session's CSRF token (400) before its view runs."""
    request.max_content_length = MAX_UPLOAD_BODY if endpoint == "upload_logo" else MAX_FORM_BYTES
    try:
        request.form.get("csrf_token")
    except RequestEntityTooLarge:
        return message_page(too_large_message(), 413)
    if not form_token_ok():
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
    """A console page under the console's language, its times in the shop's zone."""
    shop = g.get("sf_console_shop")
    return render_page(
        f"storefront/console/{template}",
        locale(),
        status,
        me=signed_in_or_none(Distributor),
        shop=shop,
        languages=LANGUAGES,
        **{**time_formats(locale(), shop.time_zone if shop else None), **context},
    )


def message_page(message: str, status: int) -> Response:
    """A page saying only ``message`` (refusals that have no form to show again)."""
    return page("message.html", status=status, message=message)


def headers(response: Response) -> Response:
    """After every view: strict headers (not on the console's script), the language."""
    if request.endpoint == "storefront_console.static":
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response
    strict_headers(response, CSP)
    if "sf_console_locale" in g:
        response.content_language = [g.sf_console_locale]
    return response


def http_error(error: HTTPException) -> Response | HTTPException:
    """A 400, 404 or 413 of the console as one of its pages."""
    if isinstance(error, RequestEntityTooLarge):
        return message_page(too_large_message(), 413)
    if error.code in (400, 404):
        return message_page(str(error.description), error.code)
    return error
