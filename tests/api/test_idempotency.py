"""Idempotency-Key: replay of the first response, conflicts, scope, failures, concurrency."""

from __future__ import annotations

from typing import Any

import pytest
from api_support import (
    assert_json_error,
    create_products,
    external_ids,
    fetch,
    products_body,
    send_together,
    variant_of,
)
from conftest import SupplierClient, new_supplier_client
from sqlmodel import func, select

from storefront_sdk.db import session_scope
from storefront_sdk.idempotency import IdempotencyRecord
from storefront_sdk.testing.factories import product_payload, variant_payload

REPLAYED = "Idempotent-Replayed"


def _key(value: str) -> dict[str, str]:
    return {"Idempotency-Key": value}


def test_repeated_put_replays_the_first_response(supplier):
    # Given a product upsert sent with key k1
    body = products_body(product_payload("P0"))
    first = supplier.put("/products", json=body, headers=_key("k1"))

    # When it is sent again with the same key
    second = supplier.put("/products", json=body, headers=_key("k1"))

    # Then the repeat answers the first response (created: 1, not unchanged: 1), marked
    assert first.status_code == second.status_code == 200
    assert first.json == {"created": 1, "updated": 0, "unchanged": 0}
    assert second.json == first.json
    assert second.headers[REPLAYED] == "true"
    assert REPLAYED not in first.headers


def test_repeated_put_does_not_repeat_its_effect(supplier):
    # Given a product created with key k1, whose stock was then patched to 5
    body = products_body(product_payload("P0"))
    supplier.put("/products", json=body, headers=_key("k1"))
    supplier.patch("/stock", json={"items": [{"sku": "P0-M", "stock": 5}]})
    before = fetch(supplier, "P0")

    # When the upsert (stock 120) is repeated with key k1
    supplier.put("/products", json=body, headers=_key("k1"))

    # Then nothing was written again: the stock is still 5, the product untouched
    assert fetch(supplier, "P0") == before
    assert variant_of(before, "P0-M")["stock"] == 5


def test_repeated_stock_patch_is_applied_once(supplier):
    # Given stock patched to 80 with key s1, then to 50 without a key
    create_products(supplier, "P0")
    patch_80 = {"items": [{"sku": "P0-M", "stock": 80}]}
    first = supplier.patch("/stock", json=patch_80, headers=_key("s1"))
    supplier.patch("/stock", json={"items": [{"sku": "P0-M", "stock": 50}]})

    # When the first patch is repeated with key s1
    second = supplier.patch("/stock", json=patch_80, headers=_key("s1"))

    # Then the first response is replayed and the stock stays 50
    assert (second.status_code, second.json) == (200, first.json)
    assert second.headers[REPLAYED] == "true"
    assert variant_of(fetch(supplier, "P0"), "P0-M")["stock"] == 50


def test_repeated_delete_is_applied_once(supplier):
    # Given a product archived with key d1, then re-activated by a PUT
    body = products_body(product_payload("P0"))
    supplier.put("/products", json=body)
    first = supplier.delete("/products/P0", headers=_key("d1"))
    supplier.put("/products", json=body)

    # When the delete is repeated with key d1
    second = supplier.delete("/products/P0", headers=_key("d1"))

    # Then the 204 is replayed and the product stays active
    assert first.status_code == second.status_code == 204
    assert second.get_data() == b""
    assert second.headers[REPLAYED] == "true"
    assert fetch(supplier, "P0")["status"] == "active"


def test_same_key_with_a_different_body_is_a_409(supplier):
    # Given key k1 used for creating P0
    supplier.put("/products", json=products_body(product_payload("P0")), headers=_key("k1"))

    # When k1 is sent with another body
    other = products_body(product_payload("P1"))
    response = supplier.put("/products", json=other, headers=_key("k1"))

    # Then the answer is a JSON 409 and the other body was not applied
    assert_json_error(response, 409)
    assert external_ids(supplier) == ["P0"]


def test_same_key_on_another_endpoint_is_a_409(supplier):
    # Given key k1 used for creating P0
    supplier.put("/products", json=products_body(product_payload("P0")), headers=_key("k1"))

    # When k1 is sent with a stock patch
    response = supplier.patch(
        "/stock", json={"items": [{"sku": "P0-M", "stock": 1}]}, headers=_key("k1")
    )

    # Then the answer is a JSON 409 and the stock is unchanged
    assert_json_error(response, 409)
    assert variant_of(fetch(supplier, "P0"), "P0-M")["stock"] == 120


def test_same_key_with_another_query_is_a_409(supplier):
    # Given key k1 used for creating P0
    body = products_body(product_payload("P0"))
    supplier.put("/products", json=body, headers=_key("k1"))

    # When k1 is sent with the same body but on_error=skip
    response = supplier.put("/products?on_error=skip", json=body, headers=_key("k1"))

    # Then the answer is a JSON 409
    assert_json_error(response, 409)


def test_same_key_at_another_supplier_is_independent(supplier, other_supplier):
    # Given supplier A used key k1
    supplier.put("/products", json=products_body(product_payload("P0")), headers=_key("k1"))

    # When supplier B uses k1 with another body
    response = other_supplier.put(
        "/products", json=products_body(product_payload("B0")), headers=_key("k1")
    )

    # Then B's request runs normally
    assert response.status_code == 200, response.json
    assert response.json == {"created": 1, "updated": 0, "unchanged": 0}
    assert REPLAYED not in response.headers
    assert external_ids(other_supplier) == ["B0"]
    assert external_ids(supplier) == ["P0"]


def test_same_key_and_body_at_another_supplier_is_not_a_replay(supplier, other_supplier):
    # Given supplier A created P0 with key k1
    body = products_body(product_payload("P0"))
    supplier.put("/products", json=body, headers=_key("k1"))

    # When supplier B sends the very same request
    response = other_supplier.put("/products", json=body, headers=_key("k1"))

    # Then B's product is created for B
    assert response.json == {"created": 1, "updated": 0, "unchanged": 0}
    assert REPLAYED not in response.headers
    assert external_ids(other_supplier) == ["P0"]


def test_failed_request_is_not_remembered(supplier):
    # Given an invalid upsert refused with key k1
    bad = product_payload("P0", variants=[variant_payload("P0-M", retail_price=1)])
    assert supplier.put("/products", json=products_body(bad), headers=_key("k1")).status_code == 422

    # When the fixed body is sent with the same key
    response = supplier.put(
        "/products", json=products_body(product_payload("P0")), headers=_key("k1")
    )

    # Then it runs and succeeds
    assert response.status_code == 200, response.json
    assert response.json == {"created": 1, "updated": 0, "unchanged": 0}
    assert REPLAYED not in response.headers
    assert external_ids(supplier) == ["P0"]


def test_failed_stock_patch_is_not_remembered(supplier):
    # Given a stock patch naming an unknown SKU refused with key s1
    create_products(supplier, "P0")
    bad = {"items": [{"sku": "GHOST", "stock": 1}]}
    assert supplier.patch("/stock", json=bad, headers=_key("s1")).status_code == 422

    # When the fixed patch is sent with the same key
    fixed = {"items": [{"sku": "P0-M", "stock": 1}]}
    response = supplier.patch("/stock", json=fixed, headers=_key("s1"))

    # Then it runs and succeeds
    assert (response.status_code, response.json) == (200, {"updated": 1})
    assert variant_of(fetch(supplier, "P0"), "P0-M")["stock"] == 1


@pytest.mark.parametrize(
    "key",
    ["", "k" * 256, "clé-1", "tab\tkey"],
    ids=["empty", "too_long", "non_ascii", "control_char"],
)
def test_unusable_key_is_a_400_and_nothing_runs(supplier, key):
    # Given an Idempotency-Key that is not 1 to 255 printable ASCII characters
    headers = {"Idempotency-Key": key}

    # When an upsert is sent with it
    response = supplier.put("/products", json=products_body(product_payload("P0")), headers=headers)

    # Then the answer is a JSON 400 and nothing is written
    assert_json_error(response, 400)
    assert external_ids(supplier) == []


def test_key_is_ignored_on_get(supplier):
    # Given a list fetched with key g1 while the catalogue was empty
    assert supplier.get("/products", headers=_key("g1")).json["items"] == []
    create_products(supplier, "P0")

    # When the list is fetched again with key g1
    response = supplier.get("/products", headers=_key("g1"))

    # Then it is a fresh answer, not a replay
    assert [p["external_id"] for p in response.json["items"]] == ["P0"]
    assert REPLAYED not in response.headers


def test_concurrent_repeats_run_once_on_postgresql(pg_app):
    # Given 8 clients of one supplier ready to send the same upsert with the same key
    supplier = new_supplier_client(pg_app)
    body = products_body(product_payload("P0"))

    def send(client: SupplierClient) -> Any:
        response = client.put("/products", json=body, headers=_key("race-1"))
        return (response.status_code, response.json, response.headers.get(REPLAYED))

    # When they all send at once
    results = send_together(supplier, 8, send)

    # Then all get the one stored response: created once, seven replays
    assert all(isinstance(r, tuple) for r in results), results
    assert [status for status, _, _ in results] == [200] * 8
    assert [body for _, body, _ in results] == [{"created": 1, "updated": 0, "unchanged": 0}] * 8
    assert sorted(str(replayed) for _, _, replayed in results) == ["None"] + ["true"] * 7
    # And the product and the remembered response exist once
    assert external_ids(supplier) == ["P0"]
    with session_scope(pg_app) as session:
        assert session.scalar(select(func.count()).select_from(IdempotencyRecord)) == 1
