"""The supplier's side of orders through ``/api/v1/supplier``: pull, accept, ship in parts,
deliver, cancel lines (refunded through the dev provider), tenancy between suppliers, and
the webhook and shipping settings: on both backends."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from conftest import SupplierClient, build_app, new_supplier_client
from flask import Flask
from order_support import ADDRESS, app_on, buy, dev_pay, stocked_shop
from shop_support import ShopRef, product, push, variant, variant_ids

from storefront_sdk.catalog.models import Supplier
from storefront_sdk.db import session_scope, utcnow
from storefront_sdk.dispatcher import Dispatcher
from storefront_sdk.fulfillment.after_sales import refund_lines, refund_returned_units
from storefront_sdk.fulfillment.models import OutboxEvent
from storefront_sdk.orders.models import (
    Order,
    OrderEvent,
    OrderLine,
    Refund,
    Shipment,
    SupplierOrder,
)


@pytest.fixture(autouse=True)
def _cheap_password_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Distributors' passwords are not under test here: hash them cheaply."""
    from werkzeug.security import generate_password_hash

    monkeypatch.setattr(
        "storefront_sdk.shops.accounts.generate_password_hash",
        lambda password: generate_password_hash(password, "pbkdf2:sha256:1"),
    )


@pytest.fixture
def shop_app(db_url: str) -> Iterator[Flask]:
    """An app taking test-mode payments on the current backend."""
    with app_on(db_url) as app:
        yield app


def _three_skus(app: Flask, fee: int | None = None) -> tuple[SupplierClient, ShopRef, dict]:
    """A supplier selling A (50.00), B (20.00) and C (10.00) in a shop; ``fee``: its
    shipping fee."""
    supplier, shop, _ = stocked_shop(app, stock=10)
    push(
        supplier,
        product(
            "P3",
            variants=[variant("C", stock=10, supply_price=500, retail_price=1000, min_price=None)],
        ),
    )
    if fee is not None:
        assert supplier.put("/shipping", json={"fee": fee}).status_code == 200
    return supplier, shop, variant_ids(app)


def _other_supplier(app: Flask, fee: int | None = None) -> tuple[SupplierClient, int]:
    """A second supplier selling Z (30.00); its client and Z's variant id."""
    other = new_supplier_client(app)
    push(
        other,
        product(
            "PZ",
            variants=[variant("Z", stock=10, supply_price=1500, retail_price=3000, min_price=None)],
        ),
    )
    if fee is not None:
        assert other.put("/shipping", json={"fee": fee}).status_code == 200
    return other, variant_ids(app)["Z"]


def _paid(app: Flask, shop: ShopRef, cart: dict[int, int]) -> tuple[str, dict[int, str]]:
    """A consumer buys ``cart`` and pays: the order's token and its supplier orders'
    public ids by supplier id."""
    client = app.test_client()
    token = buy(client, shop.slug, cart)
    assert dev_pay(client, shop.slug, token).status_code == 303
    with session_scope(app) as session:
        rows = session.execute(
            sa.select(SupplierOrder.supplier_id, SupplierOrder.public_id)
            .join(Order, Order.id == SupplierOrder.order_id)
            .where(Order.token == token)
        )
        return token, {supplier_id: public_id for supplier_id, public_id in rows}


def _order(app: Flask, token: str) -> Order:
    with session_scope(app) as session:
        return session.scalars(sa.select(Order).where(Order.token == token)).one()


def _part(app: Flask, public_id: str) -> SupplierOrder:
    with session_scope(app) as session:
        return session.scalars(
            sa.select(SupplierOrder).where(SupplierOrder.public_id == public_id)
        ).one()


def _refunds(app: Flask) -> list[tuple[int, str]]:
    with session_scope(app) as session:
        return [
            (refund.amount_minor, refund.status)
            for refund in session.scalars(sa.select(Refund).order_by(Refund.id))
        ]


def _quantities(body: dict[str, Any]) -> dict[str, tuple[int, int, int]]:
    """``sku -> (quantity, shipped, cancelled)`` of a supplier order's lines."""
    return {
        line["sku"]: (line["quantity"], line["shipped_quantity"], line["cancelled_quantity"])
        for line in body["lines"]
    }


def _pages(supplier: SupplierClient, query: str) -> list[list[str]]:
    """The ids of every page of ``GET /orders?<query>``, following the cursors."""
    pages: list[list[str]] = []
    cursor: str | None = None
    while True:
        url = f"/orders?{query}" + (f"&cursor={cursor}" if cursor else "")
        response = supplier.get(url)
        assert response.status_code == 200, response.get_json()
        body = response.get_json()
        pages.append([item["id"] for item in body["items"]])
        cursor = body["next_cursor"]
        if cursor is None:
            return pages
        assert isinstance(cursor, str)
        assert len(pages) < 10


def test_orders_are_pulled_page_by_page_and_one_by_one(shop_app: Flask) -> None:
    supplier, shop, skus = _three_skus(shop_app)
    made = [_paid(shop_app, shop, {skus["A"]: 2})[1][supplier.supplier_id] for _ in range(3)]
    assert _pages(supplier, "status=pending&limit=1") == [[made[0]], [made[1]], [made[2]]]
    assert _pages(supplier, "status=pending&limit=2") == [made[:2], made[2:]]
    assert _pages(supplier, "") == [made]
    assert supplier.post(f"/orders/{made[1]}/accept").status_code == 200
    assert _pages(supplier, "status=pending") == [[made[0], made[2]]]
    assert _pages(supplier, "status=accepted") == [[made[1]]]
    assert _pages(supplier, "status=shipped") == [[]]
    for bad in ("status=bogus", "limit=0", "limit=201", "limit=x", "cursor=abc", "cursor=-1"):
        response = supplier.get(f"/orders?{bad}")
        assert response.status_code == 422, (bad, response.get_json())

    got = supplier.get(f"/orders/{made[0]}")
    assert got.status_code == 200
    body = got.get_json()
    order = _order_of(shop_app, made[0])
    assert (body["id"], body["order_number"], body["status"]) == (
        made[0],
        order.number,
        "pending",
    )
    assert body["currency"] == "CNY"
    assert [
        (line["sku"], line["external_id"], line["quantity"], line["supply_price"])
        for line in body["lines"]
    ] == [("A", "P1", 2, 3000)]
    assert body["shipping_address"] == {
        name: ADDRESS[name]
        for name in ("name", "phone", "line1", "line2", "city", "region", "postal_code")
    } | {"country": "CN"}
    assert body["shipments"] == []
    line_keys = set(body["lines"][0])
    assert not line_keys & {"unit_price", "retail_price", "price", "amount"}
    assert "distributor" not in str(body)
    assert ADDRESS["email"] not in str(body)
    unknown = supplier.get("/orders/so_unknown")
    assert unknown.status_code == 404
    assert unknown.get_json()["status"] == 404


def _order_of(app: Flask, public_id: str) -> Order:
    with session_scope(app) as session:
        return session.scalars(
            sa.select(Order)
            .join(SupplierOrder, SupplierOrder.order_id == Order.id)
            .where(SupplierOrder.public_id == public_id)
        ).one()


def test_accepting_twice_answers_the_same_order(shop_app: Flask) -> None:
    supplier, shop, skus = _three_skus(shop_app)
    so_id = _paid(shop_app, shop, {skus["A"]: 1})[1][supplier.supplier_id]
    first = supplier.post(f"/orders/{so_id}/accept")
    second = supplier.post(f"/orders/{so_id}/accept")
    assert (first.status_code, second.status_code) == (200, 200)
    assert first.get_json()["status"] == "accepted"
    assert first.get_json()["accepted_at"] is not None
    without_clock = [
        {k: v for k, v in r.get_json().items() if k != "updated_at"} for r in (first, second)
    ]
    assert without_clock[0] == without_clock[1]
    with session_scope(shop_app) as session:
        kinds = session.scalars(sa.select(OrderEvent.kind).order_by(OrderEvent.id)).all()
    assert kinds.count("accepted") == 1


def test_a_repeated_accept_changes_nothing(shop_app: Flask) -> None:
    supplier, shop, skus = _three_skus(shop_app)
    so_id = _paid(shop_app, shop, {skus["A"]: 1})[1][supplier.supplier_id]
    first = supplier.post(f"/orders/{so_id}/accept")
    before = _part(shop_app, so_id)
    second = supplier.post(f"/orders/{so_id}/accept")
    after = _part(shop_app, so_id)
    # Idempotent: the repeat is a no-op, so the order (and the body, whose updated_at
    # has whole seconds) cannot change with the moment it is repeated.
    assert (after.status, after.accepted_at) == (before.status, before.accepted_at)
    assert after.updated_at == before.updated_at
    assert second.get_json() == first.get_json()


def test_an_order_ships_in_parts_then_is_delivered_in_that_order_only(shop_app: Flask) -> None:
    supplier, shop, skus = _three_skus(shop_app)
    token, parts = _paid(shop_app, shop, {skus["A"]: 2, skus["B"]: 1})
    so_id = parts[supplier.supplier_id]
    early = supplier.post(f"/orders/{so_id}/deliver")
    assert early.status_code == 409
    assert early.get_json()["message"] == "cannot deliver an order that is pending"
    assert supplier.post(f"/orders/{so_id}/accept").status_code == 200
    early = supplier.post(f"/orders/{so_id}/deliver")
    assert early.status_code == 409
    assert early.get_json()["message"] == "cannot deliver an order that is accepted"

    first = supplier.post(
        f"/orders/{so_id}/shipments",
        json={"carrier": "SF", "tracking_number": "SF1001", "lines": [{"sku": "A", "quantity": 1}]},
    )
    assert first.status_code == 201, first.get_json()
    body = first.get_json()
    assert body["status"] == "partially_shipped"
    assert _quantities(body) == {"A": (2, 1, 0), "B": (1, 0, 0)}
    assert [(s["tracking_number"], s["lines"]) for s in body["shipments"]] == [
        ("SF1001", [{"sku": "A", "quantity": 1}])
    ]
    early = supplier.post(f"/orders/{so_id}/deliver")
    assert early.status_code == 409
    assert "partially_shipped" in early.get_json()["message"]

    rest = supplier.post(
        f"/orders/{so_id}/shipments", json={"carrier": "SF", "tracking_number": "SF1002"}
    )
    assert rest.status_code == 201, rest.get_json()
    body = rest.get_json()
    assert body["status"] == "shipped"
    assert _quantities(body) == {"A": (2, 2, 0), "B": (1, 1, 0)}
    assert [(s["tracking_number"], s["lines"]) for s in body["shipments"]] == [
        ("SF1001", [{"sku": "A", "quantity": 1}]),
        ("SF1002", [{"sku": "A", "quantity": 1}, {"sku": "B", "quantity": 1}]),
    ]
    more = supplier.post(
        f"/orders/{so_id}/shipments", json={"carrier": "SF", "tracking_number": "SF1003"}
    )
    assert more.status_code == 409
    assert more.get_json()["message"] == "cannot ship an order that is shipped"
    page = shop_app.test_client().get(f"/s/{shop.slug}/orders/{token}").get_data(as_text=True)
    assert "SF1001" in page
    assert "SF1002" in page

    delivered = supplier.post(f"/orders/{so_id}/deliver")
    assert delivered.status_code == 200
    assert delivered.get_json()["status"] == "delivered"
    assert delivered.get_json()["delivered_at"] is not None
    for path, body_ in (
        ("shipments", {"carrier": "SF", "tracking_number": "SF1004"}),
        ("deliver", None),
        ("cancel", {"reason": "too late"}),
    ):
        late = supplier.post(f"/orders/{so_id}/{path}", json=body_)
        assert late.status_code == 409, (path, late.get_json())
        assert late.get_json()["message"].endswith("an order that is delivered")
    assert _part(shop_app, so_id).status == "delivered"
    assert _refunds(shop_app) == []


def test_shipments_that_do_not_fit_the_order_are_refused_naming_the_line(
    shop_app: Flask,
) -> None:
    supplier, shop, skus = _three_skus(shop_app)
    so_id = _paid(shop_app, shop, {skus["A"]: 2, skus["B"]: 1})[1][supplier.supplier_id]

    def ship(lines: Any) -> Any:
        return supplier.post(
            f"/orders/{so_id}/shipments",
            json={"carrier": "SF", "tracking_number": "SF1", "lines": lines},
        )

    too_many = ship([{"sku": "A", "quantity": 3}])
    assert too_many.status_code == 422
    assert too_many.get_json()["errors"] == {
        "json": {
            "lines": {"0": {"quantity": ["Only 2 unit(s) of 'A' are left to ship or cancel."]}}
        }
    }
    twice = ship(
        [{"sku": "B", "quantity": 1}, {"sku": "A", "quantity": 2}, {"sku": "A", "quantity": 1}]
    )
    assert twice.status_code == 422
    assert twice.get_json()["errors"] == {
        "json": {
            "lines": {"2": {"quantity": ["Only 2 unit(s) of 'A' are left to ship or cancel."]}}
        }
    }
    unknown = ship([{"sku": "A", "quantity": 1}, {"sku": "NOPE", "quantity": 1}])
    assert unknown.status_code == 422
    assert unknown.get_json()["errors"] == {
        "json": {"lines": {"1": {"sku": ["This order has no SKU 'NOPE'."]}}}
    }
    other_suppliers_sku = ship([{"sku": "C", "quantity": 1}])  # C is sold, not in this order
    assert other_suppliers_sku.status_code == 422
    for bad in ([{"sku": "A", "quantity": 0}], [{"sku": "A", "quantity": 1.5}], [{"sku": "A"}], []):
        response = ship(bad)
        assert response.status_code == 422, (bad, response.get_json())
        assert "lines" in response.get_json()["errors"]["json"]
    no_carrier = supplier.post(f"/orders/{so_id}/shipments", json={"tracking_number": "SF1"})
    assert no_carrier.status_code == 422
    assert "carrier" in no_carrier.get_json()["errors"]["json"]
    # Nothing was written by any of them
    body = supplier.get(f"/orders/{so_id}").get_json()
    assert (body["status"], body["shipments"]) == ("pending", [])
    assert _quantities(body) == {"A": (2, 0, 0), "B": (1, 0, 0)}

    # After a partial shipment, only what is left can be shipped
    assert ship([{"sku": "A", "quantity": 1}]).status_code == 201
    left = ship([{"sku": "A", "quantity": 2}])
    assert left.status_code == 422
    assert left.get_json()["errors"]["json"]["lines"]["0"]["quantity"] == [
        "Only 1 unit(s) of 'A' are left to ship or cancel."
    ]


def test_cancelling_one_line_refunds_exactly_that_line(shop_app: Flask) -> None:
    supplier, shop, skus = _three_skus(shop_app, fee=800)
    token, parts = _paid(shop_app, shop, {skus["A"]: 1, skus["B"]: 2, skus["C"]: 1})
    so_id = parts[supplier.supplier_id]
    assert _order(shop_app, token).total_minor == 5000 + 4000 + 1000 + 800
    response = supplier.post(
        f"/orders/{so_id}/cancel",
        json={"reason": "B is out of stock", "lines": [{"sku": "B", "quantity": 2}]},
    )
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["status"] == "pending"
    assert _quantities(body) == {"A": (1, 0, 0), "B": (2, 0, 2), "C": (1, 0, 0)}
    assert _refunds(shop_app) == [(4000, "pending")]  # B's 2 x 20.00; shipping still due
    assert _order(shop_app, token).refunded_minor == 0  # not before the provider made it

    counts = Dispatcher(shop_app).run_once()
    assert counts["refunds"] == 1
    assert _refunds(shop_app) == [(4000, "succeeded")]
    part_id = _part(shop_app, so_id).id
    with session_scope(shop_app) as session:
        refund = session.scalars(sa.select(Refund)).one()
    assert refund.provider_ref is not None
    assert refund.provider_ref.startswith("dev_re_")
    assert refund.supplier_order_id == part_id
    order = _order(shop_app, token)
    assert (order.refunded_minor, order.status) == (4000, "paid")
    assert Dispatcher(shop_app).run_once()["refunds"] == 0  # made once

    # The rest ships without the cancelled line
    rest = supplier.post(
        f"/orders/{so_id}/shipments", json={"carrier": "SF", "tracking_number": "SF9"}
    )
    assert rest.status_code == 201
    assert rest.get_json()["status"] == "shipped"
    assert rest.get_json()["shipments"][0]["lines"] == [
        {"sku": "A", "quantity": 1},
        {"sku": "C", "quantity": 1},
    ]


def test_cancelling_every_part_refunds_everything_with_shipping(shop_app: Flask) -> None:
    first, shop, skus = _three_skus(shop_app, fee=800)
    second, z_id = _other_supplier(shop_app, fee=500)
    token, parts = _paid(shop_app, shop, {skus["A"]: 1, z_id: 1})
    assert _order(shop_app, token).total_minor == 5000 + 800 + 3000 + 500

    cancelled = first.post(f"/orders/{parts[first.supplier_id]}/cancel", json={"reason": "closed"})
    assert cancelled.status_code == 200, cancelled.get_json()
    body = cancelled.get_json()
    assert (body["status"], body["cancel_reason"]) == ("cancelled", "closed")
    assert body["cancelled_at"] is not None
    assert _quantities(body) == {"A": (1, 0, 1)}
    assert _refunds(shop_app) == [(5800, "pending")]  # the line and the part's shipping
    assert Dispatcher(shop_app).run_once()["refunds"] == 1
    order = _order(shop_app, token)
    assert (order.refunded_minor, order.status) == (5800, "paid")  # the other part is due
    again = first.post(f"/orders/{parts[first.supplier_id]}/cancel", json={})
    assert again.status_code == 409
    assert "cancelled" in again.get_json()["message"]

    assert second.post(f"/orders/{parts[second.supplier_id]}/cancel", json={}).status_code == 200
    assert Dispatcher(shop_app).run_once()["refunds"] == 1
    assert _refunds(shop_app) == [(5800, "succeeded"), (3500, "succeeded")]
    order = _order(shop_app, token)
    assert (order.refunded_minor, order.status) == (9300, "refunded")


def test_a_supplier_never_reaches_another_suppliers_order(shop_app: Flask) -> None:
    mine, shop, skus = _three_skus(shop_app)
    theirs, z_id = _other_supplier(shop_app)
    _, parts = _paid(shop_app, shop, {skus["A"]: 1, z_id: 2})  # one order, two parts
    own, foreign = parts[mine.supplier_id], parts[theirs.supplier_id]
    attempts = [
        ("get", "", None),
        ("post", "/accept", None),
        ("post", "/shipments", {"carrier": "SF", "tracking_number": "SF1"}),
        (
            "post",
            "/shipments",
            {"carrier": "SF", "tracking_number": "SF1", "lines": [{"sku": "Z", "quantity": 1}]},
        ),
        ("post", "/deliver", None),
        ("post", "/cancel", {"reason": "mine now"}),
        ("post", "/cancel", {"lines": [{"sku": "Z", "quantity": 1}]}),
    ]
    for method, path, body in attempts:
        response = getattr(mine, method)(f"/orders/{foreign}{path}", json=body)
        assert response.status_code == 404, (method, path, response.get_json())
        assert response.get_json()["message"] == f"no order {foreign!r}"  # as if none
    assert _pages(mine, "") == [[own]]
    assert _pages(mine, "status=pending") == [[own]]
    assert _pages(theirs, "") == [[foreign]]
    assert theirs.get(f"/orders/{own}").status_code == 404
    untouched = theirs.get(f"/orders/{foreign}").get_json()
    assert (untouched["status"], untouched["accepted_at"], untouched["shipments"]) == (
        "pending",
        None,
        [],
    )
    assert _quantities(untouched) == {"Z": (2, 0, 0)}
    assert _refunds(shop_app) == []
    with session_scope(shop_app) as session:
        assert session.scalars(sa.select(Shipment)).all() == []
        assert {line.cancelled_quantity for line in session.scalars(sa.select(OrderLine))} == {0}


def test_webhook_endpoint_settings(db_url: str) -> None:
    app = build_app(db_url)  # no STOREFRONT_WEBHOOK_ALLOW_*: https to public hosts only
    try:
        supplier = new_supplier_client(app)
        url = "https://hooks.example.com/storefront"
        first = supplier.put("/webhook", json={"url": url})
        assert first.status_code == 200, first.get_json()
        assert first.get_json()["url"] == url
        secret = first.get_json()["secret"]
        assert secret.startswith("whsec_")
        assert len(secret) > 20
        rotated = supplier.put("/webhook", json={"url": url})
        assert rotated.status_code == 200
        assert rotated.get_json()["secret"].startswith("whsec_")
        assert rotated.get_json()["secret"] != secret
        assert _webhook(app, supplier) == (url, rotated.get_json()["secret"])

        for refused in (
            "https://10.0.0.1/",
            "https://127.0.0.1:8443/hook",
            "https://[::1]/hook",
            "https://169.254.169.254/latest",
            "ftp://hooks.example.com/",
            "http://hooks.example.com/",
            "https://user:pw@hooks.example.com/",
            "hooks.example.com/hook",
            "",
            "https://" + "a" * 2100 + ".com/",
        ):
            response = supplier.put("/webhook", json={"url": refused})
            assert response.status_code == 422, (refused, response.get_json())
            assert response.get_json()["status"] == 422
        for body in ({}, {"url": 5}, {"url": url, "extra": 1}, ["url"]):
            assert supplier.put("/webhook", json=body).status_code == 422, body
        malformed = supplier.put(
            "/webhook", data="{bad json", headers={"Content-Type": "application/json"}
        )
        assert malformed.status_code == 400
        assert _webhook(app, supplier) == (url, rotated.get_json()["secret"])  # unchanged

        deliveries = supplier.get("/webhook/deliveries")
        assert (deliveries.status_code, deliveries.get_json()) == (
            200,
            {"items": [], "next_cursor": None},
        )
        deleted = supplier.delete("/webhook")
        assert (deleted.status_code, deleted.get_data()) == (204, b"")
        assert _webhook(app, supplier) == (None, None)
        assert supplier.put("/webhook", json={"url": url}).status_code == 200
    finally:
        app.extensions["storefront"].engine.dispose()
    with app_on(db_url) as allowing:  # STOREFRONT_WEBHOOK_ALLOW_HTTP and _PRIVATE
        local = new_supplier_client(allowing)
        assert local.put("/webhook", json={"url": "http://10.0.0.1:8080/"}).status_code == 200
        assert local.put("/webhook", json={"url": "ftp://10.0.0.1/"}).status_code == 422


def _webhook(app: Flask, supplier: SupplierClient) -> tuple[str | None, str | None]:
    with session_scope(app) as session:
        found = session.get_one(Supplier, supplier.supplier_id)
        return found.webhook_url, found.webhook_secret


def test_shipping_settings_take_whole_non_negative_minor_units(db_url: str) -> None:
    app = build_app(db_url)
    try:
        supplier = new_supplier_client(app)
        assert supplier.get("/shipping").get_json() == {
            "currency": "CNY",
            "fee": 0,
            "free_over": None,
        }
        response = supplier.put("/shipping", json={"fee": 800, "free_over": 10000})
        assert (response.status_code, response.get_json()) == (
            200,
            {"currency": "CNY", "fee": 800, "free_over": 10000},
        )
        for bad in (
            {"fee": -1},
            {"fee": 8.5},
            {"fee": 800.0},
            {"fee": "800"},
            {"fee": True},
            {"fee": None},
            {"fee": 2**31},
            {"fee": 800, "free_over": -1},
            {"fee": 800, "free_over": 99.5},
            {"fee": 800, "free_over": "10000"},
            {"fee": 800, "extra": 1},
            {"free_over": 10000},
            {},
            [800],
            "800",
        ):
            refused = supplier.put("/shipping", json=bad)
            assert refused.status_code == 422, (bad, refused.status_code, refused.get_json())
            assert refused.get_json()["status"] == 422
        for raw in ("{", "NaN", '{"fee": NaN}', '{"fee": Infinity}', ""):
            malformed = supplier.put(
                "/shipping", data=raw, headers={"Content-Type": "application/json"}
            )
            assert malformed.status_code == 400, (raw, malformed.get_json())
        assert supplier.get("/shipping").get_json() == {
            "currency": "CNY",
            "fee": 800,
            "free_over": 10000,
        }
        free_never = supplier.put("/shipping", json={"fee": 500})
        assert free_never.get_json() == {"currency": "CNY", "fee": 500, "free_over": None}
    finally:
        app.extensions["storefront"].engine.dispose()


def test_malformed_order_requests_are_400_or_422_never_500(shop_app: Flask) -> None:
    supplier, shop, skus = _three_skus(shop_app)
    so_id = _paid(shop_app, shop, {skus["A"]: 2})[1][supplier.supplier_id]
    json_type = {"Content-Type": "application/json"}
    for path in ("shipments", "cancel"):
        for raw in ("{", "[1,", "NaN", "\xff"):
            response = supplier.post(f"/orders/{so_id}/{path}", data=raw, headers=json_type)
            assert response.status_code == 400, (path, raw, response.get_json())
        for body in (
            [],
            "x",
            {"lines": "A"},
            {"lines": [{"sku": "A", "quantity": "1"}]},
            {"lines": [{"sku": "", "quantity": 1}]},
            {"lines": [{"sku": "A", "quantity": 1, "extra": True}]},
            {"reason": 5, "carrier": 5, "tracking_number": 5},
            {"carrier": "SF", "tracking_number": "x" * 129, "reason": "x" * 501},
        ):
            response = supplier.post(f"/orders/{so_id}/{path}", json=body)
            assert response.status_code == 422, (path, body, response.get_json())
    body = supplier.get(f"/orders/{so_id}").get_json()
    assert (body["status"], body["shipments"]) == ("pending", [])
    assert _quantities(body) == {"A": (2, 0, 0)}
    assert _refunds(shop_app) == []


def test_a_supplier_sees_each_lines_returns_refunds_and_its_deduction(shop_app: Flask) -> None:
    # Given two A (50.00 each, supply 30.00) and one B (20.00) paid
    supplier, shop, skus = _three_skus(shop_app)
    token, parts = _paid(shop_app, shop, {skus["A"]: 2, skus["B"]: 1})
    so_id = parts[supplier.supplier_id]
    order_id = _order(shop_app, token).id or 0
    # When the platform refunds one A as returned and 5.00 of B as goodwill
    with session_scope(shop_app) as session:
        ids = dict(
            session.execute(
                sa.select(OrderLine.sku, OrderLine.id).where(OrderLine.order_id == order_id)
            ).all()
        )
        refund_returned_units(session, order_id, {ids["A"]: 1}, "sent back", utcnow(), actor="t")
        refund_lines(session, order_id, {ids["B"]: 500}, "late", utcnow(), actor="t")
    # Then the supplier's order shows per line the units, the amount and its share deducted
    body = supplier.get(f"/orders/{so_id}").get_json()
    refunds = {
        line["sku"]: (
            line["returned_quantity"],
            line["returned_unshipped_quantity"],
            line["refunded_amount"],
            line["supply_deducted"],
        )
        for line in body["lines"]
    }
    assert refunds == {"A": (1, 1, 5000, 3000), "B": (0, 0, 500, 250)}
    # And the returned unit is neither shipped nor cancelled any more
    too_many = supplier.post(
        f"/orders/{so_id}/cancel", json={"lines": [{"sku": "A", "quantity": 2}]}
    )
    assert too_many.status_code == 422
    assert too_many.get_json()["errors"] == {
        "json": {
            "lines": {"0": {"quantity": ["Only 1 unit(s) of 'A' are left to ship or cancel."]}}
        }
    }
    rest = supplier.post(
        f"/orders/{so_id}/shipments", json={"carrier": "SF", "tracking_number": "1"}
    )
    assert rest.status_code == 201
    assert rest.get_json()["shipments"][0]["lines"] == [
        {"sku": "A", "quantity": 1},
        {"sku": "B", "quantity": 1},
    ]
    assert rest.get_json()["status"] == "shipped"


def test_a_part_all_returned_before_shipping_is_cancelled_with_its_shipping(
    shop_app: Flask,
) -> None:
    # Given one A (50.00) paid with the supplier's 8.00 shipping
    supplier, shop, skus = _three_skus(shop_app, fee=800)
    token, parts = _paid(shop_app, shop, {skus["A"]: 1})
    so_id = parts[supplier.supplier_id]
    order = _order(shop_app, token)
    # When the platform refunds it as returned before it was shipped
    with session_scope(shop_app) as session:
        line_id = session.scalars(sa.select(OrderLine.id)).one()
        refund_returned_units(
            session, order.id or 0, {line_id: 1}, "changed mind", utcnow(), actor="t"
        )
    # Then the supplier's order is cancelled and the consumer gets the shipping back too
    body = supplier.get(f"/orders/{so_id}").get_json()
    assert (body["status"], body["cancel_reason"]) == ("cancelled", "returned before shipping")
    assert _refunds(shop_app) == [(5800, "pending")]
    with session_scope(shop_app) as session:
        told = session.scalars(
            sa.select(OutboxEvent.type)
            .where(OutboxEvent.supplier_order_id == _part(shop_app, so_id).id)
            .order_by(OutboxEvent.id)
        ).all()
    assert told == ["order.created", "order.cancelled", "order.refund_requested"]
    assert (
        supplier.post(
            f"/orders/{so_id}/shipments", json={"carrier": "SF", "tracking_number": "1"}
        ).status_code
        == 409
    )
