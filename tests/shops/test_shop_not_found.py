"""An address with no open shop (unknown, suspended, waiting for approval): the host app's own
404 handler renders it when it has one; otherwise the library's styled page, never a bare
"Not Found". A missing product of an open shop keeps the shop's own page."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import build_app
from flask import Flask
from shop_support import edit_shop, make_shop
from werkzeug.exceptions import HTTPException, NotFound

from storefront_sdk.db import session_scope
from storefront_sdk.shops.models import Distributor
from storefront_sdk.web.shop import CSP


def _suspend(app: Flask, distributor_id: int) -> None:
    with session_scope(app) as session:
        session.get_one(Distributor, distributor_id).status = "suspended"


@pytest.fixture
def host_app(db_url: str) -> Iterator[Flask]:
    """A host app with a 404 handler of its own, registered after the storefront."""
    app = build_app(db_url)

    @app.errorhandler(404)
    def host_not_found(error: NotFound) -> tuple[str, int]:
        return f"host 404: {type(error).__name__}", 404

    yield app
    app.extensions["storefront"].engine.dispose()


def test_an_unknown_shop_is_rendered_by_the_hosts_own_404_handler(host_app: Flask) -> None:
    answer = host_app.test_client().get("/s/no-such-shop/")

    assert answer.status_code == 404
    assert answer.get_data(as_text=True) == "host 404: NotFound"


def test_a_suspended_shop_is_rendered_by_the_hosts_own_404_handler(host_app: Flask) -> None:
    shop = make_shop(host_app)
    _suspend(host_app, shop.distributor_id)

    answer = host_app.test_client().get(f"/s/{shop.slug}/cart")

    assert (answer.status_code, answer.get_data(as_text=True)) == (404, "host 404: NotFound")


def test_a_hosts_handler_of_every_http_error_is_used_too(db_url: str) -> None:
    app = build_app(db_url)

    @app.errorhandler(HTTPException)
    def host_error(error: HTTPException) -> tuple[str, int]:
        return f"host error {error.code}", error.code or 500

    answer = app.test_client().get("/s/no-such-shop/")

    assert (answer.status_code, answer.get_data(as_text=True)) == (404, "host error 404")
    app.extensions["storefront"].engine.dispose()


@pytest.mark.parametrize("path", ["/s/no-such-shop/", "/s/no-such-shop/p/1", "/s/x/cart"])
def test_without_a_host_handler_an_unknown_shop_gets_the_styled_page(
    client: object, path: str
) -> None:
    answer = client.get(path + "?lang=en")  # type: ignore[attr-defined]

    html = answer.get_data(as_text=True)
    assert answer.status_code == 404
    assert '<main data-testid="no-shop">' in html
    assert "<title>This shop is not open</title>" in html
    assert "There is no shop at this address, or it is closed for now." in html
    assert answer.headers["Content-Security-Policy"] == CSP
    assert answer.headers["Content-Language"] == "en"


def test_a_suspended_shop_gets_the_styled_page_in_the_visitors_language(
    app: Flask, client: object
) -> None:
    shop = make_shop(app)
    _suspend(app, shop.distributor_id)

    answer = client.get(f"/s/{shop.slug}/", headers={"Accept-Language": "zh-CN"})  # type: ignore[attr-defined]

    html = answer.get_data(as_text=True)
    assert answer.status_code == 404
    assert '<main data-testid="no-shop">' in html
    assert "<title>此店铺未开放</title>" in html
    assert shop.slug not in html  # it names no shop


def test_a_missing_product_of_an_open_shop_keeps_the_shops_own_page(
    app: Flask, client: object
) -> None:
    shop = make_shop(app)
    edit_shop(app, shop, lambda s, sh: setattr(sh, "name", "Ann's corner"))

    answer = client.get(f"/s/{shop.slug}/p/999?lang=en")  # type: ignore[attr-defined]

    html = answer.get_data(as_text=True)
    assert answer.status_code == 404
    assert "This page is not in the shop (any more)." in html
    assert "Ann&#39;s corner" in html


def test_the_example_shop_shows_the_styled_page(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from example_shop import create_app

    monkeypatch.setenv("EXAMPLE_SHOP_INSTANCE_PATH", str(tmp_path / "instance"))
    app = create_app({"STOREFRONT_DATABASE_URL": db_url, "TESTING": True})

    answer = app.test_client().get("/s/no-such-shop/?lang=en")

    assert answer.status_code == 404
    assert '<main data-testid="no-shop">' in answer.get_data(as_text=True)
    app.extensions["storefront"].engine.dispose()
