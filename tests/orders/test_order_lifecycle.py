"""A consumer buys, pays (test mode), the supplier gets a signed order.created, accepts and
ships through the API, and the consumer sees the tracking number: on both backends."""

from __future__ import annotations

import json

import sqlalchemy as sa
from flask import Flask
from order_support import ADDRESS, app_on, buy, dev_pay, simulator, stocked_shop

from storefront_sdk import signals
from storefront_sdk.db import session_scope
from storefront_sdk.dispatcher import Dispatcher
from storefront_sdk.orders.models import Order, OrderLine, SupplierOrder


def _variant_available(app: Flask, variant_id: int) -> int:
    with session_scope(app) as session:
        return int(
            session.execute(
                sa.text("SELECT available FROM sf_variant WHERE id = :id"), {"id": variant_id}
            ).scalar_one()
        )


def test_full_order_lifecycle(db_url: str) -> None:
    with app_on(db_url) as app:
        supplier, shop, skus = stocked_shop(app, stock=5)
        paid: list[dict[str, object]] = []
        signals.order_paid.connect(lambda sender, **kw: paid.append(kw), weak=False)
        sim = simulator(supplier)
        try:
            client = app.test_client()
            token = buy(client, shop.slug, {skus["A"]: 2, skus["B"]: 1})
            assert _variant_available(app, skus["A"]) == 3  # allocated at checkout
            page = client.get(f"/s/{shop.slug}/orders/{token}/pay").get_data(as_text=True)
            assert 'data-testid="test-mode"' in page
            assert "120.00" in page
            response = dev_pay(client, shop.slug, token)
            assert response.status_code == 303
            with session_scope(app) as session:
                order = session.scalars(sa.select(Order).where(Order.token == token)).one()
                assert order.status == "paid"
                assert order.total_minor == 12000
                assert order.credit_source == "shop"
                assert order.credited_distributor_id == shop.distributor_id
            assert [kw["order_number"] for kw in paid] == [order.number]
            counts = Dispatcher(app).run_once()
            assert counts["delivered"] == 1
            event_id, _event_type, so_id = sim.wait_for(lambda e: e[1] == "order.created")
            assert so_id.startswith("so_")
            assert event_id.startswith("evt_")
            assert sim.rejected == []
            sim.wait_for(lambda e: True)
            for worker in sim._workers:
                worker.join(10)
            assert sim.api_errors == []
            got = supplier.get(f"/orders/{so_id}").get_json()
            assert got["status"] == "delivered"
            assert got["order_number"] == order.number
            assert {line["sku"]: line["quantity"] for line in got["lines"]} == {"A": 2, "B": 1}
            assert "retail_price" not in json.dumps(got)
            assert "distributor" not in json.dumps(got)
            assert got["shipping_address"]["name"] == ADDRESS["name"]
            order_page = client.get(f"/s/{shop.slug}/orders/{token}").get_data(as_text=True)
            assert got["shipments"][0]["tracking_number"] in order_page
            assert 'data-status="delivered"' in order_page
        finally:
            sim.stop()
            signals.order_paid.receivers.clear()
        with session_scope(app) as session:
            kinds = (
                session.execute(sa.text("SELECT kind FROM sf_order_event ORDER BY id"))
                .scalars()
                .all()
            )
            assert kinds[:2] == ["placed", "paid"]
            assert {"accepted", "shipped", "delivered"} <= set(kinds)
            assert session.scalars(sa.select(SupplierOrder)).one().status == "delivered"
            assert all(line.supplier_order_id for line in session.scalars(sa.select(OrderLine)))
