"""The supplier API's promotions (``/api/v1/supplier/promotions``): a supplier creates the
ones it funds, lists and reads its own with their figures, ends one; the other supplier's
ids are not found — on both backends."""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from conftest import SupplierClient
from flask import Flask
from promotion_support import Catalogue, available, catalogue
from sqlmodel import select

sys.path.insert(0, str(Path(__file__).parents[1] / "api"))
sys.path.insert(0, str(Path(__file__).parents[1] / "orders"))
from api_support import assert_json_error
from order_support import app_on, buy, dev_pay, stocked_shop

from storefront_sdk.db import session_scope
from storefront_sdk.orders.models import Order
from storefront_sdk.promotions import manage
from storefront_sdk.promotions.models import PromotionUse


def _ends(days: int = 2) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture
def shop_catalogue(app: Flask) -> Catalogue:
    return catalogue(app)


def _create(supplier: SupplierClient, **body: Any) -> dict[str, Any]:
    response = supplier.post("/promotions", json={"ends_at": _ends(), **body})
    assert response.status_code == 201, response.get_json()
    created: dict[str, Any] = response.get_json()
    return created


def _refused(supplier: SupplierClient, **body: Any) -> dict[str, Any]:
    response = supplier.post("/promotions", json={"ends_at": _ends(), **body})
    errors: dict[str, Any] = assert_json_error(response, 422)["errors"]
    return errors


def test_a_supplier_creates_a_coupon_it_funds(shop_catalogue: Catalogue) -> None:
    # When the supplier posts a 10%-off code on its product P1 from 100.00
    coupon = _create(
        shop_catalogue.supplier,
        kind="coupon",
        code="spring10",
        percent_off=10,
        min_spend=10000,
        max_uses=100,
        product_ids=[shop_catalogue.products["P1"]],
        categories=["Apparel/Tops"],
    )
    # Then it is stored as the supplier's own, upper-case, live, in its currency
    assert coupon["id"].startswith("pr_")
    assert {k: coupon[k] for k in ("kind", "funder", "code", "status", "currency")} == {
        "kind": "coupon",
        "funder": "supplier",
        "code": "SPRING10",
        "status": "live",
        "currency": "CNY",
    }
    assert (coupon["percent_off"], coupon["min_spend"], coupon["max_uses"]) == (10, 10000, 100)
    assert (coupon["product_ids"], coupon["categories"]) == (
        [shop_catalogue.products["P1"]],
        ["Apparel/Tops"],
    )
    assert coupon["ends_at"].endswith("Z")
    figures = {k: coupon[k] for k in ("uses", "discount_given", "orders", "sales")}
    assert figures == {"uses": 0, "discount_given": 0, "orders": 0, "sales": 0}


def test_a_supplier_creates_a_threshold_with_tiers(shop_catalogue: Catalogue) -> None:
    tiers = [{"spend": 10000, "off": 1000}, {"spend": 20000, "off": 3000}]
    threshold = _create(shop_catalogue.supplier, kind="threshold", tiers=tiers)
    assert (threshold["kind"], threshold["tiers"], threshold["currency"]) == (
        "threshold",
        tiers,
        "CNY",
    )


def test_a_flash_sale_through_the_api_reserves_its_quota(
    app: Flask, shop_catalogue: Catalogue
) -> None:
    sale = _create(shop_catalogue.supplier, kind="flash_sale", sku="A", price=3900, quota=4)
    assert (sale["sku"], sale["price"], sale["quota"], sale["units_sold"]) == ("A", 3900, 4, 0)
    variant_a = shop_catalogue.variants[(shop_catalogue.supplier.supplier_id, "A")]
    assert available(app, variant_a) == 6
    # And ending it gives the 4 units back
    ended = shop_catalogue.supplier.delete(f"/promotions/{sale['id']}")
    assert ended.status_code == 200, ended.get_json()
    assert available(app, variant_a) == 10


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({"kind": "bogus"}, {"json": {"kind": ["Must be one of: coupon, threshold, flash_sale."]}}),
        (
            {"kind": "coupon", "percent_off": 10, "code": "X1X", "colour": "red"},
            {"json": {"colour": ["Unknown field."]}},
        ),
        (
            {
                "kind": "coupon",
                "code": "TIERS",
                "percent_off": 5,
                "tiers": [{"spend": 2, "off": 1}],
            },
            {"json": {"tiers": ["Not allowed for a coupon."]}},
        ),
        (
            {"kind": "flash_sale", "sku": "A", "currency": "CNY"},
            {
                "json": {
                    "currency": ["Not allowed for a flash sale."],
                    "price": ["Missing data for required field."],
                    "quota": ["Missing data for required field."],
                }
            },
        ),
        ({"kind": "threshold"}, {"json": {"tiers": ["Missing data for required field."]}}),
        (
            {"kind": "coupon", "code": "BIG", "percent_off": 101},
            {"json": {"percent_off": ["Must be between 1 and 100."]}},
        ),
        (
            {"kind": "coupon", "code": "BIG", "percent_off": 1.5},
            {"json": {"percent_off": ["Not a valid integer."]}},
        ),
        (
            {"kind": "flash_sale", "sku": "A", "price": 1999, "quota": 1},
            {
                "json": {
                    "price": [
                        "Must be at least 2000: below it the supplier's part of the retail "
                        "price (5000) would be negative."
                    ]
                }
            },
        ),
        (
            {"kind": "flash_sale", "sku": "A", "price": 3900, "quota": 11},
            {"json": {"quota": ["Only 10 units of SKU A are available."]}},
        ),
        (
            {"kind": "coupon", "percent_off": 5, "code": "CAT", "categories": ["Nowhere"]},
            {"json": {"categories": {"0": ["None of your products is in this category."]}}},
        ),
    ],
)
def test_every_bad_body_is_refused_with_its_location(
    shop_catalogue: Catalogue, body: dict[str, Any], errors: dict[str, Any]
) -> None:
    assert _refused(shop_catalogue.supplier, **body) == errors


def test_a_promotion_of_the_other_suppliers_catalogue_is_refused(
    shop_catalogue: Catalogue,
) -> None:
    # Given supplier B's SKU Q, product Q1 and category Home/Kitchen
    theirs = shop_catalogue.products["Q1"]
    supplier = shop_catalogue.supplier
    # When supplier A names them, Then they are unknown to it
    errors = _refused(supplier, kind="flash_sale", sku="Q", price=100, quota=1)
    assert errors == {"json": {"sku": ["No SKU 'Q' on sale by this supplier."]}}
    errors = _refused(supplier, kind="coupon", code="QQQ", percent_off=5, product_ids=[theirs])
    assert errors == {"json": {"product_ids": [f"Unknown product {theirs}."]}}
    errors = _refused(
        supplier, kind="coupon", code="QQQ", percent_off=5, categories=["Home/Kitchen"]
    )
    assert errors == {"json": {"categories": {"0": ["None of your products is in this category."]}}}


def test_the_list_pages_through_the_suppliers_own_promotions(
    app: Flask, shop_catalogue: Catalogue
) -> None:
    # Given three promotions of supplier A, one of supplier B, one the platform funds on A
    ids = [
        _create(shop_catalogue.supplier, kind="coupon", code=f"A{n}AA", percent_off=5)["id"]
        for n in range(3)
    ]
    _create(shop_catalogue.other, kind="coupon", code="BBBB", percent_off=5)
    with session_scope(app) as session:
        manage.create_coupon(
            session,
            funder="platform",
            created_by="cli",
            now=datetime.now(UTC),
            starts_at=datetime.now(UTC),
            ends_at=datetime.now(UTC) + timedelta(days=1),
            supplier_id=shop_catalogue.supplier.supplier_id,
            percent_off=5,
            code="PLATFORM",
        )
    # When A lists them two at a time
    first = shop_catalogue.supplier.get("/promotions", query_string={"limit": 2}).get_json()
    second = shop_catalogue.supplier.get(
        "/promotions", query_string={"limit": 2, "cursor": first["next_cursor"]}
    ).get_json()
    # Then it sees its own three, oldest first, and nothing else
    assert [p["id"] for p in first["items"]] == ids[:2]
    assert [p["id"] for p in second["items"]] == ids[2:]
    assert second["next_cursor"] is None


def test_the_other_suppliers_promotion_is_not_found_and_cannot_be_ended(
    shop_catalogue: Catalogue,
) -> None:
    theirs = _create(shop_catalogue.other, kind="coupon", code="THEIRS", percent_off=5)
    supplier = shop_catalogue.supplier
    assert_json_error(supplier.get(f"/promotions/{theirs['id']}"), 404)
    assert_json_error(supplier.delete(f"/promotions/{theirs['id']}"), 404)
    still = shop_catalogue.other.get(f"/promotions/{theirs['id']}").get_json()
    assert (still["status"], still["ended_at"]) == ("live", None)


def test_deleting_a_promotion_ends_it_and_repeating_it_changes_nothing(
    shop_catalogue: Catalogue,
) -> None:
    coupon = _create(shop_catalogue.supplier, kind="coupon", code="ENDME", percent_off=5)
    first = shop_catalogue.supplier.delete(f"/promotions/{coupon['id']}")
    again = shop_catalogue.supplier.delete(f"/promotions/{coupon['id']}")
    assert (first.status_code, again.status_code) == (200, 200)
    assert first.get_json()["status"] == "ended"
    assert first.get_json()["ended_at"] is not None
    assert again.get_json()["ended_at"] == first.get_json()["ended_at"]


def test_figures_count_the_paid_orders_that_used_it(db_url: str) -> None:
    # Given an order of 2 x SKU A at 50.00 paid, and one left unpaid, both using a coupon
    with app_on(db_url) as app:
        supplier, shop, variants = stocked_shop(app)
        coupon = _create(supplier, kind="coupon", code="FIGS", percent_off=5)
        client = app.test_client()
        paid = buy(client, shop.slug, {variants["A"]: 2})
        assert dev_pay(client, shop.slug, paid).status_code in (302, 303)
        buy(app.test_client(), shop.slug, {variants["A"]: 1})
        with session_scope(app) as session:
            promotion = manage.find_promotion(session, coupon["id"])
            for order in session.scalars(select(Order)):
                session.add(
                    PromotionUse(
                        promotion_id=promotion.id or 0,
                        order_id=order.id or 0,
                        identity_key="guest:x",
                        discount_minor=100,
                    )
                )
            promotion.uses, promotion.discount_given_minor = 2, 200
        # When the supplier reads it, Then its uses count both, its orders the paid one
        shown = supplier.get(f"/promotions/{coupon['id']}").get_json()
    assert {k: shown[k] for k in ("uses", "discount_given", "orders", "sales")} == {
        "uses": 2,
        "discount_given": 200,
        "orders": 1,
        "sales": 10000,
    }


def test_a_repeated_post_with_its_idempotency_key_reserves_the_quota_once(
    app: Flask, shop_catalogue: Catalogue
) -> None:
    body = {"kind": "flash_sale", "sku": "A", "price": 3900, "quota": 4, "ends_at": _ends()}
    headers = {"Idempotency-Key": "flash-a-1"}
    first = shop_catalogue.supplier.post("/promotions", json=body, headers=headers)
    again = shop_catalogue.supplier.post("/promotions", json=body, headers=headers)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json()["id"] == first.get_json()["id"]
    assert available(app, shop_catalogue.variants[(shop_catalogue.supplier.supplier_id, "A")]) == 6
