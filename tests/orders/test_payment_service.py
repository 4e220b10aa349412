"""Payments at the service level. apply_payment: a succeeded payment pays a payable order
once (one conditional update), keeps an object the session already holds in step with the
database, and leaves mismatched, replaced or late payments to the checks that follow. Also:
twin payment starts, order numbers drawn again, and signal receivers that fail."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask import Flask
from order_support import app_on, buy, stocked_shop

from storefront_sdk import signals
from storefront_sdk.db import session_scope, utcnow
from storefront_sdk.orders import checkout
from storefront_sdk.orders.models import Order, OrderEvent, Refund, SupplierOrder
from storefront_sdk.payments import service
from storefront_sdk.payments.providers import SUCCEEDED, DevProvider, PaymentStart, PaymentState


def _placed(app: Flask) -> Order:
    """An order awaiting payment, with its dev payment started."""
    _, shop, skus = stocked_shop(app)
    token = buy(app.test_client(), shop.slug, {skus["A"]: 1})
    with session_scope(app) as session:
        order = session.scalars(sa.select(Order).where(Order.token == token)).one()
        service.start_payment(session, order, app.extensions["storefront"].payments)
        return order


def _apply(app: Flask, order: Order, state: PaymentState) -> tuple[str, Order]:
    with session_scope(app) as session:
        held = session.get_one(Order, order.id)  # the caller holds the order already
        outcome = service.apply_payment(
            session, order.id or 0, state, actor="test", now=utcnow(), binding_days=30
        )
        assert not session.dirty  # nothing left for a flush to write again
        return outcome, held


def _kinds(app: Flask, order: Order) -> list[str]:
    with session_scope(app) as session:
        query = sa.select(OrderEvent.kind).where(OrderEvent.order_id == order.id)
        return list(session.scalars(query.order_by(OrderEvent.id)))


def test_a_succeeded_payment_pays_once_and_the_held_object_says_so(db_url: str) -> None:
    with app_on(db_url) as app:
        order = _placed(app)
        paid = PaymentState(order.payment_ref or "", SUCCEEDED, order.total_minor, "CNY")
        outcome, held = _apply(app, order, paid)
        assert outcome == "paid"
        assert (held.status, held.paid_at is not None) == ("paid", True)
        again, _ = _apply(app, order, paid)
        assert again == "unchanged"
        with session_scope(app) as session:
            assert session.get_one(Order, order.id).status == "paid"
            parts = session.scalars(sa.select(SupplierOrder)).all()
            assert [part.status for part in parts] == ["pending"]
        assert _kinds(app, order) == ["placed", "paid", "handed_off"]


def test_a_payment_of_another_amount_is_recorded_and_pays_nothing(db_url: str) -> None:
    with app_on(db_url) as app:
        order = _placed(app)
        short = PaymentState(order.payment_ref or "", SUCCEEDED, order.total_minor - 1, "CNY")
        outcome, held = _apply(app, order, short)
        assert (outcome, held.status) == ("mismatch", "awaiting_payment")
        other = PaymentState(order.payment_ref or "", SUCCEEDED, order.total_minor, "USD")
        assert _apply(app, order, other)[0] == "mismatch"
        assert _kinds(app, order) == ["placed", "payment_mismatch", "payment_mismatch"]


def test_a_payment_that_is_not_the_orders_changes_nothing(db_url: str) -> None:
    with app_on(db_url) as app:
        order = _placed(app)
        stranger = PaymentState("dev_somebody_else", SUCCEEDED, order.total_minor, "CNY")
        assert _apply(app, order, stranger)[0] == "unchanged"
        assert _kinds(app, order) == ["placed"]


def test_money_for_an_expired_order_is_given_back(db_url: str) -> None:
    with app_on(db_url) as app:
        order = _placed(app)
        with session_scope(app) as session:
            session.execute(sa.update(Order).where(Order.id == order.id).values(status="expired"))
        paid = PaymentState(order.payment_ref or "", SUCCEEDED, order.total_minor, "CNY")
        outcome, held = _apply(app, order, paid)
        assert (outcome, held.status) == ("late", "expired")
        assert _kinds(app, order) == ["placed", "refund_requested", "late_payment"]
        with session_scope(app) as session:
            refund = session.scalars(sa.select(Refund)).one()
        assert (refund.kind, refund.amount_minor) == ("late_payment", order.total_minor)


class SameRefProvider(DevProvider):
    """A provider that, like Stripe with the order's idempotency key, answers every start
    of one order's payment with the same payment; it notes what it is asked to cancel."""

    def __init__(self) -> None:
        self.cancelled: list[str] = []

    def start(self, amount_minor: int, currency: str, order_token: str, key: str) -> PaymentStart:
        return PaymentStart(f"dev_{order_token[:12]}")

    def cancel(self, ref: str) -> None:
        self.cancelled.append(ref)


# (On SQLite writers take turns: a twin begins once the first committed, and sees its payment.)
@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_a_twin_payment_start_keeps_the_payment_the_provider_gave_both(db_url: str) -> None:
    with app_on(db_url) as app:
        _, shop, skus = stocked_shop(app)
        token = buy(app.test_client(), shop.slug, {skus["A"]: 1})
        provider = SameRefProvider()
        # Given two requests that read the order before either started its payment
        with session_scope(app) as first, session_scope(app) as second:
            mine = first.scalars(sa.select(Order).where(Order.token == token)).one()
            theirs = second.scalars(sa.select(Order).where(Order.token == token)).one()
            started = service.start_payment(first, mine, provider)
            first.commit()
            # When the second one starts it too
            again = service.start_payment(second, theirs, provider)
        # Then both show the one payment, and nothing was cancelled
        assert again.ref == started.ref
        assert provider.cancelled == []


def test_a_drawn_order_number_that_is_taken_is_drawn_again(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with app_on(db_url) as app:
        _, shop, skus = stocked_shop(app)
        draws = iter(["261201-AAAAAA", "261201-AAAAAA", "261201-BBBBBB"])
        monkeypatch.setattr(checkout, "_new_number", lambda now: next(draws))
        # Given an order that drew a number, when the next order draws the same one first
        first = buy(app.test_client(), shop.slug, {skus["A"]: 1})
        second = buy(app.test_client(), shop.slug, {skus["A"]: 1})
        # Then it is numbered with the next draw
        with session_scope(app) as session:
            numbers = {order.token: order.number for order in session.scalars(sa.select(Order))}
        assert numbers == {first: "261201-AAAAAA", second: "261201-BBBBBB"}


def test_a_failing_signal_receiver_neither_undoes_nor_silences_the_change(
    db_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    with app_on(db_url) as app:
        order = _placed(app)
        heard: list[str] = []

        def broken(sender: Flask, **extra: object) -> None:
            raise OSError("mail server down")

        def listening(sender: Flask, order_number: str, **extra: object) -> None:
            heard.append(order_number)

        signals.order_paid.connect(broken, weak=False)
        signals.order_paid.connect(listening, weak=False)
        try:
            paid = PaymentState(order.payment_ref or "", SUCCEEDED, order.total_minor, "CNY")
            assert _apply(app, order, paid)[0] == "paid"  # the commit did not raise
        finally:
            signals.order_paid.disconnect(broken)
            signals.order_paid.disconnect(listening)
        assert heard == [order.number]
        with session_scope(app) as session:
            assert session.get_one(Order, order.id).status == "paid"
        assert "a receiver of order-paid failed" in caplog.text
