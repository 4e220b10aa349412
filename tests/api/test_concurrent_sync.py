"""Concurrent syncs of the same new products on PostgreSQL: each product is created once.

Syncs of one supplier run in parallel. A request whose plan was overtaken by another
request writing the same products answers a retryable 409 and writes nothing; its retry
finds the products unchanged.
"""

from __future__ import annotations

from typing import Any

import pytest
from api_support import list_all, products_body, send_together
from conftest import SupplierClient, new_supplier_client

from storefront_sdk import Conflict
from storefront_sdk.catalog.models import Supplier
from storefront_sdk.catalog.sync import apply_sync, check_products, plan_sync
from storefront_sdk.db import utcnow
from storefront_sdk.testing.factories import product_payload, variant_payload


def test_concurrent_creates_of_the_same_products_all_succeed(pg_app):
    # Given 6 clients of one supplier about to send the same 40 new products
    supplier = new_supplier_client(pg_app)
    body = products_body(*(product_payload(f"P{n:02d}") for n in range(40)))

    def send(client: SupplierClient) -> Any:
        response = client.put("/products", json=body)
        return (response.status_code, response.json)

    # When they all send at once
    results = send_together(supplier, 6, send)

    # Then each request either succeeded or was told to retry, and one of them created all
    assert all(isinstance(r, tuple) and r[0] in (200, 409) for r in results), results
    succeeded = [answer for status, answer in results if status == 200]
    assert sum(answer["created"] for answer in succeeded) == 40
    for status, answer in results:
        if status == 409:
            assert answer["message"].endswith("changed by a concurrent request; retry.")
    # And a retry of the same body finds nothing left to do
    assert supplier.put("/products", json=body).json == {
        "created": 0,
        "updated": 0,
        "unchanged": 40,
    }
    # And each product and variant exists exactly once
    products = list_all(supplier)
    assert sorted(p["external_id"] for p in products) == [f"P{n:02d}" for n in range(40)]
    assert sorted(v["sku"] for p in products for v in p["variants"]) == [
        f"P{n:02d}-M" for n in range(40)
    ]


def test_a_sku_taken_by_another_product_after_planning_is_a_conflict(pg_app):
    # Given product A, and a sync of A adding SKU NEW-1 planned while NEW-1 was free
    supplier = new_supplier_client(pg_app)
    supplier.put("/products", json=products_body(product_payload("A")))
    state = pg_app.extensions["storefront"]
    with pg_app.app_context(), state.sessionmaker() as session:
        stored = session.get(Supplier, supplier.supplier_id)
        variants = [variant_payload("A-M"), variant_payload("NEW-1")]
        valid, failed = check_products([product_payload("A", variants=variants)], stored)
        plan = plan_sync(session, stored, valid)
        assert (failed, plan.conflicts, plan.result.updated) == ({}, {}, 1)

        # When another request gives NEW-1 to product B before the sync writes
        other = supplier.put(
            "/products",
            json=products_body(product_payload("B", variants=[variant_payload("NEW-1")])),
        )
        assert other.status_code == 200

        # Then applying the stale plan is refused as a conflict
        with pytest.raises(Conflict, match="concurrent request; retry"):
            apply_sync(session, stored, plan, utcnow())
        session.rollback()

    # And NEW-1 still belongs to B
    assert [v["sku"] for v in supplier.get("/products/B").json["variants"]] == ["NEW-1"]
    assert [v["sku"] for v in supplier.get("/products/A").json["variants"]] == ["A-M"]
