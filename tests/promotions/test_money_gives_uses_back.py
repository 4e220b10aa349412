"""Orders placed with promotions through checkout, downstream: the discounts checkout
allocated are the ones the money honours (the supplier's 10 % coupon of
``docs/promotions.md`` gives TEE 1000 and CAP 200), and an order wholly
cancelled by its suppliers or refunded in full gives its promotions' uses back (a partial
cancellation or refund does not).

Prices (fen, ``commission_world``): TEE 5000 (supply 3000), CAP 2000 (supply 1000)."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).parents[1] / "commissions"))
from commission_world import World, dispose, make_world
from money_discounts import give, make_promotion

from storefront_sdk.catalog import allocation
from storefront_sdk.catalog.models import Variant
from storefront_sdk.catalog.suppliers import create_api_key
from storefront_sdk.catalog.sync import sync_products
from storefront_sdk.fulfillment.models import OutboxEvent
from storefront_sdk.orders.models import Order, OrderLineDiscount, SupplierOrder
from storefront_sdk.payments import service
from storefront_sdk.payments.providers import DevProvider
from storefront_sdk.promotions.models import (
    FLASH_SALE,
    USE_RETURNED,
    USE_TAKEN,
    Promotion,
    PromotionUse,
)
from storefront_sdk.testing.factories import make_supplier, product_payload, variant_payload


@pytest.fixture
def world(db_url: str) -> Iterator[World]:
    made = make_world(db_url)
    yield made
    dispose(made)


def _coupon(world: World, funder: str, code: str) -> int:
    with world.session() as session:
        promotion = make_promotion(
            session,
            funder,
            f"{code} coupon",
            world.now,
            supplier_id=world.supplier_id if funder == "supplier" else None,
        )
        promotion.code, promotion.percent_off = code, 10
        session.add(promotion)
        session.commit()
        return promotion.id or 0


def _use(world: World, promotion_id: int) -> tuple[str, int, int]:
    """The order's use of the promotion, and the promotion's uses and discount given."""
    with world.session() as session:
        use = session.scalars(
            sa.select(PromotionUse).where(PromotionUse.promotion_id == promotion_id)
        ).one()
        promotion = session.get_one(Promotion, promotion_id)
        return use.status, promotion.uses, promotion.discount_given_minor


def _made_refunds(world: World) -> None:
    with world.session() as session:
        service.run_refunds(session, {"dev": DevProvider()}, world.now, commit=session.commit)


def test_a_supplier_coupon_placed_at_checkout_is_what_the_supplier_is_shown(
    world: World,
) -> None:
    # Given the supplier's 10 % coupon typed at checkout on TEE x2 + CAP x1
    promotion_id = _coupon(world, "supplier", "TENOFF")
    # When the order is placed and paid
    order = world.buy({"TEE": 2, "CAP": 1}, coupon_code="TENOFF")
    # Then checkout allocated 1200 as the worked example says, out of the supplier's part
    with world.session() as session:
        assert session.get_one(Order, order).total_minor == 10800
        rows = session.scalars(sa.select(OrderLineDiscount).order_by(OrderLineDiscount.id))
        assert sorted((row.funder, row.amount_minor) for row in rows) == [
            ("supplier", 200),
            ("supplier", 1000),
        ]
        body = json.loads(
            session.scalars(
                sa.select(OutboxEvent.body).where(OutboxEvent.type == "order.created")
            ).one()
        )
        public_id = session.get_one(Promotion, promotion_id).public_id
    lines = {line["sku"]: line for line in body["data"]["object"]["lines"]}
    assert (lines["TEE"]["supply_amount"], lines["TEE"]["discounts"]) == (
        5000,
        [{"promotion_id": public_id, "amount": 1000}],
    )
    assert (lines["CAP"]["supply_amount"], lines["CAP"]["discounts"]) == (
        800,
        [{"promotion_id": public_id, "amount": 200}],
    )
    # and the supplier's order API shows the same
    pulled = _pulled(world, body["data"]["object"]["id"])
    assert [(x["sku"], x["supply_amount"], x["discounts"]) for x in pulled["lines"]] == [
        ("CAP", 800, [{"promotion_id": public_id, "amount": 200}]),
        ("TEE", 5000, [{"promotion_id": public_id, "amount": 1000}]),
    ]
    assert "amount_minor" not in json.dumps(pulled)


def test_another_supplier_cannot_pull_the_order_nor_its_discounts(world: World) -> None:
    _coupon(world, "supplier", "TENOFF")
    world.buy({"TEE": 1}, coupon_code="TENOFF")
    with world.session() as session:
        part = session.scalars(sa.select(SupplierOrder.public_id)).one()
        _, key = make_supplier(session, currency="CNY")
        session.commit()
    client = world.app.test_client()
    answer = client.get(
        f"/api/v1/supplier/orders/{part}", headers={"Authorization": f"Bearer {key}"}
    )
    assert answer.status_code == 404


def _pulled(world: World, part: str) -> dict[str, Any]:
    with world.session() as session:
        _, key = create_api_key(session, world.supplier_id)
        session.commit()
    answer = world.app.test_client().get(
        f"/api/v1/supplier/orders/{part}", headers={"Authorization": f"Bearer {key}"}
    )
    assert answer.status_code == 200, answer.get_data(as_text=True)
    found: dict[str, Any] = answer.get_json()
    found["lines"].sort(key=lambda line: line["sku"])
    return found


def test_an_order_wholly_cancelled_by_its_supplier_gives_its_coupon_use_back(
    world: World,
) -> None:
    # Given a paid order of TEE x2 with a 10 % platform coupon (1000 off)
    promotion_id = _coupon(world, "platform", "SAVE10")
    order = world.buy({"TEE": 2}, coupon_code="SAVE10")
    assert _use(world, promotion_id) == (USE_TAKEN, 1, 1000)
    # When the supplier cancels one unit, the use stays taken
    world.cancel(order, "TEE", 1)
    assert _use(world, promotion_id) == (USE_TAKEN, 1, 1000)
    # When it cancels the other, the order is wholly cancelled: the use goes back, once
    world.cancel(order, "TEE", 1)
    assert _use(world, promotion_id) == (USE_RETURNED, 0, 0)
    _made_refunds(world)  # the refunds made then refund the order in full
    with world.session() as session:
        assert session.get_one(Order, order).status == "refunded"
    assert _use(world, promotion_id) == (USE_RETURNED, 0, 0)


def test_an_order_refunded_in_full_gives_its_coupon_use_back(world: World) -> None:
    # Given a paid, delivered order of one CAP with a 10 % platform coupon (it cost 1800)
    promotion_id = _coupon(world, "platform", "SAVE10")
    order = world.buy({"CAP": 1}, coupon_code="SAVE10")
    world.deliver(order)
    # When the platform refunds part of it, the use stays taken
    world.refund(order, "CAP", 800)
    _made_refunds(world)
    assert _use(world, promotion_id) == (USE_TAKEN, 1, 200)
    # When it refunds the rest and the refund is made, the use goes back
    world.refund(order, "CAP", 1000)
    _made_refunds(world)
    with world.session() as session:
        assert session.get_one(Order, order).status == "refunded"
    assert _use(world, promotion_id) == (USE_RETURNED, 0, 0)


def test_a_flash_sale_wholly_cancelled_by_its_supplier_gets_its_units_back_in_its_quota(
    world: World,
) -> None:
    # Given a platform flash sale of 5 TEEs at 40.00 (its quota reserved from stock), and a
    # paid order of 2 of them
    with world.session() as session:
        sale = make_promotion(session, "platform", "TEE day", world.now, kind=FLASH_SALE)
        variant_id = world.variants["TEE"]
        sale.variant_id, sale.price_minor, sale.quota, sale.reserved = variant_id, 4000, 5, True
        session.add(sale)
        session.flush()
        allocation.allocate(session, {variant_id: 5})
        session.commit()
        sale_id = sale.id or 0
    order = world.buy({"TEE": 2})
    assert world.lines(order)["TEE"].platform_discount_minor == 2000
    available = _available(world, variant_id)
    with world.session() as session:
        assert session.get_one(Promotion, sale_id).units_sold == 2
    # When the supplier cancels both
    world.cancel(order, "TEE", 2)
    # Then the units are the sale's to sell again, and the stock is as it was
    with world.session() as session:
        promotion = session.get_one(Promotion, sale_id)
        assert (promotion.units_sold, promotion.uses) == (0, 0)
    assert _available(world, variant_id) == available


def _available(world: World, variant_id: int) -> int:
    with world.session() as session:
        return session.get_one(Variant, variant_id).available


def test_each_supplier_is_shown_only_its_own_lines_discounts(world: World) -> None:
    # Given a second supplier whose MUG Bob's shop also sells, and an order of a TEE and a
    # MUG, each line with a discount of its own supplier's promotion
    with world.session() as session:
        other, _ = make_supplier(session, currency="CNY")
        mug = variant_payload("MUG", stock=10, supply_price=800, retail_price=1500, min_price=None)
        sync_products(
            session,
            other,
            [product_payload("P-MUG", variants=[mug])],
            keep_valid=False,
            now=world.now,
        )
        session.flush()
        world.variants["MUG"] = session.scalars(
            sa.select(Variant.id).where(Variant.sku == "MUG")
        ).one()
        first = make_promotion(
            session, "supplier", "Tee week", world.now, supplier_id=world.supplier_id
        )
        second = make_promotion(session, "supplier", "Mug week", world.now, supplier_id=other.id)
        session.commit()
        ids = {
            "first": (first.id or 0, first.public_id),
            "second": (second.id or 0, second.public_id),
        }
        other_id = other.id or 0
    discounts = give({"TEE": [(ids["first"][0], 700)], "MUG": [(ids["second"][0], 300)]})
    world.buy({"TEE": 1, "MUG": 1}, discounts=discounts)
    # When each supplier's order.created is read
    with world.session() as session:
        bodies = {
            row.supplier_id: json.loads(row.body)["data"]["object"]
            for row in session.scalars(
                sa.select(OutboxEvent).where(OutboxEvent.type == "order.created")
            )
        }
    # Then each sees its own line and its own discount, never the other's
    assert [
        (line["sku"], line["supply_amount"], line["discounts"])
        for line in bodies[world.supplier_id]["lines"]
    ] == [("TEE", 2300, [{"promotion_id": ids["first"][1], "amount": 700}])]
    assert [
        (line["sku"], line["supply_amount"], line["discounts"])
        for line in bodies[other_id]["lines"]
    ] == [("MUG", 500, [{"promotion_id": ids["second"][1], "amount": 300}])]
