"""Exact figures, to the fen, of one order per funder (``docs/promotions.md``):
a 10 % supplier coupon, a ¥5 shop coupon and a platform 满100减20, each applied by
checkout (``place_order``), paid, partly
cancelled by the supplier, delivered, settled and partly refunded, on both backends. Each
discount stays on the line it was allocated to and comes out of its funder's part alone;
the supplier's statement, the distributor's and the recruiter's ledgers and the platform's
part are asserted exactly, and they sum to what the consumer kept paid.

Prices (fen, ``commission_world``): TEE supply 3000 / price 5000 (level 1 500, level 2
100, platform 1400); CAP 1000 / 2000 (200, 40, 760); TEA 700 / 1999 (199, 39, 1061). Bob's
shop sells; Bob earns level 1, Ann (his recruiter) level 2. No shipping fee.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).parents[1] / "commissions"))
from commission_world import World, dispose, make_world
from money_discounts import make_promotion

from storefront_sdk.commissions.statements import Statement, statement
from storefront_sdk.fulfillment import after_sales
from storefront_sdk.fulfillment.models import OutboxEvent
from storefront_sdk.orders.models import Order, OrderLine
from storefront_sdk.pricing.breakdown import reversed_parts, stored_parts
from storefront_sdk.promotions.models import COUPON, THRESHOLD
from storefront_sdk.shops.models import Shop


@pytest.fixture
def world(db_url: str) -> Iterator[World]:
    found = make_world(db_url)
    yield found
    dispose(found)


def _promotion(world: World, funder: str, name: str, **terms: Any) -> tuple[int, str]:
    """A live promotion of ``funder`` with ``terms`` (a coupon unless told otherwise), as
    checkout applies it; its id and public id."""
    with world.session() as session:
        shop_id = session.scalar(sa.select(Shop.id).where(Shop.slug == world.shop_slug))
        promotion = make_promotion(
            session,
            funder,
            name,
            world.now,
            supplier_id=world.supplier_id if funder == "supplier" else None,
            shop_id=shop_id if funder == "shop" else None,
            kind=terms.pop("kind", COUPON),
        )
        for key, value in terms.items():
            setattr(promotion, key, value)
        session.add(promotion)
        session.commit()
        return promotion.id or 0, promotion.public_id


def _parts(world: World, order_id: int) -> dict[str, tuple[int, int, int, int, int]]:
    """Per SKU: (amount, supplier, level 1, level 2, platform) as stored."""
    return {
        sku: (
            line.amount_minor,
            line.supply_amount_minor,
            line.level1_minor,
            line.level2_minor,
            line.platform_minor,
        )
        for sku, line in world.lines(order_id).items()
    }


def _return_units(world: World, order_id: int, sku: str, units: int) -> None:
    with world.session() as session:
        line_id = session.scalar(
            sa.select(OrderLine.id).where(OrderLine.order_id == order_id, OrderLine.sku == sku)
        )
        after_sales.refund_returned_units(
            session, order_id, {line_id or 0: units}, "sent back", world.now, actor="admin:1"
        )


def _statement(world: World) -> Statement:
    with world.session() as session:
        return statement(
            session,
            world.supplier_id,
            "CNY",
            world.now - timedelta(days=1),
            world.now + timedelta(days=1),
        )


def _platform_kept(world: World, order_id: int) -> int:
    """The platform's part of the order's lines less its share of their refunds."""
    return sum(
        line.platform_minor - reversed_parts(stored_parts(line), line.refunded_minor).platform
        for line in world.lines(order_id).values()
    )


def _created_lines(world: World) -> dict[str, dict[str, Any]]:
    with world.session() as session:
        body = session.scalar(
            sa.select(OutboxEvent.body).where(OutboxEvent.type == "order.created")
        )
    return {line["sku"]: line for line in json.loads(body or "{}")["data"]["object"]["lines"]}


def _kept_by_consumer(world: World, order_id: int) -> int:
    with world.session() as session:
        order = session.get_one(Order, order_id)
    lines = world.lines(order_id).values()
    return order.total_minor - sum(line.refunded_minor for line in lines)


def test_a_ten_percent_supplier_coupon_comes_out_of_the_suppliers_part_alone(
    world: World,
) -> None:
    # Given a 10 % supplier coupon on TEE x2 + CAP x1 (12000): 1200 off, allocated by
    # amount: TEE 1000, CAP 200
    _, public_id = _promotion(world, "supplier", "Supplier 10% off", code="TEN", percent_off=10)
    # When the order is placed with it and paid
    order = world.buy({"TEE": 2, "CAP": 1}, coupon_code="TEN")
    # Then the consumer paid 10800 and the supplier's part alone is 1200 smaller
    assert _kept_by_consumer(world, order) == 10800
    assert _parts(world, order) == {
        "TEE": (9000, 5000, 1000, 200, 2800),
        "CAP": (1800, 800, 200, 40, 760),
    }
    # and order.created shows the supplier its supply amount and its own discount
    created = _created_lines(world)
    assert [(created[s]["supply_price"], created[s]["supply_amount"]) for s in ("TEE", "CAP")] == [
        (3000, 5000),
        (1000, 800),
    ]
    assert created["TEE"]["discounts"] == [{"promotion_id": public_id, "amount": 1000}]
    assert created["CAP"]["discounts"] == [{"promotion_id": public_id, "amount": 200}]
    # When the supplier cancels one TEE (4500 back: half of the line's 9000), delivers the
    # rest, the commissions settle and the platform refunds 6.00 of the CAP
    world.cancel(order, "TEE", 1)
    world.deliver(order)
    world.settle()
    world.refund(order, "CAP", 600)
    # Then every party's figure is exact
    lines = world.lines(order)
    assert (lines["TEE"].refunded_minor, lines["CAP"].refunded_minor) == (4500, 600)
    found = _statement(world)
    assert [(x.sku, x.supplier_discount, x.supply, x.refunded, x.owed) for x in found.lines] == [
        ("TEE", 1000, 5000, 2500, 2500),
        ("CAP", 200, 800, 266, 534),
    ]
    assert found.owed == 3034
    assert world.balances(world.bob)["available"] == 634  # 1000 - 500 + 200 - 66
    assert world.balances(world.ann)["available"] == 127  # 200 - 100 + 40 - 13
    assert _platform_kept(world, order) == 1905  # 2800 - 1400 + 760 - 255
    assert 3034 + 634 + 127 + 1905 == _kept_by_consumer(world, order) == 5700


def test_a_five_yuan_shop_coupon_comes_out_of_the_owners_level_1_alone(world: World) -> None:
    # Given Bob's ¥5 shop coupon on TEA x3 (5997; Bob's level 1 on it: 597)
    _, public_id = _promotion(world, "shop", "Bob's 5 off", code="BOB5", amount_off_minor=500)
    # When the order is placed with it and paid
    order = world.buy({"TEA": 3}, coupon_code="BOB5")
    # Then Bob's level 1 alone is 500 smaller; the supplier sees no discount of its own
    assert _kept_by_consumer(world, order) == 5497
    assert _parts(world, order) == {"TEA": (5497, 2100, 97, 117, 3183)}
    created = _created_lines(world)["TEA"]
    assert (created["supply_amount"], created["discounts"]) == (2100, [])
    assert public_id not in json.dumps(created)
    # When the supplier cancels one TEA (1832 back), delivers two, the commissions settle
    # and the platform refunds one returned unit (1832 more)
    world.cancel(order, "TEA", 1)
    world.deliver(order)
    world.settle()
    _return_units(world, order, "TEA", 1)
    # Then every party's figure is exact
    assert world.lines(order)["TEA"].refunded_minor == 3664
    found = _statement(world)
    assert [(x.supplier_discount, x.supply, x.refunded, x.owed) for x in found.lines] == [
        (0, 2100, 1399, 701)
    ]
    assert world.balances(world.bob)["available"] == 33  # 97 - 32 - 32
    assert world.balances(world.ann)["available"] == 40  # 117 - 38 - 39
    assert _platform_kept(world, order) == 1059  # 3183 - 1063 - 1061
    assert 701 + 33 + 40 + 1059 == _kept_by_consumer(world, order) == 1833


def test_a_platform_threshold_comes_out_of_the_platforms_part_alone(world: World) -> None:
    # Given a platform 满100减20 on TEE x1 + CAP x3 (11000): 2000 off, allocated by amount
    # with the largest remainder: TEE 909, CAP 1091
    tiers = [{"spend": 10000, "off": 2000}]
    _promotion(world, "platform", "满100减20", kind=THRESHOLD, tiers=tiers, currency="CNY")
    # When the order is placed (the threshold applies by itself) and paid
    order = world.buy({"TEE": 1, "CAP": 3})
    # Then the platform's part alone is 2000 smaller; the supplier sees no discount
    assert _kept_by_consumer(world, order) == 9000
    assert _parts(world, order) == {
        "TEE": (4091, 3000, 500, 100, 491),
        "CAP": (4909, 3000, 600, 120, 1189),
    }
    created = _created_lines(world)
    assert [(c["supply_amount"], c["discounts"]) for c in created.values()] == [
        (3000, []),
        (3000, []),
    ]
    # When the supplier cancels one CAP (1636 back), delivers the rest, the commissions
    # settle and the platform refunds 10.00 of the TEE
    world.cancel(order, "CAP", 1)
    world.deliver(order)
    world.settle()
    world.refund(order, "TEE", 1000)
    # Then every party's figure is exact
    found = _statement(world)
    assert [(x.sku, x.supplier_discount, x.supply, x.refunded, x.owed) for x in found.lines] == [
        ("TEE", 0, 3000, 733, 2267),
        ("CAP", 0, 3000, 999, 2001),
    ]
    assert found.owed == 4268
    assert world.balances(world.bob)["available"] == 779  # 500 - 122 + 600 - 199
    assert world.balances(world.ann)["available"] == 157  # 100 - 24 + 120 - 39
    assert _platform_kept(world, order) == 1160  # 491 - 121 + 1189 - 399
    assert 4268 + 779 + 157 + 1160 == _kept_by_consumer(world, order) == 6364
