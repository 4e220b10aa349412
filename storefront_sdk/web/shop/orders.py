"""The consumer's order: ``/s/<slug>/orders/<token>`` (its status, lines and each supplier
part with its tracking), and its payment: ``/pay``, ``/return`` (back from Stripe) and
``/dev-pay`` (test mode).

An order becomes paid only from a verified provider event or the server's own retrieval of
the payment (:mod:`storefront_sdk.payments.service`), never from the browser's word.
"""

from __future__ import annotations

import re
from typing import Any

import sqlalchemy as sa
from flask import Response, abort, current_app, redirect, request, url_for
from sqlmodel import col

from ... import i18n
from ...db import utcnow
from ...errors import StorefrontError
from ...fulfillment import handoff
from ...fulfillment.handoff import rfc3339
from ...orders import expiry, progress
from ...orders.models import Order, OrderEvent, Shipment, SupplierOrder
from ...orders.refunds import lock_order
from ...payments import service
from ...payments.providers import (
    FAILED,
    SUCCEEDED,
    DevProvider,
    PaymentError,
    PaymentState,
    StripeProvider,
)
from ..errors import status_of
from ..payments import apply_state, provider
from ..sessions import get_session
from ..shop_reads import write_session
from ..transactions import commit_or_refuse
from .pages import check_csrf, current_shop, no_store, page_locale, render

_TOKEN = re.compile(r"[A-Za-z0-9_\-]{20,64}")
#: Pages with Stripe's Payment Element may load Stripe.js and its frames; no other page can.
STRIPE_CSP = (
    "default-src 'none'; img-src https: http: data:; style-src 'unsafe-inline'; "
    "script-src 'self' https://js.stripe.com; frame-src https://js.stripe.com "
    "https://hooks.stripe.com; connect-src https://api.stripe.com; form-action 'self'; "
    "base-uri 'none'; frame-ancestors 'self'"
)


def _order(token: str) -> Order:
    """The shop's order behind ``token``, expired first if overdue; 404 otherwise."""
    if not _TOKEN.fullmatch(token):
        abort(404)
    db = write_session()
    order = db.scalars(
        sa.select(Order).where(col(Order.token) == token, col(Order.shop_id) == current_shop().id)
    ).first()
    if order is None:
        abort(404)
    overdue = (
        order.status == "awaiting_payment" and order.expires_at and order.expires_at <= utcnow()
    )
    if overdue and not _settled_meanwhile(order):
        order = lock_order(db, order.id or 0)
        if expiry.expire_if_due(db, order, utcnow()):
            db.commit()
            _cancel_payment(order)
    return order


def _settled_meanwhile(order: Order) -> bool:
    """Whether the overdue ``order`` must not expire now: the provider says its payment
    went through (or is settling) after all — it is applied — or cannot be asked."""
    found = provider()
    if found is None or not order.payment_ref or found.name != order.payment_provider:
        return False
    if not found.retrievable:
        return False
    db = get_session()
    db.rollback()  # no transaction stays open while the provider is asked
    try:
        state = found.retrieve(order.payment_ref)
    except PaymentError as error:
        current_app.logger.warning("payment retrieval failed: %s", error.message)
        return True  # expire-orders asks again later
    outcome = apply_state(order.id or 0, state, f"provider:{found.name}")
    db.commit()
    db.refresh(order)
    return outcome in ("paid", "processing")


def _cancel_payment(order: Order) -> None:
    found = provider()
    if found is not None and order.payment_ref and found.name == order.payment_provider:
        try:
            found.cancel(order.payment_ref)
        except PaymentError:
            current_app.logger.warning("could not cancel payment %s", order.payment_ref)


def pay(slug: str, token: str) -> Response:
    """The payment page: Stripe's Payment Element, or the dev provider's test buttons."""
    order = _order(token)
    if order.status not in ("awaiting_payment", "processing"):
        return redirect(url_for("storefront_shop.order_page", token=token), code=303)  # type: ignore[return-value]
    found = provider()
    if found is None or found.name != order.payment_provider:
        abort(404)

    def start() -> Response:
        started = service.start_payment(get_session(), order, found)
        response = render(
            "pay.html",
            **_order_context(order),
            provider=found.name,
            test_mode=found.test_mode,
            client_secret=started.client_secret,
            publishable_key=getattr(found, "publishable_key", None),
            return_url=url_for("storefront_shop.payment_return", token=token, _external=True),
            stripe_script=url_for("storefront_shop_assets.static", filename="pay.js"),
        )
        if isinstance(found, StripeProvider):
            response.headers["Content-Security-Policy"] = STRIPE_CSP
        return no_store(response)

    def refuse(error: StorefrontError) -> Response:
        current_app.logger.warning("payment start failed: %s", error.message)
        return no_store(render("order.html", status=502, **_order_context(order), error=_retry()))

    return commit_or_refuse(start, refuse)


def _retry() -> str:
    text: str = i18n.gettext("The payment service did not answer. Please try again in a moment.")
    return text


def dev_pay(slug: str, token: str) -> Response:
    """Test mode only: the consumer says how the test payment ends (``outcome``)."""
    found = provider()
    if not isinstance(found, DevProvider):
        abort(404)
    with i18n.locale_of_page(page_locale()):
        _check_csrf_or_400()
    order = _order(token)
    outcome = request.form.get("outcome")
    if outcome not in (SUCCEEDED, FAILED) or order.payment_ref is None:
        abort(400)

    def press() -> Response:
        # The button's press is the dev provider's event: one per payment and outcome.
        assert order.payment_ref is not None
        if not service.seen_event(get_session(), "dev", f"{order.payment_ref}:{outcome}", outcome):
            state = PaymentState(
                order.payment_ref, outcome, order.total_minor, order.currency, "test decline"
            )
            apply_state(order.id or 0, state, "provider:dev")
        return redirect(url_for("storefront_shop.order_page", token=token), code=303)  # type: ignore[return-value]

    def refuse(error: StorefrontError) -> Response:
        status = status_of(error) or 400
        return no_store(render("order.html", status, **_order_context(order), error=error.message))

    return commit_or_refuse(press, refuse)


def _check_csrf_or_400() -> None:
    try:
        check_csrf()
    except StorefrontError:
        abort(400, description="form expired")


def payment_return(slug: str, token: str) -> Response:
    """Where Stripe sends the consumer back: the payment is retrieved server-side (the
    query string's word is never taken)."""
    order = _order(token)
    found = provider()
    if found is not None and order.payment_ref and found.name == order.payment_provider:
        db = get_session()
        try:
            state = found.retrieve(order.payment_ref)
        except PaymentError as error:
            current_app.logger.warning("payment retrieval failed: %s", error.message)
        else:
            apply_state(order.id or 0, state, f"provider:{found.name}")
            db.commit()
    return redirect(url_for("storefront_shop.order_page", token=token), code=303)  # type: ignore[return-value]


def order_page(slug: str, token: str) -> Response:
    """The order: its status, lines, totals and each supplier part with its tracking."""
    order = _order(token)
    return no_store(render("order.html", **_order_context(order)))


def _order_context(order: Order) -> dict[str, Any]:
    db = get_session()
    lines = handoff.order_lines(db, order.id or 0)
    parts = list(
        db.scalars(
            sa.select(SupplierOrder)
            .where(col(SupplierOrder.order_id) == order.id)
            .order_by(col(SupplierOrder.id))
        )
    )
    shipments: dict[int, list[Shipment]] = {}
    if parts:
        for shipment in db.scalars(
            sa.select(Shipment)
            .where(col(Shipment.supplier_order_id).in_([p.id for p in parts]))
            .order_by(col(Shipment.id))
        ):
            shipments.setdefault(shipment.supplier_order_id, []).append(shipment)
    unsplit = [line for line in lines if line.supplier_order_id is None]
    groups = [
        {
            "part": part,
            "lines": [line for line in lines if line.supplier_order_id == part.id],
            "shipments": shipments.get(part.id or 0, []),
        }
        for part in parts
    ]
    if unsplit:
        groups.append({"part": None, "lines": unsplit, "shipments": []})
    last_event = db.scalar(
        sa.select(col(OrderEvent.created_at))
        .where(col(OrderEvent.order_id) == order.id)
        .order_by(col(OrderEvent.id).desc())
        .limit(1)
    )
    statuses = [part.status for part in parts]
    return {
        "order": order,
        "groups": groups,
        "updated": rfc3339(last_event),
        "display_status": progress.display_status(order.status, statuses),
        # While parts are moving the page reloads itself (a meta refresh: no script needed).
        "refresh_seconds": (
            current_app.config["STOREFRONT_ORDER_REFRESH_SECONDS"]
            if progress.is_moving(order.status, statuses)
            else None
        ),
        "declined": progress.payment_declined(db, order.id or 0, order.status),
    }
