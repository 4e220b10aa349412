"""Inputs that once produced a 500, an unreachable product or a blocked reader."""

from __future__ import annotations

import base64
import shutil
import sqlite3
import time

from api_support import assert_json_error, error_paths, products_body
from conftest import build_app, new_supplier_client

from storefront_sdk.testing.factories import product_payload, variant_payload

CATEGORY = {"json.products.0.category"}


def put_one(supplier, external_id="P0", **fields):
    """PUT one product built from the factory with ``fields`` overridden."""
    return supplier.put("/products", json=products_body(product_payload(external_id, **fields)))


def patch_one(supplier, **item):
    """PATCH stock with one item."""
    return supplier.patch("/stock", json={"items": [{"sku": "P0-M", "stock": 1, **item}]})


def test_an_over_long_category_level_is_a_located_422(supplier):
    response = supplier.put(
        "/products", json=products_body(product_payload("P0", category="A/" + "x" * 201))
    )
    error = assert_json_error(response, 422)
    assert error_paths(error["errors"]) == {"json.products.0.category"}


def test_too_deep_a_category_is_a_located_422(supplier):
    deep = "/".join(f"L{n}" for n in range(9))
    response = put_one(supplier, category=deep)
    assert error_paths(assert_json_error(response, 422)["errors"]) == CATEGORY


def test_a_blank_category_level_is_refused_not_stored(supplier):
    for path in ("Apparel/\x1f", "Apparel/ ", "/Apparel", "Apparel//Tops"):
        response = supplier.put(
            "/products", json=products_body(product_payload("P0", category=path))
        )
        assert error_paths(assert_json_error(response, 422)["errors"]) == {
            "json.products.0.category"
        }


def test_categories_are_normalised(supplier):
    supplier.put(
        "/products", json=products_body(product_payload("P0", category=" Apparel / Tops "))
    )
    assert supplier.get("/products/P0").json["category"] == "Apparel/Tops"


def test_thousands_of_distinct_category_levels_are_fine(supplier):
    # 1000 products x 8 levels = 8000 category paths, more than one lookup's worth
    products = [
        product_payload(f"P{n}", category="/".join(f"C{n}-{level}" for level in range(8)))
        for n in range(1000)
    ]
    response = supplier.put("/products", json=products_body(*products))
    assert response.status_code == 200
    assert response.json == {"created": 1000, "updated": 0, "unchanged": 0}


def test_a_cursor_past_the_largest_id_is_a_422(supplier):
    cursor = base64.urlsafe_b64encode(b"p" + b"9" * 19).decode().rstrip("=")
    response = supplier.get(f"/products?cursor={cursor}")
    assert error_paths(assert_json_error(response, 422)["errors"]) == {"query.cursor"}


def test_stock_as_of_must_be_an_rfc3339_string_in_range(supplier):
    supplier.put("/products", json=products_body(product_payload("P0")))
    for as_of in ("0001-01-01T00:00:00+01:00", 1700000000, "9999-12-31T23:00:00-05:00"):
        response = supplier.patch(
            "/stock", json={"items": [{"sku": "P0-M", "stock": 1, "as_of": as_of}]}
        )
        assert error_paths(assert_json_error(response, 422)["errors"]) == {"json.items.0.as_of"}
    assert supplier.get("/products/P0").json["variants"][0]["stock"] == 120


def test_nan_is_not_json(supplier):
    body = '{"products": [{"external_id": "P0", "weight": NaN}]}'
    response = supplier.put("/products", data=body, content_type="application/json")
    assert assert_json_error(response, 400)["message"] == "The request body is not valid JSON."


def test_an_external_id_with_a_slash_can_be_fetched_and_archived(supplier):
    supplier.put(
        "/products", json=products_body(product_payload("A/B", variants=[variant_payload("AB-1")]))
    )
    assert supplier.get("/products/A/B").json["external_id"] == "A/B"
    assert supplier.get("/products/A%2FB").json["external_id"] == "A/B"
    assert supplier.delete("/products/A/B").status_code == 204
    assert supplier.get("/products/A/B").json["status"] == "archived"


def test_a_stock_422_names_unknown_skus_and_future_timestamps_together(supplier):
    supplier.put("/products", json=products_body(product_payload("P0")))
    items = [
        {"sku": "P0-M", "stock": 1, "as_of": "2999-01-01T00:00:00Z"},
        {"sku": "NOPE", "stock": 1},
    ]
    response = supplier.patch("/stock", json={"items": items})
    error = assert_json_error(response, 422)
    assert error_paths(error["errors"]) == {"json.items.0.as_of", "json.items.1.sku"}


def test_sqlite_reads_are_served_while_a_writer_holds_the_lock(sqlite_template, tmp_path):
    # Given a SQLite database whose write lock another connection holds
    path = tmp_path / "storefront.sqlite3"
    shutil.copy(sqlite_template, path)
    app = build_app(f"sqlite:///{path}")
    supplier = new_supplier_client(app)
    writer = sqlite3.connect(path, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    try:
        # When the supplier lists its products
        started = time.monotonic()
        response = supplier.get("/products")
        # Then the read is answered at once instead of queueing behind the writer
        assert response.status_code == 200
        assert time.monotonic() - started < 5
    finally:
        writer.execute("ROLLBACK")
        writer.close()
        app.extensions["storefront"].engine.dispose()
