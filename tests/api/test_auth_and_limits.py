"""Bearer-key authentication (401), request size limit (413) and rate limit (429)."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator

import pytest
from api_support import assert_json_error, external_ids, products_body
from conftest import SupplierClient, build_app, new_supplier_client
from flask import Flask
from sqlmodel import col, select

from storefront_sdk.catalog.models import ApiKey
from storefront_sdk.catalog.suppliers import PREFIX_LENGTH, create_api_key, revoke_api_key
from storefront_sdk.db import session_scope, utcnow
from storefront_sdk.testing.factories import product_payload

BASE = "/api/v1/supplier"


def _assert_401(response) -> None:
    assert_json_error(response, 401)
    assert response.headers["WWW-Authenticate"].lower().startswith("bearer")


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/products"),
        ("get", "/products/P0"),
        ("put", "/products"),
        ("delete", "/products/P0"),
        ("patch", "/stock"),
    ],
)
def test_every_endpoint_needs_a_key(client, method, path):
    # Given no Authorization header
    # When any supplier endpoint is called
    response = getattr(client, method)(BASE + path, json={"items": [{"sku": "x", "stock": 1}]})

    # Then the answer is a JSON 401 with a WWW-Authenticate challenge
    _assert_401(response)


@pytest.mark.parametrize(
    "header",
    [
        "Basic dXNlcjpwYXNzd29yZA==",
        "Bearer",
        "Bearer ",
        "{key}",
        "Token {key}",
        "Bearer{key}",
        "Bearer not-a-storefront-key",
        "Bearer sfk_",
    ],
    ids=[
        "basic",
        "bearer_alone",
        "bearer_blank",
        "no_scheme",
        "other_scheme",
        "no_space",
        "not_a_key",
        "marker_only",
    ],
)
def test_malformed_authorization_is_refused(supplier, header):
    # Given a malformed Authorization header (some built around the real key)
    headers = {"Authorization": header.format(key=supplier.api_key)}

    # When the list is requested
    response = supplier.client.get(f"{BASE}/products", headers=headers)

    # Then the answer is a JSON 401
    _assert_401(response)


def test_unknown_key_is_refused(client):
    # Given a well-formed key that was never issued
    headers = {"Authorization": "Bearer sfk_0123456789ab_" + "A" * 43}

    # When the list is requested
    response = client.get(f"{BASE}/products", headers=headers)

    # Then the answer is a JSON 401
    _assert_401(response)


def test_known_prefix_with_wrong_secret_is_refused(supplier):
    # Given a live key whose secret part is altered
    forged = supplier.api_key[: PREFIX_LENGTH + 1] + "x" * 43

    # When the list is requested with it
    response = supplier.client.get(
        f"{BASE}/products", headers={"Authorization": f"Bearer {forged}"}
    )

    # Then the answer is a JSON 401
    _assert_401(response)


def _revoke(app: Flask, supplier: SupplierClient) -> None:
    with session_scope(app) as session:
        key = session.scalars(
            select(ApiKey).where(col(ApiKey.prefix) == supplier.api_key[:PREFIX_LENGTH])
        ).one()
        revoke_api_key(session, supplier.supplier_id, key.id or 0, utcnow())


def test_revoked_key_is_refused(app, supplier):
    # Given a key that worked and was then revoked
    assert supplier.get("/products").status_code == 200
    _revoke(app, supplier)

    # When it is used again
    response = supplier.get("/products")

    # Then the answer is a JSON 401
    _assert_401(response)


def test_revoking_one_key_leaves_the_suppliers_other_keys_working(app, supplier):
    # Given a supplier with a second key, whose first key is revoked
    with session_scope(app) as session:
        _, second_key = create_api_key(session, supplier.supplier_id)
    _revoke(app, supplier)

    # When the second key is used
    second = SupplierClient(app.test_client(), supplier.supplier_id, second_key)
    response = second.get("/products")

    # Then it works
    assert response.status_code == 200


def test_refused_request_writes_nothing(supplier):
    # Given no Authorization header
    body = products_body(product_payload("P0"))

    # When a product upsert is sent
    response = supplier.client.put(f"{BASE}/products", json=body)

    # Then it is refused and the supplier's catalogue is still empty
    _assert_401(response)
    assert external_ids(supplier) == []


@pytest.fixture
def small_app(db_url: str) -> Iterator[Flask]:
    """An app accepting request bodies of at most 2048 bytes."""
    app = build_app(db_url, STOREFRONT_MAX_REQUEST_BYTES=2048)
    yield app
    app.extensions["storefront"].engine.dispose()


def _body_of_size(size: int) -> bytes:
    """A valid one-product upsert body padded with JSON whitespace to ``size`` bytes."""
    raw = json.dumps(products_body(product_payload("P0"))).encode()
    assert len(raw) <= size
    return raw + b" " * (size - len(raw))


def test_body_over_the_limit_is_a_json_413(small_app):
    # Given an app limited to 2048-byte bodies
    supplier = new_supplier_client(small_app)

    # When a 2049-byte upsert is sent
    response = supplier.put(
        "/products", data=_body_of_size(2049), headers={"Content-Type": "application/json"}
    )

    # Then the answer is a JSON 413 and nothing is written
    assert_json_error(response, 413)
    assert external_ids(supplier) == []


def test_big_bulk_body_over_the_limit_is_a_json_413(small_app):
    # Given an app limited to 2048-byte bodies
    supplier = new_supplier_client(small_app)

    # When a valid ten-product upsert (well over 2 KiB) is sent
    body = products_body(*(product_payload(f"P{i}") for i in range(10)))
    response = supplier.put("/products", json=body)

    # Then the answer is a JSON 413 and nothing is written
    assert_json_error(response, 413)
    assert external_ids(supplier) == []


def test_body_at_the_limit_is_accepted(small_app):
    # Given an app limited to 2048-byte bodies
    supplier = new_supplier_client(small_app)

    # When a 2048-byte upsert is sent
    response = supplier.put(
        "/products", data=_body_of_size(2048), headers={"Content-Type": "application/json"}
    )

    # Then it is processed
    assert response.status_code == 200, response.json
    assert response.json == {"created": 1, "updated": 0, "unchanged": 0}


def test_chunked_body_over_the_limit_is_a_json_413(small_app):
    # Given an app limited to 2048-byte bodies
    supplier = new_supplier_client(small_app)

    # When a ten-product upsert (well over 2 KiB) is streamed chunked, without a
    # Content-Length (as a WSGI server passes a chunked body: input_terminated)
    body = products_body(*(product_payload(f"P{i}") for i in range(10)))
    response = supplier.put(
        "/products",
        input_stream=io.BytesIO(json.dumps(body).encode()),
        headers={"Content-Type": "application/json", "Transfer-Encoding": "chunked"},
        environ_overrides={"wsgi.input_terminated": True},
    )

    # Then the answer is a JSON 413 and nothing is written
    assert_json_error(response, 413)
    assert external_ids(supplier) == []


def test_chunked_body_within_the_limit_is_accepted(small_app):
    # Given an app limited to 2048-byte bodies
    supplier = new_supplier_client(small_app)

    # When a 2048-byte upsert is streamed chunked, without a Content-Length
    response = supplier.put(
        "/products",
        input_stream=io.BytesIO(_body_of_size(2048)),
        headers={"Content-Type": "application/json", "Transfer-Encoding": "chunked"},
        environ_overrides={"wsgi.input_terminated": True},
    )

    # Then it is processed
    assert response.status_code == 200, response.json
    assert response.json == {"created": 1, "updated": 0, "unchanged": 0}


def test_stock_body_over_the_limit_is_a_json_413(small_app):
    # Given an app limited to 2048-byte bodies
    supplier = new_supplier_client(small_app)

    # When a stock batch over 2 KiB is sent
    response = supplier.patch("/stock", json={"items": [{"sku": "X-M", "stock": 1}] * 200})

    # Then the answer is a JSON 413
    assert_json_error(response, 413)


@pytest.fixture
def limited_app(db_url: str) -> Iterator[Flask]:
    """An app allowing 3 requests per minute per supplier key."""
    app = build_app(db_url, STOREFRONT_SUPPLIER_RATE_LIMIT="3/minute")
    yield app
    app.extensions["storefront"].engine.dispose()


def test_request_past_the_rate_limit_is_a_429_with_retry_after(limited_app):
    # Given a supplier that made its 3 allowed requests this minute
    supplier = new_supplier_client(limited_app)
    assert [supplier.get("/products").status_code for _ in range(3)] == [200, 200, 200]

    # When it makes a 4th
    response = supplier.get("/products")

    # Then the answer is a JSON 429 with a positive integer Retry-After of at most a minute
    assert_json_error(response, 429)
    retry_after = response.headers["Retry-After"]
    assert retry_after.isdigit(), retry_after
    assert 1 <= int(retry_after) <= 60


def test_rate_limited_write_is_not_applied(limited_app):
    # Given a supplier that made its 3 allowed requests this minute
    supplier = new_supplier_client(limited_app)
    for _ in range(3):
        supplier.get("/products")

    # When it sends an upsert
    response = supplier.put("/products", json=products_body(product_payload("P0")))

    # Then it is refused and nothing is written (checked by another key of the same app)
    assert_json_error(response, 429)
    with session_scope(limited_app) as session:
        _, fresh_key = create_api_key(session, supplier.supplier_id)
    fresh = SupplierClient(limited_app.test_client(), supplier.supplier_id, fresh_key)
    assert external_ids(fresh) == []


def test_one_suppliers_usage_does_not_limit_another(limited_app):
    # Given supplier A rate limited
    supplier_a = new_supplier_client(limited_app)
    supplier_b = new_supplier_client(limited_app)
    for _ in range(4):
        supplier_a.get("/products")
    assert supplier_a.get("/products").status_code == 429

    # When supplier B makes its requests
    statuses = [supplier_b.get("/products").status_code for _ in range(3)]

    # Then all of them are served
    assert statuses == [200, 200, 200]
