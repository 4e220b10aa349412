"""PATCH /stock: absolute reports, unknown SKUs, out-of-order reports, validation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from api_support import (
    assert_json_error,
    create_products,
    error_paths,
    fetch,
    rfc3339,
    variant_of,
)


def _stock(supplier: Any, sku: str) -> tuple[int, int]:
    variant = variant_of(fetch(supplier, sku.rsplit("-", 1)[0]), sku)
    return variant["stock"], variant["available"]


def test_patch_sets_stock_and_available(supplier):
    # Given two products with stock 120
    create_products(supplier, "P0", "P1")

    # When both stocks are patched
    items = [{"sku": "P0-M", "stock": 80}, {"sku": "P1-M", "stock": 0}]
    response = supplier.patch("/stock", json={"items": items})

    # Then both reports are applied and GET shows stock and availability
    assert response.status_code == 200, response.json
    assert response.json == {"updated": 2}
    assert _stock(supplier, "P0-M") == (80, 80)
    assert _stock(supplier, "P1-M") == (0, 0)


def test_unknown_sku_is_named_and_nothing_is_written(supplier):
    # Given a product with stock 120
    create_products(supplier, "P0")

    # When a batch updates it and names an unknown SKU at index 1
    items = [{"sku": "P0-M", "stock": 7}, {"sku": "GHOST-1", "stock": 3}]
    response = supplier.patch("/stock", json={"items": items})

    # Then the batch is refused at items.1.sku naming the SKU, and P0-M is unchanged
    error = assert_json_error(response, 422)
    assert error_paths(error["errors"]) == {"json.items.1.sku"}
    assert "GHOST-1" in error["errors"]["json"]["items"]["1"]["sku"][0]
    assert _stock(supplier, "P0-M") == (120, 120)


def test_every_unknown_sku_is_located(supplier):
    # Given a product
    create_products(supplier, "P0")

    # When a batch names unknown SKUs at indexes 0 and 2
    items = [
        {"sku": "GHOST-0", "stock": 1},
        {"sku": "P0-M", "stock": 2},
        {"sku": "GHOST-2", "stock": 3},
    ]
    response = supplier.patch("/stock", json={"items": items})

    # Then both are located
    error = assert_json_error(response, 422)
    assert error_paths(error["errors"]) == {"json.items.0.sku", "json.items.2.sku"}


def test_report_older_than_the_last_one_is_ignored(supplier):
    # Given a product whose stock was reported as 50 at t+10s
    create_products(supplier, "P0")
    base = datetime.now(UTC)
    newer = {"sku": "P0-M", "stock": 50, "as_of": rfc3339(base + timedelta(seconds=10))}
    assert supplier.patch("/stock", json={"items": [newer]}).json == {"updated": 1}

    # When a report of 10 as of t+5s arrives late
    older = {"sku": "P0-M", "stock": 10, "as_of": rfc3339(base + timedelta(seconds=5))}
    response = supplier.patch("/stock", json={"items": [older]})

    # Then it is accepted but not applied
    assert response.status_code == 200
    assert response.json == {"updated": 0}
    assert _stock(supplier, "P0-M") == (50, 50)


def test_updated_counts_only_applied_reports(supplier):
    # Given two products whose stock was reported at t+10s
    create_products(supplier, "P0", "P1")
    base = datetime.now(UTC)
    at = rfc3339(base + timedelta(seconds=10))
    supplier.patch(
        "/stock",
        json={"items": [{"sku": "P0-M", "stock": 50, "as_of": at}, {"sku": "P1-M", "stock": 50}]},
    )

    # When a batch holds a stale report for P0-M and a fresh one for P1-M
    items = [
        {"sku": "P0-M", "stock": 1, "as_of": rfc3339(base + timedelta(seconds=5))},
        {"sku": "P1-M", "stock": 2, "as_of": rfc3339(base + timedelta(seconds=20))},
    ]
    response = supplier.patch("/stock", json={"items": items})

    # Then only the fresh one counts and is applied
    assert response.json == {"updated": 1}
    assert _stock(supplier, "P0-M") == (50, 50)
    assert _stock(supplier, "P1-M") == (2, 2)


def test_as_of_offsets_are_compared_as_instants(supplier):
    # Given a stock report as of t+2min (UTC)
    create_products(supplier, "P0")
    base = datetime.now(UTC).replace(microsecond=0) + timedelta(minutes=2)
    supplier.patch("/stock", json={"items": [{"sku": "P0-M", "stock": 50, "as_of": rfc3339(base)}]})

    # When a report arrives whose local time reads later but which is a minute earlier
    earlier = (base - timedelta(minutes=1)).astimezone(timezone(timedelta(hours=8)))
    response = supplier.patch(
        "/stock", json={"items": [{"sku": "P0-M", "stock": 9, "as_of": earlier.isoformat()}]}
    )

    # Then it is recognised as older and ignored
    assert response.json == {"updated": 0}
    assert _stock(supplier, "P0-M") == (50, 50)


def test_latest_report_for_a_sku_within_one_batch_wins(supplier):
    # Given a product
    create_products(supplier, "P0")
    base = datetime.now(UTC)

    # When one batch reports it twice, the later report first
    items = [
        {"sku": "P0-M", "stock": 5, "as_of": rfc3339(base + timedelta(seconds=20))},
        {"sku": "P0-M", "stock": 9, "as_of": rfc3339(base + timedelta(seconds=10))},
    ]
    response = supplier.patch("/stock", json={"items": items})

    # Then the later report is the stock
    assert response.status_code == 200
    assert _stock(supplier, "P0-M") == (5, 5)


def test_as_of_without_timezone_is_refused(supplier):
    # Given a product
    create_products(supplier, "P0")

    # When a report's as_of has no timezone
    items = [{"sku": "P0-M", "stock": 5, "as_of": "2026-11-23T10:00:00"}]
    response = supplier.patch("/stock", json={"items": items})

    # Then it is refused at that field and nothing is written
    error = assert_json_error(response, 422)
    assert error_paths(error["errors"]) == {"json.items.0.as_of"}
    assert _stock(supplier, "P0-M") == (120, 120)


def test_more_than_5000_items_are_refused(supplier):
    # Given a product
    create_products(supplier, "P0")

    # When 5001 reports are sent
    items = [{"sku": "P0-M", "stock": 1}] * 5001
    response = supplier.patch("/stock", json={"items": items})

    # Then the batch is refused at items and nothing is written
    error = assert_json_error(response, 422)
    assert error_paths(error["errors"]) == {"json.items"}
    assert _stock(supplier, "P0-M") == (120, 120)


def test_exactly_5000_items_are_accepted(supplier):
    # Given a product
    create_products(supplier, "P0")

    # When 5000 reports for it are sent
    response = supplier.patch("/stock", json={"items": [{"sku": "P0-M", "stock": 1}] * 5000})

    # Then they are accepted (one SKU, so one report applied)
    assert response.status_code == 200, response.json
    assert response.json == {"updated": 1}
    assert _stock(supplier, "P0-M") == (1, 1)


def test_empty_items_are_refused(supplier):
    # Given any supplier
    # When an empty batch is sent
    response = supplier.patch("/stock", json={"items": []})

    # Then it is refused at items
    error = assert_json_error(response, 422)
    assert error_paths(error["errors"]) == {"json.items"}


@pytest.mark.parametrize(
    "stock",
    [-1, 1.5, "3", True, None, 2**31, 2**63],
    ids=["negative", "float", "string", "boolean", "null", "int32_overflow", "int64_overflow"],
)
def test_stock_must_be_a_non_negative_integer(supplier, stock):
    # Given a product with stock 120
    create_products(supplier, "P0")

    # When a report's stock is not a non-negative integer
    response = supplier.patch("/stock", json={"items": [{"sku": "P0-M", "stock": stock}]})

    # Then it is refused at that field and nothing is written
    error = assert_json_error(response, 422)
    assert error_paths(error["errors"]) == {"json.items.0.stock"}
    assert _stock(supplier, "P0-M") == (120, 120)


@pytest.mark.parametrize(
    ("item", "path"),
    [
        ({"stock": 1}, "sku"),
        ({"sku": "P0-M"}, "stock"),
        ({"sku": "P0-M", "stock": 1, "warehouse": "A"}, "warehouse"),
        ({"sku": "P0-M", "stock": 1, "as_of": "yesterday"}, "as_of"),
        ({"sku": "", "stock": 1}, "sku"),
    ],
    ids=["missing_sku", "missing_stock", "unknown_field", "bad_as_of", "empty_sku"],
)
def test_malformed_stock_items_are_located(supplier, item, path):
    # Given a product with stock 120
    create_products(supplier, "P0")

    # When a batch holds a valid report and a malformed one at index 1
    response = supplier.patch("/stock", json={"items": [{"sku": "P0-M", "stock": 1}, item]})

    # Then the malformed one is located and the valid one is not applied
    error = assert_json_error(response, 422)
    assert error_paths(error["errors"]) == {f"json.items.1.{path}"}
    assert _stock(supplier, "P0-M") == (120, 120)
