"""Concurrent syncs of the same new products on PostgreSQL: each product is created once.

Syncs of one supplier are serialised by a lock on its row, so the first request creates the
products (with plain INSERTs) and the others find them unchanged.
"""

from __future__ import annotations

import threading
from typing import Any

from api_support import list_all, products_body
from conftest import SupplierClient, new_supplier_client

from storefront_sdk.testing.factories import product_payload


def test_concurrent_creates_of_the_same_products_all_succeed(pg_app):
    # Given 6 clients of one supplier about to send the same 40 new products
    supplier = new_supplier_client(pg_app)
    body = products_body(*(product_payload(f"P{n:02d}") for n in range(40)))
    barrier = threading.Barrier(6)
    results: list[Any] = [None] * 6

    def send(slot: int) -> None:
        client = SupplierClient(pg_app.test_client(), supplier.supplier_id, supplier.api_key)
        barrier.wait()
        try:
            response = client.put("/products", json=body)
            results[slot] = (response.status_code, response.json)
        except Exception as exc:  # reported by the assertions below
            results[slot] = exc

    threads = [threading.Thread(target=send, args=(slot,)) for slot in range(6)]
    # When they all send at once
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    # Then every request succeeds: exactly one created the products, the rest saw them
    assert all(isinstance(r, tuple) and r[0] == 200 for r in results), results
    counts = sorted((c["created"], c["updated"], c["unchanged"]) for _, c in results)
    assert counts == [(0, 0, 40)] * 5 + [(40, 0, 0)]
    # And each product and variant exists exactly once
    products = list_all(supplier)
    assert sorted(p["external_id"] for p in products) == [f"P{n:02d}" for n in range(40)]
    assert sorted(v["sku"] for p in products for v in p["variants"]) == [
        f"P{n:02d}-M" for n in range(40)
    ]
