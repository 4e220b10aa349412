"""The payment provider of the app, and a payment's state applied to an order under the
app's binding terms: what the shop's pages and the providers' hooks share."""

from __future__ import annotations

from flask import current_app

from ..db import utcnow
from ..payments import service
from ..payments.providers import PaymentProvider, PaymentState
from ..referrals.binding import BindingTerms
from .sessions import get_session


def provider() -> PaymentProvider | None:
    """The app's payment provider (``None``: payments are not configured)."""
    found: PaymentProvider | None = current_app.extensions["storefront"].payments
    return found


def apply_state(order_id: int, state: PaymentState, actor: str) -> str:
    """:func:`~storefront_sdk.payments.service.apply_payment` in this request's session
    (flushed, not committed), binding the customer under the app's terms."""
    terms = BindingTerms.from_config(current_app.config)
    return service.apply_payment(
        get_session(),
        order_id,
        state,
        actor=actor,
        now=utcnow(),
        binding_days=terms.days,
        binding_policy=terms.policy,
    )
