"""The admin's plumbing: who is signed in, the language, the access, role and CSRF checks
that run before every view, the headers of every response, and how its pages are rendered.

Every page needs a signed-in platform admin (``flask storefront create-admin``); a
distributor's console session does not count. Only the ``admin`` role may change anything:
a ``viewer``'s ``POST`` is refused (403) before its view runs. Every ``POST`` carries a
CSRF token; every response is ``no-store`` under a strict Content-Security-Policy.
"""

from __future__ import annotations

from typing import Any

from flask import Response, g, redirect, request, url_for
from werkzeug.exceptions import HTTPException

from ...db import begin_read
from ...errors import StorefrontError
from ...money import Money, format_money
from ...platform_admins import PlatformAdmin
from .. import identity
from ..errors import status_of
from ..pages import (
    cursor_arg,
    form_token_ok,
    gettext,
    negotiate_locale,
    render_page,
    sign_in_as,
    signed_in,
    signed_in_or_none,
    strict_headers,
)
from ..sessions import get_session

_ = gettext

#: Content-Security-Policy of every admin page: no script at all.
CSP = (
    "default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'; "
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
#: Rate-limit namespace of admin sign-in attempts (the console's limits apply).
LOGIN_NAMESPACE = "storefront-admin-login"
#: Rate-limit namespace of admin password-reset requests (and the salt of reset links).
RESET_NAMESPACE = "storefront-admin-reset"
#: Rows per list page.
PAGE = 50
#: Views every role may post to: they change only the signed-in admin's own account.
OWN_ACCOUNT = frozenset({"change_password"})
#: Views anyone may open.
PUBLIC = frozenset({"login", "logout", "forgot_password", "reset_password"})


def locale() -> str:
    """The admin's language: ``?lang=``, else the browser's."""
    if "sf_admin_locale" not in g:
        g.sf_admin_locale = negotiate_locale()
    found: str = g.sf_admin_locale
    return found


def me() -> PlatformAdmin:
    """The signed-in admin (views run behind the access check)."""
    return signed_in(PlatformAdmin)


def page(template: str, status: int = 200, **context: Any) -> Response:
    """An admin page in the admin's language."""
    return render_page(
        f"storefront/admin/{template}",
        locale(),
        status,
        admin=signed_in_or_none(PlatformAdmin),
        **context,
    )


def message(text: str, status: int) -> Response:
    """A page saying only ``text``."""
    return page("message.html", status, message=text)


def refused(error: StorefrontError) -> Response:
    """A service's refusal as a page: 422, 404 or 409 with its message (nothing changed)."""
    return message(error.message, status_of(error) or 400)


def newest_page(query: Any, id_column: Any) -> tuple[list[Any], int | None]:
    """One page of a list, newest first: the rows of ``query`` (whose first column is a
    model or an id-bearing row) with ids below the page's ``before`` cursor, at most
    :data:`PAGE`, and the cursor of the next page (``None`` on the last)."""
    before = cursor_arg()
    if before is not None:
        query = query.where(id_column < before)
    rows = list(get_session().execute(query.order_by(id_column.desc()).limit(PAGE + 1)))
    more = len(rows) > PAGE
    rows = rows[:PAGE]
    return rows, (rows[-1][0].id if more and rows else None)


def money(minor: int, currency: str) -> str:
    """An amount as the admin's pages show it (with the currency's code)."""
    return format_money(Money(minor, currency), locale(), "code")


def guard() -> Response | None:
    """Before every view: the form's CSRF token on a ``POST``, then a signed-in admin (but
    on sign-in), then the ``admin`` role for a change."""
    locale()  # the view's own strings (messages, labels) are in the page's language too
    endpoint = (request.endpoint or "").rpartition(".")[2]
    if request.method == "POST":
        request.max_content_length = 64 * 1024
        if not form_token_ok():
            return message(
                _("This form has expired, so nothing was changed. Reload the page and try again."),
                400,
            )
    if endpoint in PUBLIC:
        return None
    session_ = get_session()
    if request.method in ("GET", "HEAD"):
        begin_read(session_)
    claimed = identity.claimed_admin_id()
    found = session_.get(PlatformAdmin, claimed) if claimed is not None else None
    if found is None or not identity.check_admin(found):
        return redirect(url_for(".login"), code=303)  # type: ignore[return-value]
    sign_in_as(found)
    if request.method == "POST" and found.role != "admin" and endpoint not in OWN_ACCOUNT:
        return message(_("Your role may look but not change anything."), 403)
    return None


def headers(response: Response) -> Response:
    """After every view: strict headers."""
    return strict_headers(response, CSP)


def http_error(error: HTTPException) -> Response | HTTPException:
    """A 400, 404, 405 or 413 of the admin as one of its pages."""
    if error.code in (400, 404, 405, 413):
        return message(str(error.description), error.code or 400)
    return error
