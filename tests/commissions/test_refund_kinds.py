"""What an after-sales refund is for, with exact figures on both backends: returned units
(refunded once, then neither cancelled nor returned again) or a goodwill amount (money,
no unit); what the supplier is told of each (``order.refund_requested``) and what its
statement shows (ordered, cancelled, delivered, returned units apart).

Prices (fen): TEE supply 3000, retail 5000 (level 1 500, level 2 100, platform 1400).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta

import pytest
import sqlalchemy as sa
from commission_world import World, dispose, make_world

from storefront_sdk.catalog.inputs import StockItemIn
from storefront_sdk.catalog.models import Variant
from storefront_sdk.catalog.stock import update_stock
from storefront_sdk.commissions.statements import statement, statement_csv
from storefront_sdk.db import utcnow
from storefront_sdk.errors import ValidationError
from storefront_sdk.fulfillment import after_sales, supplier_orders
from storefront_sdk.fulfillment.after_sales import TooManyUnits
from storefront_sdk.fulfillment.models import OutboxEvent
from storefront_sdk.fulfillment.supplier_orders import LineQuantity
from storefront_sdk.orders.models import OrderLine, Refund, SupplierOrder


@pytest.fixture
def world(db_url: str) -> Iterator[World]:
    made = make_world(db_url)
    yield made
    dispose(made)


def _line_id(world: World, order_id: int, sku: str) -> int:
    with world.session() as session:
        found = session.scalar(
            sa.select(OrderLine.id).where(OrderLine.order_id == order_id, OrderLine.sku == sku)
        )
    assert found is not None
    return found


def _return(world: World, order_id: int, sku: str, units: int) -> None:
    """The platform refunds ``units`` of the order's ``sku`` line as returned."""
    line_id = _line_id(world, order_id, sku)
    with world.session() as session:
        after_sales.refund_returned_units(
            session, order_id, {line_id: units}, "sent back", world.now, actor="admin:1"
        )


def _refunds(world: World) -> list[tuple[str, int, list[dict]]]:
    with world.session() as session:
        return [
            (refund.kind, refund.amount_minor, refund.lines)
            for refund in session.scalars(sa.select(Refund).order_by(Refund.id))
        ]


def _refund_events(world: World) -> list[dict]:
    with world.session() as session:
        return [
            json.loads(event.body)["data"]
            for event in session.scalars(
                sa.select(OutboxEvent)
                .where(OutboxEvent.type == "order.refund_requested")
                .order_by(OutboxEvent.id)
            )
        ]


def test_returned_units_are_refunded_once_and_cannot_then_be_cancelled(world: World) -> None:
    # Given two tees bought (100.00) and one refunded by the platform as returned
    order = world.buy({"TEE": 2})
    _return(world, order, "TEE", 1)
    # When the supplier tries to cancel both units
    with pytest.raises(ValidationError) as refused:
        world.cancel(order, "TEE", 2)
    # Then it is told only one unit is left, and nothing more went back
    assert refused.value.errors == {
        "json": {
            "lines": {"0": {"quantity": ["Only 1 unit(s) of 'TEE' are left to ship or cancel."]}}
        }
    }
    assert [(kind, amount) for kind, amount, _ in _refunds(world)] == [("returned", 5000)]
    # When it cancels the one unit left, then that unit alone is refunded: 100.00 in all
    world.cancel(order, "TEE", 1)
    assert [(kind, amount) for kind, amount, _ in _refunds(world)] == [
        ("returned", 5000),
        ("cancelled", 5000),
    ]
    line = world.lines(order)["TEE"]
    assert (line.returned_quantity, line.cancelled_quantity, line.refunded_minor) == (1, 1, 10000)
    assert line.returned_unshipped_quantity == 1
    assert world.balances(world.bob)["pending"] == 0
    assert world.balances(world.ann)["pending"] == 0


def test_a_return_takes_shipped_units_first(world: World) -> None:
    # Given two tees, one shipped
    order = world.buy({"TEE": 2})
    with world.session() as session:
        part = session.scalar(sa.select(SupplierOrder.public_id))
        assert part is not None
        ship = [LineQuantity("TEE", 1)]
        supplier_orders.ship(session, world.supplier_id, part, "SF", "SF1", ship, world.now)
    # When the platform refunds one as returned
    _return(world, order, "TEE", 1)
    # Then it is the shipped one: the other is still the supplier's to cancel
    line = world.lines(order)["TEE"]
    assert (line.returned_quantity, line.returned_unshipped_quantity) == (1, 0)
    world.cancel(order, "TEE", 1)
    assert [(kind, amount) for kind, amount, _ in _refunds(world)] == [
        ("returned", 5000),
        ("cancelled", 5000),
    ]


def test_units_returned_before_shipping_stop_holding_stock_at_the_next_report(
    world: World,
) -> None:
    # Given two tees bought (stock 1000) and one refunded as returned before shipping
    order = world.buy({"TEE": 2})
    _return(world, order, "TEE", 1)
    # When the supplier, which has not accepted the order, reports 1000 tees
    with world.session() as session:
        # (a whole second after the catalogue's own report, which was made just now)
        now = utcnow().replace(microsecond=0) + timedelta(seconds=2)
        items = [StockItemIn(sku="TEE", stock=1000, as_of=now.strftime("%Y-%m-%dT%H:%M:%SZ"))]
        assert update_stock(session, world.supplier_id, items, now) == 1
        variant = session.get_one(Variant, world.variants["TEE"])
        # Then only the unit still to ship is held back
        assert (variant.stock, variant.available) == (1000, 999)


def _part_status(world: World) -> str:
    with world.session() as session:
        found = session.scalar(sa.select(SupplierOrder.status))
    assert found is not None
    return found


def test_a_part_whose_units_were_all_returned_before_shipping_is_cancelled(
    world: World,
) -> None:
    # Given one tee bought, nothing shipped
    order = world.buy({"TEE": 1})
    # When the platform refunds it as returned
    _return(world, order, "TEE", 1)
    # Then the supplier order is cancelled: nothing is left to ship (no shipping fee here)
    assert _part_status(world) == "cancelled"
    assert [(kind, amount) for kind, amount, _ in _refunds(world)] == [("returned", 5000)]


def test_a_part_shipped_but_for_units_returned_before_shipping_can_be_delivered(
    world: World,
) -> None:
    # Given a tee and a cap, the cap shipped
    order = world.buy({"TEE": 1, "CAP": 1})
    with world.session() as session:
        part = session.scalar(sa.select(SupplierOrder.public_id))
        assert part is not None
        ship = [LineQuantity("CAP", 1)]
        supplier_orders.ship(session, world.supplier_id, part, "SF", "SF1", ship, world.now)
    assert _part_status(world) == "partially_shipped"
    # When the platform refunds the unshipped tee as returned
    _return(world, order, "TEE", 1)
    # Then the part counts as shipped, and its delivery settles the cap's commissions
    assert _part_status(world) == "shipped"
    with world.session() as session:
        supplier_orders.deliver(session, world.supplier_id, part, world.now)
    world.settle()
    assert world.balances(world.bob)["available"] == 200


def test_returned_units_cannot_be_returned_again(world: World) -> None:
    # Given one tee refunded as returned
    order = world.buy({"TEE": 1})
    _return(world, order, "TEE", 1)
    # When the platform returns it again, then it is refused naming what is left
    with pytest.raises(TooManyUnits) as refused:
        _return(world, order, "TEE", 1)
    assert refused.value.left == 0
    assert [(kind, amount) for kind, amount, _ in _refunds(world)] == [("returned", 5000)]


def test_a_goodwill_amount_is_recorded_as_such_and_gives_back_no_unit(world: World) -> None:
    # Given one tee (50.00) and a goodwill refund of 10.00 on it
    order = world.buy({"TEE": 1})
    world.refund(order, "TEE", 1000)
    line_id = _line_id(world, order, "TEE")
    # Then the refund is goodwill: no unit, 6.00 of the supplier's 30.00 deducted
    assert _refunds(world) == [
        (
            "goodwill",
            1000,
            [
                {
                    "line_id": line_id,
                    "sku": "TEE",
                    "quantity": 0,
                    "amount": 1000,
                    "supply_deducted": 600,
                }
            ],
        )
    ]
    # And when the supplier then cancels the unit, only the 40.00 left goes back
    world.cancel(order, "TEE", 1)
    assert _refunds(world)[1] == (
        "cancelled",
        4000,
        [
            {
                "line_id": line_id,
                "sku": "TEE",
                "quantity": 1,
                "amount": 4000,
                "supply_deducted": 2400,
            }
        ],
    )
    assert world.lines(order)["TEE"].refunded_minor == 5000


def test_the_supplier_is_told_the_units_the_amount_and_its_share_of_a_refund(
    world: World,
) -> None:
    # Given two tees delivered
    order = world.buy({"TEE": 2})
    world.deliver(order)
    # When the platform refunds one as returned
    _return(world, order, "TEE", 1)
    # Then order.refund_requested carries that refund and each line's refunds so far
    (event,) = _refund_events(world)
    assert event["refund"] == {
        "kind": "returned",
        "reason": "sent back",
        "amount": 5000,
        "supply_deducted": 3000,
        "lines": [{"sku": "TEE", "quantity": 1, "amount": 5000, "supply_deducted": 3000}],
    }
    (line,) = event["object"]["lines"]
    assert {key: line[key] for key in ("quantity", "shipped_quantity", "cancelled_quantity")} == {
        "quantity": 2,
        "shipped_quantity": 2,
        "cancelled_quantity": 0,
    }
    refunded = ("returned_quantity", "returned_unshipped_quantity", "refunded_amount")
    assert [line[key] for key in refunded] == [1, 0, 5000]
    assert line["supply_deducted"] == 3000


def test_a_statement_shows_ordered_cancelled_delivered_and_returned_units_apart(
    world: World,
) -> None:
    # Given three tees: one cancelled, two delivered, then one of those returned
    order = world.buy({"TEE": 3})
    world.cancel(order, "TEE", 1)
    world.deliver(order)
    _return(world, order, "TEE", 1)
    # When the supplier's statement of the day is made
    with world.session() as session:
        found = statement(
            session,
            world.supplier_id,
            "CNY",
            world.now - timedelta(days=1),
            world.now + timedelta(days=1),
        )
    # Then its line shows each kind of unit apart, and the supply of two units deducted
    (line,) = found.lines
    assert (line.quantity, line.cancelled, line.delivered, line.returned) == (3, 1, 2, 1)
    assert (line.supply, line.refunded, line.owed) == (9000, 6000, 3000)
    rows = statement_csv(found).splitlines()
    assert rows[0] == (
        "supplier_order,order_number,delivered_at,sku,quantity,cancelled,delivered,returned,"
        "supply,refunded,owed,supplier_discount"
    )
    assert rows[1].split(",")[3:] == ["TEE", "3", "1", "2", "1", "90.00", "60.00", "30.00", "0.00"]
    assert rows[-1] == "total,,,,,,,,90.00,60.00,30.00,0.00"
