"""Pure catalogue checks, without a database: error trees, batch validation, content hash."""

from __future__ import annotations

from storefront_sdk.catalog.inputs import ProductIn
from storefront_sdk.catalog.models import Supplier
from storefront_sdk.catalog.sync import check_products, content_hash
from storefront_sdk.testing.factories import product_payload, variant_payload
from storefront_sdk.validation import add_error

CNY_SUPPLIER = Supplier(id=1, name="S", currency="CNY")


def test_errors_nest_by_field_and_index():
    tree: dict = {}
    add_error(tree, ["variants", 0, "sku"], "first")
    add_error(tree, ["variants", 0, "sku"], "second")
    add_error(tree, ["variants", 2], "whole variant")
    assert tree == {"variants": {"0": {"sku": ["first", "second"]}, "2": ["whole variant"]}}


def test_a_message_on_a_field_that_also_has_children_is_kept():
    tree: dict = {}
    add_error(tree, ["variants"], "too many")
    add_error(tree, ["variants", 1, "sku"], "duplicate")
    assert tree == {"variants": {"_schema": ["too many"], "1": {"sku": ["duplicate"]}}}


def test_valid_products_pass_with_their_indexes():
    items = [product_payload("A"), product_payload("B")]
    valid, failed = check_products(items, CNY_SUPPLIER)
    assert [(i, p.external_id) for i, p in valid] == [(0, "A"), (1, "B")]
    assert failed == {}


def test_business_rules_are_located_per_item():
    items = [
        product_payload("A"),
        product_payload("B", currency="USD"),
        product_payload("C", variants=[variant_payload("C-1", retail_price=100, min_price=None)]),
        product_payload("A"),
    ]
    valid, failed = check_products(items, CNY_SUPPLIER)
    assert [i for i, _ in valid] == [0]
    assert failed == {
        1: {"currency": ["Must be the supplier's currency CNY."]},
        2: {"variants": {"0": {"retail_price": ["Must be at least supply_price."]}}},
        3: {
            "external_id": ["Duplicate of item 0."],
            "variants": {"0": {"sku": ["SKU also in item 0."]}},
        },
    }


def test_shape_errors_use_the_contract_wording():
    _, failed = check_products([{"external_id": "A", "bogus": 1}], CNY_SUPPLIER)
    assert failed[0]["bogus"] == ["Unknown field."]
    assert failed[0]["title"] == ["Missing data for required field."]


def test_content_hash_ignores_stock_but_not_prices():
    base = ProductIn.model_validate(product_payload("A"))
    restocked = ProductIn.model_validate(
        product_payload("A", variants=[variant_payload("A-M", stock=1)])
    )
    repriced = ProductIn.model_validate(
        product_payload("A", variants=[variant_payload("A-M", retail_price=7000)])
    )
    assert content_hash(base) == content_hash(restocked)
    assert content_hash(base) != content_hash(repriced)
