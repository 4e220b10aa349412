"""Unpaid orders expire and give their stock back (in bulk from the CLI, lazily when looked
at), and supplier stock reports are reconciled with the units orders hold (``as_of``): on
both backends."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from conftest import SupplierClient, run_cli
from flask import Flask
from order_support import app_on, buy, dev_pay, stocked_shop
from shop_support import csrf_token, product, push, variant

from storefront_sdk.catalog.models import Variant
from storefront_sdk.db import session_scope, utcnow
from storefront_sdk.orders.models import Order, OrderEvent, OrderLine, Refund, SupplierOrder


@pytest.fixture(autouse=True)
def _cheap_password_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Distributors' passwords are not under test here: hash them cheaply."""
    from werkzeug.security import generate_password_hash

    monkeypatch.setattr(
        "storefront_sdk.shops.accounts.generate_password_hash",
        lambda password: generate_password_hash(password, "pbkdf2:sha256:1"),
    )


def _available(app: Flask, variant_id: int) -> int:
    with session_scope(app) as session:
        return session.get_one(Variant, variant_id).available


def _order(app: Flask, token: str) -> Order:
    with session_scope(app) as session:
        return session.scalars(sa.select(Order).where(Order.token == token)).one()


def _held(app: Flask, token: str) -> list[bool]:
    """``stock_held`` of the order's lines, in line order."""
    with session_scope(app) as session:
        return list(
            session.scalars(
                sa.select(OrderLine.stock_held)
                .join(Order, Order.id == OrderLine.order_id)
                .where(Order.token == token)
                .order_by(OrderLine.id)
            )
        )


def _overdue(app: Flask, *tokens: str) -> None:
    """Move the orders' expiry a minute into the past."""
    with session_scope(app) as session:
        session.execute(
            sa.update(Order)
            .where(Order.token.in_(tokens))
            .values(expires_at=utcnow() - timedelta(minutes=1))
        )


def _events(app: Flask, token: str) -> list[str]:
    with session_scope(app) as session:
        return list(
            session.scalars(
                sa.select(OrderEvent.kind)
                .join(Order, Order.id == OrderEvent.order_id)
                .where(Order.token == token)
                .order_by(OrderEvent.id)
            )
        )


def _report(supplier: SupplierClient, sku: str, stock: int, as_of: datetime | None = None) -> None:
    item: dict[str, Any] = {"sku": sku, "stock": stock}
    if as_of is not None:
        item["as_of"] = as_of.astimezone().isoformat()
    response = supplier.patch("/stock", json={"items": [item]})
    assert response.status_code == 200, response.get_json()
    assert response.get_json() == {"updated": 1}


def test_expire_orders_command_frees_the_stock_of_overdue_unpaid_orders_only(
    db_url: str, tmp_path: Path
) -> None:
    with app_on(db_url) as app:
        _, shop, skus = stocked_shop(app, stock=10)
        client = app.test_client()
        overdue = buy(client, shop.slug, {skus["A"]: 2, skus["B"]: 1})
        paid = buy(client, shop.slug, {skus["A"]: 1})
        assert dev_pay(client, shop.slug, paid).status_code == 303
        fresh = buy(client, shop.slug, {skus["A"]: 3})
        _overdue(app, overdue, paid)  # the paid one too: payment ends expiry
        assert (_available(app, skus["A"]), _available(app, skus["B"])) == (4, 9)

        result = run_cli(db_url, "expire-orders", tmp_path=tmp_path)
        assert result.returncode == 0, result.stderr
        assert json.loads(result.stdout) == {
            "expired": 1,
            "paid_meanwhile": 0,
            "flash_sales_ended": 0,
        }
        statuses = [_order(app, token).status for token in (overdue, paid, fresh)]
        assert statuses == ["expired", "paid", "awaiting_payment"]
        assert (_available(app, skus["A"]), _available(app, skus["B"])) == (6, 10)
        assert _held(app, overdue) == [False, False]
        assert _held(app, fresh) == [True]
        assert _events(app, overdue) == ["placed", "expired"]

        # Nothing is left to expire (in process: one subprocess is enough)
        again = app.test_cli_runner().invoke(args=["storefront", "expire-orders"])
        assert (again.exit_code, json.loads(again.output)) == (
            0,
            {"expired": 0, "paid_meanwhile": 0, "flash_sales_ended": 0},
        )
        assert (_available(app, skus["A"]), _available(app, skus["B"])) == (6, 10)


def test_an_overdue_order_expires_when_its_page_is_opened(db_url: str) -> None:
    with app_on(db_url) as app:
        _, shop, skus = stocked_shop(app, stock=10)
        client = app.test_client()
        token = buy(client, shop.slug, {skus["A"]: 2})
        page = client.get(f"/s/{shop.slug}/orders/{token}").get_data(as_text=True)
        assert 'data-testid="pay-link"' in page
        _overdue(app, token)
        assert _available(app, skus["A"]) == 8  # nobody looked yet
        response = client.get(f"/s/{shop.slug}/orders/{token}")
        assert response.status_code == 200
        assert 'data-testid="pay-link"' not in response.get_data(as_text=True)
        assert _order(app, token).status == "expired"
        assert _available(app, skus["A"]) == 10
        assert _held(app, token) == [False]
        # Looking again changes nothing; the payment page sends to the order page
        assert client.get(f"/s/{shop.slug}/orders/{token}").status_code == 200
        pay = client.get(f"/s/{shop.slug}/orders/{token}/pay")
        assert pay.status_code == 303
        assert pay.headers["Location"].endswith(f"/orders/{token}")
        assert _available(app, skus["A"]) == 10
        assert _events(app, token) == ["placed", "expired"]


def test_paying_an_expired_order_does_not_make_it_paid(db_url: str) -> None:
    with app_on(db_url) as app:
        _, shop, skus = stocked_shop(app, stock=10)
        client = app.test_client()
        token = buy(client, shop.slug, {skus["A"]: 2})
        assert client.get(f"/s/{shop.slug}/orders/{token}/pay").status_code == 200  # started
        _overdue(app, token)
        with session_scope(app) as session:
            product_id = session.get_one(Variant, skus["A"]).product_id
        form_page = client.get(f"/s/{shop.slug}/p/{product_id}").get_data(as_text=True)
        response = client.post(
            f"/s/{shop.slug}/orders/{token}/dev-pay",
            data={"csrf_token": csrf_token(form_page), "outcome": "succeeded"},
        )
        assert response.status_code == 303
        order = _order(app, token)
        assert (order.status, order.paid_at) == ("expired", None)
        assert _available(app, skus["A"]) == 10
        with session_scope(app) as session:
            assert session.scalars(sa.select(SupplierOrder)).all() == []  # no handoff
            refunds = [(r.amount_minor, r.status) for r in session.scalars(sa.select(Refund))]
        assert refunds == [(10000, "pending")]  # the late money goes back


def test_stock_reports_subtract_the_units_of_orders_the_supplier_had_not_accepted(
    db_url: str,
) -> None:
    with app_on(db_url) as app:
        supplier, shop, skus = stocked_shop(app, stock=10)
        client = app.test_client()
        token = buy(client, shop.slug, {skus["A"]: 2})
        _report(supplier, "A", 10)
        assert _available(app, skus["A"]) == 8  # unpaid: its 2 units are held
        assert dev_pay(client, shop.slug, token).status_code == 303
        _report(supplier, "A", 10)
        assert _available(app, skus["A"]) == 8  # paid, not accepted: still held
        with session_scope(app) as session:
            reported = session.get_one(Variant, skus["A"]).stock_as_of
            so_id = session.scalars(sa.select(SupplierOrder.public_id)).one()
        assert supplier.post(f"/orders/{so_id}/accept").status_code == 200
        with session_scope(app) as session:
            accepted = session.scalars(sa.select(SupplierOrder.accepted_at)).one()
        assert reported is not None
        assert accepted is not None
        assert reported < accepted

        # Counted before the acceptance: the report does not include the order's units
        _report(supplier, "A", 10, reported + (accepted - reported) / 2)
        assert _available(app, skus["A"]) == 8
        assert _held(app, token) == [True]
        # Counted after it: the units left the supplier's count, the line holds nothing
        _report(supplier, "A", 10, accepted + timedelta(milliseconds=1))
        assert _available(app, skus["A"]) == 10
        assert _held(app, token) == [False]
        _report(supplier, "A", 7)
        assert _available(app, skus["A"]) == 7
        got = supplier.get("/products/P1").get_json()
        assert {v["sku"]: v["available"] for v in got["variants"]} == {"A": 7, "B": 10}


def test_a_catalogue_sync_keeps_unaccepted_orders_subtracted(db_url: str) -> None:
    with app_on(db_url) as app:
        supplier, shop, skus = stocked_shop(app, stock=10)
        client = app.test_client()
        paid = buy(client, shop.slug, {skus["A"]: 2})
        assert dev_pay(client, shop.slug, paid).status_code == 303  # pending at the supplier
        buy(client, shop.slug, {skus["A"]: 1, skus["B"]: 4})  # unpaid
        assert (_available(app, skus["A"]), _available(app, skus["B"])) == (7, 6)
        push(
            supplier,
            product(
                "P1",
                variants=[
                    variant("A", stock=20, supply_price=3000, retail_price=5000, min_price=None),
                    variant("B", stock=3, supply_price=1000, retail_price=2000, min_price=None),
                ],
            ),
        )
        assert _available(app, skus["A"]) == 17
        assert _available(app, skus["B"]) == 0  # 3 reported, 4 held: none, never negative


def test_a_report_below_the_held_units_leaves_nothing_to_sell_never_less(db_url: str) -> None:
    with app_on(db_url) as app:
        supplier, shop, skus = stocked_shop(app, stock=10)
        client = app.test_client()
        buy(client, shop.slug, {skus["A"]: 3})
        _report(supplier, "A", 1)
        assert _available(app, skus["A"]) == 0
        _report(supplier, "A", 0)
        assert _available(app, skus["A"]) == 0
        _report(supplier, "A", 5)
        assert _available(app, skus["A"]) == 2


def test_an_order_expiring_after_a_low_report_frees_only_what_the_supplier_has(
    db_url: str,
) -> None:
    with app_on(db_url) as app:
        supplier, shop, skus = stocked_shop(app, stock=10)
        client = app.test_client()
        token = buy(client, shop.slug, {skus["A"]: 3})
        _report(supplier, "A", 1)  # the supplier has 1 unit; the order holds 3
        assert _available(app, skus["A"]) == 0
        _overdue(app, token)
        assert client.get(f"/s/{shop.slug}/orders/{token}").status_code == 200
        assert _order(app, token).status == "expired"
        # available = reported - units held = 1 - 0: giving the 3 units back would sell 2
        # units the supplier does not have
        assert _available(app, skus["A"]) == 1
