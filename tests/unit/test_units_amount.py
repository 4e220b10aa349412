"""What units given back of a line are worth: its own net amount (discounts frozen on it)
shared out by units, exact in sum whatever the order of the refunds."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from storefront_sdk.pricing.breakdown import units_amount


def test_a_unit_of_a_discounted_line_gives_back_its_share_of_the_net_amount() -> None:
    # given a line of 3 units at 20.00 that carried a 5.00 discount (it cost 55.00)
    # when one unit is cancelled, then a second, then the last
    first = units_amount(5500, 3, 0, 1)
    second = units_amount(5500, 3, 1, 1)
    last = units_amount(5500, 3, 2, 1)
    # then each gives back its share, never the unit price, and all three what was paid
    assert (first, second, last) == (1833, 1833, 1834)
    assert first + second + last == 5500


def test_giving_back_every_unit_at_once_gives_back_the_whole_line() -> None:
    assert units_amount(1999, 7, 0, 7) == 1999


def test_giving_back_no_unit_gives_back_nothing() -> None:
    assert units_amount(1999, 7, 3, 0) == 0


@pytest.mark.parametrize(
    ("quantity", "before", "units"), [(0, 0, 0), (3, -1, 1), (3, 0, -1), (3, 2, 2)]
)
def test_units_outside_the_line_are_refused(quantity: int, before: int, units: int) -> None:
    with pytest.raises(ValueError):
        units_amount(1000, quantity, before, units)


@st.composite
def refunds_of_a_line(draw: st.DrawFn) -> tuple[int, int, list[int]]:
    quantity = draw(st.integers(1, 50))
    amount = draw(st.integers(0, 10**9))
    steps: list[int] = []
    left = quantity
    while left:
        step = draw(st.integers(1, left))
        steps.append(step)
        left -= step
    return amount, quantity, draw(st.permutations(steps))


@given(refunds_of_a_line())
def test_k_refunds_of_units_in_any_order_sum_to_the_line_amount(
    case: tuple[int, int, list[int]],
) -> None:
    amount, quantity, steps = case
    before, total = 0, 0
    for units in steps:
        back = units_amount(amount, quantity, before, units)
        assert 0 <= back <= amount
        # never more than the units' share, rounded up
        assert back <= -(-amount * units // quantity)
        total += back
        before += units
    assert total == amount
