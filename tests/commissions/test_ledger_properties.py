"""Properties of the ledger over random histories of sales (by consumers and by the
distributors themselves), supplier cancellations, deliveries, after-sales refunds,
settlement and payouts:

- every line's parts sum to what was paid minus refunds, each distributor's share of a line
  being exactly what it earned less its proportion of the refunds;
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

from storefront_sdk.commissions.models import EARNED, REVERSED, CommissionEntry, Payout
from storefront_sdk.errors import StorefrontError
from storefront_sdk.orders.models import OrderLine, SupplierOrder

SKUS = sorted(PRICES)
Step = tuple[Any, ...]

steps = st.one_of(
    st.tuples(
        st.just("buy"),
        st.dictionaries(st.sampled_from(SKUS), st.integers(1, 3), min_size=1, max_size=3),
        st.sampled_from(["consumer", "consumer", "bob@example.com", "ann@example.com"]),
    ),
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
    before = _snapshot(world)
    for step in history:
        kind = step[0]
        try:
            if kind == "buy":
                email = None if step[2] == "consumer" else step[2]
                orders.append(world.buy(step[1], email=email))
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
        supply = line.supply_price_minor * line.quantity
        assert supply + line.level1_minor + line.level2_minor + line.platform_minor == amount
        assert 0 <= refunded <= amount
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
        kind = rng.choice(["buy", "buy", "cancel", "deliver", "refund", "settle", "payout"])
        if kind == "buy":
            cart = {sku: rng.randint(1, 3) for sku in rng.sample(SKUS, rng.randint(1, 3))}
            history.append(("buy", cart, rng.choice(["consumer", "bob@example.com"])))
        elif kind in ("cancel", "refund"):
            amount = rng.randint(1, 3) if kind == "cancel" else rng.randint(1, 6000)
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
    finally:
        dispose(world)
