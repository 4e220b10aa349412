"""Properties of the ledger over random histories of sales (by consumers and by the
distributors themselves, with promotions of each funder on their lines or none), supplier
cancellations, deliveries, after-sales refunds (goodwill amounts and returned units),
settlement and payouts:

- every line's parts (each net of the discounts its holder funded) sum to what the consumer
  paid for it, before and after refunds, each distributor's share of a line being exactly
  what it earned less its proportion of the refunds; no part is negative but the
  platform's, and that by no more than its own discount (a subsidy); each funder's
  discounts on a line are the line's rows of ``sf_order_line_discount``;
- refunds reverse exactly what each line carried: a line's refunds sum to its refunded
  amount and the supplier's share deducted from them to its share of that amount; a line
  whose every unit was cancelled or returned was refunded exactly what was paid for it;
- money only moves between buckets (every move sums to zero); each distributor's pending
  balance is what they still have of the lines not settled yet, and the rest of their
  balance what they have of the settled ones; the payout buckets match the payouts;
- no entry is ever updated or deleted (each step only appends).

Hypothesis drives SQLite (a fresh database per example); a seeded history of the same kind
runs on both backends.
"""

from __future__ import annotations

import random
import shutil
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from commission_world import PRICES, World, dispose, make_world
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from money_discounts import give_shares, make_promotion
from sqlalchemy.orm import Session

from storefront_sdk.commissions.models import EARNED, REVERSED, CommissionEntry, Payout
from storefront_sdk.errors import NotFound, StorefrontError
from storefront_sdk.fulfillment import after_sales
from storefront_sdk.orders.models import OrderLine, OrderLineDiscount, Refund, SupplierOrder
from storefront_sdk.pricing.breakdown import reversed_parts, stored_parts
from storefront_sdk.shops.models import Shop

SKUS = sorted(PRICES)
Step = tuple[Any, ...]

#: Per SKU, the percentage of each funder's capacity its promotion takes (0: none).
_share = st.sampled_from([0, 0, 10, 37, 100])
discount_shares = st.dictionaries(
    st.sampled_from(SKUS), st.tuples(_share, _share, _share), max_size=3
)

steps = st.one_of(
    st.tuples(
        st.just("buy"),
        st.dictionaries(st.sampled_from(SKUS), st.integers(1, 3), min_size=1, max_size=3),
        st.sampled_from(["consumer", "consumer", "bob@example.com", "ann@example.com"]),
        discount_shares,
    ),
    st.tuples(st.just("return"), st.integers(0, 30), st.sampled_from(SKUS), st.integers(1, 3)),
    st.tuples(st.just("cancel"), st.integers(0, 30), st.sampled_from(SKUS), st.integers(1, 3)),
    st.tuples(st.just("deliver"), st.integers(0, 30)),
    st.tuples(st.just("refund"), st.integers(0, 30), st.sampled_from(SKUS), st.integers(1, 7000)),
    st.tuples(st.just("settle")),
    st.tuples(st.just("payout"), st.sampled_from(["ann", "bob"])),
)


def run(world: World, history: list[Step]) -> None:
    """Play ``history``, checking every property after each step; steps the rules refuse
    (cancelling a delivered line, refunding more than is left...) change nothing."""
    orders: list[int] = []
    promotions = _promotions(world)
    before = _snapshot(world)
    for step in history:
        kind = step[0]
        try:
            if kind == "buy":
                email = None if step[2] == "consumer" else step[2]
                shares = step[3] if len(step) > 3 else {}
                discounts = give_shares(promotions, shares, world.bob) if shares else None
                orders.append(world.buy(step[1], email=email, discounts=discounts))
            elif kind == "settle":
                world.settle()
            elif kind == "payout":
                world.pay_out(world.ann if step[1] == "ann" else world.bob)
            elif orders:
                order = orders[step[1] % len(orders)]
                if kind == "cancel":
                    world.cancel(order, step[2], step[3])
                elif kind == "deliver":
                    world.deliver(order)
                elif kind == "refund":
                    world.refund(order, step[2], step[3])
                elif kind == "return":
                    _return(world, order, step[2], step[3])
        except StorefrontError:
            pass  # refused: nothing written (checked below)
        after = _snapshot(world)
        assert after[: len(before)] == before, f"an entry changed at {step}"
        before = after
        check(world)


def check(world: World) -> None:
    with world.session() as session:
        entries = list(session.scalars(sa.select(CommissionEntry)))
        lines = list(session.scalars(sa.select(OrderLine)))
        payouts = list(session.scalars(sa.select(Payout)))
        discounts = _discounts_by_line(session)
        refunds = _refunds_by_line(session)
        settled = {
            part.id: part.settled_at is not None
            for part in session.scalars(sa.select(SupplierOrder))
        }
    by_line: dict[tuple[int | None, int | None, int], int] = defaultdict(int)
    moves: dict[str, int] = defaultdict(int)
    buckets: dict[tuple[int, str], int] = defaultdict(int)
    for entry in entries:
        buckets[(entry.distributor_id, entry.bucket)] += entry.amount_minor
        if entry.kind in (EARNED, REVERSED):
            by_line[(entry.order_line_id, entry.level, entry.distributor_id)] += entry.amount_minor
        else:
            assert entry.move_id is not None
            moves[entry.move_id] += entry.amount_minor
    assert all(total == 0 for total in moves.values())  # money only moves between buckets
    owed_pending: dict[int, int] = defaultdict(int)  # what each distributor still has...
    owed_settled: dict[int, int] = defaultdict(int)  # ...before and after settlement
    for line in lines:
        amount, refunded = line.amount_minor, line.refunded_minor
        check_line(line, discounts.get(line.id or 0, {}), refunds.get(line.id or 0, (0, 0)))
        for level, distributor, share in (
            (1, line.level1_distributor_id, line.level1_minor),
            (2, line.level2_distributor_id, line.level2_minor),
        ):
            left = share - refunded * share // amount
            assert by_line.get((line.id, level, distributor), 0) == (left if distributor else 0)
            if distributor is not None:
                owed = owed_settled if settled.get(line.supplier_order_id) else owed_pending
                owed[distributor] += left
    for distributor in {entry.distributor_id for entry in entries}:
        open_ = sum(
            p.amount_minor
            for p in payouts
            if p.distributor_id == distributor and p.status in ("requested", "approved")
        )
        paid = sum(
            p.amount_minor
            for p in payouts
            if p.distributor_id == distributor and p.status == "paid"
        )
        assert buckets[(distributor, "pending")] == owed_pending[distributor]
        assert buckets[(distributor, "payout")] == open_
        assert buckets[(distributor, "paid")] == paid
        after = sum(buckets[(distributor, bucket)] for bucket in ("available", "payout", "paid"))
        assert after == owed_settled[distributor]


def check_line(line: OrderLine, discounts: dict[str, int], refunds: tuple[int, int]) -> None:
    """One line's money: its parts, its discounts, its refunds (see the module docstring)."""
    amount, refunded = line.amount_minor, line.refunded_minor
    parts = stored_parts(line)
    assert line.amount_minor == line.unit_price_minor * line.quantity - line.discount_minor
    assert line.supply_amount_minor == (
        line.supply_price_minor * line.quantity - line.supplier_discount_minor
    )
    assert parts.total == amount  # every cent the consumer paid is someone's
    assert min(parts.supplier, parts.level1, parts.level2) >= 0
    assert parts.platform >= -line.platform_discount_minor  # a subsidy, at most its discount
    assert discounts == {
        funder: amount
        for funder, amount in (
            ("supplier", line.supplier_discount_minor),
            ("shop", line.shop_discount_minor),
            ("platform", line.platform_discount_minor),
        )
        if amount
    }
    assert 0 <= refunded <= amount
    kept = parts - reversed_parts(parts, refunded)
    assert kept.total == amount - refunded  # and after refunds, what is left of it
    assert min(kept.supplier, kept.level1, kept.level2) >= 0
    assert refunds == (refunded, reversed_parts(parts, refunded).supplier)
    if line.cancelled_quantity + line.returned_quantity == line.quantity:
        assert refunded == amount


def _discounts_by_line(session: Session) -> dict[int, dict[str, int]]:
    found: dict[int, dict[str, int]] = defaultdict(dict)
    for row in session.scalars(sa.select(OrderLineDiscount)):
        by_funder = found[row.order_line_id]
        by_funder[row.funder] = by_funder.get(row.funder, 0) + row.amount_minor
    return found


def _refunds_by_line(session: Session) -> dict[int, tuple[int, int]]:
    """Per line: what its refunds gave back and the supplier's share deducted of them."""
    found: dict[int, tuple[int, int]] = {}
    for refund in session.scalars(sa.select(Refund)):
        for item in refund.lines:
            amount, deducted = found.get(item["line_id"], (0, 0))
            found[item["line_id"]] = (amount + item["amount"], deducted + item["supply_deducted"])
    return found


def _promotions(world: World) -> dict[str, int]:
    """A promotion of each funder (their discounts are given by ``give_shares``)."""
    with world.session() as session:
        shop_id = session.scalar(sa.select(Shop.id).where(Shop.slug == world.shop_slug))
        made = {
            funder: make_promotion(
                session,
                funder,
                f"{funder} promotion",
                world.now,
                supplier_id=world.supplier_id if funder == "supplier" else None,
                shop_id=shop_id if funder == "shop" else None,
            )
            for funder in ("supplier", "shop", "platform")
        }
        session.commit()
        return {funder: promotion.id or 0 for funder, promotion in made.items()}


def _return(world: World, order_id: int, sku: str, units: int) -> None:
    """The platform refunds ``units`` of the order's ``sku`` line as returned."""
    with world.session() as session:
        line_id = session.scalar(
            sa.select(OrderLine.id).where(OrderLine.order_id == order_id, OrderLine.sku == sku)
        )
        if line_id is None:
            raise NotFound(f"order {order_id} has no {sku} line")
        after_sales.refund_returned_units(
            session, order_id, {line_id: units}, "sent back", world.now, actor="admin:1"
        )


def _snapshot(world: World) -> list[tuple[Any, ...]]:
    with world.session() as session:
        return [
            tuple(row)
            for row in session.execute(
                sa.select(*CommissionEntry.__table__.columns).order_by(CommissionEntry.id)
            )
        ]


@pytest.fixture(scope="module")
def fresh_sqlite(
    sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory
) -> Callable[[], str]:
    folder = tmp_path_factory.mktemp("ledger-properties")
    count = iter(range(1_000_000))

    def make() -> str:
        path = folder / f"db{next(count)}.sqlite3"
        shutil.copy(sqlite_template, path)
        return f"sqlite:///{path}"

    return make


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(history=st.lists(steps, min_size=1, max_size=14))
def test_random_histories_keep_every_cent_accounted_for(
    fresh_sqlite: Callable[[], str], history: list[Step]
) -> None:
    world = make_world(fresh_sqlite())
    try:
        run(world, history)
    finally:
        dispose(world)


def test_a_long_seeded_history_keeps_every_cent_accounted_for(db_url: str) -> None:
    rng = random.Random(20261201)
    history: list[Step] = []
    for _ in range(40):
        kind = rng.choice(
            ["buy", "buy", "cancel", "deliver", "refund", "return", "settle", "payout"]
        )
        if kind == "buy":
            cart = {sku: rng.randint(1, 3) for sku in rng.sample(SKUS, rng.randint(1, 3))}
            shares = {
                sku: (rng.choice([0, 10, 100]), rng.choice([0, 50]), rng.choice([0, 25, 100]))
                for sku in cart
            }
            who = rng.choice(["consumer", "bob@example.com"])
            history.append(("buy", cart, who, shares))
        elif kind in ("cancel", "refund", "return"):
            amount = rng.randint(1, 6000) if kind == "refund" else rng.randint(1, 3)
            history.append((kind, rng.randint(0, 30), rng.choice(SKUS), amount))
        elif kind == "deliver":
            history.append(("deliver", rng.randint(0, 30)))
        elif kind == "payout":
            history.append(("payout", rng.choice(["ann", "bob"])))
        else:
            history.append(("settle",))
    world = make_world(db_url)
    try:
        run(world, history)
        assert world.entries()  # the history earned something
        with world.session() as session:  # and its lines carried each funder's discounts
            funders = set(session.scalars(sa.select(OrderLineDiscount.funder).distinct()))
            subsidised = session.scalar(
                sa.select(sa.func.count()).where(OrderLine.platform_minor < 0)
            )
        assert funders == {"supplier", "shop", "platform"}
        assert subsidised
    finally:
        dispose(world)
