"""Every door bounds its request bodies: a 300 MB upload to the Stripe hook or to a shop form,
with a ``Content-Length`` or chunked without one, answers ``413`` at once, having read at most
the door's bound, and memory stays flat. The host app's own routes keep its own limit."""

from __future__ import annotations

import io
import shutil
import time
import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import build_app
from flask import Flask, request
from flask.testing import EnvironBuilder
from shop_support import make_shop
from stripe_support import TEST_API_KEY, TEST_WEBHOOK_SECRET
from werkzeug.test import run_wsgi_app

#: The body an attacker sends.
HUGE = 300 * 1024 * 1024
#: More than any door's bound (1 MiB for the hook) plus a read buffer or two.
READ_CEILING = 4 * 1024 * 1024
_MULTIPART_HEAD = (
    b'--B\r\nContent-Disposition: form-data; name="upload"; filename="x.bin"\r\n'
    b"Content-Type: application/octet-stream\r\n\r\n"
)


class EndlessBody(io.RawIOBase):
    """A request body made up as it is read (nothing held in memory), that fails the test
    if anything reads past :data:`READ_CEILING`."""

    def __init__(self, head: bytes = b"") -> None:
        self.head = head
        self.served = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        size = len(buffer)
        if self.served + size > READ_CEILING:
            raise AssertionError(f"the server read past {READ_CEILING} bytes of the body")
        start = self.served
        chunk = (self.head[start : start + size]).ljust(size, b"a")
        buffer[:size] = chunk
        self.served += size
        return size


@pytest.fixture
def sqlite_url(sqlite_template: Path, tmp_path: Path) -> str:
    path = tmp_path / "storefront.sqlite3"
    shutil.copy(sqlite_template, path)
    return f"sqlite:///{path}"


@pytest.fixture
def app(sqlite_url: str) -> Iterator[Flask]:
    app = build_app(
        sqlite_url,
        STOREFRONT_DEFAULT_LOCALE="en",
        STOREFRONT_PAYMENT_PROVIDER="stripe",
        STRIPE_SECRET_KEY=TEST_API_KEY,
        STRIPE_WEBHOOK_SECRET=TEST_WEBHOOK_SECRET,
        STRIPE_API_BASE="http://127.0.0.1:9",  # never asked: the body is refused first
    )

    @app.post("/host-upload")
    def host_upload() -> str:
        return str(len(request.get_data()))

    yield app
    app.extensions["storefront"].engine.dispose()


def send(
    app: Flask, path: str, body: EndlessBody, *, chunked: bool, method: str = "POST", **kw: Any
) -> tuple[tuple[int, str], float, int]:
    """Send ``body`` to ``path`` (``POST`` unless ``method``): with a 300 MB
    ``Content-Length``, or chunked (the server ends the stream, as Werkzeug's and
    gunicorn's do: ``wsgi.input_terminated``)."""
    environ = EnvironBuilder(app=app, path=path, method=method, **kw).get_environ()
    environ["wsgi.input"] = body
    if chunked:
        environ.pop("CONTENT_LENGTH", None)
        environ["wsgi.input_terminated"] = True
    else:
        environ["CONTENT_LENGTH"] = str(HUGE)
    tracemalloc.start()
    started = time.monotonic()
    try:
        app_iter, status, _ = run_wsgi_app(app.wsgi_app, environ, buffered=True)
        elapsed = time.monotonic() - started
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return (int(status.split()[0]), b"".join(app_iter).decode()), elapsed, peak


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_a_300_mb_stripe_event_is_refused_before_it_is_read(app: Flask, chunked: bool) -> None:
    # Given an unauthenticated 300 MB POST to the Stripe hook
    body = EndlessBody(b'{"id": "evt_1", "data": "')
    # When it is sent
    response, elapsed, peak = send(
        app, "/hooks/stripe", body, chunked=chunked, content_type="application/json"
    )
    # Then it is refused as too large, quickly, having read at most the hook's 1 MiB bound
    assert response == (413, "This request is too large.\n")
    assert body.served <= 1024 * 1024 + 64 * 1024
    assert elapsed < 5
    assert peak < 8 * 1024 * 1024


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_a_300_mb_shop_form_is_refused_before_it_is_read(app: Flask, chunked: bool) -> None:
    # Given a shop and a 300 MB multipart upload to its cart
    shop = make_shop(app)
    body = EndlessBody(_MULTIPART_HEAD)
    # When it is posted to the cart, in Chinese
    response, elapsed, peak = send(
        app,
        f"/s/{shop.slug}/cart/add?lang=zh-Hans",
        body,
        chunked=chunked,
        content_type="multipart/form-data; boundary=B",
    )
    # Then the shop refuses it as too large, having read at most its 64 KiB form bound
    assert response == (413, "请求内容过大。\n")
    assert body.served <= 64 * 1024 + 64 * 1024
    assert elapsed < 5
    assert peak < 8 * 1024 * 1024


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_a_300_mb_api_body_is_refused_at_the_configured_bound(
    sqlite_url: str, chunked: bool
) -> None:
    # Given the supplier API configured to take bodies of 1 MiB
    app = build_app(sqlite_url, STOREFRONT_MAX_REQUEST_BYTES=1024 * 1024)
    body = EndlessBody(b'{"products": [')
    # When 300 MB are sent to it (no key needed: the size is checked first)
    (status, text), elapsed, peak = send(
        app,
        "/api/v1/supplier/products",
        body,
        chunked=chunked,
        method="PUT",
        content_type="application/json",
    )
    # Then its JSON 413 answers, having read at most the bound
    assert status == 413
    assert '"status": 413' in text or '"status":413' in text
    assert body.served <= 1024 * 1024 + 64 * 1024
    assert elapsed < 5
    assert peak < 8 * 1024 * 1024
    app.extensions["storefront"].engine.dispose()


def test_a_form_over_the_shop_bound_is_refused_and_the_setting_moves_it(
    sqlite_url: str,
) -> None:
    # Given a shop whose forms may carry 2 KiB
    app = build_app(sqlite_url, STOREFRONT_MAX_FORM_BYTES=2048, STOREFRONT_PAYMENT_PROVIDER="dev")
    shop = make_shop(app)
    client = app.test_client()
    # When a 3 KiB form is posted to its checkout
    response = client.post(f"/s/{shop.slug}/checkout", data={"name": "x" * 3072})
    # Then it is too large
    assert response.status_code == 413
    app.extensions["storefront"].engine.dispose()


def test_the_host_apps_own_routes_keep_their_own_limit(app: Flask) -> None:
    # Given a host route without a MAX_CONTENT_LENGTH, beside the library's doors
    # When it gets a 2 MiB body (over every bound of the library's doors)
    response = app.test_client().post("/host-upload", data=b"a" * (2 * 1024 * 1024))
    # Then it reads it all
    assert response.status_code == 200
    assert response.get_data(as_text=True) == str(2 * 1024 * 1024)
