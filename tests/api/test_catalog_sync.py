"""PUT /products: atomic validation, the skip policy, change counting and SKU ownership."""

from __future__ import annotations

from collections.abc import Callable
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


def _two_bad_items() -> list[dict[str, Any]]:
    """Item 0 valid; item 1 with two variant problems; item 2 with two product problems."""
    return [
        product_payload("P0"),
        product_payload(
            "P1",
            variants=[
                variant_payload("P1-M", retail_price=3000, min_price=None),  # retail < supply
                variant_payload("P1-M"),  # duplicate SKU inside the product
            ],
        ),
        product_payload(
            "P2",
            currency="USD",  # not the supplier's currency (CNY)
            variants=[variant_payload("P2-M", min_price=7000)],  # min above retail 6900
        ),
    ]


TWO_BAD_ITEMS_ERRORS = {
    1: {"variants.0.retail_price", "variants.1.sku"},
    2: {"currency", "variants.0.min_price"},
}


def test_invalid_items_reject_the_whole_batch_with_every_problem_located(supplier):
    # Given a batch whose items 1 and 2 are invalid
    body = products_body(*_two_bad_items())

    # When it is sent without an error policy
    response = supplier.put("/products", json=body)

    # Then it is refused, every problem located by item index and field
    error = assert_json_error(response, 422)
    assert error_paths(error["errors"]) == {
        f"json.products.{index}.{path}"
        for index, paths in TWO_BAD_ITEMS_ERRORS.items()
        for path in paths
    }


def test_invalid_items_mean_nothing_is_written_not_even_the_valid_ones(supplier):
    # Given a batch whose items 1 and 2 are invalid
    supplier.put("/products", json=products_body(*_two_bad_items()))

    # When the catalogue is read back
    # Then it is empty: the valid item 0 was not written either
    assert external_ids(supplier) == []
    assert_json_error(supplier.get("/products/P0"), 404)


def _without_title(eid: str) -> dict[str, Any]:
    product = product_payload(eid)
    del product["title"]
    return product


INVALID_PRODUCTS: dict[str, tuple[Callable[[str], dict[str, Any]], set[str]]] = {
    "retail_below_supply": (
        lambda eid: product_payload(
            eid, variants=[variant_payload(f"{eid}-M", retail_price=3499, min_price=None)]
        ),
        {"variants.0.retail_price"},
    ),
    "missing_title": (_without_title, {"title"}),
    "duplicate_sku_in_product": (
        lambda eid: product_payload(
            eid, variants=[variant_payload(f"{eid}-M"), variant_payload(f"{eid}-M")]
        ),
        {"variants.1.sku"},
    ),
    "min_price_below_supply": (
        lambda eid: product_payload(eid, variants=[variant_payload(f"{eid}-M", min_price=3499)]),
        {"variants.0.min_price"},
    ),
    "min_price_above_retail": (
        lambda eid: product_payload(eid, variants=[variant_payload(f"{eid}-M", min_price=6901)]),
        {"variants.0.min_price"},
    ),
    "wrong_currency": (lambda eid: product_payload(eid, currency="USD"), {"currency"}),
    "no_variants": (lambda eid: product_payload(eid, variants=[]), {"variants"}),
    "negative_supply_price": (
        lambda eid: product_payload(
            eid, variants=[variant_payload(f"{eid}-M", supply_price=-1, min_price=None)]
        ),
        {"variants.0.supply_price"},
    ),
    "external_id_too_long": (
        lambda eid: product_payload("X" * 65, variants=[variant_payload(f"{eid}-M")]),
        {"external_id"},
    ),
    "http_image": (
        lambda eid: product_payload(eid, images=["http://cdn.example.com/a.jpg"]),
        {"images.0"},
    ),
    "unknown_status": (lambda eid: product_payload(eid, status="deleted"), {"status"}),
    "unknown_product_field": (lambda eid: product_payload(eid, colour="red"), {"colour"}),
}


@pytest.mark.parametrize("case", sorted(INVALID_PRODUCTS))
def test_each_kind_of_invalid_item_is_located_and_blocks_the_batch(supplier, case):
    # Given a valid item 0 and an item 1 with one kind of problem
    build, paths = INVALID_PRODUCTS[case]
    body = products_body(product_payload("P0"), build("P1"))

    # When the batch is sent
    response = supplier.put("/products", json=body)

    # Then the answer is 422 at item 1's field, and nothing was written
    error = assert_json_error(response, 422)
    assert error_paths(error["errors"]) == {f"json.products.1.{p}" for p in paths}
    assert external_ids(supplier) == []


def test_skip_policy_writes_the_valid_items_and_lists_the_failed_ones(supplier):
    # Given the batch whose items 1 and 2 are invalid
    body = products_body(*_two_bad_items())

    # When it is sent with on_error=skip
    response = supplier.put("/products?on_error=skip", json=body)

    # Then item 0 is created and items 1 and 2 are reported with their errors
    assert response.status_code == 200, response.json
    result = response.json
    assert set(result) == {"created", "updated", "unchanged", "failed"}
    assert (result["created"], result["updated"], result["unchanged"]) == (1, 0, 0)
    assert [(f["index"], f["external_id"]) for f in result["failed"]] == [(1, "P1"), (2, "P2")]
    for failed in result["failed"]:
        assert set(failed) == {"index", "external_id", "errors"}
        assert error_paths(failed["errors"]) == TWO_BAD_ITEMS_ERRORS[failed["index"]]


def test_skip_policy_stores_only_the_valid_items(supplier):
    # Given the batch whose items 1 and 2 are invalid, sent with on_error=skip
    supplier.put("/products?on_error=skip", json=products_body(*_two_bad_items()))

    # When the catalogue is read back
    # Then it holds item 0 only
    assert external_ids(supplier) == ["P0"]


def test_skip_policy_reports_a_non_object_item_with_a_null_external_id(supplier):
    # Given a batch with a valid product and an item that is not an object
    body = {"products": [product_payload("P0"), "not a product"]}

    # When it is sent with on_error=skip
    response = supplier.put("/products?on_error=skip", json=body)

    # Then the item is reported failed with external_id null
    assert response.status_code == 200, response.json
    assert response.json["created"] == 1
    [failed] = response.json["failed"]
    assert (failed["index"], failed["external_id"]) == (1, None)
    assert error_paths(failed["errors"])


def test_unknown_on_error_policy_is_refused(supplier):
    # Given a valid body
    body = products_body(product_payload("P0"))

    # When it is sent with an unknown on_error policy
    response = supplier.put("/products?on_error=ignore", json=body)

    # Then it is refused at the query parameter and nothing is written
    error = assert_json_error(response, 422)
    assert error_paths(error["errors"]) == {"query.on_error"}
    assert external_ids(supplier) == []


def test_success_body_is_exactly_the_three_counts(supplier):
    # Given two new products
    body = products_body(product_payload("P0"), product_payload("P1"))

    # When they are sent
    response = supplier.put("/products", json=body)

    # Then the body holds exactly the counts
    assert response.status_code == 200
    assert response.json == {"created": 2, "updated": 0, "unchanged": 0}


def test_sending_the_same_body_again_counts_unchanged(supplier):
    # Given two products already sent
    body = products_body(product_payload("P0"), product_payload("P1"))
    supplier.put("/products", json=body)

    # When the same body is sent again
    response = supplier.put("/products", json=body)

    # Then both are unchanged
    assert response.status_code == 200
    assert response.json == {"created": 0, "updated": 0, "unchanged": 2}


def test_unchanged_product_keeps_its_updated_at(supplier):
    # Given a product already sent
    body = products_body(product_payload("P0"))
    supplier.put("/products", json=body)
    before = fetch(supplier, "P0")

    # When the same body is sent again
    supplier.put("/products", json=body)

    # Then the product was not touched
    assert fetch(supplier, "P0") == before


def test_title_change_counts_updated_and_is_stored(supplier):
    # Given two products already sent
    supplier.put("/products", json=products_body(product_payload("P0"), product_payload("P1")))

    # When one of them comes back with a new title
    body = products_body(product_payload("P0", title="New title"), product_payload("P1"))
    response = supplier.put("/products", json=body)

    # Then that one is updated, the other unchanged, and GET shows the new title
    assert response.json == {"created": 0, "updated": 1, "unchanged": 1}
    assert fetch(supplier, "P0")["title"] == "New title"


def test_stock_only_change_counts_updated_and_is_stored(supplier):
    # Given a product already sent with stock 120
    supplier.put("/products", json=products_body(product_payload("P0")))

    # When it comes back identical except for stock 80
    body = products_body(product_payload("P0", variants=[variant_payload("P0-M", stock=80)]))
    response = supplier.put("/products", json=body)

    # Then it counts as updated and GET shows stock and availability 80
    assert response.json == {"created": 0, "updated": 1, "unchanged": 0}
    variant = variant_of(fetch(supplier, "P0"), "P0-M")
    assert (variant["stock"], variant["available"]) == (80, 80)


def test_price_change_counts_updated_and_is_stored(supplier):
    # Given a product already sent
    supplier.put("/products", json=products_body(product_payload("P0")))

    # When its variant comes back with new prices
    variant = variant_payload("P0-M", supply_price=4000, retail_price=8000, min_price=7000)
    response = supplier.put(
        "/products", json=products_body(product_payload("P0", variants=[variant]))
    )

    # Then it counts as updated and GET shows the new prices
    assert response.json == {"created": 0, "updated": 1, "unchanged": 0}
    stored = variant_of(fetch(supplier, "P0"), "P0-M")
    assert (stored["supply_price"], stored["retail_price"], stored["min_price"]) == (
        4000,
        8000,
        7000,
    )


def test_full_body_after_a_stock_patch_counts_updated_and_restores_stock(supplier):
    # Given a product sent with stock 120 whose stock was then patched to 5
    supplier.put("/products", json=products_body(product_payload("P0")))
    supplier.patch("/stock", json={"items": [{"sku": "P0-M", "stock": 5}]})

    # When the original body (stock 120) is sent again
    response = supplier.put("/products", json=products_body(product_payload("P0")))

    # Then it counts as updated and the stock is 120 again
    assert response.json == {"created": 0, "updated": 1, "unchanged": 0}
    assert variant_of(fetch(supplier, "P0"), "P0-M")["stock"] == 120


def _two_variant_product() -> dict[str, Any]:
    return product_payload(
        "P0", variants=[variant_payload("P0-M"), variant_payload("P0-L", options={"Size": "L"})]
    )


def test_variant_left_out_is_archived(supplier):
    # Given a product with variants M and L
    supplier.put("/products", json=products_body(_two_variant_product()))

    # When it is sent again with M only
    response = supplier.put("/products", json=products_body(product_payload("P0")))

    # Then it counts as updated and L is no longer among its variants
    assert response.json == {"created": 0, "updated": 1, "unchanged": 0}
    assert [v["sku"] for v in fetch(supplier, "P0")["variants"]] == ["P0-M"]


def test_archived_variant_comes_back_when_sent_again(supplier):
    # Given a product whose variant L was archived by leaving it out
    supplier.put("/products", json=products_body(_two_variant_product()))
    supplier.put("/products", json=products_body(product_payload("P0")))

    # When the product is sent again with M and L
    response = supplier.put("/products", json=products_body(_two_variant_product()))

    # Then it counts as updated and L is back, with its options and stock
    assert response.json == {"created": 0, "updated": 1, "unchanged": 0}
    product = fetch(supplier, "P0")
    assert [v["sku"] for v in product["variants"]] == ["P0-M", "P0-L"]
    assert variant_of(product, "P0-L")["options"] == {"Size": "L"}
    assert variant_of(product, "P0-L")["stock"] == 120


def test_variant_order_follows_the_last_body(supplier):
    # Given a product with variants M then L
    supplier.put("/products", json=products_body(_two_variant_product()))

    # When it is sent with L then M
    reordered = product_payload(
        "P0", variants=[variant_payload("P0-L", options={"Size": "L"}), variant_payload("P0-M")]
    )
    response = supplier.put("/products", json=products_body(reordered))

    # Then it counts as updated and GET lists L first
    assert response.json == {"created": 0, "updated": 1, "unchanged": 0}
    assert [v["sku"] for v in fetch(supplier, "P0")["variants"]] == ["P0-L", "P0-M"]


def test_sku_of_another_product_of_the_same_supplier_is_refused(supplier):
    # Given product P0 owning SKU P0-M
    create_products(supplier, "P0")

    # When a batch gives P0-M to P2 as its second variant
    stolen = product_payload("P2", variants=[variant_payload("P2-M"), variant_payload("P0-M")])
    response = supplier.put("/products", json=products_body(product_payload("P1"), stolen))

    # Then the batch is refused at that variant's sku and nothing is written
    error = assert_json_error(response, 422)
    assert error_paths(error["errors"]) == {"json.products.1.variants.1.sku"}
    assert external_ids(supplier) == ["P0"]
    assert [v["sku"] for v in fetch(supplier, "P0")["variants"]] == ["P0-M"]


def test_sku_conflict_with_stored_product_is_listed_as_failed_under_skip(supplier):
    # Given product P0 owning SKU P0-M
    create_products(supplier, "P0")

    # When a batch gives P0-M to P2, with on_error=skip
    stolen = product_payload("P2", variants=[variant_payload("P0-M")])
    response = supplier.put(
        "/products?on_error=skip", json=products_body(product_payload("P1"), stolen)
    )

    # Then P1 is created and P2 is listed as failed at its variant's sku
    assert response.status_code == 200, response.json
    assert (response.json["created"], response.json["updated"]) == (1, 0)
    [failed] = response.json["failed"]
    assert (failed["index"], failed["external_id"]) == (1, "P2")
    assert error_paths(failed["errors"]) == {"variants.0.sku"}
    assert external_ids(supplier) == ["P0", "P1"]


def test_same_sku_in_two_products_of_one_batch_is_refused(supplier):
    # Given a batch in which P0 and P1 both claim SKU SHARED
    body = products_body(
        product_payload("P0", variants=[variant_payload("SHARED")]),
        product_payload("P1", variants=[variant_payload("SHARED")]),
    )

    # When it is sent
    response = supplier.put("/products", json=body)

    # Then the second claim is located and nothing is written
    error = assert_json_error(response, 422)
    assert error_paths(error["errors"]) == {"json.products.1.variants.0.sku"}
    assert external_ids(supplier) == []


def test_same_external_id_twice_in_one_batch_is_refused(supplier):
    # Given a batch that holds P0 twice
    body = products_body(
        product_payload("P0"), product_payload("P0", variants=[variant_payload("P0-L")])
    )

    # When it is sent
    response = supplier.put("/products", json=body)

    # Then the duplicate is located and nothing is written
    error = assert_json_error(response, 422)
    assert error_paths(error["errors"]) == {"json.products.1.external_id"}
    assert external_ids(supplier) == []


def test_same_sku_at_another_supplier_is_fine(supplier, other_supplier):
    # Given supplier A's product owning SKU SHARED-1
    supplier.put(
        "/products",
        json=products_body(product_payload("A1", variants=[variant_payload("SHARED-1")])),
    )

    # When supplier B creates a product with the same SKU (and the same external_id)
    response = other_supplier.put(
        "/products",
        json=products_body(product_payload("A1", variants=[variant_payload("SHARED-1")])),
    )

    # Then it is created, and both suppliers own their own SHARED-1
    assert response.status_code == 200, response.json
    assert response.json == {"created": 1, "updated": 0, "unchanged": 0}
    assert variant_of(fetch(supplier, "A1"), "SHARED-1")["stock"] == 120
    assert variant_of(fetch(other_supplier, "A1"), "SHARED-1")["stock"] == 120


def test_category_and_translations_round_trip(supplier):
    # Given a product with a nested category and translations
    product = product_payload(
        "P0",
        category="Home/Kitchen/Cups",
        title_i18n={"zh-Hans": "杯子", "en-GB": "Cup"},
        description_i18n={"zh-Hans": "描述"},
    )

    # When it is created
    supplier.put("/products", json=products_body(product))

    # Then GET returns them unchanged
    stored = fetch(supplier, "P0")
    assert stored["category"] == "Home/Kitchen/Cups"
    assert stored["title_i18n"] == {"zh-Hans": "杯子", "en-GB": "Cup"}
    assert stored["description_i18n"] == {"zh-Hans": "描述"}
