"""The console's ledger and payouts write their days in the platform's time zone (China
time by default), not in UTC."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from commission_world import World, dispose, make_world
from test_chinese_pages import _signed_in


@pytest.fixture
def world(db_url: str) -> Iterator[World]:
    made = make_world(db_url, STOREFRONT_PAYOUT_MINIMUM_MINOR=100)
    yield made
    dispose(made)


def test_ledger_and_payout_days_are_china_days(world: World) -> None:
    # given a sale, its settlement and a payout at 17:30 UTC on Dec 1: Dec 2 in China
    world.now = datetime(2026, 12, 1, 17, 30, tzinfo=UTC)
    order = world.buy({"TEE": 1})
    world.deliver(order)
    world.settle()
    world.pay_out(world.bob)
    bob = _signed_in(world, "console", "bob@example.com")
    # when Bob opens his earnings and payouts in English
    earnings = bob.get("/console/earnings?lang=en").get_data(as_text=True)
    payouts = bob.get("/console/payouts?lang=en").get_data(as_text=True)
    # then the ledger's and the payout's day is Dec 2, 2026
    assert "<tr><td>Dec 2, 2026</td><td>Earned" in earnings
    assert "<tr><td>Dec 2, 2026</td><td>Paid out" in earnings
    assert '<tr><td>Dec 2, 2026</td><td class="c-num">' in payouts
