"""The unit of work of a request: views only flush, and these decorators commit.

- :func:`unit_of_work` (JSON APIs): commits when the view succeeded and rolls back
  otherwise. With an ``Idempotency-Key`` header the first successful response is stored in
  the same transaction as its effect and replayed for repeats of the same request; the
  same key with a different request is refused with ``409``.
- :func:`committed` (HTML pages): commits when the view answered a success, rolls back
  when it answered an error, and turns a service's refusal (a :class:`StorefrontError`)
  into the page its door shows for it, with nothing changed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import timedelta
from functools import wraps
from typing import Any

from flask import Response, current_app, make_response, request
from flask.typing import ResponseReturnValue
from sqlalchemy.exc import IntegrityError

from ..db import utcnow
from ..errors import Conflict, StorefrontError
from ..i18n import lazy_gettext
from ..idempotency import IdempotencyRecord, find_record, remember
from .errors import json_error
from .sessions import get_session

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
#: How an HTML front door answers a refusal (its message page, or the form again).
Refuse = Callable[[StorefrontError], Response]
#: What a refusal says when the database refused a change another request made at the
#: same time (a unique key taken meanwhile); translated when it is shown.
CONCURRENT_CHANGE = lazy_gettext(
    "This was changed at the same moment elsewhere; nothing was changed here."
)
#: Response header marking a replayed response.
REPLAYED_HEADER = "Idempotent-Replayed"


def unit_of_work(scope: Callable[[], str]) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorate a view: commit on success; honour ``Idempotency-Key`` within ``scope()``."""

    def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> ResponseReturnValue:
            if request.method in SAFE_METHODS:
                return view(*args, **kwargs)  # type: ignore[no-any-return]
            key = request.headers.get("Idempotency-Key")
            if key is None:
                return _commit_if_ok(make_response(view(*args, **kwargs)))
            if not 1 <= len(key) <= 255 or not key.isprintable() or not key.isascii():
                return json_error(
                    400, "Idempotency-Key must be 1 to 255 printable ASCII characters."
                )
            return _idempotent(scope(), key, lambda: make_response(view(*args, **kwargs)))

        return wrapper

    return decorator


def _commit_if_ok(response: Response) -> Response:
    session = get_session()
    if response.status_code < 400:
        session.commit()
    else:
        session.rollback()
    return response


def _idempotent(scope: str, key: str, run: Callable[[], Response]) -> Response:
    session = get_session()
    now = utcnow()
    ttl = timedelta(hours=current_app.config["STOREFRONT_IDEMPOTENCY_TTL_HOURS"])
    fingerprint = _fingerprint()
    found = find_record(session, scope, key, now, ttl)
    if found is not None:
        return _replay(found, fingerprint)
    try:
        response = run()
    except StorefrontError:
        # e.g. a 409 because a concurrent twin of this request wrote the same rows first:
        # if that twin carried this key, its response is the answer.
        session.rollback()
        found = find_record(session, scope, key, utcnow(), ttl)
        if found is not None:
            return _replay(found, fingerprint)
        raise
    if response.status_code >= 400:
        session.rollback()  # failures are not remembered: the client may fix and retry
        return response
    record = IdempotencyRecord(
        scope=scope,
        key=key,
        fingerprint=fingerprint,
        status_code=response.status_code,
        content_type=response.content_type or "application/json",
        body=response.get_data(as_text=True),
        created_at=now,
    )
    try:
        remember(session, record, ttl)
        session.commit()
    except IntegrityError:
        # A concurrent request with the same key committed first; ours is undone.
        session.rollback()
        found = find_record(session, scope, key, utcnow(), ttl)
        if found is None:
            raise
        return _replay(found, fingerprint)
    return response


def _replay(record: IdempotencyRecord, fingerprint: str) -> Response:
    get_session().rollback()
    if record.fingerprint != fingerprint:
        return json_error(
            409,
            "This Idempotency-Key was already used with a different request.",
        )
    response = Response(record.body, status=record.status_code, content_type=record.content_type)
    response.headers[REPLAYED_HEADER] = "true"
    return response


def _fingerprint() -> str:
    digest = hashlib.sha256()
    for part in (request.method, request.path, request.query_string.decode("latin-1")):
        digest.update(part.encode())
        digest.update(b"\0")
    digest.update(request.get_data(cache=True))
    return digest.hexdigest()


def committed(refuse: Refuse) -> Callable[[Callable[..., Response]], Callable[..., Response]]:
    """Decorate an HTML view that changes something: see :func:`commit_or_refuse`."""

    def decorator(view: Callable[..., Response]) -> Callable[..., Response]:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Response:
            return commit_or_refuse(lambda: view(*args, **kwargs), refuse)

        return wrapper

    return decorator


def commit_or_refuse(work: Callable[[], Response], refuse: Refuse) -> Response:
    """Run ``work`` (a view, or the part of one that changes something) as one unit of
    work: committed if its response is a success, rolled back if it is an error; a
    :class:`StorefrontError` it raises, or a unique key another request took meanwhile
    (:class:`IntegrityError`, as a :class:`Conflict`), is rolled back and answered with
    ``refuse(error)``."""
    session = get_session()
    try:
        response = work()
        if response.status_code < 400:
            session.commit()
        else:
            session.rollback()
        return response
    except StorefrontError as error:
        session.rollback()
        return refuse(error)
    except IntegrityError:
        session.rollback()
        return refuse(Conflict(str(CONCURRENT_CHANGE)))
