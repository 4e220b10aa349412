"""The shop's settings in the console: name, logo, colour (with a live preview), welcome
text, language, currency display and its own host name (where the platform offers them, with
the DNS record that verifies it and a "Check now"); and the files of the default logo storage.

Each change goes through :mod:`storefront_sdk.shops.curation` on the signed-in distributor's
own shop, committed on success and rolled back on a refusal, whose message is shown with
the form again (422, 404 or 409).
"""

from __future__ import annotations

import logging
import re
from typing import Any

from flask import Response, abort, current_app, request, send_file

from ... import i18n
from ...errors import StorefrontError
from ...shops import curation, hosts
from ...shops.models import DEFAULT_PRIMARY_COLOR, Shop
from ...storage import KIND_BY_EXTENSION, MAX_LOGO_BYTES, LocalFolderStorage, Storage, sniff_image
from ..errors import status_of
from ..pages import gettext as _
from ..pages import see_other, time_zone
from ..sessions import get_session
from ..transactions import commit_or_refuse
from .access import locale, my_shop, page, too_large_message
from .forms import LogoForm, SettingsForm, first_error
from .home import shop_url
from .own_host import (
    forget_cached_hosts,
    host_context,
    not_offered,
    offered,
    refusal,
    reserved_names,
    txt_lookup,
)

log = logging.getLogger(__name__)
_COLOR = re.compile(r"#[0-9a-fA-F]{6}")


def _settings_page(form: Any = None, status: int = 200, error: str | None = None) -> Response:
    shop = my_shop()
    form = form or SettingsForm(formdata=None, obj=shop)
    typed = form.primary_color.data or ""
    return page(
        "settings.html",
        status,
        form=form,
        error=error,
        saved=request.args.get("saved") == "1",
        verified=request.args.get("verified") == "1",
        **host_context(shop),
        shop_link=shop_url(shop),
        time_zones=[(zone, i18n.time_zone_label(zone, locale())) for zone in curation.TIME_ZONES],
        platform_time_zone=i18n.time_zone_label(time_zone(), locale()),
        # The preview's colour goes into a style attribute: only a checked #rrggbb.
        preview_color=typed if _COLOR.fullmatch(typed) else _theme_color(shop),
    )


def _refused(error: StorefrontError) -> Response:
    return _settings_page(None, status_of(error) or 400, error.message)


def _theme_color(shop: Shop) -> str:
    return shop.primary_color if _COLOR.fullmatch(shop.primary_color) else DEFAULT_PRIMARY_COLOR


def settings() -> Response:
    """The shop's name, logo, colour, welcome text, language, time zone, currency display and host
    name, with a live preview of the theme."""
    return _settings_page()


def save_settings() -> Response:
    """Stores the settings; nothing is changed if any field is refused."""
    form = SettingsForm()
    if not form.validate():
        return _settings_page(form, 422, first_error(form))
    zone = form.time_zone.data or ""
    if zone and zone not in curation.TIME_ZONES:
        return _settings_page(form, 422, _("Choose a time zone from the list."))
    host = form.host.data or None
    if host and not offered():
        return _settings_page(form, 422, not_offered())
    settings = curation.Settings(
        name=form.name.data or "",
        primary_color=form.primary_color.data or "",
        welcome_text=(form.welcome_text.data or "").replace("\r\n", "\n"),
        locale=form.locale.data,
        currency_display=form.currency_display.data,
        time_zone=zone,
    )

    def save() -> Response:
        curation.update_settings(get_session(), my_shop(), settings)
        if offered():  # otherwise the form has no host field: the stored one stays
            hosts.set_host(get_session(), my_shop(), host, reserved=reserved_names())
        return see_other(".settings", saved=1)

    def refuse(error: StorefrontError) -> Response:
        return _settings_page(
            form, status_of(error) or 400, refusal(error, hosts.normalise_host(host))
        )

    response = commit_or_refuse(save, refuse)
    forget_cached_hosts()
    return response


def check_host() -> Response:
    """Looks for the TXT record of the shop's pending host name; found, the host name is
    verified and the shop is served on it."""
    lookup = txt_lookup()
    if not offered():
        return _settings_page(status=404, error=not_offered())
    if lookup is None:
        error = _("The platform verifies host names itself: wait for its approval.")
        return _settings_page(status=409, error=error)
    shop = my_shop()
    if shop.host_status != "pending":
        return _settings_page(status=409, error=_("There is no host name waiting to be verified."))

    def check() -> Response:
        try:
            found = hosts.check_host(get_session(), shop, lookup)
        except OSError:
            log.warning("TXT look-up failed for %r", shop.host, exc_info=True)
            error = _("The DNS check failed just now. Please try again later.")
            return _settings_page(status=503, error=error)
        if not found:
            error = _(
                "The TXT record was not found yet. DNS changes can take a while to show: "
                "try again later."
            )
            return _settings_page(status=409, error=error)
        return see_other(".settings", verified=1)

    response = commit_or_refuse(check, _refused)
    forget_cached_hosts()
    return response


def _storage() -> Storage:
    storage: Storage = current_app.extensions["storefront"].storage
    return storage


def upload_logo() -> Response:
    """A new logo: PNG, JPEG or WebP (by content, not by name) of at most 1 MB."""
    form = LogoForm()
    if not form.validate():
        return _settings_page(status=422, error=first_error(form))
    upload = form.logo.data
    data = upload.stream.read(MAX_LOGO_BYTES + 1)
    if len(data) > MAX_LOGO_BYTES:
        return _settings_page(status=413, error=too_large_message())
    kind = sniff_image(data)
    if kind is None:
        error = _("The logo must be a PNG, JPEG or WebP image (SVG is not accepted).")
        return _settings_page(status=422, error=error)
    return _replace_logo(_storage().save(data, upload.filename or "", kind.content_type))


def remove_logo() -> Response:
    """Removes the logo."""
    return _replace_logo(None)


def _replace_logo(url: str | None) -> Response:
    """The shop's logo replaced by ``url`` (committed), the old file deleted; the new file
    is deleted instead if the change does not go through."""
    shop, storage = my_shop(), _storage()
    old = shop.logo_url

    def replace() -> Response:
        curation.set_logo(get_session(), shop, url)
        return see_other(".settings", saved=1)

    try:
        response = commit_or_refuse(replace, _refused)
    except BaseException:
        if url:
            storage.delete(url)
        raise
    if response.status_code >= 400:
        if url:
            storage.delete(url)
    elif old and old != url:
        try:
            storage.delete(old)
        except Exception:  # the change is committed: a stale file is only clutter
            log.warning("could not delete the old logo %s", old, exc_info=True)
    return response


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
