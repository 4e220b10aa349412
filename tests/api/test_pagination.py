"""GET /products: cursor pagination, filters, and stability under concurrent writes."""

from __future__ import annotations

import base64
import threading
import time
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from api_support import (
    assert_json_error,
    create_products,
    error_paths,
    external_ids,
    list_all,
    products_body,
    rfc3339,
)
from conftest import SupplierClient

from storefront_sdk.testing.factories import product_payload


def _pages(supplier: Any, limit: int) -> list[list[dict[str, Any]]]:
    pages: list[list[dict[str, Any]]] = []
    cursor: str | None = None
    while True:
        query: dict[str, Any] = {"limit": limit}
        if cursor is not None:
            query["cursor"] = cursor
        response = supplier.get("/products", query_string=query)
        assert response.status_code == 200, response.json
        assert set(response.json) == {"items", "next_cursor"}
        pages.append(response.json["items"])
        cursor = response.json["next_cursor"]
        if cursor is None:
            return pages
        assert isinstance(cursor, str)
        assert cursor


def test_pages_split_the_catalogue_by_limit(supplier):
    # Given 7 products
    create_products(supplier, *(f"P{i}" for i in range(7)))

    # When they are listed 3 at a time
    pages = _pages(supplier, 3)

    # Then there are pages of 3, 3 and 1 holding every product once, ids ascending
    assert [len(page) for page in pages] == [3, 3, 1]
    ids = [p["id"] for page in pages for p in page]
    assert ids == sorted(ids)
    assert len(set(ids)) == 7
    assert sorted(p["external_id"] for page in pages for p in page) == [f"P{i}" for i in range(7)]


def test_last_full_page_has_a_null_cursor_when_nothing_follows(supplier):
    # Given 6 products
    create_products(supplier, *(f"P{i}" for i in range(6)))

    # When they are listed 3 at a time
    pages = _pages(supplier, 3)

    # Then there are exactly two pages (no trailing empty page)
    assert [len(page) for page in pages] == [3, 3]


def test_empty_catalogue_is_one_empty_page(supplier):
    # Given no products
    # When the list is requested
    response = supplier.get("/products")

    # Then it is empty with a null cursor
    assert response.status_code == 200
    assert response.json == {"items": [], "next_cursor": None}


def test_default_limit_is_50(supplier):
    # Given 51 products
    create_products(supplier, *(f"P{i:02}" for i in range(51)))

    # When the list is requested without a limit
    response = supplier.get("/products")

    # Then 50 come back with a cursor to the last one
    assert len(response.json["items"]) == 50
    follow = supplier.get("/products", query_string={"cursor": response.json["next_cursor"]})
    assert [p["external_id"] for p in follow.json["items"]] == ["P50"]
    assert follow.json["next_cursor"] is None


def test_limit_200_is_allowed(supplier):
    # Given 3 products
    create_products(supplier, "P0", "P1", "P2")

    # When the list is requested with the maximum limit
    response = supplier.get("/products?limit=200")

    # Then all come back
    assert response.status_code == 200
    assert len(response.json["items"]) == 3


@pytest.mark.parametrize("limit", ["0", "201", "-1", "abc", "1.5", ""])
def test_limit_outside_1_to_200_is_refused(supplier, limit):
    # Given any catalogue
    # When the list is requested with an invalid limit
    response = supplier.get(f"/products?limit={limit}")

    # Then it is refused at the limit parameter
    error = assert_json_error(response, 422)
    assert error_paths(error["errors"]) == {"query.limit"}


def _b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "cursor",
    ["not-a-cursor", "!!!!", _b64("q12"), _b64("p"), _b64("p-1"), _b64("p1x"), "A" * 101],
    ids=["garbage", "not_base64", "wrong_tag", "no_digits", "negative", "trailing", "too_long"],
)
def test_invalid_cursor_is_refused(supplier, cursor):
    # Given a catalogue
    create_products(supplier, "P0")

    # When the list is requested with a cursor the server never issued
    response = supplier.get("/products", query_string={"cursor": cursor})

    # Then it is refused at the cursor parameter
    error = assert_json_error(response, 422)
    assert error_paths(error["errors"]) == {"query.cursor"}


def test_updated_since_returns_products_changed_from_then(supplier):
    # Given products P0..P2, then P1 renamed after the moment `since`
    create_products(supplier, "P0", "P1", "P2")
    time.sleep(0.01)
    since = datetime.now(UTC)
    time.sleep(0.01)
    supplier.put("/products", json=products_body(product_payload("P1", title="Renamed")))

    # When the list is filtered by updated_since (RFC 3339, Z)
    # Then only P1 comes back
    assert external_ids(supplier, updated_since=rfc3339(since)) == ["P1"]


def test_updated_since_honours_the_offset(supplier):
    # Given products created before the moment `since` and one renamed after it
    create_products(supplier, "P0", "P1")
    time.sleep(0.01)
    since = datetime.now(UTC)
    time.sleep(0.01)
    supplier.put("/products", json=products_body(product_payload("P0", title="Renamed")))

    # When `since` is given in +08:00, or shifted an hour earlier in UTC
    local = since.astimezone(timezone(timedelta(hours=8))).isoformat()
    earlier = rfc3339(since - timedelta(hours=1))

    # Then the same instant selects the same products; an earlier one selects all
    assert external_ids(supplier, updated_since=local) == ["P0"]
    assert external_ids(supplier, updated_since=earlier) == ["P0", "P1"]


def test_updated_since_in_the_future_is_empty(supplier):
    # Given products
    create_products(supplier, "P0")

    # When filtering from tomorrow
    tomorrow = rfc3339(datetime.now(UTC) + timedelta(days=1))

    # Then nothing comes back
    assert external_ids(supplier, updated_since=tomorrow) == []


@pytest.mark.parametrize(
    "value",
    ["2026-11-23T10:00:00", "2026-11-23", "yesterday", "2026-13-01T00:00:00Z"],
    ids=["naive", "date_only", "word", "month_13"],
)
def test_updated_since_must_be_an_aware_timestamp(supplier, value):
    # Given any catalogue
    # When updated_since is not an RFC 3339 timestamp with an offset
    response = supplier.get("/products", query_string={"updated_since": value})

    # Then it is refused at that parameter
    error = assert_json_error(response, 422)
    assert error_paths(error["errors"]) == {"query.updated_since"}


def test_unknown_status_filter_is_refused(supplier):
    # Given any catalogue
    # When the list is filtered by an unknown status
    response = supplier.get("/products?status=deleted")

    # Then it is refused at that parameter
    error = assert_json_error(response, 422)
    assert error_paths(error["errors"]) == {"query.status"}


def test_filters_combine_with_pagination(supplier):
    # Given 5 products of which P1 and P3 are archived
    create_products(supplier, *(f"P{i}" for i in range(5)))
    supplier.delete("/products/P1")
    supplier.delete("/products/P3")

    # When active products are listed 2 at a time
    items = list_all(supplier, limit=2, status="active")

    # Then every active product comes once
    assert [p["external_id"] for p in items] == ["P0", "P2", "P4"]


def test_walk_during_concurrent_inserts_returns_existing_products_once(app, supplier):
    # Given 50 products, and a writer about to add 200 more in 20 requests
    create_products(supplier, *(f"OLD-{i:03}" for i in range(50)))
    before = set(external_ids(supplier))
    writer = SupplierClient(app.test_client(), supplier.supplier_id, supplier.api_key)
    reader = SupplierClient(app.test_client(), supplier.supplier_id, supplier.api_key)
    started = threading.Event()
    statuses: list[int] = []

    def write() -> None:
        for batch in range(20):
            body = products_body(*(product_payload(f"NEW-{batch:02}-{i}") for i in range(10)))
            statuses.append(writer.put("/products", json=body).status_code)
            started.set()

    thread = threading.Thread(target=write)
    thread.start()

    # When a reader walks all pages, 7 at a time, while the writer runs
    started.wait(timeout=30)
    seen = [p["external_id"] for p in list_all(reader, limit=7)]
    thread.join(timeout=60)

    # Then each product that existed before appears exactly once, and nothing twice
    assert statuses == [200] * 20
    assert len(seen) == len(set(seen))
    assert before <= set(seen)
    assert len(external_ids(supplier)) == 250
