"""Checkout, payment and the consumer's order page, on the shop blueprint:
``/s/<slug>/checkout``, ``/s/<slug>/orders/<token>`` (+ ``/pay``, ``/return``,
``/dev-pay``), and Stripe's webhook ``/hooks/stripe``.

The browser never decides a price or a payment: the checkout recomputes everything from the
database, and an order becomes paid only from a verified provider event or the server's own
retrieval of the payment (:mod:`storefront_sdk.payments.service`).
"""

from __future__ import annotations

import re
import secrets
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, Response, abort, current_app, g, redirect, request, url_for
from sqlalchemy.orm import Session
from sqlmodel import col

from .. import i18n
from ..db import get_session, utcnow
from ..errors import StorefrontError
from ..fulfillment import handoff
from ..fulfillment.handoff import rfc3339
from ..orders import checkout, expiry
from ..orders.models import Order, OrderEvent, Shipment, SupplierOrder
from ..orders.refunds import lock_order
from ..orders.stock import SoldOut
from ..payments import service
from ..payments.providers import (
    FAILED,
    SUCCEEDED,
    DevProvider,
    PaymentError,
    PaymentProvider,
    PaymentState,
    StripeProvider,
)
from ..shops.accounts import EMAIL
from ..shops.models import Distributor
from . import identity, referral
from .shop_pages import (
    _cart,
    _cart_lines,
    _check_csrf,
    _fresh_shop,
    _locale,
    _page,
    _save_cart,
    _shop,
    bp,
    shop_rates,
)

#: Form fields of the checkout and their longest lengths.
FIELDS = {
    "email": 254,
    "phone": 32,
    "name": 100,
    "line1": 200,
    "line2": 200,
    "city": 100,
    "region": 100,
    "postal_code": 20,
    "country": 2,
}
REQUIRED = ("name", "line1", "city", "country")
_PHONE = re.compile(r"\+?[0-9][0-9 \-]{4,30}")
_KEY = re.compile(r"[A-Za-z0-9_\-]{16,64}")
_TOKEN = re.compile(r"[A-Za-z0-9_\-]{20,64}")
#: Pages with Stripe's Payment Element may load Stripe.js and its frames; no other page can.
STRIPE_CSP = (
    "default-src 'none'; img-src https: http: data:; style-src 'unsafe-inline'; "
    "script-src 'self' https://js.stripe.com; frame-src https://js.stripe.com "
    "https://hooks.stripe.com; connect-src https://api.stripe.com; form-action 'self'; "
    "base-uri 'none'; frame-ancestors 'self'"
)

hooks = Blueprint("storefront_hooks", __name__)


def _write_session() -> Session:
    """The request's session, ready to write: shop pages start theirs as a read (no
    snapshot, no write lock), which this ends."""
    db = get_session()
    db.rollback()
    g.sf_read_begun = True  # (what :func:`.shop_pages._read_session` would begin as a read)
    return db


def provider() -> PaymentProvider | None:
    """The app's payment provider (``None``: payments are not configured)."""
    found: PaymentProvider | None = current_app.extensions["storefront"].payments
    return found


def _no_store(response: Response) -> Response:
    response.cache_control.no_store = True
    response.headers["Referrer-Policy"] = "no-referrer"  # order pages carry their secret
    return response


@bp.get("/s/<slug>/checkout")
def checkout_page(slug: str) -> Response:
    """Contact and address, with the order's lines, shipping and total as they are now."""
    if not _cart(_shop()):
        return redirect(url_for("storefront_shop.cart"), code=303)  # type: ignore[return-value]
    with i18n.locale_of_page(_locale()):
        return _checkout_form({}, {})


def _checkout_form(values: dict[str, str], errors: dict[str, str], status: int = 200) -> Response:
    shop = _shop()
    lines, totals = _cart_lines(shop)
    key = values.get("checkout_key") or secrets.token_urlsafe(24)
    if provider() is None and "form" not in errors:
        errors = {**errors, "form": _not_set_up()}
    response = _page(
        "checkout.html",
        status=status,
        lines=lines,
        totals=totals,
        values=values,
        errors=errors,
        checkout_key=key,
        payments_ready=provider() is not None,
        test_mode=getattr(provider(), "test_mode", False),
    )
    return _no_store(response)


@bp.post("/s/<slug>/checkout")
def place_order(slug: str) -> Response:
    """Make the order (stock allocated), empty the cart and go to payment."""
    shop = _shop()
    _write_session()
    values = {name: " ".join(request.form.get(name, "").split()) for name in FIELDS}
    values["checkout_key"] = request.form.get("checkout_key", "")
    with i18n.locale_of_page(_locale()):
        try:
            _check_csrf()
        except StorefrontError as error:
            return _checkout_form(values, {"form": error.message}, status=422)
        errors = _check(values)
        found = provider()
        if found is None:
            errors["form"] = _not_set_up()
        if errors:
            return _checkout_form(values, errors, status=422)
        assert found is not None
        cart = {int(key): n for key, n in _cart(shop).items() if key.isdigit()}
        email = values["email"].lower() or None
        attribution = referral.attribution()
        db = get_session()
        request_ = checkout.CheckoutRequest(
            shop=_fresh_shop(),
            cart=cart,
            contact=checkout.Contact(email, values["phone"] or None),
            address={**values, "phone": values["phone"]},
            checkout_key=values["checkout_key"],
            locale=_locale(),
            provider=found.name,
            referred_by=attribution.distributor_id if attribution else None,
            referral_token_id=attribution.token_id if attribution else None,
            buyer_distributor_id=identity.claimed_distributor_id(),
            contact_distributor_id=_distributor_with_email(email),
        )
        minutes = current_app.config["STOREFRONT_ORDER_EXPIRY_MINUTES"]
        try:
            order = checkout.place_order(
                db,
                request_,
                shop_rates(),
                utcnow(),
                timedelta(minutes=minutes),
                binding_policy=current_app.config["STOREFRONT_CUSTOMER_BINDING_POLICY"],
            )
            db.commit()
        except SoldOut as error:
            db.rollback()
            return _checkout_form(values, {"form": _sold_out_message(error)}, status=409)
        except checkout.CartChanged:
            db.rollback()
            message = i18n.gettext("Some items are no longer sold here; please check your cart.")
            return _checkout_form(values, {"form": message}, status=409)
        except StorefrontError as error:
            db.rollback()
            return _checkout_form(values, {"form": error.message}, status=422)
    _save_cart(shop, {})
    return redirect(url_for("storefront_shop.pay", token=order.token), code=303)  # type: ignore[return-value]


def _not_set_up() -> str:
    text: str = i18n.gettext("Payments are not set up in this shop yet.")
    return text


def _distributor_with_email(email: str | None) -> int | None:
    if not email:
        return None
    found: int | None = get_session().scalar(
        sa.select(col(Distributor.id)).where(col(Distributor.email) == email)
    )
    return found


def _sold_out_message(error: SoldOut) -> str:
    lines, _ = _cart_lines(_shop())
    titles = [line["title"] for line in lines if line["offer"].id in error.variant_ids]
    text: str = i18n.gettext(
        "Sorry, not enough stock of: %(items)s. Please change your cart.",
        items=", ".join(titles) or "?",
    )
    return text


def _check(values: dict[str, str]) -> dict[str, str]:
    """Messages of the checkout fields that are not acceptable, by field."""
    errors: dict[str, str] = {}
    for name, longest in FIELDS.items():
        if len(values[name]) > longest:
            errors[name] = i18n.gettext("At most %(count)s characters.", count=longest)
    for name in REQUIRED:
        if not values[name]:
            errors.setdefault(name, i18n.gettext("Required."))
    if not values["email"] and not values["phone"]:
        errors.setdefault("email", i18n.gettext("Give an email address or a phone number."))
    if values["email"] and not EMAIL.fullmatch(values["email"]):
        errors.setdefault("email", i18n.gettext("This is not an email address."))
    if values["phone"] and not _PHONE.fullmatch(values["phone"]):
        errors.setdefault("phone", i18n.gettext("This is not a phone number."))
    values["country"] = values["country"].upper()
    if values["country"] and not re.fullmatch(r"[A-Z]{2}", values["country"]):
        errors.setdefault("country", i18n.gettext("A two-letter country code, e.g. CN."))
    if not _KEY.fullmatch(values["checkout_key"]):
        errors["form"] = i18n.gettext(
            "This form has expired. Please reload the page and try again."
        )
    return errors


def _order(token: str) -> Order:
    """The shop's order behind ``token``, expired first if overdue; 404 otherwise."""
    if not _TOKEN.fullmatch(token):
        abort(404)
    db = _write_session()
    order = db.scalars(
        sa.select(Order).where(col(Order.token) == token, col(Order.shop_id) == _shop().id)
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
    outcome = _apply(order, state, f"provider:{found.name}")
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


@bp.get("/s/<slug>/orders/<token>/pay")
def pay(slug: str, token: str) -> Response:
    """The payment page: Stripe's Payment Element, or the dev provider's test buttons."""
    order = _order(token)
    if order.status not in ("awaiting_payment", "processing"):
        return redirect(url_for("storefront_shop.order_page", token=token), code=303)  # type: ignore[return-value]
    found = provider()
    if found is None or found.name != order.payment_provider:
        abort(404)
    db = get_session()
    try:
        started = service.start_payment(db, order, found)
        db.commit()
    except PaymentError as error:
        db.rollback()
        current_app.logger.warning("payment start failed: %s", error.message)
        return _no_store(_page("order.html", status=502, **_order_context(order), error=_retry()))
    context = _order_context(order)
    response = _page(
        "pay.html",
        **context,
        provider=found.name,
        test_mode=found.test_mode,
        client_secret=started.client_secret,
        publishable_key=getattr(found, "publishable_key", None),
        return_url=url_for("storefront_shop.payment_return", token=token, _external=True),
        stripe_script=url_for("storefront_shop.static", filename="pay.js"),
    )
    if isinstance(found, StripeProvider):
        response.headers["Content-Security-Policy"] = STRIPE_CSP
    return _no_store(response)


def _retry() -> str:
    text: str = i18n.gettext("The payment service did not answer. Please try again in a moment.")
    return text


@bp.post("/s/<slug>/orders/<token>/dev-pay")
def dev_pay(slug: str, token: str) -> Response:
    """Test mode only: the consumer says how the test payment ends (``outcome``)."""
    found = provider()
    if not isinstance(found, DevProvider):
        abort(404)
    with i18n.locale_of_page(_locale()):
        _check_csrf_or_400()
    order = _order(token)
    outcome = request.form.get("outcome")
    if outcome not in (SUCCEEDED, FAILED) or order.payment_ref is None:
        abort(400)
    db = get_session()
    # The button's press is the dev provider's event: one per payment and outcome.
    if not service.seen_event(db, "dev", f"{order.payment_ref}:{outcome}", outcome):
        state = PaymentState(
            order.payment_ref, outcome, order.total_minor, order.currency, "test decline"
        )
        _apply(order, state, "provider:dev")
    db.commit()
    return redirect(url_for("storefront_shop.order_page", token=token), code=303)  # type: ignore[return-value]


def _check_csrf_or_400() -> None:
    try:
        _check_csrf()
    except StorefrontError:
        abort(400, description="form expired")


def _apply(order: Order, state: PaymentState, actor: str) -> str:
    return service.apply_payment(
        get_session(),
        order.id or 0,
        state,
        actor=actor,
        now=utcnow(),
        binding_days=current_app.config["STOREFRONT_CUSTOMER_BINDING_DAYS"],
        binding_policy=current_app.config["STOREFRONT_CUSTOMER_BINDING_POLICY"],
    )


@bp.get("/s/<slug>/orders/<token>/return")
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
            _apply(order, state, f"provider:{found.name}")
            db.commit()
    return redirect(url_for("storefront_shop.order_page", token=token), code=303)  # type: ignore[return-value]


@bp.get("/s/<slug>/orders/<token>")
def order_page(slug: str, token: str) -> Response:
    """The order: its status, lines, totals and each supplier part with its tracking."""
    order = _order(token)
    return _no_store(_page("order.html", **_order_context(order)))


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
    return {
        "order": order,
        "groups": groups,
        "updated": rfc3339(last_event),
    }


@hooks.post("/hooks/stripe")
def stripe_webhook() -> Response:
    """Stripe's events: the signature is checked on the raw body (300 s, any of several
    ``v1``); each event id is applied once; payment states apply in any order."""
    found = provider()
    if not isinstance(found, StripeProvider):
        return Response("stripe is not configured\n", status=404, mimetype="text/plain")
    body = request.get_data(cache=False)
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
        outcome = _apply(order, state, "provider:stripe")
    db.commit()
    return Response(outcome + "\n", mimetype="text/plain")
