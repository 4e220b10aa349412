"""The commission ledger with exact figures, on both backends: what each distributor earns
at payment, when it becomes available, what refunds and cancellations take back (before
settlement, after payout), self-purchases, and that entries are never changed.

Prices (fen) and the default rates (level 1: 10 % of retail, level 2: 2 %):

| SKU | supply | retail | level 1 (Bob) | level 2 (Ann) | platform |
|-----|--------|--------|---------------|---------------|----------|
| TEE | 3000   | 5000   | 500           | 100           | 1400     |
| CAP | 1000   | 2000   | 200           | 40            | 760      |
| TEA | 700    | 1999   | 199           | 39            | 1061     |
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
import sqlalchemy as sa
from commission_world import World, dispose, make_world
from sqlalchemy.exc import DBAPIError

from storefront_sdk.commissions.models import CommissionEntry
from storefront_sdk.errors import Conflict, ValidationError


@pytest.fixture
def world(db_url: str) -> Iterator[World]:
    made = make_world(db_url)
    yield made
    dispose(made)


def _parts(world: World, order_id: int) -> dict[str, tuple[int, int, int, int]]:
    return {
        sku: (line.supply_price_minor * line.quantity, line.level1_minor, line.level2_minor,
              line.platform_minor)
        for sku, line in world.lines(order_id).items()
    }  # fmt: skip


def test_a_sale_splits_each_line_and_credits_both_levels_pending(world: World) -> None:
    # When a consumer buys one of each SKU in Bob's shop (Bob was recruited by Ann)
    order = world.buy({"TEE": 1, "CAP": 2, "TEA": 1})
    # Then each line is split exactly, and the commissions wait in pending
    assert _parts(world, order) == {
        "TEE": (3000, 500, 100, 1400),
        "CAP": (2000, 400, 80, 1520),
        "TEA": (700, 199, 39, 1061),
    }
    assert world.balances(world.bob) == {"pending": 1099, "available": 0, "payout": 0, "paid": 0}
    assert world.balances(world.ann) == {"pending": 219, "available": 0, "payout": 0, "paid": 0}


def test_commissions_become_available_only_after_delivery_and_the_return_window(
    world: World,
) -> None:
    order = world.buy({"TEE": 1})
    assert world.settle(window_days=7).supplier_orders == 0  # not delivered yet
    world.deliver(order)
    world.now += timedelta(days=6, hours=23)
    assert world.settle(window_days=7).supplier_orders == 0  # the window has not passed
    world.now += timedelta(hours=1)
    counts = world.settle(window_days=7)
    assert counts.as_dict() == {"supplier_orders": 1, "entries": 4, "available": {"CNY": 600}}
    assert world.balances(world.bob) == {"pending": 0, "available": 500, "payout": 0, "paid": 0}
    assert world.balances(world.ann) == {"pending": 0, "available": 100, "payout": 0, "paid": 0}
    assert world.settle(window_days=7).supplier_orders == 0  # once


def test_a_supplier_cancelling_one_line_of_three_takes_back_exactly_that_line(
    world: World,
) -> None:
    # Given an order of three lines, paid
    order = world.buy({"TEE": 1, "CAP": 2, "TEA": 1})
    # When the supplier cancels the CAP line (both units) before shipping
    world.cancel(order, "CAP", 2)
    # Then Bob and Ann give back exactly that line's commissions, from pending
    assert world.balances(world.bob)["pending"] == 1099 - 400
    assert world.balances(world.ann)["pending"] == 219 - 80
    assert world.lines(order)["CAP"].refunded_minor == 4000
    # and once the rest is delivered and settled, that is what they have
    world.deliver(order)
    world.settle()
    assert world.balances(world.bob) == {"pending": 0, "available": 699, "payout": 0, "paid": 0}
    assert world.balances(world.ann) == {"pending": 0, "available": 139, "payout": 0, "paid": 0}


def test_a_partial_cancellation_reverses_in_proportion(world: World) -> None:
    order = world.buy({"CAP": 2, "TEA": 3})  # CAP: 400/80, TEA: 597/117 (3 x 199, 3 x 39)
    world.cancel(order, "TEA", 1)  # 1999 of 5997 back: 597 x 1/3 = 199, 117 x 1/3 = 39
    assert world.balances(world.bob)["pending"] == 400 + 597 - 199
    assert world.balances(world.ann)["pending"] == 80 + 117 - 39
    world.cancel(order, "TEA", 2)  # the rest of the line: everything it earned is back
    assert world.balances(world.bob)["pending"] == 400
    assert world.balances(world.ann)["pending"] == 80


def test_a_refund_before_settlement_comes_out_of_pending(world: World) -> None:
    # Given a delivered order still in its return window
    order = world.buy({"TEE": 1})
    world.deliver(order)
    # When the platform refunds half of the tee
    world.refund(order, "TEE", 2500)
    # Then half of each commission goes back, from pending, and the rest settles later
    assert world.balances(world.bob) == {"pending": 250, "available": 0, "payout": 0, "paid": 0}
    assert world.balances(world.ann) == {"pending": 50, "available": 0, "payout": 0, "paid": 0}
    world.now += timedelta(days=7)
    world.settle(window_days=7)
    assert world.balances(world.bob) == {"pending": 0, "available": 250, "payout": 0, "paid": 0}


def test_a_refund_after_payout_leaves_a_debt_the_next_payouts_absorb(world: World) -> None:
    # Given Bob's commission on a tee settled and paid out
    first = world.buy({"TEE": 1})
    world.deliver(first)
    world.settle()
    assert world.pay_out(world.bob).amount_minor == 500
    # When the tee is refunded in full
    world.refund(first, "TEE", 5000)
    # Then Bob owes it back: a negative available balance
    assert world.balances(world.bob) == {"pending": 0, "available": -500, "payout": 0, "paid": 500}
    assert world.balances(world.ann) == {"pending": 0, "available": 0, "payout": 0, "paid": 0}
    # and nothing can be paid out while the balance does not cover it
    second = world.buy({"CAP": 1})
    world.deliver(second)
    world.settle()
    assert world.balances(world.bob)["available"] == -300
    with pytest.raises(
        ValidationError, match=r"payouts start at CNY 0\.01; available now: CNY -3\.00"
    ):
        world.pay_out(world.bob)
    # until later sales cover it: the next payout is what is left after the debt
    third = world.buy({"TEE": 2})
    world.deliver(third)
    world.settle()
    assert world.pay_out(world.bob).amount_minor == 700
    assert world.balances(world.bob) == {"pending": 0, "available": 0, "payout": 0, "paid": 1200}


def test_a_distributor_buying_in_their_own_shop_earns_nothing(world: World) -> None:
    order = world.buy({"TEE": 1}, email="bob@example.com")
    assert _parts(world, order) == {"TEE": (3000, 0, 0, 2000)}  # the platform's, all of it
    assert world.balances(world.bob)["pending"] == 0
    assert world.balances(world.ann)["pending"] == 0


def test_the_recruiter_buying_in_her_recruits_shop_earns_no_override(world: World) -> None:
    order = world.buy({"TEE": 1}, email="ann@example.com")
    assert _parts(world, order) == {"TEE": (3000, 500, 0, 1500)}
    assert world.balances(world.ann)["pending"] == 0


def test_two_payout_requests_cannot_take_one_balance(world: World) -> None:
    order = world.buy({"TEE": 1})
    world.deliver(order)
    world.settle()
    from storefront_sdk.commissions import payouts

    with world.session() as session:
        payouts.request_payout(session, world.bob, "CNY", 1, world.now)
        session.commit()
        with pytest.raises(Conflict, match="already on its way"):
            payouts.request_payout(session, world.bob, "CNY", 1, world.now)
    assert world.balances(world.bob) == {"pending": 0, "available": 0, "payout": 500, "paid": 0}


def test_ledger_entries_can_be_neither_changed_nor_deleted(world: World) -> None:
    world.buy({"TEE": 1})
    with world.session() as session:
        with pytest.raises(DBAPIError, match="append-only"):
            session.execute(sa.update(CommissionEntry).values(amount_minor=1_000_000))
        session.rollback()
        with pytest.raises(DBAPIError, match="append-only"):
            session.execute(sa.delete(CommissionEntry))
        session.rollback()
    assert [entry.amount_minor for entry in world.entries()] == [500, 100]


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)  # real row locks
def test_concurrent_payout_requests_pay_one_balance_once(world: World) -> None:
    # Given Bob's settled commissions
    for _ in range(3):
        world.deliver(world.buy({"TEE": 1}))
    world.settle()
    assert world.balances(world.bob)["available"] == 1500
    from storefront_sdk.commissions import payouts

    # When eight requests for it race
    start = threading.Barrier(8)

    def ask(_: int) -> str:
        with world.session() as session:
            start.wait()
            try:
                payouts.request_payout(session, world.bob, "CNY", 1, world.now)
                session.commit()
            except Conflict:
                return "refused"
            return "asked"

    with ThreadPoolExecutor(8) as pool:
        outcomes = sorted(pool.map(ask, range(8)))
    # Then one got it and seven were told one is on its way; the money moved once
    assert outcomes == ["asked"] + ["refused"] * 7
    assert world.balances(world.bob) == {"pending": 0, "available": 0, "payout": 1500, "paid": 0}


def test_the_worked_example_of_docs_commissions(world: World) -> None:
    # Given Bob's own price of 55.00 on the tee (retail 50.00)
    from storefront_sdk.shops import curation
    from storefront_sdk.shops.models import Shop

    with world.session() as session:
        shop = session.scalars(sa.select(Shop).where(Shop.slug == world.shop_slug)).one()
        curation.set_price(session, shop, world.variants["TEE"], 5500, world.book(session))
    # When a consumer buys 2 x TEE and 1 x TEA
    order = world.buy({"TEE": 2, "TEA": 1})
    assert _parts(world, order) == {"TEE": (6000, 2000, 200, 2800), "TEA": (700, 199, 39, 1061)}
    assert (world.balances(world.bob)["pending"], world.balances(world.ann)["pending"]) == (
        2199,
        239,
    )
    # and the supplier cancels one tee
    world.cancel(order, "TEE", 1)
    assert (world.balances(world.bob)["pending"], world.balances(world.ann)["pending"]) == (
        1199,
        139,
    )
    # and the rest is delivered and settled after the return window
    world.deliver(order)
    world.now += timedelta(days=7)
    world.settle(window_days=7)
    assert (world.balances(world.bob)["available"], world.balances(world.ann)["available"]) == (
        1199,
        139,
    )
    # and 10.00 of the tea is refunded after-sales
    world.refund(order, "TEA", 1000)
    assert (world.balances(world.bob)["available"], world.balances(world.ann)["available"]) == (
        1100,
        120,
    )


def test_cancelling_units_of_a_line_refunded_in_part_gives_back_only_what_is_left(
    world: World,
) -> None:
    # Given a tea (19.99) of which the platform refunded 5.00 before it shipped
    order = world.buy({"TEA": 1})
    world.refund(order, "TEA", 500)
    # When the supplier cancels the tea
    world.cancel(order, "TEA", 1)
    # Then the consumer gets the 14.99 that were left, and nobody keeps a commission on it
    assert world.lines(order)["TEA"].refunded_minor == 1999
    from storefront_sdk.orders.models import Refund

    with world.session() as session:
        assert sorted(session.scalars(sa.select(Refund.amount_minor))) == [500, 1499]
    assert world.balances(world.bob)["pending"] == 0
    assert world.balances(world.ann)["pending"] == 0


def test_a_suspended_recruiter_earns_no_override(world: World) -> None:
    with world.session() as session:
        from storefront_sdk.shops.models import Distributor

        session.get_one(Distributor, world.ann).status = "suspended"
    order = world.buy({"TEE": 1})
    assert _parts(world, order) == {"TEE": (3000, 500, 0, 1500)}  # Ann's 1.00 is the platform's
    assert world.balances(world.ann)["pending"] == 0


def test_settling_a_large_refunded_line_does_not_overflow(world: World) -> None:
    # Given 200 tees (10,000.00, Bob's share 1,000.00) of which 9,999.99 were refunded
    order = world.buy({"TEE": 200})
    world.refund(order, "TEE", 999_999)
    # When the rest is delivered and settled (999,999 x 100,000 exceeds 32 bits)
    world.deliver(order)
    world.settle()
    # Then Bob has what is left of his share, to the fen
    assert world.balances(world.bob)["available"] == 100_000 - 999_999 * 100_000 // 1_000_000
