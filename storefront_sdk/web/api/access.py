"""The supplier API's plumbing: the size limit, key authentication and rate limit of every
request (:func:`guard_request`), the supplier it acts for, the shared reading of bodies and
cursors, and the OpenAPI documentation every operation shares (:func:`documented`)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import marshmallow as ma
from flask import current_app, g, request
from flask.views import MethodView

from ...catalog import queries
from ...catalog.models import Supplier
from ...catalog.suppliers import authenticate
from ...db import begin_read
from ..errors import ErrorSchema, fail
from ..sessions import get_session
from ..transactions import SAFE_METHODS, unit_of_work
from .openapi import operation

_RETRY_AFTER = {"Retry-After": {"description": "Seconds to wait", "schema": {"type": "integer"}}}


def body_ref(component: str) -> dict[str, Any]:
    """The OpenAPI request body of a write: the schema ``component``, required."""
    schema = {"$ref": f"#/components/schemas/{component}"}
    return {"required": True, "content": {"application/json": {"schema": schema}}}


def documented(*errors: int, writes: bool = False) -> Callable[[Any], Any]:
    """OpenAPI documentation shared by the supplier operations: bearer auth, 401 and 429 on
    all, 400/409/413 on writes, plus the given error statuses. (The ``Idempotency-Key``
    header of writes is added by :class:`.openapi.IdempotencyKeyPlugin`.)"""
    statuses = {401, 429, *errors} | ({400, 409, 413} if writes else set())
    doc: dict[str, Any] = {"security": [{"supplierKey": []}]}

    def decorate(view: Any) -> Any:
        for status in sorted(statuses, reverse=True):
            headers = _RETRY_AFTER if status == 429 else None
            view = operation.alt_response(status, schema=ErrorSchema, headers=headers)(view)
        return operation.doc(**doc)(view)

    return decorate


def current_supplier() -> Supplier:
    """The supplier whose key authenticated this request."""
    supplier: Supplier = g.storefront_supplier
    return supplier


def current_supplier_id() -> int:
    """The id of :func:`current_supplier` (always set: it was loaded from the database)."""
    supplier_id = current_supplier().id
    assert supplier_id is not None
    return supplier_id


def supplier_scope() -> str:
    """The scope of an ``Idempotency-Key``: the supplier's."""
    return f"supplier:{current_supplier_id()}"


def guard_request() -> None:
    """Size limit, bearer-key authentication and the per-key rate limit, in that order.

    The whole body is received before the database is touched, so a slow upload holds no
    connection, transaction or SQLite lock.
    """
    limit = current_app.config["STOREFRONT_MAX_REQUEST_BYTES"]
    # One byte over the limit is read so that a chunked body (no Content-Length), which
    # werkzeug cuts off silently at the limit, is still recognised as too large.
    request.max_content_length = limit + 1
    if request.content_length is not None and request.content_length > limit:
        fail(413)
    if len(request.get_data(cache=True)) > limit:
        fail(413)
    session = get_session()
    if request.method in SAFE_METHODS:
        begin_read(session)
    scheme, _, raw_key = request.headers.get("Authorization", "").partition(" ")
    found = authenticate(session, raw_key.strip()) if scheme.lower() == "bearer" else None
    if found is None:
        fail(
            401,
            message="Missing, invalid or revoked API key (Authorization: Bearer <key>).",
            headers={"WWW-Authenticate": 'Bearer realm="storefront"'},
        )
    api_key, g.storefront_supplier = found
    limiter = current_app.extensions["storefront"].rate_limiter
    retry_after = limiter.hit("supplier-key", str(api_key.id))
    if retry_after is not None:
        fail(
            429,
            message=f"Rate limit exceeded; retry in {retry_after} s.",
            headers={"Retry-After": str(retry_after)},
        )


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def read_json_body() -> Any:
    """The request body parsed as JSON; ``400`` when it is not JSON."""
    raw = request.get_data(cache=True)  # already received and size-checked by guard_request
    try:
        return json.loads(raw, parse_constant=_reject_constant)  # NaN, Infinity: not JSON
    except (ValueError, RecursionError):
        fail(400, message="The request body is not valid JSON.")


def envelope(body: Any, name: str, maximum: int) -> list[Any]:
    """The 1 to ``maximum`` items of a bulk body ``{name: [...]}``; 422 otherwise."""
    if not isinstance(body, dict):
        fail(422, errors={"json": {"_schema": ["Expected a JSON object."]}})
    unknown = sorted(k for k in body if k != name)
    items = body.get(name)
    errors: dict[str, Any] = {key: ["Unknown field."] for key in unknown}
    if not isinstance(items, list):
        errors[name] = ["Missing data for required field." if items is None else "Not a list."]
    elif not 1 <= len(items) <= maximum:
        errors[name] = [f"Must hold 1 to {maximum} items."]
    if errors or not isinstance(items, list):
        fail(422, errors={"json": errors})
    return items


def load_body(schema: ma.Schema) -> dict[str, Any]:
    """The JSON body loaded by ``schema``; ``422`` locating each problem under ``json``."""
    body = read_json_body()
    if not isinstance(body, dict):
        fail(422, errors={"json": {"_schema": ["Expected a JSON object."]}})
    try:
        loaded: dict[str, Any] = schema.load(body)
    except ma.ValidationError as exc:
        fail(422, errors={"json": exc.messages})
    return loaded


def cursor_of(raw: str | None) -> int | None:
    """The id an opaque ``cursor`` query argument stands for (``None``: the first page)."""
    return None if raw is None else queries.decode_cursor(raw)


def page_of(items: list[Any], next_cursor: int | None) -> dict[str, Any]:
    """A page of ``items`` with the opaque cursor of the next one."""
    cursor = None if next_cursor is None else queries.encode_cursor(next_cursor)
    return {"items": items, "next_cursor": cursor}


class SupplierResource(MethodView):
    """A resource of the supplier API: each request one unit of work (committed on
    success), replayed for a repeated ``Idempotency-Key`` within the supplier's scope."""

    decorators = [unit_of_work(supplier_scope)]
