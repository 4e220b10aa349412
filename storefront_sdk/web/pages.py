"""What the HTML front doors share: the page's language, rendering a page, redirects after a
change, the refusal of a form that did not come from the page, strict headers, and who is
signed in (the console's distributor, the admin's platform admin).

Each door keeps what is its own (templates folder, Content-Security-Policy, what its pages
show of the signed-in user) and calls these for the rest.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from functools import cached_property
from pathlib import Path
from typing import Any, TypeVar

from flask import Blueprint, Response, abort, current_app, g, redirect, request, session, url_for
from flask_wtf.csrf import CSRFError, generate_csrf, validate_csrf
from jinja2 import BaseLoader, FileSystemLoader, PrefixLoader
from wtforms.validators import ValidationError as CSRFValidationError

from .. import i18n

#: An id typed or sent back by a page (18 digits at most: a PostgreSQL BIGINT).
DIGITS = re.compile(r"[0-9]{1,18}")
#: The languages a page offers, as ``(tag, name)``.
LANGUAGES = (("en", "English"), ("zh-Hans", "简体中文"))
#: Session key of the language the visitor picked (``?lang=``), kept for their next pages.
LOCALE_KEY = "sf_locale"

T = TypeVar("T")

#: The library's templates folder.
TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
#: The name prefix under which the library's own templates stay reachable when the host
#: app overrides them: ``{% extends "storefront_sdk:storefront/shop/base.html" %}``.
LIBRARY_TEMPLATES = "storefront_sdk"


class LibraryTemplates(Blueprint):
    """A blueprint without routes that serves the library's templates under
    ``storefront_sdk:<name>``, so that a host's replacement of a template can extend the
    library's own and fill its blocks instead of copying it."""

    @cached_property
    def jinja_loader(self) -> BaseLoader | None:
        """The library's templates, each under ``storefront_sdk:``."""
        return PrefixLoader({LIBRARY_TEMPLATES: FileSystemLoader(TEMPLATES)}, delimiter=":")


def negotiate_locale(preferred: str | None = None) -> str:
    """This request's language: the visitor's choice (``?lang=``, remembered in the session
    for the next pages), else ``preferred`` (a shop's fixed language), else the browser's,
    else the platform's ``STOREFRONT_DEFAULT_LOCALE``."""
    chosen = i18n.choose_locale(
        visitor_choice(),
        preferred,
        request.headers.get("Accept-Language", ""),
        current_app.config["STOREFRONT_DEFAULT_LOCALE"],
    )
    g.sf_page_locale = chosen
    return chosen


def visitor_choice() -> str | None:
    """The language the visitor picked: ``?lang=`` (then remembered), else the one they
    picked on an earlier page."""
    asked = i18n.supported(request.args.get("lang"))
    if asked is None:
        remembered: str | None = i18n.supported(session.get(LOCALE_KEY))
        return remembered
    if session.get(LOCALE_KEY) != asked:
        session[LOCALE_KEY] = asked
    return asked


def gettext(text: str, **variables: Any) -> str:
    """``text`` in the page's language (the one :func:`negotiate_locale` chose for this
    request, else Flask-Babel's), with ``variables``."""
    chosen: str | None = g.get("sf_page_locale")
    if chosen is None:
        return str(i18n.gettext(text, **variables))
    return i18n.translate(text, chosen, **variables)


def time_zone(shop_zone: str | None = None) -> str:
    """The time zone pages show times in: the shop's own ``shop_zone`` if it chose one,
    else the platform's (``STOREFRONT_DEFAULT_TIME_ZONE``)."""
    if shop_zone:
        return shop_zone
    zone: str = current_app.config["STOREFRONT_DEFAULT_TIME_ZONE"]
    return zone


def time_formats(
    locale: str, shop_zone: str | None = None
) -> dict[str, Callable[[datetime | None], str]]:
    """The template functions that write a stored (UTC) time in :func:`time_zone` (the
    shop's ``shop_zone`` if given) and ``locale``: ``when`` (day and minute), ``day`` and
    ``clock`` (the minute)."""
    zone = time_zone(shop_zone)
    return {
        "when": lambda moment: i18n.local_datetime(moment, locale, zone),
        "day": lambda moment: i18n.local_date(moment, locale, zone),
        "clock": lambda moment: i18n.local_time(moment, locale, zone),
    }


def render_page(template: str, locale: str, status: int = 200, **context: Any) -> Response:
    """The page ``template`` rendered under ``locale``, with a form token at hand
    (``csrf_token()`` in templates) and the time formats of :func:`time_formats`."""
    context = {**time_formats(locale), **context}
    body = i18n.render(template, locale, csrf_token=generate_csrf, **context)
    return Response(body, status=status, mimetype="text/html")


def see_other(endpoint: str, **values: Any) -> Response:
    """``303 See Other`` to ``endpoint`` (after a successful ``POST``)."""
    return redirect(url_for(endpoint, **values), code=303)  # type: ignore[return-value]


def form_token_ok() -> bool:
    """Whether the posted form carries this session's CSRF token."""
    try:
        validate_csrf(request.form.get("csrf_token"))
    except (CSRFError, CSRFValidationError):
        return False
    return True


def strict_headers(response: Response, csp: str) -> Response:
    """A page no other site may frame, sniff, cache or read the referrer of."""
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = csp
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Referrer-Policy"] = "same-origin"
    response.cache_control.no_store = True
    response.vary.add("Cookie")
    return response


def transport_security(doors: frozenset[str]) -> Callable[[Response], Response]:
    """An ``after_request`` of the app: ``Strict-Transport-Security`` (max-age
    ``STOREFRONT_HSTS_SECONDS``) on the responses of the blueprints ``doors`` served over
    HTTPS; other routes of the host app are left as they are."""

    def add_header(response: Response) -> Response:
        seconds = current_app.config["STOREFRONT_HSTS_SECONDS"]
        if seconds and request.is_secure and request.blueprint in doors:
            response.headers.setdefault("Strict-Transport-Security", f"max-age={seconds}")
        return response

    return add_header


def api_headers(response: Response) -> Response:
    """A machine's answer: never stored, never sniffed as another type."""
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.cache_control.no_store = True
    return response


def sign_in_as(user: object) -> None:
    """Who this request acts as, once its door has checked the session (kept per kind of
    user: a distributor for the console, a platform admin for the admin)."""
    g.setdefault("sf_signed_in", {})[type(user)] = user


def signed_in_or_none(kind: type[T]) -> T | None:
    """The signed-in user of ``kind``, if the access check found one."""
    found: dict[type, object] = g.get("sf_signed_in", {})
    user = found.get(kind)
    return user if isinstance(user, kind) else None


def signed_in(kind: type[T]) -> T:
    """The user :func:`sign_in_as` recorded (views run behind their door's access check)."""
    user = signed_in_or_none(kind)
    if user is None:
        raise RuntimeError(f"no {kind.__name__} is signed in")
    return user


def cursor_arg(name: str = "before") -> int | None:
    """The id cursor ``name`` of a list page; 400 if it is malformed."""
    value = request.args.get(name, "")
    if value and not DIGITS.fullmatch(value):
        abort(400, description=gettext("This page does not exist."))
    return int(value) if value else None
