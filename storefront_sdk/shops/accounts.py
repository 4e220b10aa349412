"""Distributor accounts: sign-up (directly or through a recruiter's code), sign-in, and
passwords (changed, reset: each ends every session of the account)."""

from __future__ import annotations

import re
import secrets
import unicodedata
from dataclasses import dataclass
from functools import cache
from typing import Protocol

from sqlalchemy.orm import Session
from sqlmodel import col, select
from werkzeug.security import check_password_hash, generate_password_hash

from ..errors import Conflict, NotFound, ValidationError
from .models import Distributor, Shop

#: Characters of referral codes: no 0/O or 1/I/L to misread on a poster.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 8
MIN_PASSWORD_LENGTH = 8
#: What the library takes for an email address (sign-up, checkout contact).
EMAIL = re.compile(r"[^@\s]{1,64}@[^@\s.]+(\.[^@\s.]+)+")
_SLUG_CHARS = re.compile(r"[^a-z0-9]+")


@dataclass(frozen=True, slots=True)
class SignUp:
    """A new distributor and the shop created with them."""

    distributor: Distributor
    shop: Shop


def create_distributor(
    session: Session,
    email: str,
    password: str,
    *,
    name: str = "",
    shop_name: str | None = None,
    parent_code: str | None = None,
    pending: bool = False,
) -> SignUp:
    """A distributor with a new shop that follows the whole active catalogue at retail.

    ``parent_code`` is the referral code of the recruiting distributor, if any; a
    ``pending`` distributor's shop sells nothing until the platform approves them.
    """
    email = _normalise_email(email)
    _check_password(password)
    name = name.strip()
    shop_name = (shop_name or name or email.split("@")[0]).strip()
    if len(name) > 100 or not 1 <= len(shop_name) <= 100:
        raise ValidationError("name and shop name must be at most 100 characters")
    if session.scalars(select(Distributor.id).where(col(Distributor.email) == email)).first():
        raise Conflict(f"a distributor with email {email!r} already exists")
    parent = find_by_code(session, parent_code) if parent_code else None
    distributor = Distributor(
        email=email,
        password_hash=generate_password_hash(password),
        name=name,
        referral_code=_new_code(session),
        parent_id=parent.id if parent else None,
        status="pending" if pending else "active",
    )
    session.add(distributor)
    session.flush()
    shop = Shop(
        distributor_id=distributor.id or 0, slug=_new_slug(session, shop_name), name=shop_name
    )
    session.add(shop)
    session.flush()
    return SignUp(distributor, shop)


def authenticate_distributor(session: Session, email: str, password: str) -> Distributor | None:
    """The distributor with these credentials, or ``None`` (same answer, in the same time,
    for both mistakes: an unknown email is checked against a dummy hash)."""
    found = find_by_email(session, email)
    if not password_matches(found.password_hash if found else None, password):
        return None
    return found


def find_by_email(session: Session, email: str) -> Distributor | None:
    """The distributor signed up with ``email`` (any case), if any."""
    return session.scalars(
        select(Distributor).where(col(Distributor.email) == email.strip().lower())
    ).first()


@cache
def dummy_password_hash() -> str:
    """A hash of a random password, made like every account's: checked when an email is
    unknown, so that costs the same time as a wrong password."""
    return generate_password_hash(secrets.token_urlsafe(16))


def password_matches(password_hash: str | None, password: str) -> bool:
    """Whether ``password`` matches ``password_hash``; with no hash (an unknown account),
    ``False`` after checking it against :func:`dummy_password_hash` all the same."""
    matches = check_password_hash(password_hash or dummy_password_hash(), password)
    return matches and password_hash is not None


class HasPassword(Protocol):
    """A distributor or a platform admin, as far as passwords are concerned."""

    password_hash: str
    session_generation: int


def set_password(account: HasPassword, password: str) -> None:
    """Gives ``account`` a new password and ends all its sessions (and reset links)."""
    _check_password(password)
    account.password_hash = generate_password_hash(password)
    end_sessions(account)


def change_password(account: HasPassword, current: str, new: str) -> None:
    """:func:`set_password` if ``current`` is the account's password, else
    :class:`ValidationError`."""
    if not check_password_hash(account.password_hash, current):
        raise ValidationError("the current password is wrong")
    set_password(account, new)


def end_sessions(account: HasPassword) -> None:
    """Ends every session of ``account`` (each browser signs in again)."""
    account.session_generation = (account.session_generation or 0) + 1


def find_by_code(session: Session, code: str) -> Distributor:
    """The distributor whose referral code is ``code`` (case-insensitive)."""
    code = code.strip().upper()
    if not (len(code) == CODE_LENGTH and all(c in CODE_ALPHABET for c in code)):
        raise NotFound(f"no distributor with referral code {code!r}")
    found = session.scalars(
        select(Distributor).where(col(Distributor.referral_code) == code)
    ).first()
    if found is None:
        raise NotFound(f"no distributor with referral code {code!r}")
    return found


def normalise_email(email: str) -> str:
    """``email`` trimmed and lower-cased; :class:`ValidationError` if it is not one."""
    return _normalise_email(email)


def check_password(password: str) -> None:
    """:class:`ValidationError` unless ``password`` has an acceptable length."""
    _check_password(password)


def _normalise_email(email: str) -> str:
    email = email.strip().lower()
    if len(email) > 254 or not EMAIL.fullmatch(email):
        raise ValidationError(f"not an email address: {email!r}")
    return email


def _check_password(password: str) -> None:
    if not MIN_PASSWORD_LENGTH <= len(password) <= 1024:
        raise ValidationError(f"password must be {MIN_PASSWORD_LENGTH} to 1024 characters")


def _new_code(session: Session) -> str:
    while True:
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
        taken = select(Distributor.id).where(col(Distributor.referral_code) == code)
        if session.scalars(taken).first() is None:
            return code


def _new_slug(session: Session, shop_name: str) -> str:
    ascii_name = unicodedata.normalize("NFKD", shop_name).encode("ascii", "ignore").decode()
    base = _SLUG_CHARS.sub("-", ascii_name.lower()).strip("-")[:40]
    if len(base) < 3:  # e.g. a name in Chinese: no usable ASCII
        base = "shop"
    slug = base
    while session.scalars(select(Shop.id).where(col(Shop.slug) == slug)).first() is not None:
        slug = f"{base}-{secrets.token_hex(2)}"
    return slug
