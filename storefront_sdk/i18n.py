"""Translations of the library's pages: Flask-Babel with the library's own domain
(``storefront``), so a host app's own catalogues and locale selector are left alone.

Templates and views of the library call :data:`gettext` (``_`` in templates); each page is
rendered under the locale :func:`choose_locale` picks: the visitor's own choice (``?lang=``,
remembered for the next pages), then the shop's setting, then ``Accept-Language``, then the
platform's ``STOREFRONT_DEFAULT_LOCALE``.

Catalogues live in ``storefront_sdk/translations/<locale>/LC_MESSAGES/storefront.po`` (and the
compiled ``.mo``); ``make translations`` re-extracts and compiles them.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_time, get_timezone_location
from babel.support import NullTranslations, Translations
from flask import Flask, render_template
from flask_babel import Babel, Domain, force_locale
from werkzeug.datastructures import LanguageAccept
from werkzeug.http import parse_accept_header

#: The library's translation domain.
DOMAIN = "storefront"
#: Where its catalogues are.
TRANSLATIONS = Path(__file__).parent / "translations"
#: Locales every visible string is translated into (BCP 47 tags), the first the default.
SUPPORTED = ("en", "zh-Hans")

domain = Domain(translation_directories=[str(TRANSLATIONS)], domain=DOMAIN)
gettext = domain.gettext
ngettext = domain.ngettext
lazy_gettext = domain.lazy_gettext
_ = gettext


def init_app(app: Flask) -> None:
    """Registers Flask-Babel unless the host app already did, without touching the app's
    Jinja environment: the library's pages get their ``_`` and ``ngettext`` in their own
    context (:func:`render`), so the host's Jinja globals and filters stay its own."""
    if "babel" not in app.extensions:
        Babel(app, configure_jinja=False)


def supported(tag: str | None) -> str | None:
    """The supported locale ``tag`` asks for, or ``None`` (see :func:`_supported`)."""
    return _supported(tag)


@functools.lru_cache(maxsize=1024)
def _supported(tag: str | None) -> str | None:
    """The supported locale ``tag`` asks for (``zh-CN``, ``zh_Hans`` → ``zh-Hans``)."""
    if not tag:
        return None
    try:
        locale = Locale.parse(tag.strip().replace("-", "_"))
    except (UnknownLocaleError, ValueError, TypeError):
        return None
    if locale.language == "zh" and locale.script in (None, "Hans"):
        return "zh-Hans" if locale.territory not in ("TW", "HK", "MO") else None
    return "en" if locale.language == "en" else None


def choose_locale(
    asked: str | None,
    preferred: str | None,
    accept_language: str,
    fallback: str = SUPPORTED[0],
) -> str:
    """A page's locale: the one ``asked`` for (the visitor's ``?lang=``, now or remembered),
    else the ``preferred`` one (a shop's fixed language), else the browser's
    ``Accept-Language``, else ``fallback`` (the platform's default)."""
    chosen = _supported(asked) or _supported(preferred) or _from_browser(accept_language)
    return chosen or _supported(fallback) or SUPPORTED[0]


@functools.lru_cache(maxsize=1024)
def _from_browser(accept_language: str) -> str | None:
    best = LanguageAccept(parse_accept_header(accept_language)).best_match(
        ["en", "zh-Hans", "zh-CN", "zh"]
    )
    return _supported(best)


@functools.lru_cache(maxsize=64)
def babel_locale(tag: str) -> Locale:
    """The Babel locale of a BCP 47 tag (``zh-Hans`` → ``zh_Hans``)."""
    return Locale.parse(tag.replace("-", "_"))


@functools.lru_cache(maxsize=8)
def _catalogue(tag: str) -> NullTranslations:
    return Translations.load(str(TRANSLATIONS), [babel_locale(tag)], DOMAIN)


def translate(text: str, locale: str, **variables: Any) -> str:
    """``text`` in ``locale`` (the library's catalogue), with ``variables``: for the strings
    a view makes before its page is rendered."""
    found: str = _catalogue(locale).ugettext(text)
    return found % variables if variables else found


@functools.lru_cache(maxsize=64)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def _local(when: datetime, time_zone: str) -> datetime:
    """``when`` (stored in UTC; a naive one is UTC) in ``time_zone``."""
    aware = when if when.tzinfo is not None else when.replace(tzinfo=UTC)
    return aware.astimezone(_zone(time_zone))


def local_date(when: datetime | None, locale: str, time_zone: str) -> str:
    """The day of ``when`` in ``time_zone``, as ``locale`` writes it (``Jan 2, 2026``,
    ``2026年1月2日``); empty for ``None``."""
    if when is None:
        return ""
    return format_date(_local(when, time_zone).date(), "medium", locale=babel_locale(locale))


def local_datetime(when: datetime | None, locale: str, time_zone: str) -> str:
    """``when`` in ``time_zone``, day and minute, as ``locale`` writes it
    (``Jan 2, 2026, 1:04 AM``, ``2026年1月2日 01:04``); empty for ``None``."""
    if when is None:
        return ""
    language = babel_locale(locale)
    local = _local(when, time_zone)
    day = format_date(local.date(), "medium", locale=language)
    minute = format_time(local, "short", tzinfo=local.tzinfo, locale=language)
    pattern: str = language.datetime_formats["medium"]
    return pattern.replace("{1}", day).replace("{0}", minute)


def local_time(when: datetime | None, locale: str, time_zone: str) -> str:
    """The minute of ``when`` in ``time_zone`` (``1:04 AM``, ``01:04``); empty for ``None``."""
    if when is None:
        return ""
    local = _local(when, time_zone)
    return format_time(local, "short", tzinfo=local.tzinfo, locale=babel_locale(locale))


@contextmanager
def locale_of_page(tag: str) -> Iterator[None]:
    """Renders the enclosed code under locale ``tag``."""
    with force_locale(babel_locale(tag)):
        yield


def render(template: str, locale: str, **context: Any) -> str:
    """``render_template`` under ``locale``, with ``_``/``ngettext`` of the library's domain
    and ``page_locale`` in the context."""
    with locale_of_page(locale):
        # The page's translations looked up once, not at every string.
        translations = domain.get_translations()

        def page_gettext(string: str, **variables: Any) -> str:
            text: str = translations.ugettext(string)
            return text % variables if variables else text

        def page_ngettext(singular: str, plural: str, num: int, **variables: Any) -> str:
            variables.setdefault("num", num)
            text: str = translations.ungettext(singular, plural, num)
            return text % variables

        return render_template(
            template, _=page_gettext, ngettext=page_ngettext, page_locale=locale, **context
        )


def time_zone_label(zone: str, locale: str) -> str:
    """An IANA time zone as people of ``locale`` name it (``中国时间``,
    ``United Kingdom Time``); ``UTC`` as itself."""
    if zone == "UTC":
        return "UTC"
    return str(get_timezone_location(zone, locale=babel_locale(locale)))
