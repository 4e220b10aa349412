"""Share posters: SVG downloads with the shop's price and a QR code of the referral link,
404 for what the shop does not list, and supplier text that stays text — on both backends."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest
import qrcode
from qrcode.constants import ERROR_CORRECT_M
from shop_support import edit_shop, make_shop, product, product_ids, push, variant, variant_ids

from storefront_sdk.pricing.prices import Rates
from storefront_sdk.pricing.rates import RateBook
from storefront_sdk.shops import curation, posters

SVG = "{http://www.w3.org/2000/svg}"
XLINK_HREF = "{http://www.w3.org/1999/xlink}href"
RATES = RateBook(Rates(1000, 200))
SCRIPT_TITLE = '<script>alert(1)</script> ]]> <svg onload="alert(2)"> & "quotes"'


@pytest.fixture
def ann(app):
    return make_shop(app, "ann@example.com")


def parse(response):
    """The poster's element tree (the test fails if it is not well-formed XML)."""
    return ET.fromstring(response.data)  # noqa: S314 (our own output)


def texts(root):
    return [element.text for element in root.iter(f"{SVG}text")]


def qr_cells(root):
    """The dark modules the poster's QR code draws, as (x, y)."""
    (group,) = [g for g in root.iter(f"{SVG}g") if g.get("id") == "qr"]
    (path,) = group.iter(f"{SVG}path")
    cells = set()
    for x, y, run in re.findall(r"M(\d+) (\d+)h(\d+)v1h-\3z", path.get("d")):
        cells.update((int(x) + i, int(y)) for i in range(int(run)))
    return cells


def expected_cells(data):
    """The dark modules of the QR code of ``data``, made independently of the poster code."""
    code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, border=0)
    code.add_data(data)
    code.make(fit=True)
    return {(x, y) for y, row in enumerate(code.get_matrix()) for x, dark in enumerate(row) if dark}


# --- product posters ------------------------------------------------------------------------


def test_a_product_poster_is_an_svg_download(app, client, supplier, ann):
    push(supplier, product("A", title="Blue Tee", title_i18n={}))
    product_id = product_ids(app)["A"]
    response = client.get(f"/s/{ann.slug}/p/{product_id}/poster.svg?lang=en")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "image/svg+xml; charset=utf-8"
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="{ann.slug}-{product_id}.svg"'
    )
    assert response.headers["Content-Security-Policy"] == (
        "default-src 'none'; img-src https: http: data:; style-src 'unsafe-inline'"
    )
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    root = parse(response)
    assert root.tag == f"{SVG}svg"
    assert root.get("viewBox") == "0 0 750 1334"
    assert root.get("font-family") == (
        "'PingFang SC', 'Microsoft YaHei', 'WenQuanYi Micro Hei', sans-serif"
    )
    assert {"Blue Tee", "CN¥69.00", ann.slug} <= set(texts(root))
    (image,) = root.iter(f"{SVG}image")
    assert image.get("href") == image.get(XLINK_HREF) == "https://cdn.example.com/A.jpg"


def test_inline_serves_the_poster_for_a_preview(app, client, supplier, ann):
    push(supplier, product("A"))
    product_id = product_ids(app)["A"]
    response = client.get(f"/s/{ann.slug}/p/{product_id}/poster.svg?inline=1")
    assert response.headers["Content-Disposition"] == (
        f'inline; filename="{ann.slug}-{product_id}.svg"'
    )


def test_the_qr_code_encodes_the_absolute_product_link(app, client, supplier, ann):
    push(supplier, product("A"))
    product_id = product_ids(app)["A"]
    root = parse(client.get(f"/s/{ann.slug}/p/{product_id}/poster.svg"))
    link = f"http://localhost/r/{ann.referral_code}/{product_id}"
    assert qr_cells(root) == expected_cells(link)
    # and the link leads to the product
    followed = client.get(link.removeprefix("http://localhost"))
    assert followed.headers["Location"].startswith(f"/s/{ann.slug}/p/{product_id}?st=")


def test_the_price_is_the_shops_own_in_the_pages_locale(app, client, supplier, ann):
    push(supplier, product("A"))
    product_id = product_ids(app)["A"]
    vids = variant_ids(app)
    edit_shop(app, ann, lambda s, sh: curation.set_price(s, sh, vids["A-M"], 7500, RATES))
    english = texts(parse(client.get(f"/s/{ann.slug}/p/{product_id}/poster.svg?lang=en")))
    chinese = texts(parse(client.get(f"/s/{ann.slug}/p/{product_id}/poster.svg?lang=zh-Hans")))
    assert "CN¥75.00" in english
    assert "¥75.00" in chinese
    assert "商品 A" in chinese  # the supplier's Chinese title


def test_variants_at_different_prices_show_the_lowest_as_from(app, client, supplier, ann):
    push(
        supplier,
        product(
            "A",
            variants=[
                variant("A-S", options={"Size": "S"}, retail_price=5900, min_price=5000),
                variant("A-L", options={"Size": "L"}, retail_price=7900),
            ],
        ),
    )
    product_id = product_ids(app)["A"]
    root = parse(client.get(f"/s/{ann.slug}/p/{product_id}/poster.svg?lang=en"))
    assert "From CN¥59.00" in texts(root)


def test_a_product_the_shop_does_not_list_has_no_poster(app, client, supplier, ann):
    bob = make_shop(app, "bob@example.com")
    push(supplier, product("HIDDEN"), product("GONE", status="archived"))
    ids = product_ids(app)
    edit_shop(app, ann, lambda s, sh: curation.include_products(s, sh, [ids["HIDDEN"]], False))
    assert client.get(f"/s/{ann.slug}/p/{ids['HIDDEN']}/poster.svg").status_code == 404
    assert client.get(f"/s/{bob.slug}/p/{ids['HIDDEN']}/poster.svg").status_code == 200
    for product_id in (ids["GONE"], 987654, 2**63, 10**30):
        assert client.get(f"/s/{ann.slug}/p/{product_id}/poster.svg").status_code == 404


def test_an_unknown_shop_has_no_posters(app, client, supplier):
    push(supplier, product("A"))
    product_id = product_ids(app)["A"]
    assert client.get(f"/s/nobody/p/{product_id}/poster.svg").status_code == 404
    assert client.get("/s/nobody/poster.svg").status_code == 404


def test_markup_in_a_title_stays_text(app, client, supplier, ann):
    push(supplier, product("A", title=SCRIPT_TITLE + "\x01\x08", title_i18n={}))
    product_id = product_ids(app)["A"]
    response = client.get(f"/s/{ann.slug}/p/{product_id}/poster.svg?lang=en")
    root = parse(response)
    tags = {element.tag for element in root.iter()}
    assert tags <= {
        f"{SVG}{name}" for name in ("svg", "title", "rect", "image", "text", "g", "path")
    }
    assert not [element for element in root.iter() if "script" in element.tag]
    assert not [element for element in root.iter() if "onload" in element.attrib]
    assert " ".join(texts(root)).startswith('<script>alert(1)</script> ]]> <svg onload="alert(2)">')
    assert b"<script" not in response.data
    assert b"&lt;script&gt;" in response.data


def test_a_long_title_is_wrapped_and_truncated(app, client, supplier, ann):
    title = "Organic cotton " * 19  # 285 characters: the API's longest is 300
    push(supplier, product("A", title=title.strip(), title_i18n={}))
    product_id = product_ids(app)["A"]
    root = parse(client.get(f"/s/{ann.slug}/p/{product_id}/poster.svg?lang=en"))
    lines = [
        element.text for element in root.iter(f"{SVG}text") if element.get("font-size") == "40"
    ]
    assert len(lines) == 3
    assert lines[0].startswith("Organic cotton")
    assert lines[-1].endswith("…")


# --- shop posters ---------------------------------------------------------------------------


def test_a_shop_poster_has_the_name_welcome_text_and_the_shops_link(app, client):
    welcome = "Welcome to our little shop. " * 20
    ann = make_shop(app, welcome_text=welcome, logo_url="/sf-uploads/logo.png")
    response = client.get(f"/s/{ann.slug}/poster.svg")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"] == f'attachment; filename="{ann.slug}.svg"'
    assert response.headers["Content-Type"] == "image/svg+xml; charset=utf-8"
    root = parse(response)
    assert ann.slug in texts(root)
    welcome_lines = [e.text for e in root.iter(f"{SVG}text") if e.get("font-size") == "32"]
    assert 1 < len(welcome_lines) <= 4
    assert welcome_lines[-1].endswith("…")
    assert qr_cells(root) == expected_cells(f"http://localhost/r/{ann.referral_code}")
    (logo,) = root.iter(f"{SVG}image")
    assert logo.get("href") == "http://localhost/sf-uploads/logo.png"


def test_a_logo_that_is_not_a_web_address_is_left_out(app, client):
    ann = make_shop(app, logo_url="javascript:alert(1)")
    root = parse(client.get(f"/s/{ann.slug}/poster.svg"))
    assert list(root.iter(f"{SVG}image")) == []


def test_markup_in_the_shop_name_and_welcome_text_stays_text(app, client):
    ann = make_shop(app, name=SCRIPT_TITLE, welcome_text="<b>hi</b>\x01 ]]>")
    response = client.get(f"/s/{ann.slug}/poster.svg")
    root = parse(response)
    assert not [element for element in root.iter() if "script" in element.tag]
    assert "<b>hi</b> ]]>" in texts(root)
    assert b"<script" not in response.data


# --- layout, without a request --------------------------------------------------------------


def test_wrap_text_breaks_between_words_and_anywhere_in_chinese():
    assert posters.wrap_text("Blue cotton tee", 400, 40, max_lines=3) == ["Blue cotton tee"]
    assert posters.wrap_text("aaaa bbbb cccc", 37, 10, max_lines=3) == [
        "aaaa",
        "bbbb",
        "cccc",
    ]
    assert posters.wrap_text("一二三四五六七八九", 40, 10, max_lines=2) == ["一二三四", "五六七…"]


def test_wrap_text_cuts_words_longer_than_a_line():
    assert posters.wrap_text("x" * 12, 31, 10, max_lines=3) == ["xxxxx", "xxxxx", "xx"]


def test_wrap_text_drops_what_xml_cannot_carry():
    assert posters.wrap_text(" a\x00b\x1f\ud800 \n c ", 400, 10, max_lines=3) == ["ab c"]
    assert posters.wrap_text("", 400, 10, max_lines=3) == []


def test_the_qr_path_draws_exactly_the_dark_modules():
    matrix = [[True, True, False], [False, True, True], [True, False, True]]
    assert posters.qr_path(matrix) == "M0 0h2v1h-2zM1 1h2v1h-2zM0 2h1v1h-1zM2 2h1v1h-1z"


@pytest.mark.parametrize(
    ("url", "kept"),
    [
        ("https://cdn.example.com/a.jpg", True),
        ("http://cdn.example.com/a.jpg", True),
        ("/relative.png", False),
        ("javascript:alert(1)", False),
        ("data:image/png;base64,AAAA", False),
        ("https://cdn.example.com/a b.jpg", False),
        ("https:///nohost.png", False),
        ("", False),
    ],
)
def test_only_absolute_web_addresses_become_images(url, kept):
    assert posters.absolute_url(url) == (url if kept else None)
