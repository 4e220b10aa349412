"""Who is signed in to the console, kept in the host app's (signed) Flask session.

The library does not use Flask-Login: a host app may have its own login manager for its own
users, and Flask allows one per app. The session holds the distributor's id and a fingerprint
of their password hash, so changing the password signs out every other session.
"""

from __future__ import annotations

import hashlib

from flask import session

#: Session key of the signed-in distributor.
SESSION_KEY = "sf_distributor"


def _fingerprint(password_hash: str) -> str:
    return hashlib.sha256(password_hash.encode()).hexdigest()[:16]


def sign_in(distributor_id: int, password_hash: str) -> None:
    """Starts a console session. The form token is renewed; the host app's own session keys
    and the visitor's carts are kept (the signed cookie cannot be fixed by someone else)."""
    session.pop("csrf_token", None)
    session.permanent = True
    session[SESSION_KEY] = {"id": distributor_id, "fp": _fingerprint(password_hash)}


def sign_out() -> None:
    session.pop(SESSION_KEY, None)


def claimed_distributor_id() -> int | None:
    """The distributor id the session claims, unchecked against the database (cheap: for
    telling a distributor's own visits apart). Use :func:`check` before acting as them."""
    value = session.get(SESSION_KEY)
    if isinstance(value, dict) and isinstance(value.get("id"), int):
        return int(value["id"])
    return None


def check(password_hash: str) -> bool:
    """Whether the session's fingerprint still matches the distributor's password hash."""
    value = session.get(SESSION_KEY)
    return isinstance(value, dict) and value.get("fp") == _fingerprint(password_hash)


#: Session key of the signed-in platform admin (``/admin/``), apart from the console's.
ADMIN_SESSION_KEY = "sf_admin"


def sign_in_admin(admin_id: int, password_hash: str) -> None:
    """Starts an admin session (the form token is renewed)."""
    session.pop("csrf_token", None)
    session.permanent = True
    session[ADMIN_SESSION_KEY] = {"id": admin_id, "fp": _fingerprint(password_hash)}


def sign_out_admin() -> None:
    session.pop(ADMIN_SESSION_KEY, None)


def claimed_admin_id() -> int | None:
    """The admin id the session claims (check it with :func:`check_admin`)."""
    value = session.get(ADMIN_SESSION_KEY)
    if isinstance(value, dict) and isinstance(value.get("id"), int):
        return int(value["id"])
    return None


def check_admin(password_hash: str) -> bool:
    """Whether the admin session's fingerprint still matches the admin's password hash."""
    value = session.get(ADMIN_SESSION_KEY)
    return isinstance(value, dict) and value.get("fp") == _fingerprint(password_hash)
