"""The machines' doors answer with ``Cache-Control: no-store`` and ``nosniff`` (successes
and errors alike), and every door of the library sends ``Strict-Transport-Security`` when it
is served over HTTPS (also behind a proxy, through ``ProxyFix``), never over plain HTTP and
never on the host app's own routes."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import SupplierClient, build_app, new_supplier_client
from flask import Flask
from shop_support import make_shop
from werkzeug.middleware.proxy_fix import ProxyFix

ONE_YEAR = "max-age=31536000"


@pytest.fixture
def sqlite_url(sqlite_template: Path, tmp_path: Path) -> str:
    path = tmp_path / "storefront.sqlite3"
    shutil.copy(sqlite_template, path)
    return f"sqlite:///{path}"


def _app(sqlite_url: str, **config: Any) -> Flask:
    app = build_app(sqlite_url, **config)

    @app.get("/host-page")
    def host_page() -> str:
        return "the host's own page"

    return app


@pytest.fixture
def app(sqlite_url: str) -> Iterator[Flask]:
    app = _app(sqlite_url)
    yield app
    app.extensions["storefront"].engine.dispose()


@pytest.fixture
def supplier(app: Flask) -> SupplierClient:
    return new_supplier_client(app)


def _never_stored_nor_sniffed(response: Any) -> None:
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "no-store"


def test_supplier_api_answers_are_never_stored_nor_sniffed(
    app: Flask, supplier: SupplierClient
) -> None:
    # Given a supplier
    # When it lists its products, and when a request comes without a key
    listed = supplier.get("/products")
    refused = app.test_client().get("/api/v1/supplier/products")
    # Then both answers say no-store and nosniff
    assert (listed.status_code, refused.status_code) == (200, 401)
    _never_stored_nor_sniffed(listed)
    _never_stored_nor_sniffed(refused)


def test_provider_hook_answers_are_never_stored_nor_sniffed(app: Flask) -> None:
    # Given an app without Stripe
    # When something posts to the Stripe hook
    response = app.test_client().post("/hooks/stripe", data=b"{}")
    # Then the answer says no-store and nosniff
    assert response.status_code == 404
    _never_stored_nor_sniffed(response)


@pytest.mark.parametrize("door", ["shop", "api", "hook", "console"])
def test_every_door_sends_hsts_over_https_only(
    app: Flask, supplier: SupplierClient, door: str
) -> None:
    # Given one of the library's doors
    shop = make_shop(app)
    path, headers = {
        "shop": (f"/s/{shop.slug}/", {}),
        "api": ("/api/v1/supplier/products", {"Authorization": f"Bearer {supplier.api_key}"}),
        "hook": ("/hooks/stripe", {}),
        "console": ("/console/login", {}),
    }[door]
    method = "POST" if door == "hook" else "GET"
    client = app.test_client()
    # When it is asked over HTTPS, and over plain HTTP
    secure = client.open(path, method=method, headers=headers, base_url="https://shop.test")
    plain = client.open(path, method=method, headers=headers, base_url="http://shop.test")
    # Then only the HTTPS answer carries Strict-Transport-Security
    assert secure.headers["Strict-Transport-Security"] == ONE_YEAR
    assert "Strict-Transport-Security" not in plain.headers


def test_the_host_apps_own_routes_get_no_hsts(app: Flask) -> None:
    # Given a route of the host app
    # When it is asked over HTTPS
    response = app.test_client().get("/host-page", base_url="https://shop.test")
    # Then the library adds nothing to it
    assert response.status_code == 200
    assert "Strict-Transport-Security" not in response.headers


def test_behind_a_proxy_proxyfix_makes_the_forwarded_https_count(sqlite_url: str) -> None:
    # Given an app behind a TLS-terminating proxy, with ProxyFix trusting X-Forwarded-Proto
    app = _app(sqlite_url, STOREFRONT_HSTS_SECONDS=600)
    app.wsgi_app = ProxyFix(app.wsgi_app, x_proto=1)  # type: ignore[method-assign]
    shop = make_shop(app)
    # When a page comes through the proxy as HTTPS
    response = app.test_client().get(f"/s/{shop.slug}/", headers={"X-Forwarded-Proto": "https"})
    # Then it carries HSTS with the configured max-age
    assert response.headers["Strict-Transport-Security"] == "max-age=600"
    app.extensions["storefront"].engine.dispose()


def test_zero_seconds_sends_no_hsts(sqlite_url: str) -> None:
    # Given HSTS turned off
    app = _app(sqlite_url, STOREFRONT_HSTS_SECONDS=0)
    shop = make_shop(app)
    # When a page is served over HTTPS
    response = app.test_client().get(f"/s/{shop.slug}/", base_url="https://shop.test")
    # Then there is no HSTS header
    assert response.status_code == 200
    assert "Strict-Transport-Security" not in response.headers
    app.extensions["storefront"].engine.dispose()
