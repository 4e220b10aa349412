"""Who is signed in to the console or the admin, kept in the host app's (signed) Flask
session; how many attempts at signing in, signing up and resetting a password were made;
and the signed links of password resets.

The library does not use Flask-Login: a host app may have its own login manager for its own
users, and Flask allows one per app.

**Sessions can be revoked.** The session holds the account's id, its *session generation*
(a counter stored with the account), a fingerprint of its password hash and when it was last
used. It stops working, even as a copied cookie, when the generation moves on (signing out,
changing or resetting the password bump it: every session of the account ends), when the
password hash changes, and after ``STOREFRONT_SESSION_IDLE_MINUTES`` (the console) or
``STOREFRONT_ADMIN_SESSION_IDLE_MINUTES`` (the admin) without a request.

**Attempts are counted before they are checked**, in the database
(:func:`storefront_sdk.ratelimit.count_attempt`), per account and per client address, each
door in its own namespace: parallel requests never get more than the limit checked.
"""

from __future__ import annotations

import hashlib
import logging
import time
from typing import Any, Protocol

from flask import current_app, request, session
from itsdangerous import BadSignature, URLSafeTimedSerializer

from .. import i18n
from ..db import session_scope, utcnow
from ..messages import Message
from ..ratelimit import Limit, count_attempt, forgive, give_back

log = logging.getLogger(__name__)

#: Session key of the signed-in distributor.
SESSION_KEY = "sf_distributor"
#: Session key of the signed-in platform admin (``/admin/``), apart from the console's.
ADMIN_SESSION_KEY = "sf_admin"
#: How long a password-reset link works.
RESET_LINK_SECONDS = 60 * 60
#: A session's last use is written back at most this often (seconds).
_TOUCH_EVERY = 60


class Account(Protocol):
    """A distributor or a platform admin, as far as sessions are concerned."""

    id: int | None
    password_hash: str
    session_generation: int


def _fingerprint(password_hash: str) -> str:
    return hashlib.sha256(password_hash.encode()).hexdigest()[:16]


def _start(key: str, account: Account) -> None:
    session.pop("csrf_token", None)
    session.permanent = True
    session[key] = {
        "id": account.id,
        "fp": _fingerprint(account.password_hash),
        "gen": account.session_generation,
        "seen": int(time.time()),
    }


def _claimed(key: str) -> int | None:
    value = session.get(key)
    if isinstance(value, dict) and isinstance(value.get("id"), int):
        return int(value["id"])
    return None


def _still_valid(key: str, account: Account, idle_minutes: int) -> bool:
    """Whether the session of ``key`` is ``account``'s current one and not idle too long
    (its last use is renewed)."""
    value = session.get(key)
    if not isinstance(value, dict):
        return False
    seen, now = value.get("seen"), int(time.time())
    valid = (
        value.get("fp") == _fingerprint(account.password_hash)
        and value.get("gen") == account.session_generation
        and isinstance(seen, int)
        and now - seen <= idle_minutes * 60
    )
    if valid and now - int(seen or 0) >= _TOUCH_EVERY:
        session[key] = {**value, "seen": now}
    return valid


def sign_in(distributor: Account) -> None:
    """Starts a console session. The form token is renewed; the host app's own session keys
    and the visitor's carts are kept (the signed cookie cannot be fixed by someone else)."""
    _start(SESSION_KEY, distributor)


def sign_out() -> None:
    """Ends this browser's console session (bump the generation to end the others)."""
    session.pop(SESSION_KEY, None)


def claimed_distributor_id() -> int | None:
    """The distributor id the session claims, unchecked against the database (cheap: for
    telling a distributor's own visits apart). Use :func:`check` before acting as them."""
    return _claimed(SESSION_KEY)


def check(distributor: Account) -> bool:
    """Whether the console session is still ``distributor``'s (see the module's docstring)."""
    return _still_valid(SESSION_KEY, distributor, _config("STOREFRONT_SESSION_IDLE_MINUTES"))


def sign_in_admin(admin: Account) -> None:
    """Starts an admin session (the form token is renewed)."""
    _start(ADMIN_SESSION_KEY, admin)


def sign_out_admin() -> None:
    """Ends this browser's admin session."""
    session.pop(ADMIN_SESSION_KEY, None)


def claimed_admin_id() -> int | None:
    """The admin id the session claims (check it with :func:`check_admin`)."""
    return _claimed(ADMIN_SESSION_KEY)


def check_admin(admin: Account) -> bool:
    """Whether the admin session is still ``admin``'s (see the module's docstring)."""
    return _still_valid(ADMIN_SESSION_KEY, admin, _config("STOREFRONT_ADMIN_SESSION_IDLE_MINUTES"))


def _config(name: str) -> Any:
    return current_app.config[name]


def _account_key(email: str) -> str:
    return "account:" + hashlib.sha256(email.encode()).hexdigest()[:32]  # no addresses stored


def _client_key() -> str:
    return f"client:{(request.remote_addr or 'unknown')[:64]}"


def _count(door: str, counts: list[tuple[str, Limit | None]]) -> int | None:
    """Counts one attempt of each key at ``door`` and commits at once (before the attempt is
    checked); the longest wait if any key is past its limit, else ``None``."""
    waits = []
    now = utcnow()
    with session_scope(current_app._get_current_object()) as counting:  # type: ignore[attr-defined]
        for key, limit in counts:
            if limit is not None:
                waits.append(count_attempt(counting, door, key, limit, now))
    found = [wait for wait in waits if wait is not None]
    return max(found) if found else None


def sign_in_wait(email: str, door: str) -> int | None:
    """Counts a sign-in attempt of ``email`` from this client at ``door`` (the console's or
    the admin's) before its password is checked: the seconds to wait if the account
    (``STOREFRONT_LOGIN_RATE_LIMIT``) or the client (``STOREFRONT_LOGIN_CLIENT_RATE_LIMIT``)
    made too many, else ``None``."""
    return _count(
        door,
        [
            (_account_key(email), Limit.parse(_config("STOREFRONT_LOGIN_RATE_LIMIT"))),
            (_client_key(), Limit.parse(_config("STOREFRONT_LOGIN_CLIENT_RATE_LIMIT"))),
        ],
    )


def signed_in_as(email: str, door: str) -> None:
    """The attempt of ``email`` succeeded: the account's count is cleared and the client's
    attempt given back."""
    with session_scope(current_app._get_current_object()) as counting:  # type: ignore[attr-defined]
        forgive(counting, door, _account_key(email))
        give_back(counting, door, _client_key())


def sign_up_wait(door: str) -> int | None:
    """Counts a sign-up from this client (``STOREFRONT_JOIN_RATE_LIMIT``): the seconds to
    wait past the limit, else ``None``."""
    return _count(door, [(_client_key(), Limit.parse(_config("STOREFRONT_JOIN_RATE_LIMIT")))])


def reset_request_wait(email: str, door: str) -> int | None:
    """Counts a request for a password-reset link for ``email`` from this client
    (``STOREFRONT_PASSWORD_RESET_RATE_LIMIT``, per email and per client)."""
    limit = Limit.parse(_config("STOREFRONT_PASSWORD_RESET_RATE_LIMIT"))
    return _count(door, [(_account_key(email), limit), (_client_key(), limit)])


def _serializer(door: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key or "", salt=f"{door}-password-reset")


def reset_token(door: str, account: Account) -> str:
    """The signed token of a password-reset link for ``account``: it dies after
    :data:`RESET_LINK_SECONDS`, and once used (the reset bumps the session generation and
    changes the password hash, both in the token)."""
    return _serializer(door).dumps(reset_token_payload(account))


def reset_token_account_id(door: str, token: str) -> int | None:
    """The account id of a well-signed, recent ``token`` (check it with
    :func:`reset_token_fits`), else ``None``."""
    try:
        payload = _serializer(door).loads(token, max_age=RESET_LINK_SECONDS)
    except BadSignature:
        return None
    if isinstance(payload, list) and len(payload) == 3 and isinstance(payload[0], int):
        return int(payload[0])
    return None


def reset_token_fits(door: str, token: str, account: Account) -> bool:
    """Whether ``token`` is a live reset link of ``account`` (unused, unexpired)."""
    try:
        payload = _serializer(door).loads(token, max_age=RESET_LINK_SECONDS)
    except BadSignature:
        return False
    return bool(payload == reset_token_payload(account))


def reset_token_payload(account: Account) -> list[Any]:
    """What a reset token of ``account`` carries today."""
    return [account.id, account.session_generation, _fingerprint(account.password_hash)]


def public_url(path: str) -> str:
    """``path`` (from ``url_for``) as a full link for a message: under
    ``STOREFRONT_PUBLIC_URL`` if set, else under the address the request came to."""
    base = _config("STOREFRONT_PUBLIC_URL") or request.host_url
    return str(base).rstrip("/") + path


def mail_reset_link(to: str, link: str, locale: str) -> None:
    """Sends ``to`` the password-reset ``link`` through the app's message sender, in
    ``locale`` (the page's language)."""
    with i18n.locale_of_page(locale):
        subject = str(i18n.gettext("Reset your password"))
        text = str(
            i18n.gettext(
                "Someone asked to reset the password of this account. To choose a new "
                "password, open this link within an hour:\n\n%(link)s\n\nIf it was not "
                "you, ignore this message: your password stays as it is.",
                link=link,
            )
        )
    try:
        current_app.extensions["storefront"].messages.send(Message(to, subject, text))
    except Exception:  # the page answers as always: it must not tell who has an account
        log.exception("the password-reset link for an account could not be sent")
