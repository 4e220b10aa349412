"""GET /products/<external_id>, the product shape, and DELETE (archive)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from api_support import (
    assert_json_error,
    create_products,
    external_ids,
    fetch,
    products_body,
)

from storefront_sdk.testing.factories import product_payload, variant_payload


def _parse_utc(value: str) -> datetime:
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    assert parsed.utcoffset() == timedelta(0), value
    return parsed


def test_fetched_product_is_the_sent_body_plus_server_fields(supplier):
    # Given a product created from a full body
    payload = product_payload("TEE-001")
    supplier.put("/products", json=products_body(payload))

    # When it is fetched
    stored = fetch(supplier, "TEE-001")

    # Then it is the body plus id, timestamps, defaults and per-variant availability
    server_fields = {key: stored.pop(key) for key in ("id", "created_at", "updated_at")}
    assert stored == {
        **payload,
        "description_i18n": {},
        "variants": [{**payload["variants"][0], "available": 120}],
    }
    assert isinstance(server_fields["id"], int)


def test_timestamps_are_utc_rfc3339_and_equal_on_creation(supplier):
    # Given a product created just now
    before = datetime.now(UTC)
    create_products(supplier, "P0")
    after = datetime.now(UTC)

    # When it is fetched
    stored = fetch(supplier, "P0")

    # Then created_at and updated_at are UTC timestamps within the request
    created, updated = _parse_utc(stored["created_at"]), _parse_utc(stored["updated_at"])
    assert created == updated
    assert before - timedelta(seconds=1) <= created <= after + timedelta(seconds=1)


def test_update_moves_updated_at_but_not_created_at(supplier):
    # Given a product created earlier
    create_products(supplier, "P0")
    first = fetch(supplier, "P0")

    # When its title changes
    supplier.put("/products", json=products_body(product_payload("P0", title="Renamed")))

    # Then updated_at moved forward and created_at did not
    second = fetch(supplier, "P0")
    assert second["created_at"] == first["created_at"]
    assert _parse_utc(second["updated_at"]) > _parse_utc(first["updated_at"])


def test_optional_fields_default_when_left_out(supplier):
    # Given a minimal product: no translations, description, category, images or weights
    minimal = {
        "external_id": "MIN-1",
        "title": "Minimal",
        "currency": "CNY",
        "variants": [{"sku": "MIN-1-A", "supply_price": 0, "retail_price": 0, "stock": 0}],
    }

    # When it is created and fetched
    response = supplier.put("/products", json=products_body(minimal))
    assert response.json == {"created": 1, "updated": 0, "unchanged": 0}
    stored = fetch(supplier, "MIN-1")

    # Then the optional fields have their documented defaults
    assert stored["status"] == "active"
    assert (stored["title_i18n"], stored["description_i18n"]) == ({}, {})
    assert (stored["description"], stored["category"], stored["images"]) == ("", None, [])
    assert stored["variants"] == [
        {
            "sku": "MIN-1-A",
            "options": {},
            "supply_price": 0,
            "retail_price": 0,
            "min_price": None,
            "stock": 0,
            "available": 0,
            "weight_grams": None,
        }
    ]


def test_unknown_product_is_a_json_404(supplier):
    # Given an empty catalogue
    # When a product is fetched
    response = supplier.get("/products/NOPE")

    # Then the answer is a JSON 404
    assert_json_error(response, 404)


def test_delete_answers_204_with_an_empty_body(supplier):
    # Given a product
    create_products(supplier, "P0")

    # When it is deleted
    response = supplier.delete("/products/P0")

    # Then the answer is 204 without a body
    assert response.status_code == 204
    assert response.get_data() == b""


def test_deleted_product_is_archived_not_removed(supplier):
    # Given a deleted product
    create_products(supplier, "P0")
    supplier.delete("/products/P0")

    # When it is fetched
    stored = fetch(supplier, "P0")

    # Then it is still there, archived, with its variants
    assert stored["status"] == "archived"
    assert [v["sku"] for v in stored["variants"]] == ["P0-M"]


def test_status_filter_separates_active_and_archived(supplier):
    # Given an active and an archived product
    create_products(supplier, "P0", "P1")
    supplier.delete("/products/P0")

    # When the list is filtered by status
    # Then each filter returns its products only, and no filter returns both
    assert external_ids(supplier, status="active") == ["P1"]
    assert external_ids(supplier, status="archived") == ["P0"]
    assert external_ids(supplier) == ["P0", "P1"]


def test_deleting_twice_answers_204_again(supplier):
    # Given a product already deleted
    create_products(supplier, "P0")
    supplier.delete("/products/P0")
    archived_at = fetch(supplier, "P0")["updated_at"]

    # When it is deleted again
    response = supplier.delete("/products/P0")

    # Then the answer is 204 again and nothing changed
    assert response.status_code == 204
    assert response.get_data() == b""
    assert fetch(supplier, "P0")["updated_at"] == archived_at


def test_deleting_an_unknown_product_is_a_json_404(supplier):
    # Given an empty catalogue
    # When an unknown product is deleted
    response = supplier.delete("/products/NOPE")

    # Then the answer is a JSON 404
    assert_json_error(response, 404)


def test_putting_the_same_body_reactivates_an_archived_product(supplier):
    # Given a product that was deleted
    body = products_body(product_payload("P0"))
    supplier.put("/products", json=body)
    supplier.delete("/products/P0")

    # When the same body is sent again
    response = supplier.put("/products", json=body)

    # Then it counts as updated and is active again
    assert response.json == {"created": 0, "updated": 1, "unchanged": 0}
    assert fetch(supplier, "P0")["status"] == "active"
    assert external_ids(supplier, status="active") == ["P0"]


def test_status_archived_in_the_body_archives(supplier):
    # Given an active product
    create_products(supplier, "P0")

    # When it is sent with status archived
    body = products_body(product_payload("P0", status="archived"))
    response = supplier.put("/products", json=body)

    # Then it counts as updated and is archived
    assert response.json == {"created": 0, "updated": 1, "unchanged": 0}
    assert fetch(supplier, "P0")["status"] == "archived"


def test_fetch_excludes_archived_variants_but_keeps_active_ones_in_order(supplier):
    # Given a product with three variants, then sent with the middle one left out
    variants = [variant_payload(f"P0-{size}", options={"Size": size}) for size in "SML"]
    supplier.put("/products", json=products_body(product_payload("P0", variants=variants)))
    kept = [variants[0], variants[2]]
    supplier.put("/products", json=products_body(product_payload("P0", variants=kept)))

    # When it is fetched
    stored = fetch(supplier, "P0")

    # Then only the sent variants are listed, in the sent order
    assert [v["sku"] for v in stored["variants"]] == ["P0-S", "P0-L"]
