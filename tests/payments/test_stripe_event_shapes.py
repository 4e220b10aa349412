"""``/hooks/stripe`` under events Stripe would not send: a correctly signed event of an
unexpected shape answers ``400`` and is recorded (``sf_provider_event.problem``, and a
warning in the log), never ``500``; a signature dated past the tolerance in the future is
refused like a stale one. On both backends."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from conftest import build_app
from flask import Flask
from stripe_support import (
    TEST_API_KEY,
    TEST_WEBHOOK_SECRET,
    event_payload,
    signature,
    signed_event,
)

#: A PaymentIntent as Stripe sends it in an event.
INTENT = {"id": "pi_123", "object": "payment_intent", "status": "succeeded", "amount": 7000,
          "currency": "cny", "last_payment_error": None}  # fmt: skip


@pytest.fixture
def app(db_url: str) -> Iterator[Flask]:
    app = build_app(
        db_url,
        STOREFRONT_PAYMENT_PROVIDER="stripe",
        STRIPE_SECRET_KEY=TEST_API_KEY,
        STRIPE_WEBHOOK_SECRET=TEST_WEBHOOK_SECRET,
        STRIPE_API_BASE="http://127.0.0.1:9",  # never asked: no order pays here
    )
    yield app
    app.extensions["storefront"].engine.dispose()


def post_signed(app: Flask, body: bytes, timestamp: int | None = None) -> Any:
    """POST ``body`` signed with the webhook secret, dated ``timestamp`` (now)."""
    t = int(time.time()) if timestamp is None else timestamp
    header = f"t={t},v1={signature(body, TEST_WEBHOOK_SECRET, t)}"
    return app.test_client().post("/hooks/stripe", data=body, headers={"Stripe-Signature": header})


def recorded(app: Flask) -> list[tuple[str, str, str | None]]:
    engine = app.extensions["storefront"].engine
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text("SELECT event_id, type, problem FROM sf_provider_event ORDER BY id")
        )
        return [tuple(row) for row in rows]


def intent_event(**changes: Any) -> bytes:
    obj = {**INTENT, **changes}
    payload = event_payload("payment_intent.succeeded", obj, event_id="evt_shape")
    return json.dumps(payload).encode()


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (intent_event(amount="7000"), "the PaymentIntent's amount is not a whole number"),
        (intent_event(amount=70.0), "the PaymentIntent's amount is not a whole number"),
        (intent_event(amount=True), "the PaymentIntent's amount is not a whole number"),
        (intent_event(currency=None), "the PaymentIntent's currency is not a three-letter"),
        (intent_event(id=None), "the PaymentIntent has no id or status"),
        (intent_event(last_payment_error="declined"), "the PaymentIntent's last_payment_error is"),
        (
            json.dumps({**event_payload("payment_intent.succeeded", {}), "data": []}).encode(),
            "data.object is not an object",
        ),
    ],
    ids=[
        "amount-text",
        "amount-float",
        "amount-bool",
        "no-currency",
        "no-id",
        "error-text",
        "data-list",
    ],
)
def test_a_signed_payment_event_of_another_shape_is_refused_and_recorded(
    app: Flask, body: bytes, problem: str, caplog: pytest.LogCaptureFixture
) -> None:
    # Given a correctly signed payment_intent event whose PaymentIntent is not Stripe's shape
    # When it is posted
    with caplog.at_level(logging.WARNING, logger="storefront_sdk.web.api.stripe"):
        response = post_signed(app, body)
    # Then it is refused as bad input, and recorded for the operator with its problem
    assert response.status_code == 400
    assert response.get_data(as_text=True).startswith("unexpected Stripe event: " + problem)
    [(event_id, event_type, recorded_problem)] = recorded(app)
    assert event_type == "payment_intent.succeeded"
    assert recorded_problem is not None
    assert recorded_problem.startswith(problem)
    assert event_id == json.loads(body)["id"]
    assert f"refused a signed Stripe event {event_id}" in caplog.text


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (b"[]", "the body is not a JSON object"),
        (b'"evt"', "the body is not a JSON object"),
        (b"not json", "the body is not JSON"),
        (b'{"object": "event"}', "no event id or type"),
        (b'{"id": 12, "type": ["payment_intent.succeeded"]}', "no event id or type"),
    ],
    ids=["list", "string", "not-json", "no-id", "wrong-types"],
)
def test_a_signed_body_that_is_no_event_is_refused_and_recorded_under_its_digest(
    app: Flask, body: bytes, problem: str
) -> None:
    # Given a correctly signed body that is not an event at all
    # When it is posted twice (Stripe redelivers what is refused)
    first = post_signed(app, body)
    again = post_signed(app, body)
    # Then both are refused, and it is recorded once, under its digest
    assert first.status_code == again.status_code == 400
    assert first.get_data(as_text=True) == f"unexpected Stripe event: {problem}\n"
    [(event_id, event_type, recorded_problem)] = recorded(app)
    assert event_id.startswith("unreadable:")
    assert len(event_id) == len("unreadable:") + 40
    assert (event_type, recorded_problem) == ("?", problem)


def test_a_signature_dated_past_the_tolerance_in_the_future_is_refused(app: Flask) -> None:
    # Given an event signed correctly but dated 310 s from now (the tolerance is 300 s; the
    # margin keeps a second's rounding of a slow run from landing inside it)
    payload = event_payload("customer.created", {"id": "cus_1"})
    body, header = signed_event(payload, TEST_WEBHOOK_SECRET, timestamp=int(time.time()) + 310)
    # When it is posted
    response = app.test_client().post(
        "/hooks/stripe", data=body, headers={"Stripe-Signature": header}
    )
    # Then it is refused like a stale one, and nothing is recorded
    assert response.status_code == 400
    assert response.get_data(as_text=True) == (
        "invalid Stripe webhook: the signature is dated in the future\n"
    )
    assert recorded(app) == []


def test_a_signature_dated_a_little_ahead_is_accepted(app: Flask) -> None:
    # Given an event signed correctly, dated 60 s ahead (a clock slightly fast)
    payload = event_payload("customer.created", {"id": "cus_1"})
    body = json.dumps(payload).encode()
    # When it is posted
    response = post_signed(app, body, timestamp=int(time.time()) + 60)
    # Then it is verified (and, being no payment event, acknowledged)
    assert (response.status_code, response.get_data(as_text=True)) == (200, "ignored\n")
