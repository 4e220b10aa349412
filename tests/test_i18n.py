"""Every visible string of the library is translated into zh-Hans, the compiled catalogues
match their sources, and pages pick the locale as the contract says."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.checkers import python_format
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po
from shop_support import make_shop

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "storefront_sdk" / "translations"
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "lazy_gettext": None, "_l": None}


def _source_messages() -> set[str]:
    method_map = [
        ("storefront_sdk/**.py", "python"),
        ("storefront_sdk/templates/**.html", "jinja2"),
    ]
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map, keywords=KEYWORDS
    ):
        found.add(message if isinstance(message, str) else message[0])
    return found


def _catalogue(locale: str):
    with (TRANSLATIONS / locale / "LC_MESSAGES" / "storefront.po").open("rb") as po:
        return read_po(po, locale=locale)


def test_every_visible_string_is_translated_into_chinese():
    catalogue = _catalogue("zh_Hans")
    translated = {m.id: m.string for m in catalogue if m.id and m.string}
    missing = sorted(_source_messages() - set(translated))
    assert missing == [], "run `make translations` and translate these"


def test_chinese_translations_keep_their_placeholders():
    catalogue = _catalogue("zh_Hans")
    for message in catalogue:
        if message.id and message.string and message.python_format:
            python_format(catalogue, message)  # raises TranslationError on a mismatch


@pytest.mark.parametrize("locale", ["zh_Hans", "en"])
def test_the_compiled_catalogues_match_their_sources(locale):
    source = {m.id: m.string for m in _catalogue(locale) if m.id}
    with (TRANSLATIONS / locale / "LC_MESSAGES" / "storefront.mo").open("rb") as mo:
        compiled = {m.id: m.string for m in read_mo(mo) if m.id}
    assert compiled == {key: value for key, value in source.items() if value}


def test_a_chinese_shop_speaks_chinese_and_lang_switches_it(app, client):
    shop = make_shop(app)
    chinese = client.get(f"/s/{shop.slug}/cart").get_data(as_text=True)
    assert "购物车是空的。" in chinese
    english = client.get(f"/s/{shop.slug}/cart?lang=en").get_data(as_text=True)
    assert "Your cart is empty." in english


def test_the_admins_language_choice_sticks_across_pages(app, client):
    # given an admin whose browser asks for Chinese, who picks English once
    chinese = {"Accept-Language": "zh-CN"}
    assert '<html lang="en">' in client.get("/admin/login?lang=en", headers=chinese).get_data(
        as_text=True
    )
    # when the next page comes without ?lang=, then it is still English
    assert '<html lang="en">' in client.get("/admin/login", headers=chinese).get_data(as_text=True)
