"""Payment providers: the interface checkout talks to, Stripe, and the test-only dev provider.

A provider starts a payment for an order, tells its current state when asked server-side,
refunds and cancels. It never decides that an order is paid: :mod:`.service` does, from a
verified provider event or a server-side retrieval.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from ..errors import ConfigurationError, StorefrontError

#: Normalised payment statuses.
SUCCEEDED = "succeeded"
PROCESSING = "processing"
FAILED = "failed"
#: Started, waiting for the consumer (or their bank: 3-D Secure).
OPEN = "open"
CANCELED = "canceled"


class PaymentError(StorefrontError):
    """The provider refused or could not be reached (HTTP 502 for the consumer)."""

    code = "payment_error"


class MalformedEvent(PaymentError):
    """A correctly signed provider event that is not of the shape the provider sends; it is
    refused (``400``) and recorded with what is wrong."""

    code = "malformed_event"

    def __init__(self, problem: str, event_id: str | None, event_type: str | None) -> None:
        super().__init__(f"unexpected Stripe event: {problem}")
        self.problem = problem
        self.event_id = event_id
        self.event_type = event_type


#: How far a webhook signature's date may be from now, either way (Stripe's default).
SIGNATURE_TOLERANCE = 300


@dataclass(frozen=True, slots=True)
class PaymentState:
    """What the provider says of one payment."""

    ref: str
    status: str
    amount_minor: int
    #: Upper case ISO 4217.
    currency: str
    #: A short reason when ``status`` is ``failed``.
    failure: str | None = None


@dataclass(frozen=True, slots=True)
class PaymentStart:
    """A payment the consumer can now complete: its reference and, for Stripe's Payment
    Element, the client secret."""

    ref: str
    client_secret: str | None = None


@dataclass(frozen=True, slots=True)
class StripeEvent:
    """A verified Stripe event: its id, its type and, for ``payment_intent.*`` events, the
    state of its PaymentIntent."""

    id: str
    type: str
    payment: PaymentState | None = None


class PaymentProvider(Protocol):
    """What checkout needs from a payment provider (``STOREFRONT_PAYMENT_PROVIDER``)."""

    #: ``stripe``, ``dev``...: stored on each order.
    name: str
    #: Payments are not real money (the pages show a test-mode banner).
    test_mode: bool
    #: :meth:`retrieve` can tell a payment's state (before an order expires, a payment
    #: that succeeded unannounced is found this way). The dev provider's cannot.
    retrievable: bool

    def start(self, amount_minor: int, currency: str, order_token: str, key: str) -> PaymentStart:
        """Start a payment of ``amount_minor``; ``key`` makes a retry start the same one."""
        ...

    def resume(self, ref: str) -> PaymentStart:
        """The started payment ``ref``, to show its payment form again."""
        ...

    def retrieve(self, ref: str) -> PaymentState:
        """The payment's state, asked of the provider now."""
        ...

    def refund(self, ref: str, amount_minor: int, key: str) -> str:
        """Refund ``amount_minor`` of payment ``ref`` (``key``: once, however often
        asked); returns the provider's refund id."""
        ...

    def cancel(self, ref: str) -> None:
        """Cancel an unpaid payment (its order expired)."""
        ...


class DevProvider:
    """Test-mode payments for the demo and tests: the payment page has "pay" and "fail"
    buttons and nothing leaves the server. Loaded only when
    ``STOREFRONT_PAYMENT_PROVIDER = "dev"`` says so; the pages show a test-mode banner.

    Its payments live in the database as the orders' references (``dev_<token>``) and
    their state in :class:`~.models.ProviderEvent` rows written by :mod:`.service`.
    """

    name = "dev"
    test_mode = True
    retrievable = False

    def start(self, amount_minor: int, currency: str, order_token: str, key: str) -> PaymentStart:
        return PaymentStart(f"dev_{secrets.token_urlsafe(12)}")

    def resume(self, ref: str) -> PaymentStart:
        return PaymentStart(ref)

    def retrieve(self, ref: str) -> PaymentState:
        raise PaymentError("test-mode payments are confirmed by their buttons, not retrieved")

    def refund(self, ref: str, amount_minor: int, key: str) -> str:
        return f"dev_re_{secrets.token_urlsafe(12)}"

    def cancel(self, ref: str) -> None:
        return None


#: Stripe's statuses of a PaymentIntent, normalised.
_STRIPE_STATUSES = {
    "succeeded": SUCCEEDED,
    "processing": PROCESSING,
    "requires_payment_method": OPEN,
    "requires_confirmation": OPEN,
    "requires_action": OPEN,
    "requires_capture": PROCESSING,
    "canceled": CANCELED,
}


class StripeProvider:
    """PaymentIntents through the official SDK (``StripeClient``).

    ``payment_methods`` are the PaymentIntent's ``payment_method_types`` (``card``,
    ``alipay``, ``wechat_pay``...; ``STOREFRONT_STRIPE_PAYMENT_METHODS``). ``api_base``
    points the SDK elsewhere (``STRIPE_API_BASE``: a local fake in tests).
    """

    name = "stripe"
    retrievable = True

    def __init__(
        self,
        secret_key: str,
        *,
        publishable_key: str | None = None,
        payment_methods: Sequence[str] = ("card",),
        api_base: str | None = None,
    ) -> None:
        import stripe

        if not secret_key.startswith(("sk_", "rk_")):
            raise ConfigurationError("STRIPE_SECRET_KEY must be a Stripe secret key (sk_...)")
        self.test_mode = "_test_" in secret_key
        self.publishable_key = publishable_key
        self.payment_methods = list(payment_methods)
        bases = {"api": api_base} if api_base else {}
        self._stripe = stripe
        self._client = stripe.StripeClient(secret_key, base_addresses=bases, max_network_retries=2)  # type: ignore[arg-type]

    def start(self, amount_minor: int, currency: str, order_token: str, key: str) -> PaymentStart:
        intent = self._call(
            self._client.v1.payment_intents.create,
            {
                "amount": amount_minor,
                "currency": currency.lower(),
                "payment_method_types": self.payment_methods,
                "metadata": {"storefront_order": order_token},
            },
            {"idempotency_key": key},
        )
        return PaymentStart(intent.id, intent.client_secret)

    def resume(self, ref: str) -> PaymentStart:
        intent = self._call(self._client.v1.payment_intents.retrieve, ref)
        return PaymentStart(intent.id, intent.client_secret)

    def retrieve(self, ref: str) -> PaymentState:
        return self.state_of(self._call(self._client.v1.payment_intents.retrieve, ref))

    def refund(self, ref: str, amount_minor: int, key: str) -> str:
        refund = self._call(
            self._client.v1.refunds.create,
            {"payment_intent": ref, "amount": amount_minor},
            {"idempotency_key": key},
        )
        return str(refund.id)

    def cancel(self, ref: str) -> None:
        intent = self._call(self._client.v1.payment_intents.retrieve, ref)
        if intent.status not in ("succeeded", "canceled", "processing"):
            self._call(self._client.v1.payment_intents.cancel, ref)

    def verify_event(self, body: bytes, header: str | None, secret: str) -> StripeEvent:
        """The event of a webhook request, once its ``Stripe-Signature`` (any of several
        ``v1``, dated within :data:`SIGNATURE_TOLERANCE` of now, before or after) checks
        out on the raw body; :class:`PaymentError` if not, :class:`MalformedEvent` if it is
        signed but not an event of the shape Stripe sends."""
        if not header:
            raise PaymentError("invalid Stripe webhook: no Stripe-Signature header")
        _refuse_future(header, time.time())
        try:
            self._stripe.WebhookSignature.verify_header(
                body.decode("utf-8"), header, secret, tolerance=SIGNATURE_TOLERANCE
            )
        except (ValueError, self._stripe.SignatureVerificationError) as exc:
            raise PaymentError(f"invalid Stripe webhook: {exc}") from None
        return event_of(body)

    @staticmethod
    def state_of(intent: Mapping[str, Any] | Any) -> PaymentState:
        """A PaymentIntent (SDK object or event payload) as a :class:`PaymentState`."""
        if hasattr(intent, "to_dict"):  # an SDK object (no ``.get`` in stripe 16)
            intent = intent.to_dict()
        status = _STRIPE_STATUSES.get(str(intent["status"]), OPEN)
        error = intent.get("last_payment_error")
        failure = None
        if error:
            failure = str(error.get("message") or error.get("code") or "declined")
            if status == OPEN:
                status = FAILED
        return PaymentState(
            str(intent["id"]),
            status,
            int(intent["amount"]),
            str(intent["currency"]).upper(),
            failure,
        )

    def _call(self, method: Any, *args: Any) -> Any:
        try:
            return method(*args)
        except self._stripe.StripeError as exc:
            message = getattr(exc, "user_message", None) or str(exc) or type(exc).__name__
            raise PaymentError(f"Stripe: {message}") from None


def _refuse_future(header: str, now: float) -> None:
    """Refuses a signature dated more than the tolerance after ``now`` (the SDK only
    refuses old ones)."""
    for item in header.split(","):
        key, _, value = item.strip().partition("=")
        if key == "t" and value.isdigit() and int(value) > now + SIGNATURE_TOLERANCE:
            raise PaymentError("invalid Stripe webhook: the signature is dated in the future")


def event_of(body: bytes) -> StripeEvent:
    """The Stripe event in a verified ``body``; :class:`MalformedEvent` naming what is
    missing or wrong when it is not shaped as Stripe's events are."""
    try:
        event = json.loads(body)
    except ValueError:
        raise MalformedEvent("the body is not JSON", None, None) from None
    if not isinstance(event, dict):
        raise MalformedEvent("the body is not a JSON object", None, None)
    event_id, event_type = event.get("id"), event.get("type")
    known_id = event_id if _short_text(event_id, 255) else None
    known_type = event_type if _short_text(event_type, 64) else None
    if known_id is None or known_type is None:
        raise MalformedEvent("no event id or type", known_id, known_type)
    if not known_type.startswith("payment_intent."):
        return StripeEvent(known_id, known_type)
    data = event.get("data")
    intent = data.get("object") if isinstance(data, dict) else None
    problem = _intent_problem(intent)
    if problem is not None:
        raise MalformedEvent(problem, known_id, known_type)
    return StripeEvent(known_id, known_type, StripeProvider.state_of(intent))


def _short_text(value: Any, longest: int) -> bool:
    return isinstance(value, str) and 0 < len(value) <= longest


def _intent_problem(intent: Any) -> str | None:
    """What keeps ``intent`` from being read as a PaymentIntent, if anything."""
    if not isinstance(intent, dict):
        return "data.object is not an object"
    if not _short_text(intent.get("id"), 255) or not _short_text(intent.get("status"), 64):
        return "the PaymentIntent has no id or status"
    amount = intent.get("amount")
    if type(amount) is not int or not 0 <= amount < 2**63:
        return "the PaymentIntent's amount is not a whole number of minor units"
    currency = intent.get("currency")
    if not isinstance(currency, str) or len(currency) != 3 or not currency.isalpha():
        return "the PaymentIntent's currency is not a three-letter code"
    error = intent.get("last_payment_error")
    if error is not None and not isinstance(error, dict):
        return "the PaymentIntent's last_payment_error is not an object"
    return None


def load_provider(config: Mapping[str, Any]) -> PaymentProvider | None:
    """The provider ``config`` asks for: ``STOREFRONT_PAYMENT_PROVIDER`` (``stripe``,
    ``dev``), or ``stripe`` when unset and ``STRIPE_SECRET_KEY`` is; ``None`` when no
    payments are configured (the library never falls back to ``dev``)."""
    wanted = config.get("STOREFRONT_PAYMENT_PROVIDER")
    secret = config.get("STRIPE_SECRET_KEY")
    if wanted is None and secret:
        wanted = "stripe"
    if wanted == "dev":
        return DevProvider()
    if wanted == "stripe":
        if not secret:
            raise ConfigurationError(
                "STOREFRONT_PAYMENT_PROVIDER is 'stripe': set STRIPE_SECRET_KEY"
            )
        if not config.get("STRIPE_WEBHOOK_SECRET"):
            raise ConfigurationError(
                "STOREFRONT_PAYMENT_PROVIDER is 'stripe': set STRIPE_WEBHOOK_SECRET (whsec_...)"
            )
        methods = config.get("STOREFRONT_STRIPE_PAYMENT_METHODS") or "card"
        return StripeProvider(
            str(secret),
            publishable_key=config.get("STRIPE_PUBLISHABLE_KEY"),
            payment_methods=[m.strip() for m in str(methods).split(",") if m.strip()],
            api_base=config.get("STRIPE_API_BASE"),
        )
    return None
