"""Referral links: ``/r/<code>`` and ``/r/<code>/<product_id>``.

A link records the visit, sets the attribution cookie and redirects to the distributor's shop
(or the product, when the shop lists it) with the share token in ``?st=``. The redirect's
target is computed from the code and product id alone: no query parameter is ever followed,
so the links cannot be used to send people elsewhere. A distributor following their own link
lands in their shop like anyone else, but the visit earns nothing and sets no attribution.

:func:`attribution` is the attribution of the current request, for the checkout.
"""

from __future__ import annotations

from flask import Response, current_app, request, url_for
from markupsafe import escape

from ... import i18n
from ...i18n import gettext as _
from ...referrals import attribution as referral
from ...referrals.attribution import Attribution, SecretKeys
from .. import identity
from ..pages import negotiate_locale
from ..sessions import get_session
from ..transactions import commit_or_refuse

#: Name of the attribution cookie (HttpOnly, SameSite=Lax, for the attribution window).
COOKIE_NAME = referral.ATTRIBUTION_COOKIE
#: Content-Security-Policy of the page of an unknown link: no scripts, no styles from afar.
CSP = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; frame-ancestors 'self'"


def signing_keys() -> SecretKeys:
    """The app's secret key, after its ``SECRET_KEY_FALLBACKS`` (tokens signed with an old
    key stay good while it is listed)."""
    key = current_app.secret_key
    if not key:
        raise RuntimeError("referral links need the app's SECRET_KEY")
    fallbacks = current_app.config.get("SECRET_KEY_FALLBACKS") or []
    return [*fallbacks, key]


def attribution_days() -> int:
    """The attribution window in days (``STOREFRONT_ATTRIBUTION_DAYS``)."""
    return int(current_app.config["STOREFRONT_ATTRIBUTION_DAYS"])


def attribution() -> Attribution | None:
    """The distributor the current request's purchase is attributed to, if any: see
    :func:`storefront_sdk.referrals.attribution.current_attribution` (last click within the window,
    never the distributor signed in to the console)."""
    return referral.current_attribution(
        request,
        secret_key=signing_keys(),
        window_days=attribution_days(),
        visitor_distributor_id=identity.claimed_distributor_id(),
    )


def link(code: str, product_id: int | None) -> Response:
    """Records the visit, sets the attribution cookie (not for the distributor's own visit)
    and redirects to the shop or product with the share token."""

    def visit() -> Response:
        landing = referral.record_visit(
            get_session(),
            code,
            product_id,
            identity.claimed_distributor_id(),
            secret_key=signing_keys(),
        )
        return _landing(landing)

    return commit_or_refuse(visit, lambda _error: _unknown_link())


def _landing(landing: referral.Landing) -> Response:
    """The redirect to where ``landing`` lands, with its attribution cookie."""
    # ``st`` is always passed (``None`` is left out) so that no ``st`` of this request is
    # carried into the target by the shop's URL defaults.
    if landing.product_id is None:
        target = url_for("storefront_shop.home", slug=landing.shop_slug, st=landing.token)
    else:
        target = url_for(
            "storefront_shop.product",
            slug=landing.shop_slug,
            product_id=landing.product_id,
            st=landing.token,
        )
    response = Response(status=302, headers={"Location": target})
    response.cache_control.no_store = True
    if landing.token is not None:
        response.set_cookie(
            COOKIE_NAME,
            landing.token,
            max_age=attribution_days() * 86400,
            path="/",
            secure=request.is_secure,
            httponly=True,
            samesite="Lax",
        )
    return response


def _unknown_link() -> Response:
    locale = negotiate_locale()
    with i18n.locale_of_page(locale):
        title = _("Link not found")
        message = _("This link is not valid (any more). Please ask for a new one.")
    body = (
        f'<!doctype html><html lang="{escape(locale)}"><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title>"
        '<body style="font-family:system-ui,sans-serif;text-align:center;padding:3em 1em">'
        f"<h1>{escape(title)}</h1><p>{escape(message)}</p></body></html>"
    )
    response = Response(body, status=404, mimetype="text/html")
    response.headers["Content-Security-Policy"] = CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.content_language = [locale]
    return response
