"""Malformed and hostile input: always a 4xx JSON error, never a 500, never a write."""

from __future__ import annotations

import json
from typing import Any

import pytest
from api_support import (
    assert_json_error,
    create_products,
    error_paths,
    external_ids,
    fetch,
    products_body,
    variant_of,
)

from storefront_sdk.testing.factories import product_payload, variant_payload

JSON = {"Content-Type": "application/json"}


@pytest.mark.parametrize(
    "raw",
    [b'{"products": [', b"not json", b"", b'{"products": [}]}', b"\xff\xfe{}", b"[" * 100_000],
    ids=["truncated", "text", "empty", "bad_bracket", "bad_utf8", "deep_nesting"],
)
def test_malformed_json_upsert_is_a_400(supplier, raw):
    # Given a body that is not JSON
    # When it is sent as a product upsert
    response = supplier.put("/products", data=raw, headers=JSON)

    # Then the answer is a JSON 400 and nothing is written
    assert_json_error(response, 400)
    assert external_ids(supplier) == []


@pytest.mark.parametrize(
    "raw",
    [b'{"items": [{"sku": "P0-M", "stock": 1}', b"stock=1", b"", b"[" * 100_000],
    ids=["truncated", "form", "empty", "deep_nesting"],
)
def test_malformed_json_stock_patch_is_a_400(supplier, raw):
    # Given a product, and a body that is not JSON
    create_products(supplier, "P0")

    # When it is sent as a stock patch
    response = supplier.patch("/stock", data=raw, headers=JSON)

    # Then the answer is a JSON 400 and the stock is unchanged
    assert_json_error(response, 400)
    assert variant_of(fetch(supplier, "P0"), "P0-M")["stock"] == 120


@pytest.mark.parametrize(
    ("body", "paths"),
    [
        ([product_payload("P0")], {"json._schema"}),
        ("products", {"json._schema"}),
        (None, {"json._schema"}),
        ({}, {"json.products"}),
        ({"products": []}, {"json.products"}),
        ({"products": {"0": product_payload("P0")}}, {"json.products"}),
        ({"products": [product_payload("P0")], "dry_run": True}, {"json.dry_run"}),
    ],
    ids=["array", "string", "null", "no_products", "empty", "object_products", "unknown_field"],
)
def test_wrong_upsert_envelope_is_a_422(supplier, body, paths):
    # Given a JSON body that is not {"products": [1..1000 items]}
    # When it is sent as a product upsert
    response = supplier.put("/products", data=json.dumps(body), headers=JSON)

    # Then it is refused at the envelope and nothing is written
    error = assert_json_error(response, 422)
    assert error_paths(error["errors"]) == paths
    assert external_ids(supplier) == []


def test_more_than_1000_products_is_a_422(supplier):
    # Given 1001 valid products
    body = products_body(*(product_payload(f"P{i:04}") for i in range(1001)))

    # When they are sent in one upsert
    response = supplier.put("/products", json=body)

    # Then the batch is refused at products and nothing is written
    error = assert_json_error(response, 422)
    assert error_paths(error["errors"]) == {"json.products"}
    assert external_ids(supplier) == []


@pytest.mark.parametrize(
    ("body", "paths"),
    [
        ([{"sku": "P0-M", "stock": 1}], {"json._schema"}),
        ({"items": [{"sku": "P0-M", "stock": 1}], "force": True}, {"json.force"}),
        ({"items": "P0-M"}, {"json.items"}),
        ({}, {"json.items"}),
    ],
    ids=["array", "unknown_field", "items_not_a_list", "no_items"],
)
def test_wrong_stock_envelope_is_a_422(supplier, body, paths):
    # Given a product, and a JSON body that is not {"items": [1..5000 items]}
    create_products(supplier, "P0")

    # When it is sent as a stock patch
    response = supplier.patch("/stock", json=body)

    # Then it is refused at the envelope and the stock is unchanged
    error = assert_json_error(response, 422)
    assert error_paths(error["errors"]) == paths
    assert variant_of(fetch(supplier, "P0"), "P0-M")["stock"] == 120


HOSTILE_PRODUCTS: dict[str, tuple[dict[str, Any], str]] = {
    "nul_in_external_id": ({**product_payload("P1"), "external_id": "a\u0000b"}, "external_id"),
    "nul_in_title": (product_payload("P1", title="a\u0000b"), "title"),
    "nul_in_sku": (product_payload("P1", variants=[variant_payload("a\u0000b")]), "variants.0.sku"),
    "nul_in_option": (
        product_payload("P1", variants=[variant_payload("P1-M", options={"Size": "M\u0000"})]),
        "variants.0.options.Size",
    ),
    "price_2_pow_63": (
        product_payload("P1", variants=[variant_payload("P1-M", retail_price=2**63)]),
        "variants.0.retail_price",
    ),
    "stock_2_pow_63": (
        product_payload("P1", variants=[variant_payload("P1-M", stock=2**63)]),
        "variants.0.stock",
    ),
    "weight_2_pow_63": (
        product_payload("P1", variants=[variant_payload("P1-M", weight_grams=2**63)]),
        "variants.0.weight_grams",
    ),
    "float_price": (
        product_payload("P1", variants=[variant_payload("P1-M", supply_price=35.5)]),
        "variants.0.supply_price",
    ),
    "integral_float_price": (
        product_payload("P1", variants=[variant_payload("P1-M", retail_price=6900.0)]),
        "variants.0.retail_price",
    ),
    "string_price": (
        product_payload("P1", variants=[variant_payload("P1-M", retail_price="6900")]),
        "variants.0.retail_price",
    ),
    "boolean_stock": (
        product_payload("P1", variants=[variant_payload("P1-M", stock=True)]),
        "variants.0.stock",
    ),
    "title_is_a_number": (product_payload("P1", title=12), "title"),
    "title_too_long": (product_payload("P1", title="t" * 301), "title"),
    "lowercase_currency": (product_payload("P1", currency="cny"), "currency"),
    "javascript_image": (product_payload("P1", images=["javascript:alert(1)"]), "images.0"),
    "eleven_images": (
        product_payload("P1", images=[f"https://cdn.example.com/{i}.jpg" for i in range(11)]),
        "images",
    ),
    "bad_locale": (product_payload("P1", title_i18n={"../../etc": "x"}), "title_i18n"),
    "empty_category_segment": (product_payload("P1", category="Apparel//Tops"), "category"),
    "variants_not_a_list": (product_payload("P1", variants={"sku": "P1-M"}), "variants"),
}


@pytest.mark.parametrize("case", sorted(HOSTILE_PRODUCTS))
def test_hostile_product_fields_are_a_located_422(supplier, case):
    # Given a valid product 0 and a hostile product 1
    product, field = HOSTILE_PRODUCTS[case]
    body = products_body(product_payload("P0"), product)

    # When they are sent
    response = supplier.put("/products", json=body)

    # Then the answer is a 422 located at the hostile field (prefix), nothing written
    error = assert_json_error(response, 422)
    paths = error_paths(error["errors"])
    assert paths, error
    assert all(p.startswith(f"json.products.1.{field}") for p in paths), paths
    assert external_ids(supplier) == []


def _raw_upsert(external_id_json: str, title_json: str = '"T"') -> bytes:
    """An upsert body whose external_id and title are given as raw JSON text."""
    variant = json.dumps(variant_payload("RAW-M"))
    return (
        f'{{"products":[{{"external_id":{external_id_json},"title":{title_json},'
        f'"currency":"CNY","variants":[{variant}]}}]}}'
    ).encode()


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        (_raw_upsert('"\\ud800"'), "external_id"),
        (_raw_upsert('"ok"', '"\\udfff tail"'), "title"),
        (_raw_upsert('"\\u0000"'), "external_id"),
        (_raw_upsert("1e400"), "external_id"),
    ],
    ids=["lone_high_surrogate", "lone_low_surrogate", "nul_escape", "huge_float"],
)
def test_hostile_raw_json_is_a_located_422(supplier, raw, field):
    # Given a raw body with escapes or numbers Python's JSON parser accepts
    # When it is sent
    response = supplier.put("/products", data=raw, headers=JSON)

    # Then it is refused at that field and nothing is written
    error = assert_json_error(response, 422)
    assert error_paths(error["errors"]) == {f"json.products.0.{field}"}
    assert external_ids(supplier) == []


def test_lone_surrogate_is_refused_under_skip_too(supplier):
    # Given a raw body whose only product has a lone surrogate external_id
    raw = _raw_upsert('"\\ud800"')

    # When it is sent with on_error=skip
    response = supplier.put("/products?on_error=skip", data=raw, headers=JSON)

    # Then the item is listed as failed and the response is valid JSON
    assert response.status_code == 200, response.get_data(as_text=True)
    assert (response.json["created"], len(response.json["failed"])) == (0, 1)
    assert external_ids(supplier) == []


def test_lone_surrogate_as_an_unknown_field_name_is_a_422(supplier):
    # Given a raw body with an unknown top-level field named by a lone surrogate
    raw = b'{"products": [], "\\ud800": 1}'

    # When it is sent
    response = supplier.put("/products", data=raw, headers=JSON)

    # Then the answer is a JSON 422 (the error body must still be valid JSON)
    assert_json_error(response, 422)


@pytest.mark.parametrize(
    "sku",
    ["a\u0000b", "\ud800", "x" * 65],
    ids=["nul", "lone_surrogate", "too_long"],
)
def test_hostile_stock_sku_is_a_located_422(supplier, sku):
    # Given a product
    create_products(supplier, "P0")

    # When a stock patch names a hostile SKU next to a valid item
    body = json.dumps({"items": [{"sku": "P0-M", "stock": 1}, {"sku": sku, "stock": 1}]})
    response = supplier.patch("/stock", data=body.encode(), headers=JSON)

    # Then it is refused at that SKU and nothing is written
    error = assert_json_error(response, 422)
    assert error_paths(error["errors"]) == {"json.items.1.sku"}
    assert variant_of(fetch(supplier, "P0"), "P0-M")["stock"] == 120


@pytest.mark.parametrize(
    "path",
    ["/products/a%00b", "/products/%00", "/products/" + "x" * 500, "/products/%F0%9F%92%A9"],
    ids=["nul", "only_nul", "500_chars", "emoji"],
)
def test_hostile_external_id_in_path_is_a_json_404_on_get(supplier, path):
    # Given a product P0
    create_products(supplier, "P0")

    # When a product with a hostile external_id is fetched
    response = supplier.get(path)

    # Then the answer is a JSON 404
    assert_json_error(response, 404)


@pytest.mark.parametrize(
    "path",
    ["/products/a%00b", "/products/" + "x" * 500],
    ids=["nul", "500_chars"],
)
def test_hostile_external_id_in_path_is_a_json_404_on_delete(supplier, path):
    # Given a product P0
    create_products(supplier, "P0")

    # When a product with a hostile external_id is deleted
    response = supplier.delete(path)

    # Then the answer is a JSON 404 and P0 is still active
    assert_json_error(response, 404)
    assert fetch(supplier, "P0")["status"] == "active"


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("limit=abc", "limit"),
        ("limit=99999999999999999999999", "limit"),
        ("updated_since=0001-01-01T00:00:00%2B14:00", "updated_since"),
        ("updated_since=9999-12-31T23:59:59-14:00", "updated_since"),
        ("updated_since=%00", "updated_since"),
        ("status=%00", "status"),
        ("cursor=%00", "cursor"),
        ("cursor=cDk5OTk5OTk5OTk5OTk5OTk5OTk5OQ", "cursor"),
    ],
    ids=[
        "limit_word",
        "limit_huge",
        "since_year_1_east",
        "since_year_9999_west",
        "since_nul",
        "status_nul",
        "cursor_nul",
        "cursor_id_beyond_bigint",
    ],
)
def test_hostile_list_query_is_a_located_422(supplier, query, parameter):
    # Given a product
    create_products(supplier, "P0")

    # When the list is requested with a hostile query parameter
    response = supplier.get(f"/products?{query}")

    # Then it is refused at that parameter
    error = assert_json_error(response, 422)
    assert error_paths(error["errors"]) == {f"query.{parameter}"}


def test_exponent_notation_is_not_an_integer_price(supplier):
    # Given a raw body whose supply_price is written 35e2 (a float in JSON)
    variant = json.dumps(variant_payload("RAW-M")).replace(
        '"supply_price": 3500', '"supply_price": 35e2'
    )
    raw = (
        '{"products":[{"external_id":"RAW","title":"T","currency":"CNY","variants":['
        + variant
        + "]}]}"
    ).encode()

    # When it is sent
    response = supplier.put("/products", data=raw, headers=JSON)

    # Then it is refused at that field
    error = assert_json_error(response, 422)
    assert error_paths(error["errors"]) == {"json.products.0.variants.0.supply_price"}
