"""Share posters as PNG: the product image and the shop's logo embedded (fetched under the
outgoing-HTTP policy, left out when they cannot be had), a QR code that is the referral
link module for module, and the shop's share box offering it to a long press."""

from __future__ import annotations

import io
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import qrcode
from conftest import build_app, new_supplier_client
from flask import Flask
from PIL import Image
from qrcode.constants import ERROR_CORRECT_M
from shop_support import make_shop, product, product_ids, push

from storefront_sdk.catalog.models import Product
from storefront_sdk.db import session_scope
from storefront_sdk.errors import ConfigurationError
from storefront_sdk.shops.poster_png import PRODUCT_QR, SHOP_QR, qr_placement
from storefront_sdk.storage import LocalFolderStorage

RED, BLUE = (255, 0, 0), (0, 0, 255)


def _two_colour_png() -> bytes:
    """A 400 x 400 PNG: its left half red, its right half blue."""
    picture = Image.new("RGB", (400, 400), BLUE)
    picture.paste(Image.new("RGB", (200, 400), RED), (0, 0))
    out = io.BytesIO()
    picture.save(out, "PNG")
    return out.getvalue()


class _Images:
    """A local HTTP server with one real PNG at ``/tee.png`` (everything else: 404)."""

    def __init__(self) -> None:
        self.requests: list[str] = []
        body, seen = _two_colour_png(), self.requests

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                seen.append(self.path)
                found = self.path == "/tee.png"
                self.send_response(200 if found else 404)
                self.send_header("Content-Type", "image/png" if found else "text/plain")
                self.send_header("Content-Length", str(len(body) if found else 0))
                self.end_headers()
                if found:
                    self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def images() -> Iterator[_Images]:
    server = _Images()
    yield server
    server.close()


def _app(db_url: str, upload_folder: Path, **config: object) -> Flask:
    app = build_app(db_url, **config)
    app.extensions["storefront"].storage = LocalFolderStorage(upload_folder)
    return app


@pytest.fixture
def local_app(db_url: str, upload_folder: Path) -> Iterator[Flask]:
    """An app whose posters may fetch from 127.0.0.1 (as the webhook tests allow it)."""
    app = _app(db_url, upload_folder, STOREFRONT_WEBHOOK_ALLOW_PRIVATE=True)
    yield app
    app.extensions["storefront"].engine.dispose()


def _poster(app: Flask, path: str) -> Image.Image:
    return _png(app.test_client().get(path))


def _png(response: Any) -> Image.Image:
    """The PNG poster a response carries (the test fails if it is not one, 750 x 1334)."""
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    assert response.headers["Content-Type"] == "image/png"
    picture = Image.open(io.BytesIO(response.data))
    assert (picture.format, picture.size) == ("PNG", (750, 1334))
    return picture.convert("RGB")


def _expected_modules(data: str) -> list[list[bool]]:
    """The QR code of ``data`` as qrcode makes it (independently of the poster code)."""
    code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, border=0)
    code.add_data(data)
    code.make(fit=True)
    return [[bool(dark) for dark in row] for row in code.get_matrix()]


def _drawn_modules(picture: Image.Image, link: str, box: tuple[int, int, int]) -> list[list[bool]]:
    """The modules the poster drew, read back from the centre pixel of each."""
    where = qr_placement(link, box)
    half = where.scale // 2
    return [
        [
            picture.getpixel(
                (where.left + x * where.scale + half, where.top + y * where.scale + half)
            )
            == (0, 0, 0)
            for x in range(where.modules)
        ]
        for y in range(where.modules)
    ]


def _near(pixel: object, colour: tuple[int, int, int]) -> bool:
    assert isinstance(pixel, tuple)
    return all(abs(a - b) <= 8 for a, b in zip(pixel, colour, strict=True))


def _shop_with_product(app: Flask, image_url: str, **shop: object) -> tuple[str, int, str]:
    """Ann's shop selling a tee whose image is at ``image_url``: its slug, the product's id
    and its referral link."""
    supplier = new_supplier_client(app)
    push(supplier, product("TEE", title="Linen tee", title_i18n={}))
    made = make_shop(app, "ann@example.com", **shop)
    product_id = product_ids(app)["TEE"]
    # The API takes https:// images only; the local server speaks plain HTTP.
    with session_scope(app) as session:
        session.get_one(Product, product_id).images = [image_url]
    return made.slug, product_id, f"http://localhost/r/{made.referral_code}/{product_id}"


def test_a_product_poster_png_embeds_the_product_image_and_the_referral_qr_code(
    local_app: Flask, images: _Images
) -> None:
    # Given a product whose image is a real PNG on a web server, in Ann's shop
    slug, product_id, link = _shop_with_product(local_app, f"{images.base}/tee.png")
    # When the PNG poster is asked for
    response = local_app.test_client().get(f"/s/{slug}/p/{product_id}/poster.png")
    picture = _png(response)
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="{slug}-{product_id}.png"'
    )
    # Then the product image's pixels are in it (fetched, not linked)
    assert images.requests == ["/tee.png"]
    assert _near(picture.getpixel((100, 375)), RED)
    assert _near(picture.getpixel((650, 375)), BLUE)
    # and its QR code is the product's referral link, module for module
    assert _drawn_modules(picture, link, PRODUCT_QR) == _expected_modules(link)


def test_a_product_image_that_cannot_be_fetched_leaves_the_poster_without_it(
    local_app: Flask, images: _Images
) -> None:
    slug, product_id, link = _shop_with_product(local_app, f"{images.base}/gone.png")
    picture = _poster(local_app, f"/s/{slug}/p/{product_id}/poster.png")
    assert images.requests == ["/gone.png"]
    assert picture.getpixel((100, 375)) == (242, 242, 242)  # the empty image area
    assert _drawn_modules(picture, link, PRODUCT_QR) == _expected_modules(link)


def test_a_private_address_is_never_fetched_for_a_poster(
    db_url: str, upload_folder: Path, images: _Images
) -> None:
    # Given the production policy (no private addresses) and an image on 127.0.0.1
    app = _app(db_url, upload_folder)
    try:
        slug, product_id, _link = _shop_with_product(app, f"{images.base}/tee.png")
        picture = _poster(app, f"/s/{slug}/p/{product_id}/poster.png")
    finally:
        app.extensions["storefront"].engine.dispose()
    # Then the server is never asked, and the poster renders without the image
    assert images.requests == []
    assert picture.getpixel((100, 375)) == (242, 242, 242)


def test_a_shop_poster_png_embeds_the_uploaded_logo(local_app: Flask) -> None:
    # Given a shop whose logo (solid blue) is in the logo storage
    logo = io.BytesIO()
    Image.new("RGB", (64, 64), BLUE).save(logo, "PNG")
    url = local_app.extensions["storefront"].storage.save(logo.getvalue(), "logo.png", "image/png")
    shop = make_shop(local_app, "ann@example.com", logo_url=url)
    # When its PNG poster is asked for
    picture = _poster(local_app, f"/s/{shop.slug}/poster.png")
    # Then the logo's pixels are in it, and the QR code is the shop's link
    assert picture.getpixel((375, 130)) == BLUE
    link = f"http://localhost/r/{shop.referral_code}"
    assert _drawn_modules(picture, link, SHOP_QR) == _expected_modules(link)


def test_the_share_box_offers_the_png_poster_to_a_long_press_in_chinese(
    local_app: Flask, images: _Images
) -> None:
    slug, product_id, _link = _shop_with_product(
        local_app, f"{images.base}/tee.png", locale="zh-Hans"
    )
    page = local_app.test_client().get(f"/s/{slug}/p/{product_id}").get_data(as_text=True)
    assert f'src="/s/{slug}/p/{product_id}/poster.png"' in page
    assert "长按保存或识别" in page
    assert f'href="/s/{slug}/p/{product_id}/poster.svg" download' in page


def test_a_poster_font_that_is_not_a_file_stops_the_app(db_url: str, tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="STOREFRONT_POSTER_FONT must be the path"):
        build_app(db_url, STOREFRONT_POSTER_FONT=str(tmp_path / "missing.ttf"))
