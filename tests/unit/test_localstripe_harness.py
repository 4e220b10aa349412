"""The localstripe harness, and the localstripe behaviour that tests of Stripe code rely on.

localstripe (a fake Stripe server) is driven here with the official ``stripe`` SDK, exactly
as application code would; where it differs from real Stripe the test says so, so a change
of localstripe version shows up here first.
"""

from __future__ import annotations

import json
import os
import socket
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
import stripe
from stripe_support import (
    TEST_WEBHOOK_SECRET,
    WebhookReceiver,
    event_payload,
    object_id,
    signature,
    signed_event,
    stripe_client,
)

from storefront_sdk.testing.localstripe_server import LocalStripe, LocalStripeError, start

CARD = {"payment_method_types": ["card"]}


@pytest.fixture(scope="session")
def localstripe() -> Iterator[LocalStripe]:
    server = start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def client(localstripe: LocalStripe) -> stripe.StripeClient:
    return stripe_client(localstripe.url)


def paid_intent(client: stripe.StripeClient, amount: int = 1000, **params: Any) -> Any:
    """A PaymentIntent created and confirmed in one call with the test Visa card."""
    return client.v1.payment_intents.create(
        params={
            "amount": amount,
            "currency": "usd",
            "payment_method": "pm_card_visa",
            "confirm": True,
            **CARD,
            **params,
        }
    )


# --- the harness --------------------------------------------------------------------------


def test_start_serves_the_api_without_touching_the_shared_pickle() -> None:
    pickle = "/tmp/localstripe.pickle"

    def stamp() -> float | None:
        return os.stat(pickle).st_mtime_ns if os.path.exists(pickle) else None

    before = stamp()
    with start() as server:
        assert server.url == f"http://127.0.0.1:{server.port}"
        client = stripe_client(server.url)
        client.v1.customers.create(params={"email": "a@example.com"})
        assert len(client.v1.customers.list().data) == 1
        server.reset()  # DELETE /_config/data
        assert client.v1.customers.list().data == []
        assert stamp() == before  # persistence to /tmp is off
    assert server.process.returncode is not None
    server.stop()  # twice is fine


def test_start_reports_the_servers_stderr_when_it_cannot_listen() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(LocalStripeError, match=r"(?s)exited with status.*Address already"):
            start(port, timeout=10)


def test_unauthenticated_calls_are_refused(localstripe: LocalStripe) -> None:
    with pytest.raises(stripe.AuthenticationError):
        stripe_client(localstripe.url, api_key="pk_test_not_a_secret_key").v1.customers.list()


def test_legacy_global_api_base_works_and_idempotency_keys_are_ignored(
    localstripe: LocalStripe, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(stripe, "api_key", "sk_test_legacy")
    monkeypatch.setattr(stripe, "api_base", localstripe.url)
    monkeypatch.setattr(stripe, "max_network_retries", 0)
    params: dict[str, Any] = {"amount": 700, "currency": "usd", **CARD}
    first = stripe.PaymentIntent.create(**params, idempotency_key="same-key")
    second = stripe.PaymentIntent.create(**params, idempotency_key="same-key")
    assert first.status == second.status == "requires_payment_method"
    # Real Stripe would return the first PaymentIntent again; localstripe makes a new one.
    assert first.id != second.id
    modified = stripe.PaymentIntent.modify(first.id, payment_method="pm_card_visa")
    assert modified.status == "requires_confirmation"
    assert stripe.PaymentIntent.confirm(first.id).status == "succeeded"


# --- PaymentIntents -----------------------------------------------------------------------


def test_card_payment_create_update_confirm_retrieve(client: stripe.StripeClient) -> None:
    intent = client.v1.payment_intents.create(
        params={"amount": 1234, "currency": "cny", "metadata": {"order": "o-1"}, **CARD}
    )
    assert intent.id.startswith("pi_")
    assert intent.status == "requires_payment_method"
    assert (intent.amount, intent.currency) == (1234, "cny")
    assert intent.metadata.to_dict() == {"order": "o-1"}
    assert intent.client_secret.startswith(intent.id + "_secret_")
    assert intent.latest_charge is None
    assert "payment_method_types" not in intent  # accepted, but not echoed back

    updated = client.v1.payment_intents.update(intent.id, params={"payment_method": "pm_card_visa"})
    assert updated.status == "requires_confirmation"
    confirmed = client.v1.payment_intents.confirm(intent.id)
    assert confirmed.status == "succeeded"

    fetched = client.v1.payment_intents.retrieve(intent.id)
    assert fetched.status == "succeeded"
    assert fetched.metadata["order"] == "o-1"
    # latest_charge comes back expanded (a Charge), not as an id as Stripe does.
    assert isinstance(fetched.latest_charge, stripe.Charge)
    charge_id = object_id(fetched.latest_charge)
    assert charge_id is not None
    assert charge_id.startswith("ch_")
    charge = client.v1.charges.retrieve(charge_id)
    assert (charge.status, charge.paid, charge.payment_intent) == ("succeeded", True, intent.id)


def test_confirm_in_create_succeeds(client: stripe.StripeClient) -> None:
    intent = paid_intent(client)
    assert intent.status == "succeeded"
    assert intent.payment_method.startswith("pm_")


def test_confirm_with_a_payment_method_is_not_implemented(client: stripe.StripeClient) -> None:
    intent = client.v1.payment_intents.create(params={"amount": 100, "currency": "usd", **CARD})
    with pytest.raises(stripe.APIError, match="Not implemented") as raised:
        client.v1.payment_intents.confirm(intent.id, params={"payment_method": "pm_card_visa"})
    assert raised.value.http_status == 500


def test_declined_card_raises_card_error(client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.CardError) as raised:
        paid_intent(client, payment_method="pm_card_chargeCustomerFail")
    error = raised.value
    assert (error.http_status, error.code) == (402, "card_declined")
    assert error.user_message == "Your card was declined."
    assert error.json_body is not None
    charge = client.v1.charges.retrieve(error.json_body["error"]["charge"])
    assert (charge.status, charge.failure_code) == ("failed", "card_declined")
    intent = client.v1.payment_intents.retrieve(charge.payment_intent)
    assert intent.status == "requires_payment_method"
    assert intent.last_payment_error is not None
    assert intent.last_payment_error["code"] == "card_declined"


def test_3d_secure_card_requires_action_then_cancel(client: stripe.StripeClient) -> None:
    card = {"number": "4000002500003155", "exp_month": 12, "exp_year": 2034, "cvc": "123"}
    method = client.v1.payment_methods.create(params={"type": "card", "card": card})
    intent = paid_intent(client, payment_method=method.id)
    assert intent.status == "requires_action"
    assert intent.next_action is not None
    assert intent.next_action["type"] == "use_stripe_sdk"

    canceled = client.v1.payment_intents.cancel(intent.id)
    assert canceled.status == "canceled"
    assert client.v1.payment_intents.retrieve(intent.id).status == "canceled"


def test_a_succeeded_intent_cannot_be_canceled(client: stripe.StripeClient) -> None:
    intent = paid_intent(client)
    with pytest.raises(stripe.InvalidRequestError, match="Bad request") as raised:
        client.v1.payment_intents.cancel(intent.id)
    assert raised.value.http_status == 400


def test_manual_capture(client: stripe.StripeClient) -> None:
    intent = paid_intent(client, capture_method="manual")
    assert intent.status == "requires_capture"
    assert client.v1.payment_intents.capture(intent.id).status == "succeeded"


def test_missing_intent_is_404(client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.payment_intents.retrieve("pi_missing")
    assert raised.value.http_status == 404


# --- Refunds ------------------------------------------------------------------------------


def test_partial_refunds_and_ignored_idempotency_key(client: stripe.StripeClient) -> None:
    intent = paid_intent(client, amount=1000)
    charge_id = object_id(intent.latest_charge)
    assert charge_id is not None
    options: Any = {"idempotency_key": f"refund-{intent.id}"}
    params: Any = {"payment_intent": intent.id, "amount": 300}

    refund = client.v1.refunds.create(params=params, options=options)
    assert refund.id.startswith("re_")
    assert (refund.status, refund.amount, refund.currency) == ("succeeded", 300, "usd")
    assert (refund.charge, refund.payment_intent) == (charge_id, intent.id)

    # Same key again: real Stripe replays the first refund, localstripe makes a second one.
    again = client.v1.refunds.create(params=params, options=options)
    assert again.id != refund.id
    charge = client.v1.charges.retrieve(charge_id)
    assert (charge.amount_refunded, charge.refunded) == (600, False)

    # localstripe does not check the refundable balance either.
    client.v1.refunds.create(params={"payment_intent": intent.id, "amount": 5000})
    assert client.v1.charges.retrieve(charge_id).amount_refunded == 5600

    # ...and knows no refund ``reason``.
    with pytest.raises(stripe.InvalidRequestError, match="Unexpected reason"):
        client.v1.refunds.create(params={**params, "reason": "requested_by_customer"})


def test_full_refund_marks_the_charge_refunded(client: stripe.StripeClient) -> None:
    intent = paid_intent(client, amount=800)
    refund = client.v1.refunds.create(params={"payment_intent": intent.id})
    assert refund.amount == 800
    charge_id = object_id(intent.latest_charge)
    assert charge_id is not None
    assert client.v1.charges.retrieve(charge_id).refunded is True


def test_refunding_a_failed_payment_is_refused(client: stripe.StripeClient) -> None:
    intent = client.v1.payment_intents.create(params={"amount": 100, "currency": "usd", **CARD})
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.refunds.create(params={"payment_intent": intent.id})


# --- Events -------------------------------------------------------------------------------


def test_event_list_records_payment_intent_events(client: stripe.StripeClient) -> None:
    customer = client.v1.customers.create()
    intent = paid_intent(client, amount=4321)
    with pytest.raises(stripe.CardError):
        paid_intent(client, payment_method="pm_card_chargeCustomerFail")
    client.v1.refunds.create(params={"payment_intent": intent.id})

    events = client.v1.events.list(params={"limit": 100}).data
    ours = [e for e in events if e.data.object["id"] in (customer.id, intent.id)]
    # Oldest first (real Stripe lists newest first).
    assert [e.type for e in ours] == ["customer.created", "payment_intent.succeeded"]
    assert ours[1].api_version == "2017-08-15"
    assert ours[1].data.object["amount"] == 4321
    types = {e.type for e in events}
    assert "payment_intent.payment_failed" in types
    assert "charge.refunded" not in types  # refunds emit no event

    succeeded = client.v1.events.list(params={"type": "payment_intent.succeeded"}).data
    assert intent.id in {e.data.object["id"] for e in succeeded}


# --- What localstripe lacks ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"automatic_payment_methods": {"enabled": True}}, "Unexpected automatic_payment_methods"),
        ({"description": "Order 1"}, "Unexpected description"),
        ({"receipt_email": "a@example.com"}, "Unexpected receipt_email"),
        ({"return_url": "https://shop.example/return"}, "Unexpected return_url"),
        ({"payment_method_data": {"type": "wechat_pay"}}, "Unexpected payment_method_data"),
    ],
)
def test_unsupported_intent_parameters_are_400(
    client: stripe.StripeClient, extra: dict[str, Any], message: str
) -> None:
    with pytest.raises(stripe.InvalidRequestError, match=message) as raised:
        client.v1.payment_intents.create(params={"amount": 100, "currency": "cny", **extra})
    assert raised.value.http_status == 400


@pytest.mark.parametrize("method_type", ["alipay", "wechat_pay"])
def test_wallet_payment_method_types_are_accepted_but_ignored(
    client: stripe.StripeClient, method_type: str
) -> None:
    intent = client.v1.payment_intents.create(
        params={"amount": 1000, "currency": "cny", "payment_method_types": [method_type]}
    )
    assert intent.status == "requires_payment_method"
    assert intent.next_action is None
    assert "payment_method_types" not in intent
    # No such payment method can be made, so no wallet flow (redirect / QR code) exists...
    with pytest.raises(stripe.InvalidRequestError, match="Bad request"):
        client.v1.payment_methods.create(params={"type": method_type})
    # ...and the type list is not enforced: a card pays the "wallet" intent.
    client.v1.payment_intents.update(intent.id, params={"payment_method": "pm_card_visa"})
    assert client.v1.payment_intents.confirm(intent.id).status == "succeeded"


def test_checkout_sessions_do_not_exist(client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.APIError) as raised:
        client.v1.checkout.sessions.create(
            params={"mode": "payment", "success_url": "https://shop.example/ok"}
        )
    assert raised.value.http_status == 404


# --- Webhooks -----------------------------------------------------------------------------


def test_webhooks_are_delivered_signed_about_a_second_later(
    localstripe: LocalStripe, client: stripe.StripeClient
) -> None:
    webhook_id = f"test-{time.monotonic_ns()}"
    with WebhookReceiver() as receiver:
        # The raw protocol: POST /_config/webhooks/<id> with form fields url and secret.
        form = urllib.parse.urlencode({"url": receiver.url, "secret": TEST_WEBHOOK_SECRET})
        request = urllib.request.Request(
            f"{localstripe.url}/_config/webhooks/{webhook_id}", data=form.encode()
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 200
        try:
            started = time.monotonic()
            intent = paid_intent(client, amount=2500)
            delivery = receiver.wait_for(
                lambda d: d.event["data"]["object"]["id"] == intent.id, timeout=10
            )
            delay = delivery.received_at - started
            assert 0.5 < delay < 5, delay

            assert delivery.signature is not None
            assert delivery.signature.startswith(f"t={delivery.event['created']},v1=")
            event = stripe.Webhook.construct_event(
                delivery.body, delivery.signature, TEST_WEBHOOK_SECRET
            )
            assert event.type == "payment_intent.succeeded"
            assert event.data.object["amount"] == 2500
            assert event.data.object["status"] == "succeeded"
            assert object_id(event.data.object["latest_charge"]) == object_id(intent.latest_charge)
            with pytest.raises(stripe.SignatureVerificationError):
                stripe.Webhook.construct_event(delivery.body, delivery.signature, "whsec_other")

            with pytest.raises(stripe.CardError) as declined:
                paid_intent(client, payment_method="pm_card_chargeCustomerFail")
            assert declined.value.json_body is not None
            failed_charge = declined.value.json_body["error"]["charge"]
            failed = receiver.wait_for(
                lambda d: (
                    d.event["type"] == "payment_intent.payment_failed"
                    and object_id(d.event["data"]["object"]["latest_charge"]) == failed_charge
                )
            )
            event = stripe.Webhook.construct_event(
                failed.body, failed.signature, TEST_WEBHOOK_SECRET
            )
            assert event.data.object["last_payment_error"]["code"] == "card_declined"
        finally:
            localstripe.unregister_webhook(webhook_id)


def test_unregistered_webhooks_receive_nothing(
    localstripe: LocalStripe, client: stripe.StripeClient
) -> None:
    with WebhookReceiver() as receiver:
        localstripe.register_webhook("gone", receiver.url, TEST_WEBHOOK_SECRET)
        localstripe.unregister_webhook("gone")
        intent = paid_intent(client)
        time.sleep(1.5)
        assert [d for d in receiver.deliveries if intent.id in d.body.decode()] == []


def test_webhook_registration_is_validated(localstripe: LocalStripe) -> None:
    with pytest.raises(LocalStripeError, match="HTTP 400"):
        localstripe.register_webhook("bad", "ftp://example.invalid/", TEST_WEBHOOK_SECRET)


# --- Signed events built by the tests -------------------------------------------------------


def test_event_payload_shape() -> None:
    intent = {"id": "pi_123", "object": "payment_intent", "status": "succeeded"}
    payload = event_payload("payment_intent.succeeded", intent, event_id="evt_1", created=42)
    assert payload["id"] == "evt_1"
    assert payload["object"] == "event"
    assert payload["type"] == "payment_intent.succeeded"
    assert payload["created"] == 42
    assert payload["api_version"] == stripe.api_version
    assert payload["livemode"] is False
    assert payload["data"] == {"object": intent}
    generated = event_payload("charge.refunded", {"id": "ch_1"})
    assert generated["id"].startswith("evt_")
    assert abs(generated["created"] - time.time()) < 5


def test_signed_event_verifies_with_the_sdk() -> None:
    payload = event_payload("payment_intent.succeeded", {"id": "pi_1", "object": "payment_intent"})
    body, header = signed_event(payload, TEST_WEBHOOK_SECRET)
    assert isinstance(body, bytes)
    assert json.loads(body) == payload
    event = stripe.Webhook.construct_event(body, header, TEST_WEBHOOK_SECRET)
    assert event.id == payload["id"]
    assert event.type == "payment_intent.succeeded"
    assert event.data.object["id"] == "pi_1"
    # The same header the SDK's own test helper would build.
    t = int(header.split(",")[0].removeprefix("t="))
    expected = stripe.WebhookSignature.generate_signature_header(
        body.decode(), TEST_WEBHOOK_SECRET, timestamp=t
    )
    assert header == expected


def test_signed_event_tolerance() -> None:
    payload = event_payload("payment_intent.succeeded", {"id": "pi_1"})
    now = int(time.time())
    body, header = signed_event(payload, TEST_WEBHOOK_SECRET, timestamp=now - 301)
    with pytest.raises(stripe.SignatureVerificationError, match="tolerance"):
        stripe.Webhook.construct_event(body, header, TEST_WEBHOOK_SECRET)
    body, header = signed_event(payload, TEST_WEBHOOK_SECRET, timestamp=now - 290)
    stripe.Webhook.construct_event(body, header, TEST_WEBHOOK_SECRET)


def test_signed_event_wrong_secret_or_tampered_body_fails() -> None:
    payload = event_payload("payment_intent.succeeded", {"id": "pi_1"})
    body, header = signed_event(payload, "whsec_wrong")
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(body, header, TEST_WEBHOOK_SECRET)
    body, header = signed_event(payload, TEST_WEBHOOK_SECRET)
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(body.replace(b"pi_1", b"pi_2"), header, TEST_WEBHOOK_SECRET)


def test_signed_event_any_of_several_v1_signatures_passes() -> None:
    payload = event_payload("payment_intent.succeeded", {"id": "pi_1"})
    t = int(time.time())
    right = signed_event(payload, TEST_WEBHOOK_SECRET, timestamp=t)[0]
    good = signature(right, TEST_WEBHOOK_SECRET, t)
    # First v1 signed with another secret, second one right.
    body, header = signed_event(payload, "whsec_old", timestamp=t, extra_signatures=[good])
    assert body == right
    assert header.count("v1=") == 2
    assert header.endswith(f",v1={good}")
    event = stripe.Webhook.construct_event(body, header, TEST_WEBHOOK_SECRET)
    assert event.type == "payment_intent.succeeded"
