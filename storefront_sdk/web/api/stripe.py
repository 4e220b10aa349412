"""Stripe's webhook, ``/hooks/stripe``: payment events applied to their orders."""

from __future__ import annotations

import hashlib
import logging

from flask import Response, current_app, request

from ...payments import service
from ...payments.providers import (
    FAILED,
    MalformedEvent,
    PaymentError,
    StripeEvent,
    StripeProvider,
)
from ..payments import apply_state, provider
from ..routes import bounded_body
from ..sessions import get_session

logger = logging.getLogger(__name__)


def stripe_webhook() -> Response:
    """Stripe's events: the signature is checked on the raw body (dated within 300 s
    either way, any of several ``v1``); a signed event of another shape than Stripe's is
    refused and recorded; each event id is applied once; payment states apply in any
    order."""
    found = provider()
    if not isinstance(found, StripeProvider):
        return _text("stripe is not configured", 404)
    body = bounded_body()
    try:
        event = found.verify_event(
            body,
            request.headers.get("Stripe-Signature"),
            current_app.config["STRIPE_WEBHOOK_SECRET"],
        )
    except MalformedEvent as error:
        return _refuse_malformed(error, body)
    except PaymentError as error:
        return _text(error.message, 400)
    if event.payment is None:
        return _text("ignored")  # acknowledged, nothing to do
    return _apply(found, event)


def _apply(found: StripeProvider, event: StripeEvent) -> Response:
    db = get_session()
    state = event.payment
    assert state is not None
    if service.seen_event(db, "stripe", event.id, event.type):
        db.rollback()
        return _text("duplicate")
    order = service.find_by_payment(db, "stripe", state.ref)
    outcome = "unknown payment"
    if order is not None:
        if state.status == FAILED and order.status == "processing":
            # Events come in any order: a failure told after the payment began settling may
            # be an earlier attempt's. Stripe's word now decides.
            try:
                state = found.retrieve(state.ref)
            except PaymentError as error:
                db.rollback()  # (the event is not marked seen: Stripe sends it again)
                return _text(error.message, 503)
        outcome = apply_state(order.id or 0, state, "provider:stripe")
    db.commit()
    return _text(outcome)


def _refuse_malformed(error: MalformedEvent, body: bytes) -> Response:
    """``400``, logged and kept in ``sf_provider_event`` with its problem (an event
    without an id is kept under its body's digest)."""
    event_id = error.event_id or "unreadable:" + hashlib.sha256(body).hexdigest()[:40]
    event_type = error.event_type or "?"
    logger.warning("refused a signed Stripe event %s (%s): %s", event_id, event_type, error.problem)
    db = get_session()
    service.record_refused_event(db, "stripe", event_id, event_type, error.problem)
    db.commit()
    return _text(error.message, 400)


def _text(message: str, status: int = 200) -> Response:
    return Response(message + "\n", status=status, mimetype="text/plain")
