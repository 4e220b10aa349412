"""Stripe's webhook, ``/hooks/stripe``: payment events applied to their orders."""

from __future__ import annotations

from flask import Response, current_app, request

from ...payments import service
from ...payments.providers import FAILED, PaymentError, StripeProvider
from ..payments import apply_state, provider
from ..routes import bounded_body
from ..sessions import get_session


def stripe_webhook() -> Response:
    """Stripe's events: the signature is checked on the raw body (300 s, any of several
    ``v1``); each event id is applied once; payment states apply in any order."""
    found = provider()
    if not isinstance(found, StripeProvider):
        return Response("stripe is not configured\n", status=404, mimetype="text/plain")
    body = bounded_body()
    try:
        event = found.verify_event(
            body,
            request.headers.get("Stripe-Signature"),
            current_app.config["STRIPE_WEBHOOK_SECRET"],
        )
    except PaymentError as error:
        return Response(error.message + "\n", status=400, mimetype="text/plain")
    db = get_session()
    event_type = str(event["type"])
    if not event_type.startswith("payment_intent."):
        return Response("ignored\n", mimetype="text/plain")  # acknowledged, nothing to do
    if service.seen_event(db, "stripe", str(event["id"]), event_type[:64]):
        db.rollback()
        return Response("duplicate\n", mimetype="text/plain")
    intent = event["data"]["object"]
    order = service.find_by_payment(db, "stripe", str(intent["id"]))
    outcome = "unknown payment"
    if order is not None:
        state = StripeProvider.state_of(intent)
        if state.status == FAILED and order.status == "processing":
            # Events come in any order: a failure told after the payment began settling may
            # be an earlier attempt's. Stripe's word now decides.
            try:
                state = found.retrieve(state.ref)
            except PaymentError as error:
                db.rollback()  # (the event is not marked seen: Stripe sends it again)
                return Response(error.message + "\n", status=503, mimetype="text/plain")
        outcome = apply_state(order.id or 0, state, "provider:stripe")
    db.commit()
    return Response(outcome + "\n", mimetype="text/plain")
