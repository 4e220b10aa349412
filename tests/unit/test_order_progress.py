"""What an order is shown as, from its own status and its supplier parts'."""

from __future__ import annotations

import pytest

from storefront_sdk.orders.progress import display_status, is_moving


@pytest.mark.parametrize(
    ("status", "parts", "shown"),
    [
        ("awaiting_payment", [], "awaiting_payment"),
        ("processing", [], "processing"),
        ("expired", [], "expired"),
        ("refunded", ["cancelled"], "refunded"),
        ("paid", [], "paid"),
        ("paid", ["pending", "pending"], "paid"),
        ("paid", ["pending", "accepted"], "accepted"),
        ("paid", ["accepted", "partially_shipped"], "partially_shipped"),
        ("paid", ["pending", "shipped"], "partially_shipped"),
        ("paid", ["delivered", "pending"], "partially_shipped"),
        ("paid", ["shipped", "delivered"], "shipped"),
        ("paid", ["shipped", "shipped"], "shipped"),
        ("paid", ["delivered", "delivered"], "delivered"),
        ("paid", ["delivered", "cancelled"], "delivered"),
        ("paid", ["cancelled", "cancelled"], "cancelled"),
    ],
)
def test_a_paid_order_is_shown_as_far_as_its_parts_went(status, parts, shown):
    assert display_status(status, parts) == shown


@pytest.mark.parametrize(
    ("status", "parts", "moving"),
    [
        ("awaiting_payment", [], False),
        ("processing", [], True),
        ("paid", [], True),
        ("paid", ["delivered", "shipped"], True),
        ("paid", ["delivered", "cancelled"], False),
        ("expired", [], False),
        ("refunded", ["cancelled"], False),
    ],
)
def test_an_order_page_moves_while_a_payment_settles_or_a_part_is_on_its_way(status, parts, moving):
    assert is_moving(status, parts) is moving


def test_an_unknown_status_is_refused():
    with pytest.raises(ValueError, match="'lost'"):
        display_status("paid", ["lost"])
