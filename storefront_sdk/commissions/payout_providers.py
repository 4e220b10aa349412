"""How payouts reach distributors (``STOREFRONT_PAYOUT_PROVIDER``).

- :class:`ManualPayouts` (``manual``, the default): the platform pays by bank transfer
  from a CSV export and marks each payout paid with the transfer's reference.
- :class:`StripeConnectPayouts` (``stripe_connect``): each distributor onboards a Stripe
  connected account (an Account Link from the console); approving a payout makes a
  Transfer to it, and a balance that refunds made negative is taken back by reversing
  transfers where they allow.

WeChat Pay profit sharing (mainland China, where Stripe does not pay out) fits the same
interface: ``send`` and ``reverse``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from ..errors import ConfigurationError, StorefrontError


class PayoutError(StorefrontError):
    """The payout provider refused (``retryable`` false: the payment was not made) or could
    not be reached, or answered with its own failure (``retryable``: it may or may not have
    been made; ask again with the same idempotency key)."""

    code = "payout_error"

    def __init__(self, message: str, *, retryable: bool = False) -> None:
        super().__init__(message)
        self.retryable = retryable


class PayoutProvider(Protocol):
    """What the payout service needs from a provider."""

    #: ``manual``, ``stripe_connect``...: stored on each payout.
    name: str
    #: Approving a payout sends it at once (else it is marked paid by hand later).
    sends: bool

    def send(self, payout_id: int, amount_minor: int, currency: str, account: str | None) -> str:
        """Pay ``amount_minor`` to ``account`` once, however often asked for the same
        ``payout_id``; the provider's reference (a Transfer id)."""
        ...

    def reverse(self, reference: str, amount_minor: int, key: str) -> str:
        """Take ``amount_minor`` of the payment ``reference`` back (``key``: once); the
        reversal's id."""
        ...


class ManualPayouts:
    """Bank transfers made by the platform's people (CSV export, then marked paid)."""

    name = "manual"
    sends = False

    def send(self, payout_id: int, amount_minor: int, currency: str, account: str | None) -> str:
        raise PayoutError("manual payouts are marked paid with the bank's reference")

    def reverse(self, reference: str, amount_minor: int, key: str) -> str:
        raise PayoutError("a bank transfer cannot be taken back from here")


class StripeConnectPayouts:
    """Transfers to distributors' connected Stripe accounts (Stripe Connect)."""

    name = "stripe_connect"
    sends = True

    def __init__(self, secret_key: str, *, api_base: str | None = None) -> None:
        import stripe

        if not secret_key.startswith(("sk_", "rk_")):
            raise ConfigurationError("STRIPE_SECRET_KEY must be a Stripe secret key (sk_...)")
        bases = {"api": api_base} if api_base else {}
        self._stripe = stripe
        self._client = stripe.StripeClient(secret_key, base_addresses=bases, max_network_retries=2)  # type: ignore[arg-type]

    def create_account(self, email: str, key: str, country: str | None = None) -> str:
        """A new Express connected account for a distributor (``key``: once, however often
        asked); its id."""
        params: dict[str, Any] = {"type": "express", "email": email}
        if country:
            params["country"] = country
        account = self._call(self._client.v1.accounts.create, params, {"idempotency_key": key})
        return str(account.id)

    def onboarding_link(self, account: str, refresh_url: str, return_url: str) -> str:
        """Where the distributor completes (or resumes) their account's onboarding."""
        link = self._call(
            self._client.v1.account_links.create,
            {
                "account": account,
                "refresh_url": refresh_url,
                "return_url": return_url,
                "type": "account_onboarding",
            },
        )
        return str(link.url)

    def send(self, payout_id: int, amount_minor: int, currency: str, account: str | None) -> str:
        if not account:
            raise PayoutError("the distributor has not connected a Stripe account yet")
        group = f"storefront-payout-{payout_id}"
        # A transfer made by an earlier attempt whose answer was lost (or was an error
        # after Stripe acted) is found by its group: it is the payout, never a second one.
        made = self._call(self._client.v1.transfers.list, {"transfer_group": group, "limit": 1})
        if made.data:
            return str(made.data[0].id)
        transfer = self._call(
            self._client.v1.transfers.create,
            {
                "amount": amount_minor,
                "currency": currency.lower(),
                "destination": account,
                "transfer_group": group,
                "metadata": {"storefront_payout": str(payout_id)},
            },
            {"idempotency_key": f"storefront-payout-{payout_id}"},
        )
        return str(transfer.id)

    def reverse(self, reference: str, amount_minor: int, key: str) -> str:
        reversal = self._call(
            self._client.v1.transfers.reversals.create,
            reference,
            {"amount": amount_minor},
            {"idempotency_key": key},
        )
        return str(reversal.id)

    def _call(self, method: Any, *args: Any) -> Any:
        try:
            return method(*args)
        except self._stripe.StripeError as exc:
            message = getattr(exc, "user_message", None) or str(exc) or type(exc).__name__
            # A refusal (4xx) made nothing; a network error, a 5xx or a rate limit may have.
            status = getattr(exc, "http_status", None)
            unsure = status is None or status >= 500 or status == 429
            raise PayoutError(f"Stripe: {message}", retryable=unsure) from None


def load_payout_provider(config: Mapping[str, Any]) -> PayoutProvider:
    """The provider ``STOREFRONT_PAYOUT_PROVIDER`` names (``manual`` by default)."""
    wanted = config.get("STOREFRONT_PAYOUT_PROVIDER") or "manual"
    if wanted == "manual":
        return ManualPayouts()
    if wanted == "stripe_connect":
        secret = config.get("STRIPE_SECRET_KEY")
        if not secret:
            raise ConfigurationError(
                "STOREFRONT_PAYOUT_PROVIDER is 'stripe_connect': set STRIPE_SECRET_KEY"
            )
        return StripeConnectPayouts(str(secret), api_base=config.get("STRIPE_API_BASE"))
    raise ConfigurationError(
        f"STOREFRONT_PAYOUT_PROVIDER must be 'manual' or 'stripe_connect', got {wanted!r}"
    )
