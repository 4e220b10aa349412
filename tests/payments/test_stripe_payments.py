"""Stripe payments end to end, against a localstripe server: the payment page starts a
PaymentIntent, the order becomes paid only from the server's own retrieval (``/return``) or a
correctly signed event (``/hooks/stripe``), each event applies once and in any order, and a
supplier's cancellation becomes a real Stripe refund. On both backends."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
import stripe
from conftest import SupplierClient, build_app, new_supplier_client
from flask import Flask
from flask.testing import FlaskClient
from shop_support import ShopRef, csrf_token, make_shop, product, push, variant, variant_ids
from stripe_support import (
    TEST_API_KEY,
    TEST_WEBHOOK_SECRET,
    event_payload,
    object_id,
    signature,
    signed_event,
    stripe_client,
)

from storefront_sdk.catalog.models import Variant
from storefront_sdk.db import session_scope
from storefront_sdk.dispatcher import Dispatcher
from storefront_sdk.errors import ConfigurationError
from storefront_sdk.orders.models import Order, OrderEvent, Refund, SupplierOrder
from storefront_sdk.payments.providers import StripeProvider, load_provider
from storefront_sdk.testing.localstripe_server import start

ADDRESS = {
    "email": "buyer@example.com",
    "phone": "",
    "name": "Li Lei",
    "line1": "1 Nanjing Road",
    "line2": "",
    "city": "Shanghai",
    "region": "Shanghai",
    "postal_code": "200000",
    "country": "CN",
}
_PAY = re.compile(r"/orders/([A-Za-z0-9_\-]+)/pay")
#: 1 x A (50.00) from supplier 1 + 1 x C (20.00) from supplier 2; shipping is free.
TOTAL = 7000


@pytest.fixture(scope="session")
def localstripe_url() -> Iterator[str]:
    server = start()
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture
def ls(localstripe_url: str) -> stripe.StripeClient:
    """The test's own view of localstripe, through the official SDK."""
    return stripe_client(localstripe_url)


def stripe_config(api_base: str) -> dict[str, Any]:
    return {
        "STOREFRONT_PAYMENT_PROVIDER": "stripe",
        "STRIPE_SECRET_KEY": TEST_API_KEY,
        "STRIPE_WEBHOOK_SECRET": TEST_WEBHOOK_SECRET,
        "STRIPE_API_BASE": api_base,
        "STRIPE_PUBLISHABLE_KEY": "pk_test_storefront",
        "STOREFRONT_WEBHOOK_ALLOW_HTTP": True,
        "STOREFRONT_WEBHOOK_ALLOW_PRIVATE": True,
    }


@contextmanager
def app_on(db_url: str, **config: Any) -> Iterator[Flask]:
    app = build_app(db_url, **config)
    try:
        yield app
    finally:
        app.extensions["storefront"].engine.dispose()


@pytest.fixture
def app(db_url: str, localstripe_url: str) -> Iterator[Flask]:
    with app_on(db_url, **stripe_config(localstripe_url)) as app:
        yield app


@dataclass
class Shop:
    app: Flask
    ref: ShopRef
    suppliers: list[SupplierClient]
    skus: dict[str, int]

    @property
    def slug(self) -> str:
        return self.ref.slug


def stocked_shop(app: Flask) -> Shop:
    """Two suppliers (P1: SKUs A, B; P2: SKU C) and a shop selling the whole catalogue."""
    first = new_supplier_client(app)
    push(
        first,
        product(
            "P1",
            variants=[
                variant("A", stock=10, supply_price=3000, retail_price=5000, min_price=None),
                variant("B", stock=10, supply_price=1000, retail_price=2000, min_price=None),
            ],
        ),
    )
    second = new_supplier_client(app)
    push(
        second,
        product(
            "P2",
            variants=[variant("C", stock=10, supply_price=800, retail_price=2000, min_price=None)],
        ),
    )
    ref = make_shop(app, "owner@example.com", locale="en")
    return Shop(app, ref, [first, second], variant_ids(app))


@pytest.fixture
def shop(app: Flask) -> Shop:
    return stocked_shop(app)


def product_path(app: Flask, slug: str, variant_id: int) -> str:
    with session_scope(app) as session:
        return f"/s/{slug}/p/{session.get_one(Variant, variant_id).product_id}"


def add_to_cart(client: FlaskClient, slug: str, variant_id: int, quantity: int = 1) -> None:
    page = client.get(product_path(client.application, slug, variant_id)).get_data(as_text=True)
    response = client.post(
        f"/s/{slug}/cart/add",
        data={"csrf_token": csrf_token(page), "variant_id": variant_id, "quantity": quantity},
    )
    assert response.status_code == 303, response.get_data(as_text=True)[:500]


def checkout(client: FlaskClient, slug: str) -> Any:
    page = client.get(f"/s/{slug}/checkout").get_data(as_text=True)
    key = re.search(r'name="checkout_key" value="([^"]+)"', page)
    assert key, page[:1000]
    data = {"csrf_token": csrf_token(page), "checkout_key": key.group(1), **ADDRESS}
    return client.post(f"/s/{slug}/checkout", data=data)


def buy(client: FlaskClient, shop: Shop, cart: dict[str, int] | None = None) -> str:
    """Cart (default: one A and one C) → checkout; the new order's token."""
    for sku, quantity in (cart or {"A": 1, "C": 1}).items():
        add_to_cart(client, shop.slug, shop.skus[sku], quantity)
    response = checkout(client, shop.slug)
    found = _PAY.search(response.headers.get("Location", ""))
    assert response.status_code == 303, response.get_data(as_text=True)[:800]
    assert found, response.headers.get("Location")
    return found.group(1)


def order_of(app: Flask, token: str) -> dict[str, Any]:
    with session_scope(app) as session:
        order = session.scalars(sa.select(Order).where(Order.token == token)).one()
        return {
            "id": order.id,
            "status": order.status,
            "payment_ref": order.payment_ref,
            "payment_provider": order.payment_provider,
            "total_minor": order.total_minor,
            "currency": order.currency,
            "refunded_minor": order.refunded_minor,
            "paid_at": order.paid_at,
        }


def audit(app: Flask, order_id: int) -> list[str]:
    """The kinds of the order's audit events, oldest first."""
    with session_scope(app) as session:
        return list(
            session.scalars(
                sa.select(OrderEvent.kind)
                .where(OrderEvent.order_id == order_id)
                .order_by(OrderEvent.id)
            )
        )


def outbox_per_supplier(app: Flask) -> dict[int, int]:
    with session_scope(app) as session:
        rows = session.execute(
            sa.text("SELECT supplier_id, count(*) FROM sf_outbox_event GROUP BY supplier_id")
        ).all()
        return {int(supplier_id): int(n) for supplier_id, n in rows}


def supplier_orders(app: Flask, order_id: int) -> list[tuple[int, str]]:
    with session_scope(app) as session:
        parts = session.scalars(
            sa.select(SupplierOrder)
            .where(SupplierOrder.order_id == order_id)
            .order_by(SupplierOrder.supplier_id)
        )
        return [(part.supplier_id, part.public_id) for part in parts]


def open_pay(client: FlaskClient, shop: Shop, token: str) -> tuple[Any, str]:
    """GET the payment page; the response and the order's PaymentIntent id."""
    response = client.get(f"/s/{shop.slug}/orders/{token}/pay")
    assert response.status_code == 200, response.get_data(as_text=True)[:800]
    ref = order_of(shop.app, token)["payment_ref"]
    assert isinstance(ref, str), ref
    assert ref.startswith("pi_"), ref
    return response, ref


def confirm(ls: stripe.StripeClient, intent_id: str, method: str = "pm_card_visa") -> Any:
    """The consumer pays (what Stripe.js would do): attach a card and confirm."""
    ls.v1.payment_intents.update(intent_id, params={"payment_method": method})
    return ls.v1.payment_intents.confirm(intent_id)


def intent_dict(ls: stripe.StripeClient, intent_id: str) -> dict[str, Any]:
    """The PaymentIntent as localstripe has it now, as plain JSON data."""
    found: dict[str, Any] = ls.v1.payment_intents.retrieve(intent_id).to_dict()
    return found


def post_event(
    client: FlaskClient,
    event_type: str,
    obj: dict[str, Any],
    *,
    event_id: str | None = None,
    timestamp: int | None = None,
    secret: str = TEST_WEBHOOK_SECRET,
) -> Any:
    payload = event_payload(event_type, obj, event_id=event_id)
    body, header = signed_event(payload, secret, timestamp=timestamp)
    return post_raw(client, body, header)


def post_raw(client: FlaskClient, body: bytes, header: str | None) -> Any:
    headers = {"Content-Type": "application/json"}
    if header is not None:
        headers["Stripe-Signature"] = header
    return client.post("/hooks/stripe", data=body, headers=headers)


def paid_by_hand(ls: stripe.StripeClient, client: FlaskClient, shop: Shop) -> tuple[str, str]:
    """An order whose PaymentIntent succeeded at Stripe (nothing told the shop yet)."""
    token = buy(client, shop)
    _, ref = open_pay(client, shop, token)
    assert confirm(ls, ref).status == "succeeded"
    return token, ref


# --- the payment page and the server-side return ------------------------------------------


def test_pay_page_starts_one_payment_intent_with_stripe_csp(
    app: Flask, shop: Shop, ls: stripe.StripeClient
) -> None:
    client = app.test_client()
    product_page = client.get(product_path(app, shop.slug, shop.skus["A"]))
    assert product_page.status_code == 200
    assert "stripe" not in product_page.headers["Content-Security-Policy"]
    token = buy(client, shop)
    order = order_of(app, token)
    assert (order["status"], order["total_minor"], order["currency"]) == (
        "awaiting_payment",
        TOTAL,
        "CNY",
    )
    assert order["payment_provider"] == "stripe"
    assert order["payment_ref"] is None  # started by the payment page, not the checkout

    response, ref = open_pay(client, shop, token)
    intent = ls.v1.payment_intents.retrieve(ref)
    assert (intent.amount, intent.currency, intent.status) == (
        TOTAL,
        "cny",
        "requires_payment_method",
    )
    assert intent.metadata["storefront_order"] == token
    html = response.get_data(as_text=True)
    assert f'data-secret="{intent.client_secret}"' in html
    assert intent.client_secret.startswith(f"{ref}_secret")
    assert 'data-key="pk_test_storefront"' in html
    assert "https://js.stripe.com/v3/" in html
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self' https://js.stripe.com" in csp
    assert "frame-src https://js.stripe.com" in csp
    assert response.headers["Cache-Control"] == "no-store"

    # Opening the page again shows the same PaymentIntent (no second one at Stripe).
    again = client.get(f"/s/{shop.slug}/orders/{token}/pay")
    assert f'data-secret="{intent.client_secret}"' in again.get_data(as_text=True)
    assert order_of(app, token)["payment_ref"] == ref

    # Only the payment page may load Stripe.js.
    for path in (
        f"/s/{shop.slug}/orders/{token}",
        f"/s/{shop.slug}/",
        product_path(app, shop.slug, shop.skus["C"]),
    ):
        page = client.get(path)
        assert page.status_code == 200, path
        assert "stripe" not in page.headers["Content-Security-Policy"], path


def test_return_retrieves_the_payment_server_side_and_hands_off(
    app: Flask, shop: Shop, ls: stripe.StripeClient
) -> None:
    client = app.test_client()
    token, ref = paid_by_hand(ls, client, shop)
    assert order_of(app, token)["status"] == "awaiting_payment"  # Stripe knows, we don't yet

    response = client.get(f"/s/{shop.slug}/orders/{token}/return?payment_intent={ref}")
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/s/{shop.slug}/orders/{token}")
    order = order_of(app, token)
    assert order["status"] == "paid"
    assert order["paid_at"] is not None
    parts = supplier_orders(app, order["id"])
    ids = sorted(s.supplier_id for s in shop.suppliers)
    assert [supplier_id for supplier_id, _ in parts] == ids
    assert all(public_id.startswith("so_") for _, public_id in parts)
    assert outbox_per_supplier(app) == {ids[0]: 1, ids[1]: 1}
    kinds = audit(app, order["id"])
    assert kinds.count("paid") == 1
    assert "handed_off" in kinds

    # Coming back again changes nothing.
    client.get(f"/s/{shop.slug}/orders/{token}/return")
    assert outbox_per_supplier(app) == {ids[0]: 1, ids[1]: 1}
    assert audit(app, order["id"]).count("paid") == 1


def test_the_browser_cannot_mark_an_order_paid(
    app: Flask, shop: Shop, ls: stripe.StripeClient
) -> None:
    client = app.test_client()
    token = buy(client, shop)
    _, ref = open_pay(client, shop, token)
    query = f"payment_intent={ref}&redirect_status=succeeded"
    response = client.get(f"/s/{shop.slug}/orders/{token}/return?{query}")
    assert response.status_code == 303
    assert ls.v1.payment_intents.retrieve(ref).status == "requires_payment_method"
    order = order_of(app, token)
    assert order["status"] == "awaiting_payment"
    assert order["paid_at"] is None
    assert supplier_orders(app, order["id"]) == []
    assert outbox_per_supplier(app) == {}
    assert "paid" not in audit(app, order["id"])


def test_declined_card_then_return_records_the_failure(
    app: Flask, shop: Shop, ls: stripe.StripeClient
) -> None:
    client = app.test_client()
    token = buy(client, shop)
    _, ref = open_pay(client, shop, token)
    with pytest.raises(stripe.CardError):
        confirm(ls, ref, "pm_card_chargeCustomerFail")
    client.get(f"/s/{shop.slug}/orders/{token}/return")
    order = order_of(app, token)
    assert order["status"] == "awaiting_payment"  # the consumer may try again
    assert audit(app, order["id"]).count("payment_failed") == 1
    with session_scope(app) as session:
        detail = session.scalars(
            sa.select(OrderEvent.detail).where(OrderEvent.kind == "payment_failed")
        ).one()
    assert detail == {"reason": "Your card was declined."}
    # The payment page still offers the same PaymentIntent (localstripe cannot confirm it
    # again after a decline, real Stripe can).
    _, same = open_pay(client, shop, token)
    assert same == ref
    assert outbox_per_supplier(app) == {}


# --- the signed webhook -------------------------------------------------------------------


def test_signed_succeeded_event_pays_once_however_often_it_comes(
    app: Flask, shop: Shop, ls: stripe.StripeClient
) -> None:
    client = app.test_client()
    token, ref = paid_by_hand(ls, client, shop)
    intent = intent_dict(ls, ref)
    assert intent["status"] == "succeeded"
    payload = event_payload("payment_intent.succeeded", intent)
    body, header = signed_event(payload, TEST_WEBHOOK_SECRET)
    answers = [post_raw(client, body, header) for _ in range(5)]
    assert [a.status_code for a in answers] == [200] * 5
    assert [a.get_data(as_text=True) for a in answers] == ["paid\n"] + ["duplicate\n"] * 4
    order = order_of(app, token)
    assert order["status"] == "paid"
    ids = sorted(s.supplier_id for s in shop.suppliers)
    assert outbox_per_supplier(app) == {ids[0]: 1, ids[1]: 1}
    assert len(supplier_orders(app, order["id"])) == 2
    kinds = audit(app, order["id"])
    assert kinds.count("paid") == 1
    assert kinds.count("handed_off") == 1
    with session_scope(app) as session:
        seen = session.execute(
            sa.text("SELECT count(*) FROM sf_provider_event WHERE event_id = :id"),
            {"id": payload["id"]},
        ).scalar_one()
    assert seen == 1


def test_events_out_of_order_never_unpay(app: Flask, shop: Shop, ls: stripe.StripeClient) -> None:
    client = app.test_client()
    token, ref = paid_by_hand(ls, client, shop)
    succeeded = intent_dict(ls, ref)
    processing = {**succeeded, "status": "processing", "latest_charge": None}
    failed = {
        **succeeded,
        "status": "requires_payment_method",
        "last_payment_error": {"code": "card_declined", "message": "Your card was declined."},
    }
    answers = [
        post_event(client, "payment_intent.succeeded", succeeded, event_id="evt_ooo_3"),
        post_event(client, "payment_intent.processing", processing, event_id="evt_ooo_1"),
        post_event(client, "payment_intent.payment_failed", failed, event_id="evt_ooo_2"),
    ]
    assert [a.status_code for a in answers] == [200, 200, 200]
    assert [a.get_data(as_text=True) for a in answers] == ["paid\n", "unchanged\n", "unchanged\n"]
    order = order_of(app, token)
    assert order["status"] == "paid"
    kinds = audit(app, order["id"])
    assert kinds.count("paid") == 1
    assert kinds.count("handed_off") == 1
    assert "payment_failed" not in kinds
    assert "payment_processing" not in kinds
    assert sum(outbox_per_supplier(app).values()) == 2


def test_processing_then_succeeded_pays(app: Flask, shop: Shop, ls: stripe.StripeClient) -> None:
    client = app.test_client()
    token = buy(client, shop)
    _, ref = open_pay(client, shop, token)
    settling = {**intent_dict(ls, ref), "status": "processing"}
    answer = post_event(client, "payment_intent.processing", settling)
    assert (answer.status_code, answer.get_data(as_text=True)) == (200, "processing\n")
    order = order_of(app, token)
    assert order["status"] == "processing"
    assert outbox_per_supplier(app) == {}

    assert confirm(ls, ref).status == "succeeded"
    answer = post_event(client, "payment_intent.succeeded", intent_dict(ls, ref))
    assert (answer.status_code, answer.get_data(as_text=True)) == (200, "paid\n")
    assert order_of(app, token)["status"] == "paid"
    kinds = audit(app, order["id"])
    assert kinds.count("payment_processing") == 1
    assert kinds.count("paid") == 1
    assert sum(outbox_per_supplier(app).values()) == 2


def test_a_failure_told_after_settling_began_is_checked_with_stripe(
    app: Flask, shop: Shop, ls: stripe.StripeClient
) -> None:
    # Given an order whose payment Stripe announced as settling
    client = app.test_client()
    token = buy(client, shop)
    _, ref = open_pay(client, shop, token)
    settling = {**intent_dict(ls, ref), "status": "processing"}
    assert post_event(client, "payment_intent.processing", settling).status_code == 200
    assert order_of(app, token)["status"] == "processing"
    # and whose payment went through at Stripe meanwhile
    assert confirm(ls, ref).status == "succeeded"
    # When an earlier attempt's failure arrives late
    stale = {
        **settling,
        "status": "requires_payment_method",
        "last_payment_error": {"code": "card_declined", "message": "Your card was declined."},
    }
    answer = post_event(client, "payment_intent.payment_failed", stale)
    # Then the shop asked Stripe, which said succeeded: the order is paid, not reopened
    assert (answer.status_code, answer.get_data(as_text=True)) == (200, "paid\n")
    assert order_of(app, token)["status"] == "paid"
    assert "payment_failed" not in audit(app, order_of(app, token)["id"])


def test_expire_orders_asks_stripe_before_giving_an_order_up(
    app: Flask, shop: Shop, ls: stripe.StripeClient
) -> None:
    # Given two overdue orders: one paid at Stripe without the shop hearing of it, one not
    client = app.test_client()
    paid_token, _ = paid_by_hand(ls, client, shop)
    unpaid_token = buy(app.test_client(), shop)
    open_pay(app.test_client(), shop, unpaid_token)
    with session_scope(app) as session:
        session.execute(sa.update(Order).values(expires_at=datetime.now(UTC) - timedelta(1)))
    # When expire-orders runs
    result = app.test_cli_runner().invoke(args=["storefront", "expire-orders"])
    # Then the paid one is paid and handed off, and only the other one expired
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == {"expired": 1, "paid_meanwhile": 1, "flash_sales_ended": 0}
    assert order_of(app, paid_token)["status"] == "paid"
    assert order_of(app, unpaid_token)["status"] == "expired"
    assert sum(outbox_per_supplier(app).values()) == 2


def test_an_overdue_order_paid_unannounced_is_paid_when_looked_at(
    app: Flask, shop: Shop, ls: stripe.StripeClient
) -> None:
    # Given an overdue order whose payment succeeded at Stripe, unannounced
    client = app.test_client()
    token, _ = paid_by_hand(ls, client, shop)
    with session_scope(app) as session:
        session.execute(sa.update(Order).values(expires_at=datetime.now(UTC) - timedelta(1)))
    # When the consumer opens the order page
    page = client.get(f"/s/{shop.slug}/orders/{token}")
    # Then the shop asked Stripe: the order is paid, not expired and refunded
    assert page.status_code == 200
    assert 'data-testid="thanks"' in page.get_data(as_text=True)
    assert order_of(app, token)["status"] == "paid"


def test_payment_failed_while_awaiting_keeps_the_order_open(
    app: Flask, shop: Shop, ls: stripe.StripeClient
) -> None:
    client = app.test_client()
    token = buy(client, shop)
    _, ref = open_pay(client, shop, token)
    with pytest.raises(stripe.CardError):
        confirm(ls, ref, "pm_card_chargeCustomerFail")
    declined = intent_dict(ls, ref)
    assert declined["status"] == "requires_payment_method"
    assert declined["last_payment_error"]["code"] == "card_declined"
    answer = post_event(client, "payment_intent.payment_failed", declined)
    assert (answer.status_code, answer.get_data(as_text=True)) == (200, "failed\n")
    order = order_of(app, token)
    assert order["status"] == "awaiting_payment"
    assert audit(app, order["id"]).count("payment_failed") == 1
    assert outbox_per_supplier(app) == {}
    with session_scope(app) as session:
        detail = session.scalars(
            sa.select(OrderEvent.detail).where(
                OrderEvent.order_id == order["id"], OrderEvent.kind == "payment_failed"
            )
        ).one()
    assert detail == {"reason": "Your card was declined."}


def test_webhook_signature_is_checked(app: Flask, shop: Shop, ls: stripe.StripeClient) -> None:
    client = app.test_client()
    token, ref = paid_by_hand(ls, client, shop)
    intent = intent_dict(ls, ref)

    wrong = post_event(client, "payment_intent.succeeded", intent, secret="whsec_wrong")
    assert wrong.status_code == 400
    stale = post_event(client, "payment_intent.succeeded", intent, timestamp=int(time.time()) - 301)
    assert stale.status_code == 400
    payload = event_payload("payment_intent.succeeded", intent)
    body, header = signed_event(payload, TEST_WEBHOOK_SECRET)
    assert post_raw(client, body, None).status_code == 400
    assert post_raw(client, body.replace(b"succeeded", b"succeeded "), header).status_code == 400
    assert order_of(app, token)["status"] == "awaiting_payment"
    assert outbox_per_supplier(app) == {}

    # Two v1 signatures (a secret being rolled): the second one valid is enough.
    t = int(time.time())
    right = signed_event(payload, TEST_WEBHOOK_SECRET, timestamp=t)[0]
    body, header = signed_event(
        payload,
        "whsec_old",
        timestamp=t,
        extra_signatures=[signature(right, TEST_WEBHOOK_SECRET, t)],
    )
    assert header.count("v1=") == 2
    answer = post_raw(client, body, header)
    assert (answer.status_code, answer.get_data(as_text=True)) == (200, "paid\n")
    assert order_of(app, token)["status"] == "paid"


def test_event_with_another_amount_does_not_pay(
    app: Flask, shop: Shop, ls: stripe.StripeClient
) -> None:
    client = app.test_client()
    token = buy(client, shop)
    _, ref = open_pay(client, shop, token)
    forged = {**intent_dict(ls, ref), "status": "succeeded", "amount": TOTAL - 100}
    answer = post_event(client, "payment_intent.succeeded", forged)
    assert (answer.status_code, answer.get_data(as_text=True)) == (200, "mismatch\n")
    order = order_of(app, token)
    assert order["status"] == "awaiting_payment"
    assert audit(app, order["id"]).count("payment_mismatch") == 1
    assert "paid" not in audit(app, order["id"])
    assert outbox_per_supplier(app) == {}
    with session_scope(app) as session:
        detail = session.scalars(
            sa.select(OrderEvent.detail).where(OrderEvent.kind == "payment_mismatch")
        ).one()
    assert detail == {"amount": TOTAL - 100, "currency": "CNY"}


def test_event_for_an_unknown_payment_is_acknowledged(
    app: Flask, shop: Shop, ls: stripe.StripeClient
) -> None:
    client = app.test_client()
    token = buy(client, shop)
    open_pay(client, shop, token)
    stranger = ls.v1.payment_intents.create(
        params={"amount": TOTAL, "currency": "cny", "payment_method_types": ["card"]}
    )
    confirm(ls, stranger.id)
    answer = post_event(client, "payment_intent.succeeded", intent_dict(ls, stranger.id))
    assert (answer.status_code, answer.get_data(as_text=True)) == (200, "unknown payment\n")
    order = order_of(app, token)
    assert order["status"] == "awaiting_payment"
    assert audit(app, order["id"]) == ["placed"]
    assert outbox_per_supplier(app) == {}


# --- refunds ------------------------------------------------------------------------------


def test_supplier_cancellation_refunds_exactly_that_amount_at_stripe(
    app: Flask, shop: Shop, ls: stripe.StripeClient
) -> None:
    client = app.test_client()
    token, ref = paid_by_hand(ls, client, shop)
    client.get(f"/s/{shop.slug}/orders/{token}/return")
    order = order_of(app, token)
    assert order["status"] == "paid"
    first = shop.suppliers[0]
    so_id = dict(supplier_orders(app, order["id"]))[first.supplier_id]
    # The first supplier's part is one A (50.00, free shipping): cancel it.
    cancelled = first.post(
        f"/orders/{so_id}/cancel",
        json={"reason": "out of stock", "lines": [{"sku": "A", "quantity": 1}]},
    )
    assert cancelled.status_code == 200, cancelled.get_json()
    assert cancelled.get_json()["status"] == "cancelled"  # its only line
    with session_scope(app) as session:
        refund = session.scalars(sa.select(Refund)).one()
        assert (refund.status, refund.amount_minor, refund.currency) == ("pending", 5000, "CNY")

    totals = Dispatcher(app).run_once()
    assert totals["refunds"] == 1
    with session_scope(app) as session:
        refund = session.scalars(sa.select(Refund)).one()
        assert refund.status == "succeeded"
        assert refund.attempts == 1
        assert refund.provider_ref is not None
        assert refund.provider_ref.startswith("re_")
        refund_id = refund.provider_ref
    at_stripe = ls.v1.refunds.retrieve(refund_id)
    assert (at_stripe.amount, at_stripe.currency, at_stripe.status) == (5000, "cny", "succeeded")
    assert at_stripe.payment_intent == ref
    charge_id = object_id(ls.v1.payment_intents.retrieve(ref).latest_charge)
    assert charge_id is not None
    assert ls.v1.charges.retrieve(charge_id).amount_refunded == 5000
    after = order_of(app, token)
    assert (after["status"], after["refunded_minor"]) == ("paid", 5000)
    assert audit(app, order["id"]).count("refunded") == 1

    # Another pass asks Stripe for nothing more (localstripe would refund twice).
    assert Dispatcher(app).run_once()["refunds"] == 0
    assert ls.v1.charges.retrieve(charge_id).amount_refunded == 5000


def test_partial_line_cancellation_refunds_the_lines_only(
    app: Flask, shop: Shop, ls: stripe.StripeClient
) -> None:
    client = app.test_client()
    token = buy(client, shop, {"A": 2, "B": 1})  # 100.00 + 20.00, one supplier
    _, ref = open_pay(client, shop, token)
    confirm(ls, ref)
    client.get(f"/s/{shop.slug}/orders/{token}/return")
    order = order_of(app, token)
    assert (order["status"], order["total_minor"]) == ("paid", 12000)
    supplier = shop.suppliers[0]
    [(_, so_id)] = supplier_orders(app, order["id"])
    answer = supplier.post(
        f"/orders/{so_id}/cancel",
        json={"reason": "damaged", "lines": [{"sku": "A", "quantity": 1}]},
    )
    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json()["status"] == "pending"
    assert Dispatcher(app).run_once()["refunds"] == 1
    charge_id = object_id(ls.v1.payment_intents.retrieve(ref).latest_charge)
    assert charge_id is not None
    assert ls.v1.charges.retrieve(charge_id).amount_refunded == 5000
    with session_scope(app) as session:
        refund = session.scalars(sa.select(Refund)).one()
        assert (refund.status, refund.amount_minor) == ("succeeded", 5000)
    assert order_of(app, token)["refunded_minor"] == 5000


# --- configuration ------------------------------------------------------------------------


def test_stripe_without_webhook_secret_is_refused_at_init(tmp_path: Path) -> None:
    config = {"STOREFRONT_PAYMENT_PROVIDER": "stripe", "STRIPE_SECRET_KEY": TEST_API_KEY}
    with pytest.raises(ConfigurationError, match="STRIPE_WEBHOOK_SECRET"):
        load_provider(config)
    with pytest.raises(ConfigurationError, match="STRIPE_WEBHOOK_SECRET"):
        build_app(f"sqlite:///{tmp_path / 'db.sqlite3'}", **config)
    with pytest.raises(ConfigurationError, match="STRIPE_SECRET_KEY"):
        load_provider({"STOREFRONT_PAYMENT_PROVIDER": "stripe"})
    found = load_provider({**config, "STRIPE_WEBHOOK_SECRET": TEST_WEBHOOK_SECRET})
    assert isinstance(found, StripeProvider)
    assert found.test_mode is True
    assert load_provider({}) is None


def test_without_a_provider_checkout_takes_no_order(db_url: str) -> None:
    with app_on(db_url) as app:
        assert app.extensions["storefront"].payments is None
        shop = stocked_shop(app)
        client = app.test_client()
        add_to_cart(client, shop.slug, shop.skus["A"])
        page = client.get(f"/s/{shop.slug}/checkout")
        assert page.status_code == 200
        html = page.get_data(as_text=True)
        assert re.search(r'data-testid="place-order" disabled', html)
        assert "Payments are not set up in this shop yet." in html
        answer = checkout(client, shop.slug)
        assert answer.status_code == 422
        assert "Payments are not set up in this shop yet." in answer.get_data(as_text=True)
        with session_scope(app) as session:
            orders = session.execute(sa.text("SELECT count(*) FROM sf_order")).scalar_one()
            available = session.get_one(Variant, shop.skus["A"]).available
        assert orders == 0
        assert available == 10
        assert client.post("/hooks/stripe", data=b"{}").status_code == 404
