"""Helpers shared by the supplier API tests (plain functions, no fixtures)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from conftest import SupplierClient

from storefront_sdk.testing.factories import product_payload


def products_body(*products: dict[str, Any]) -> dict[str, Any]:
    """The body of ``PUT /products`` for ``products``."""
    return {"products": list(products)}


def create_products(supplier: SupplierClient, *external_ids: str) -> None:
    """Create valid products (factory defaults) and check the call created them all."""
    response = supplier.put(
        "/products", json=products_body(*(product_payload(e) for e in external_ids))
    )
    assert response.status_code == 200, response.json
    assert response.json == {"created": len(external_ids), "updated": 0, "unchanged": 0}


def assert_json_error(response: Any, status: int) -> dict[str, Any]:
    """Check ``response`` is the API's JSON error with ``status``; return its body."""
    assert response.status_code == status, (response.status_code, response.get_data(as_text=True))
    assert response.is_json, response.get_data(as_text=True)
    body: dict[str, Any] = response.json
    assert body["status"] == status
    assert isinstance(body["message"], str)
    assert body["message"]
    assert isinstance(body["error"], str)
    return body


def error_paths(tree: dict[str, Any], prefix: str = "") -> set[str]:
    """The dotted locations of every message list in an ``errors`` tree.

    Each leaf must be a non-empty list of non-empty strings (the messages themselves are the
    implementation's wording and are not compared).
    """
    paths: set[str] = set()
    assert isinstance(tree, dict), tree
    assert tree, tree
    for key, value in tree.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict):
            paths |= error_paths(value, path + ".")
        else:
            assert isinstance(value, list), (path, value)
            assert value, path
            assert all(isinstance(m, str) and m for m in value), (path, value)
            paths.add(path)
    return paths


def list_all(supplier: SupplierClient, limit: int = 200, **query: str) -> list[dict[str, Any]]:
    """Every product of the supplier, walking all pages."""
    items: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"limit": limit, **query}
        if cursor:
            params["cursor"] = cursor
        response = supplier.get("/products", query_string=params)
        assert response.status_code == 200, response.json
        items.extend(response.json["items"])
        cursor = response.json["next_cursor"]
        if cursor is None:
            return items


def external_ids(supplier: SupplierClient, **query: str) -> list[str]:
    """The ``external_id`` of every product of the supplier, in list order."""
    return [p["external_id"] for p in list_all(supplier, **query)]


def fetch(supplier: SupplierClient, external_id: str) -> dict[str, Any]:
    """``GET /products/<external_id>``, which must succeed."""
    response = supplier.get(f"/products/{external_id}")
    assert response.status_code == 200, response.get_data(as_text=True)
    body: dict[str, Any] = response.json
    return body


def variant_of(product: dict[str, Any], sku: str) -> dict[str, Any]:
    """The (active) variant ``sku`` of a fetched product."""
    (variant,) = [v for v in product["variants"] if v["sku"] == sku]
    return variant


def rfc3339(moment: datetime) -> str:
    """``moment`` in UTC as an RFC 3339 string ending in ``Z``."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def send_together(
    supplier: SupplierClient, count: int, request: Callable[[SupplierClient], Any]
) -> list[Any]:
    """Run ``request`` from ``count`` threads at once, each with its own client of
    ``supplier``; returns each thread's result, or the exception it raised."""
    app = supplier.client.application
    barrier = threading.Barrier(count)
    results: list[Any] = [None] * count

    def run(slot: int) -> None:
        client = SupplierClient(app.test_client(), supplier.supplier_id, supplier.api_key)
        barrier.wait()
        try:
            results[slot] = request(client)
        except Exception as exc:  # reported by the caller's assertions
            results[slot] = exc

    threads = [threading.Thread(target=run, args=(slot,)) for slot in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return results
