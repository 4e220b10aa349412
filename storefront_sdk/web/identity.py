"""Who is signed in to the console or the admin, kept in the host app's (signed) Flask
session, and how often sign-in failed.

The library does not use Flask-Login: a host app may have its own login manager for its own
users, and Flask allows one per app. The session holds the distributor's (or admin's) id and
a fingerprint of their password hash, so changing the password signs out every other
session. Failed sign-ins are counted per email and per client in the app's login limiter
(``STOREFRONT_LOGIN_RATE_LIMIT``), each door in its own namespace.
"""

from __future__ import annotations

import hashlib
import math
import time

from flask import current_app, request, session

from ..ratelimit import RateLimiter

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


def _login_limiter() -> RateLimiter:
    limiter: RateLimiter = current_app.extensions["storefront"].login_limiter
    return limiter


def _login_keys(email: str) -> list[str]:
    digest = hashlib.sha256(email.encode()).hexdigest()[:32]  # no addresses in the store
    return [f"email:{digest}", f"ip:{request.remote_addr or 'unknown'}"]


def login_wait(email: str, namespace: str) -> int | None:
    """Seconds to wait if this email or this client failed to sign in too often (in
    ``namespace``: the console's, or the admin's), else ``None``."""
    limiter = _login_limiter()
    for item in limiter.items:
        for key in _login_keys(email):
            if not limiter.strategy.test(item, namespace, key):
                reset_at, _left = limiter.strategy.get_window_stats(item, namespace, key)
                return max(1, min(item.get_expiry(), math.ceil(reset_at - time.time())))
    return None


def login_failed(email: str, namespace: str) -> None:
    """Counts a failed sign-in of this email and this client in ``namespace``."""
    for key in _login_keys(email):
        _login_limiter().hit(namespace, key)
