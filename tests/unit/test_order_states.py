"""The order and supplier-order lifecycles: what may happen in which status."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from storefront_sdk.errors import Conflict
from storefront_sdk.orders.states import (
    ORDER_TRANSITIONS,
    SUPPLIER_ORDER_TRANSITIONS,
    OrderAction,
    OrderStatus,
    SupplierOrderAction,
    SupplierOrderStatus,
    advance_order,
    advance_supplier_order,
    is_final,
)


def _reachable(table, start):
    seen, todo = {start}, [start]
    while todo:
        for following in table.get(todo.pop(), {}).values():
            if following not in seen:
                seen.add(following)
                todo.append(following)
    return seen


def test_every_status_is_reachable_from_the_first():
    assert _reachable(ORDER_TRANSITIONS, OrderStatus.AWAITING_PAYMENT) == set(OrderStatus)
    assert _reachable(SUPPLIER_ORDER_TRANSITIONS, SupplierOrderStatus.PENDING) == set(
        SupplierOrderStatus
    )


def test_the_final_statuses():
    assert {s for s in OrderStatus if is_final(s)} == {
        OrderStatus.EXPIRED,
        OrderStatus.CANCELLED,
        OrderStatus.REFUNDED,
    }
    assert {s for s in SupplierOrderStatus if is_final(s)} == {
        SupplierOrderStatus.DELIVERED,
        SupplierOrderStatus.CANCELLED,
    }


def test_an_order_is_paid_only_from_an_unpaid_or_settling_status():
    assert advance_order("awaiting_payment", OrderAction.PAY) is OrderStatus.PAID
    assert advance_order("processing", OrderAction.PAY) is OrderStatus.PAID
    assert advance_order("paid", OrderAction.PAY) is OrderStatus.PAID  # a replayed event
    for status in ("expired", "cancelled", "refunded"):
        with pytest.raises(Conflict, match=f"cannot pay an order that is {status}"):
            advance_order(status, OrderAction.PAY)


def test_paid_and_settling_orders_never_expire_or_get_cancelled_before_payment():
    for status in ("paid", "processing"):
        for action in (OrderAction.EXPIRE, OrderAction.CANCEL):
            with pytest.raises(Conflict, match=status):
                advance_order(status, action)


def test_a_failed_payment_leaves_the_order_payable():
    assert advance_order("processing", OrderAction.PAYMENT_FAILED) is OrderStatus.AWAITING_PAYMENT
    assert advance_order("awaiting_payment", OrderAction.EXPIRE) is OrderStatus.EXPIRED


def test_the_supplier_order_path_and_idempotent_accept():
    status = SupplierOrderStatus.PENDING
    for action, expected in [
        (SupplierOrderAction.ACCEPT, "accepted"),
        (SupplierOrderAction.ACCEPT, "accepted"),
        (SupplierOrderAction.SHIP_PART, "partially_shipped"),
        (SupplierOrderAction.ACCEPT, "partially_shipped"),
        (SupplierOrderAction.CANCEL_REST, "shipped"),
        (SupplierOrderAction.DELIVER, "delivered"),
    ]:
        status = advance_supplier_order(status, action)
        assert status == expected
    # Shipping straight away accepts on the way
    assert advance_supplier_order("pending", SupplierOrderAction.SHIP_REST) == "shipped"


@pytest.mark.parametrize(
    ("status", "action", "message"),
    [
        ("pending", SupplierOrderAction.DELIVER, "cannot deliver an order that is pending"),
        ("partially_shipped", SupplierOrderAction.DELIVER, "is partially_shipped"),
        ("shipped", SupplierOrderAction.CANCEL_ALL, "cannot cancel an order that is shipped"),
        ("delivered", SupplierOrderAction.SHIP_REST, "cannot ship an order that is delivered"),
        ("cancelled", SupplierOrderAction.ACCEPT, "cannot accept an order that is cancelled"),
        ("partially_shipped", SupplierOrderAction.CANCEL_ALL, "is partially_shipped"),
    ],
)
def test_actions_not_allowed_are_refused_naming_the_status(status, action, message):
    with pytest.raises(Conflict, match=message):
        advance_supplier_order(status, action)


@given(st.lists(st.sampled_from(list(SupplierOrderAction)), max_size=30))
def test_supplier_orders_stay_in_the_table_and_final_statuses_stay_final(actions):
    status = SupplierOrderStatus.PENDING
    for action in actions:
        try:
            following = advance_supplier_order(status, action)
        except Conflict:
            assert action not in SUPPLIER_ORDER_TRANSITIONS.get(status, {})
            continue
        assert not is_final(status)
        assert following in set(SupplierOrderStatus)
        status = following


@given(st.lists(st.sampled_from(list(OrderAction)), max_size=30))
def test_orders_stay_in_the_table_and_final_statuses_stay_final(actions):
    status = OrderStatus.AWAITING_PAYMENT
    for action in actions:
        try:
            following = advance_order(status, action)
        except Conflict:
            assert action not in ORDER_TRANSITIONS.get(status, {})
            continue
        assert not is_final(status)
        status = following
