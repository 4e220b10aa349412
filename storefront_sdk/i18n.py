"""Translations of the library's pages: Flask-Babel with the library's own domain
(``storefront``), so a host app's own catalogues and locale selector are left alone.

Templates and views of the library call :data:`gettext` (``_`` in templates); each page is
rendered under the locale :func:`choose_locale` picks: ``?lang=``, then the shop's setting,
then ``Accept-Language``.

Catalogues live in ``storefront_sdk/translations/<locale>/LC_MESSAGES/storefront.po`` (and the
compiled ``.mo``); ``make translations`` re-extracts and compiles them.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from babel import Locale, UnknownLocaleError
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


def choose_locale(asked: str | None, preferred: str | None, accept_language: str) -> str:
    """A page's locale: the one ``asked`` for (``?lang=``), else the ``preferred`` one (a
    shop's setting), else the browser's ``Accept-Language``, else English."""
    chosen = _supported(asked) or _supported(preferred)
    if chosen:
        return chosen
    return _from_browser(accept_language)


@functools.lru_cache(maxsize=1024)
def _from_browser(accept_language: str) -> str:
    best = LanguageAccept(parse_accept_header(accept_language)).best_match(
        ["en", "zh-Hans", "zh-CN", "zh"]
    )
    return _supported(best) or SUPPORTED[0]


@functools.lru_cache(maxsize=64)
def babel_locale(tag: str) -> Locale:
    """The Babel locale of a BCP 47 tag (``zh-Hans`` → ``zh_Hans``)."""
    return Locale.parse(tag.replace("-", "_"))


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
