"""Sign and verify the ``Storefront-Signature`` header of the webhooks sent to suppliers.

The header is ``t=<unix seconds>,v1=<hex>``: ``<hex>`` is the lower-case hex HMAC-SHA256,
keyed with the UTF-8 webhook secret, of ``"<t>."`` followed by the raw request body. The
timestamp is signed too, so a captured request cannot be replayed once it is older than the
tolerance. While a secret is being rotated the header carries one ``v1=`` per secret.

This module uses the standard library only: suppliers can copy it, or install the package
just for it, without pulling in the rest of the library.

A supplier's Flask view verifies the raw bytes before parsing them (re-serialised JSON
would not match the signature)::

    import os

    from flask import Flask, abort, request
    from storefront_sdk.webhooks import SIGNATURE_HEADER, WebhookSignatureError, verify

    app = Flask(__name__)

    @app.post("/storefront/webhooks")
    def storefront_webhook():
        try:
            verify(
                request.get_data(),
                request.headers.get(SIGNATURE_HEADER),
                os.environ["STOREFRONT_WEBHOOK_SECRET"],
            )
        except WebhookSignatureError as exc:
            abort(400, str(exc))
        event = request.get_json()
        ...  # handle event["type"]; deliveries may repeat, so deduplicate on event["id"]
        return "", 204
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time

__all__ = ["SIGNATURE_HEADER", "WebhookSignatureError", "sign", "verify"]

#: Name of the HTTP header that carries the signature.
SIGNATURE_HEADER = "Storefront-Signature"

# Digits only (no sign, no exponent) and short enough that int() stays cheap.
_TIMESTAMP = re.compile(r"[0-9]{1,15}")


class WebhookSignatureError(ValueError):
    """The request is not an authentic, fresh Storefront webhook; the message says why."""


def sign(body: bytes, secret: str, timestamp: int | None = None) -> str:
    """The ``Storefront-Signature`` header value for ``body`` (timestamp default: now)."""
    if not secret:
        raise ValueError("the webhook secret must not be empty")
    if timestamp is None:
        timestamp = int(time.time())
    if timestamp < 0:
        raise ValueError("timestamp must be >= 0")
    return f"t={timestamp},v1={_digest(body, secret, timestamp)}"


def verify(
    body: bytes,
    header: str | None,
    secret: str,
    tolerance: int = 300,
    *,
    now: float | None = None,
) -> None:
    """Raise :class:`WebhookSignatureError` unless ``header`` signs ``body`` with ``secret``.

    ``body`` must be the raw request bytes. The signed timestamp must lie within
    ``tolerance`` seconds of ``now`` (default: the current time), in either direction.
    Any one matching ``v1=`` entry suffices; other schemes (``v0=``, future versions) are
    ignored. Every problem with the request, including a missing header or a body of the
    wrong type, is reported as :class:`WebhookSignatureError`.
    """
    if tolerance < 0:
        raise ValueError("tolerance must be >= 0")
    if not isinstance(secret, str) or not secret:
        # Fail closed: an unset secret (None, "") must not make every request acceptable.
        raise WebhookSignatureError("no webhook secret configured (empty or not a string)")
    if not isinstance(body, bytes):
        raise WebhookSignatureError(
            f"body must be the raw request body as bytes, not {type(body).__name__}"
        )
    if header is None or (isinstance(header, str) and not header.strip()):
        raise WebhookSignatureError(f"missing {SIGNATURE_HEADER} header")
    if not isinstance(header, str):
        raise WebhookSignatureError(
            f"{SIGNATURE_HEADER} header must be text, not {type(header).__name__}"
        )
    timestamp, candidates = _parse(header)
    expected = _digest(body, secret, timestamp).encode("ascii")
    # Compare every candidate (no early exit), in constant time; a non-ASCII candidate cannot
    # equal a hex digest, and "replace" keeps odd characters from raising.
    matches = [hmac.compare_digest(expected, c.encode("ascii", "replace")) for c in candidates]
    if not any(matches):
        raise WebhookSignatureError("no signature matches (wrong secret or modified body)")
    age = (time.time() if now is None else now) - timestamp
    if abs(age) > tolerance:
        when = f"{age:.0f} s ago" if age > 0 else f"{-age:.0f} s in the future"
        raise WebhookSignatureError(
            f"timestamp outside the tolerance of {tolerance} s (signed {when})"
        )


def _digest(body: bytes, secret: str, timestamp: int) -> str:
    message = f"{timestamp}.".encode("ascii") + body
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def _parse(header: str) -> tuple[int, list[str]]:
    """The timestamp and the ``v1`` signatures of a header value."""
    malformed = f"malformed {SIGNATURE_HEADER} header"
    timestamp: int | None = None
    signatures: list[str] = []
    for item in header.split(","):
        if not item.strip():
            continue  # tolerate ",," and a trailing comma
        key, sep, value = (part.strip() for part in item.partition("="))
        if not sep or not key:
            raise WebhookSignatureError(f"{malformed}: expected key=value pairs")
        if key == "t":
            if timestamp is not None:
                raise WebhookSignatureError(f"{malformed}: more than one t=")
            if not _TIMESTAMP.fullmatch(value):
                raise WebhookSignatureError(f"{malformed}: t= is not a Unix timestamp")
            timestamp = int(value)
        elif key == "v1":
            signatures.append(value)
    if timestamp is None:
        raise WebhookSignatureError(f"{malformed}: no timestamp (t=)")
    if not signatures:
        raise WebhookSignatureError(f"no v1 signature in the {SIGNATURE_HEADER} header")
    return timestamp, signatures
