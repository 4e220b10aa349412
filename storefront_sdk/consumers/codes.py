"""Sign-in by one-time code: a consumer gives an email address or a phone number, the shop
sends a code to it, and the code signs them in (creating the consumer the first time).

- A code is :data:`CODE_DIGITS` digits drawn with :mod:`secrets`; the table keeps only an
  HMAC of it (and an HMAC of the contact), keyed with the app's secret key, so neither can
  be read back nor found by trying them all without that key.
- It works until it expires (``STOREFRONT_SIGN_IN_CODE_MINUTES``), once, and for at most
  :data:`MAX_TRIES` tries; a newer code for the same contact voids it.
- Tries are counted *before* the code is checked (:func:`count_try`, committed apart), so
  parallel guesses never get more than :data:`MAX_TRIES` checked; requests for codes are
  counted per contact and per client address the same way (:func:`count_request`).
- Whether a contact already has an account is never told: every contact gets the same
  answer and the consumer is created only when its code is verified.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..errors import ValidationError
from ..ratelimit import Limit, count_attempt
from ..shops.accounts import EMAIL
from ..sql import insert_row, table_of
from .identity import normalise_email, normalise_phone
from .models import Consumer, SignInCode

#: Digits of a sign-in code.
CODE_DIGITS = 6
#: Tries a code allows (wrong ones included); then it is void.
MAX_TRIES = 5
#: The attempt counters' door of code requests (``sf_attempt_counter.door``).
DOOR = "consumer_code"
#: What is taken for a phone number: an optional ``+``, then 5 to 15 digits, with spaces,
#: dashes or brackets between them.
PHONE = re.compile(r"\+?[0-9][0-9 ()\-]{3,24}")
_code = table_of(SignInCode).c
_consumer = table_of(Consumer).c


@dataclass(frozen=True, slots=True)
class SignInContact:
    """Where a code goes: ``kind`` ``"email"`` or ``"phone"`` and the normalised value."""

    kind: str
    value: str

    @property
    def email(self) -> str | None:
        """The email address, if it is one."""
        return self.value if self.kind == "email" else None

    @property
    def phone(self) -> str | None:
        """The phone number, if it is one."""
        return self.value if self.kind == "phone" else None

    def key(self, secret: str | bytes) -> str:
        """The contact's keyed hash, as the tables keep it."""
        return _hmac(secret, f"{self.kind}:{self.value}")


class CodeRefused(ValidationError):
    """A sign-in code that does not sign in: ``reason`` ``"wrong"`` (try again) or
    ``"expired"`` (expired, used, void after too many tries, or never sent: ask for a new
    one)."""

    code = "sign_in_code_refused"

    def __init__(self, reason: str) -> None:
        super().__init__(f"the sign-in code is {reason}")
        self.reason = reason


def contact_of(text: str) -> SignInContact | None:
    """The contact ``text`` names, normalised: an email address (if it has an ``@``) or a
    phone number; ``None`` if it is neither."""
    text = text.strip()
    if len(text) > 254:
        return None
    if "@" in text:
        return SignInContact("email", normalise_email(text)) if EMAIL.fullmatch(text) else None
    if not PHONE.fullmatch(text):
        return None
    phone = normalise_phone(text)
    digits = len(phone.lstrip("+"))
    return SignInContact("phone", phone) if 5 <= digits <= 15 else None


def count_request(
    session: Session,
    contact: SignInContact,
    client: str,
    limits: tuple[Limit | None, Limit | None],
    secret: str | bytes,
    now: datetime,
) -> int | None:
    """Counts one request for a code to ``contact`` from the client address ``client``
    under ``limits`` (per contact, per client): the seconds to wait if either is past its
    limit, else ``None``. Commit it apart from the request, before a code is sent."""
    per_contact, per_client = limits
    keys = [
        (f"contact:{contact.key(secret)}", per_contact),
        (f"client:{client[:64] or 'unknown'}", per_client),
    ]
    waits = [count_attempt(session, DOOR, key, limit, now) for key, limit in keys if limit]
    found = [wait for wait in waits if wait is not None]
    return max(found) if found else None


def issue_code(
    session: Session, contact: SignInContact, secret: str | bytes, now: datetime, lasts: timedelta
) -> str:
    """A new code for ``contact``, working until ``now + lasts`` (the caller sends it after
    the commit); the contact's earlier codes are void."""
    key = contact.key(secret)
    session.execute(
        sa.update(table_of(SignInCode))
        .where(_code.contact_key == key, _code.used_at.is_(None), _code.tries < MAX_TRIES)
        .values(tries=MAX_TRIES)
    )
    code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
    insert_row(
        session,
        SignInCode(
            contact_key=key,
            code_hash=_code_hash(secret, key, code),
            created_at=now,
            expires_at=now + lasts,
        ),
    )
    return code


def count_try(
    session: Session, contact: SignInContact, secret: str | bytes, now: datetime
) -> int | None:
    """Counts one try of ``contact``'s live code (the newest, unexpired, unused one with
    tries left), before it is checked: its id, or ``None`` if there is none (commit it
    apart, so a wrong try stays counted)."""
    key = contact.key(secret)
    live = (
        sa.select(_code.id)
        .where(_code.contact_key == key)
        .order_by(_code.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    counted = session.execute(
        sa.update(table_of(SignInCode))
        .where(
            _code.id == live,
            _code.used_at.is_(None),
            _code.tries < MAX_TRIES,
            _code.expires_at > now,
        )
        .values(tries=_code.tries + 1)
        .returning(_code.id)
    ).scalar()
    return int(counted) if counted is not None else None


def sign_in_with_code(
    session: Session,
    code_id: int | None,
    contact: SignInContact,
    code: str,
    secret: str | bytes,
    now: datetime,
) -> int:
    """The consumer ``code`` signs in (created the first time ``contact`` is verified, its
    ``last_seen_at`` set), the code used up. ``code_id`` is what :func:`count_try` counted.
    Raises :class:`CodeRefused`."""
    if code_id is None:
        raise CodeRefused("expired")
    key = contact.key(secret)
    used = (
        session.connection()
        .execute(
            sa.update(table_of(SignInCode))
            .where(
                _code.id == code_id,
                _code.contact_key == key,
                _code.code_hash == _code_hash(secret, key, code),
                _code.used_at.is_(None),
                _code.expires_at > now,
            )
            .values(used_at=now)
        )
        .rowcount
    )
    if used != 1:
        used_up = session.execute(sa.select(_code.used_at).where(_code.id == code_id)).scalar()
        raise CodeRefused("expired" if used_up is not None else "wrong")
    return verified_consumer(session, contact, now)


def verified_consumer(session: Session, contact: SignInContact, now: datetime) -> int:
    """The consumer of ``contact`` (created if new), seen ``now``."""
    column = _consumer.email if contact.kind == "email" else _consumer.phone
    found = session.execute(sa.select(_consumer.id).where(column == contact.value)).scalar()
    if found is None:
        row = insert_row(
            session,
            Consumer(email=contact.email, phone=contact.phone, created_at=now),
            skip_duplicate=True,  # a twin sign-in created it meanwhile: theirs is the one
        )
        found = row.id if row is not None else None
        if found is None:
            found = session.execute(sa.select(_consumer.id).where(column == contact.value)).scalar()
    session.execute(
        sa.update(table_of(Consumer)).where(_consumer.id == found).values(last_seen_at=now)
    )
    assert found is not None  # inserted, or found after a twin's insert
    return int(found)


def _hmac(secret: str | bytes, text: str) -> str:
    key = secret.encode() if isinstance(secret, str) else secret
    return hmac.new(key, text.encode(), hashlib.sha256).hexdigest()


def _code_hash(secret: str | bytes, contact_key: str, code: str) -> str:
    return _hmac(secret, f"sign-in-code:{contact_key}:{code}")
