"""Helpers for tests of Stripe code: signed webhook events built by the test, a client for a
localstripe server, and a tiny HTTP server that receives localstripe's webhook deliveries.

A plain module (import it as ``from stripe_support import ...``), not a conftest. The
localstripe server itself comes from :func:`storefront_sdk.testing.localstripe_server.start`.
"""

from __future__ import annotations

import hashlib
import hmac
import http.server
import json
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Any

import stripe

#: Any key that starts with ``sk_`` is accepted by localstripe.
TEST_API_KEY = "sk_test_localstripe"
#: A webhook signing secret for tests.
TEST_WEBHOOK_SECRET = "whsec_test_secret"


def event_payload(
    event_type: str,
    obj: dict[str, Any],
    *,
    event_id: str | None = None,
    created: int | None = None,
    api_version: str | None = None,
) -> dict[str, Any]:
    """A Stripe Event object (the body of a webhook) whose ``data.object`` is ``obj``.

    ``api_version`` defaults to the version the installed stripe SDK is pinned to.
    """
    return {
        "id": event_id or f"evt_test_{secrets.token_hex(12)}",
        "object": "event",
        "type": event_type,
        "created": int(time.time()) if created is None else created,
        "api_version": api_version or stripe.api_version,
        "livemode": False,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
        "data": {"object": obj},
    }


def signature(body: bytes, secret: str, timestamp: int) -> str:
    """Stripe's v1 signature: hex HMAC-SHA256 of ``f"{timestamp}.{body}"`` keyed by the
    webhook secret."""
    signed = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def signed_event(
    payload: dict[str, Any],
    secret: str,
    *,
    timestamp: int | None = None,
    extra_signatures: list[str] | None = None,
) -> tuple[bytes, str]:
    """The raw JSON body of ``payload`` and its ``Stripe-Signature`` header
    (``t=<timestamp>,v1=<signature>``), exactly as Stripe signs a webhook.

    ``timestamp`` defaults to now. ``extra_signatures`` are appended as further ``v1=``
    entries (Stripe sends several while a secret is being rolled; any one valid passes).
    To put a wrong signature first, pass the right one via ``extra_signatures`` and sign
    with a wrong secret: ``signed_event(p, "whsec_wrong", extra_signatures=[signature(...)])``.
    """
    body = json.dumps(payload, indent=2).encode()
    t = int(time.time()) if timestamp is None else timestamp
    entries = [f"t={t}", f"v1={signature(body, secret, t)}"]
    entries += [f"v1={extra}" for extra in extra_signatures or ()]
    return body, ",".join(entries)


def stripe_client(api_base: str, api_key: str = TEST_API_KEY) -> stripe.StripeClient:
    """A StripeClient for a localstripe server at ``api_base``, without network retries
    (the SDK's default of 2 would retry localstripe's 500 "Not implemented" answers)."""
    return stripe.StripeClient(
        api_key=api_key, base_addresses={"api": api_base}, max_network_retries=0
    )


def object_id(value: Any) -> str | None:
    """The id of an expandable field: localstripe returns ``latest_charge`` (and the like)
    expanded into an object, Stripe returns an id unless asked to expand. Accept both."""
    if value is None or isinstance(value, str):
        return value
    found = value["id"] if isinstance(value, dict) else getattr(value, "id", None)
    return str(found) if found is not None else None


@dataclass(frozen=True)
class Delivery:
    """One webhook POST received by :class:`WebhookReceiver`."""

    body: bytes
    signature: str | None
    received_at: float  # time.monotonic()

    @property
    def event(self) -> dict[str, Any]:
        parsed: dict[str, Any] = json.loads(self.body)
        return parsed


class WebhookReceiver:
    """A local HTTP server (a thread) recording the webhook POSTs it gets, answering 200.

    Use as a context manager; :attr:`url` is where to register it.
    """

    def __init__(self, path: str = "/stripe/webhook") -> None:
        self.deliveries: list[Delivery] = []
        self._changed = threading.Condition()
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                delivery = Delivery(body, self.headers.get("Stripe-Signature"), time.monotonic())
                with receiver._changed:
                    receiver.deliveries.append(delivery)
                    receiver._changed.notify_all()
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_port}{path}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def wait_for(self, predicate: Callable[[Delivery], bool], timeout: float = 10.0) -> Delivery:
        """The first delivery (already received or to come) matching ``predicate``;
        AssertionError after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                for delivery in self.deliveries:
                    if predicate(delivery):
                        return delivery
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    types = [d.event.get("type") for d in self.deliveries]
                    raise AssertionError(f"no matching webhook within {timeout} s; got {types}")
                self._changed.wait(remaining)

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def __enter__(self) -> WebhookReceiver:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
