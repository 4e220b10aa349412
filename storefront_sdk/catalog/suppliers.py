"""Suppliers and their API keys.

A key looks like ``sfk_<prefix>_<secret>``. Only the prefix (to find the row and to show in
lists) and a SHA-256 digest of the whole key are stored: keys are 256-bit random values, so
a fast digest is as safe as a slow KDF and keeps authentication off the request's hot path.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from datetime import datetime

from sqlalchemy.orm import Session
from sqlmodel import col, select

from ..errors import NotFound, ValidationError
from ..money import currency_exponent
from ..outbound import TransportPolicy, check_url
from .models import ApiKey, Supplier

#: Every API key starts with this marker (helps secret scanners find leaked keys).
KEY_MARKER = "sfk_"
#: Length of the visible, stored part of a key: the marker and 12 hex digits.
PREFIX_LENGTH = len(KEY_MARKER) + 12
_PREFIX_SHAPE = re.compile(r"sfk_[0-9a-f]{12}")
_KEY_SHAPE = re.compile(r"sfk_[0-9a-f]{12}_[A-Za-z0-9_-]{43}\Z")


def create_supplier(
    session: Session,
    name: str,
    currency: str,
    *,
    webhook_url: str | None = None,
    policy: TransportPolicy | None = None,
) -> Supplier:
    """A new supplier whose catalogue is priced in ``currency`` (ISO 4217)."""
    name = name.strip()
    if not 1 <= len(name) <= 200:
        raise ValidationError("name must be 1 to 200 characters")
    if len(currency) != 3 or not currency.isupper():
        raise ValidationError(f"currency must be an upper-case ISO 4217 code, got {currency!r}")
    try:
        currency_exponent(currency)
    except ValueError as exc:
        raise ValidationError(f"unknown currency {currency!r}") from exc
    supplier = Supplier(name=name, currency=currency)
    session.add(supplier)
    if webhook_url is not None:
        set_webhook(session, supplier, webhook_url, policy or TransportPolicy())
    session.flush()
    return supplier


def set_webhook(session: Session, supplier: Supplier, url: str, policy: TransportPolicy) -> str:
    """Point the supplier's order events at ``url`` (checked against ``policy``: https, no
    private address...) with a new signing secret, returned once (``whsec_...``)."""
    try:
        check_url(url, policy)
    except ValidationError as exc:
        raise ValidationError(
            f"webhook URL refused: {exc.message}", errors={"url": [exc.message]}
        ) from None
    supplier.webhook_url = url
    supplier.webhook_secret = "whsec_" + secrets.token_urlsafe(32)
    session.add(supplier)
    return supplier.webhook_secret


def remove_webhook(session: Session, supplier: Supplier) -> None:
    """Stop webhook deliveries to the supplier (pull still works)."""
    supplier.webhook_url = None
    supplier.webhook_secret = None
    session.add(supplier)


def set_shipping(
    session: Session, supplier: Supplier, fee_minor: int, free_over_minor: int | None
) -> None:
    """What consumers pay for shipping this supplier's part of an order: ``fee_minor``,
    or nothing from ``free_over_minor`` upwards (``None``: never free)."""
    supplier.shipping_fee_minor = fee_minor
    supplier.free_shipping_over_minor = free_over_minor
    session.add(supplier)


def create_api_key(session: Session, supplier_id: int) -> tuple[ApiKey, str]:
    """A new key for the supplier: the row and the full key, which is never stored."""
    if session.get(Supplier, supplier_id) is None:
        raise NotFound(f"no supplier with id {supplier_id}")
    prefix = KEY_MARKER + secrets.token_hex(6)
    raw = f"{prefix}_{secrets.token_urlsafe(32)}"
    api_key = ApiKey(supplier_id=supplier_id, prefix=prefix, secret_hash=_digest(raw))
    session.add(api_key)
    session.flush()
    return api_key, raw


def revoke_api_key(session: Session, supplier_id: int, key_id: int, now: datetime) -> None:
    """Revoke one of the supplier's keys; requests with it get ``401`` from now on."""
    api_key = session.get(ApiKey, key_id)
    if api_key is None or api_key.supplier_id != supplier_id:
        raise NotFound(f"no API key with id {key_id}")
    _revoke(session, api_key, now)


def revoke_api_key_by_prefix(
    session: Session, supplier_id: int, prefix: str, now: datetime
) -> None:
    """Revoke the supplier's key whose visible prefix (``sfk_`` + 12 hex) is ``prefix``;
    the full key works too."""
    if not _PREFIX_SHAPE.match(prefix):
        raise NotFound(f"{prefix[:PREFIX_LENGTH]!r} is not an API key prefix (sfk_ + 12 hex)")
    api_key = session.scalars(
        select(ApiKey).where(
            col(ApiKey.supplier_id) == supplier_id, col(ApiKey.prefix) == prefix[:PREFIX_LENGTH]
        )
    ).one_or_none()
    if api_key is None:
        raise NotFound(f"supplier {supplier_id} has no API key {prefix[:PREFIX_LENGTH]!r}")
    _revoke(session, api_key, now)


def _revoke(session: Session, api_key: ApiKey, now: datetime) -> None:
    if api_key.revoked_at is None:
        api_key.revoked_at = now
        session.flush()


def authenticate(session: Session, raw: str) -> tuple[ApiKey, Supplier] | None:
    """The live key and its supplier for a presented key, or ``None``."""
    if not _KEY_SHAPE.match(raw):
        return None
    prefix = raw[:PREFIX_LENGTH]
    row = session.execute(
        select(ApiKey, Supplier)
        .join(Supplier, col(Supplier.id) == ApiKey.supplier_id)
        .where(col(ApiKey.prefix) == prefix, col(ApiKey.revoked_at).is_(None))
    ).one_or_none()
    if row is None or not hmac.compare_digest(row[0].secret_hash, _digest(raw)):
        return None
    return row[0], row[1]


def _digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()
