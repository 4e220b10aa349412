"""A supplier's key never reaches another supplier's catalogue."""

from __future__ import annotations

from api_support import assert_json_error, create_products, error_paths, external_ids, fetch


def test_other_suppliers_product_is_not_found(supplier, other_supplier):
    # Given supplier A's product P0
    create_products(supplier, "P0")

    # When supplier B fetches it
    response = other_supplier.get("/products/P0")

    # Then B gets a JSON 404
    assert_json_error(response, 404)


def test_other_supplier_cannot_archive_a_product(supplier, other_supplier):
    # Given supplier A's product P0
    create_products(supplier, "P0")

    # When supplier B deletes it
    response = other_supplier.delete("/products/P0")

    # Then B gets a JSON 404 and A's product is still active
    assert_json_error(response, 404)
    assert fetch(supplier, "P0")["status"] == "active"


def test_list_holds_only_the_callers_products(supplier, other_supplier):
    # Given products of supplier A and one of supplier B
    create_products(supplier, "A0", "A1")
    create_products(other_supplier, "B0")

    # When each lists its products
    # Then each sees its own only
    assert external_ids(supplier) == ["A0", "A1"]
    assert external_ids(other_supplier) == ["B0"]


def test_other_suppliers_sku_is_unknown_to_stock_updates(supplier, other_supplier):
    # Given supplier A's product with SKU P0-M (stock 120)
    create_products(supplier, "P0")

    # When supplier B patches stock for P0-M
    response = other_supplier.patch("/stock", json={"items": [{"sku": "P0-M", "stock": 0}]})

    # Then B gets a 422 naming the SKU and A's stock is unchanged
    error = assert_json_error(response, 422)
    assert error_paths(error["errors"]) == {"json.items.0.sku"}
    variant = fetch(supplier, "P0")["variants"][0]
    assert (variant["stock"], variant["available"]) == (120, 120)


def test_same_external_id_at_two_suppliers_are_two_products(supplier, other_supplier):
    # Given supplier A's product P0
    create_products(supplier, "P0")

    # When supplier B creates its own P0 and archives it
    create_products(other_supplier, "P0")
    assert other_supplier.delete("/products/P0").status_code == 204

    # Then A's P0 is unaffected
    assert fetch(supplier, "P0")["status"] == "active"
    assert fetch(other_supplier, "P0")["status"] == "archived"
    assert fetch(supplier, "P0")["id"] != fetch(other_supplier, "P0")["id"]
