"""Errors on the web: the one map from a service's refusal to its HTTP status
(:func:`status_of`), used by every front door, and the one JSON error shape of the APIs.

``{"status": 422, "error": "Unprocessable Entity", "message": "...", "errors": {...}}`` —
``status`` and ``message`` always, ``errors`` when the problem can be located.
"""

from __future__ import annotations

import logging
from typing import Any, NoReturn

import marshmallow as ma
from flask import Response, current_app, jsonify
from flask_smorest import abort as smorest_abort
from werkzeug.exceptions import HTTPException, MethodNotAllowed
from werkzeug.http import HTTP_STATUS_CODES

from ..errors import Conflict, NotFound, StorefrontError, ValidationError

log = logging.getLogger(__name__)


class ErrorSchema(ma.Schema):
    """The error body, as documented in the OpenAPI document."""

    status = ma.fields.Int(required=True, metadata={"description": "HTTP status code"})
    error = ma.fields.Str(metadata={"description": "HTTP reason phrase"})
    message = ma.fields.Str(required=True, metadata={"description": "What went wrong"})
    errors = ma.fields.Dict(
        metadata={"description": "Where: location, field and item index to messages"}
    )


#: HTTP status of each domain error class (most specific first).
STATUS_OF: tuple[tuple[type[StorefrontError], int], ...] = (
    (ValidationError, 422),
    (NotFound, 404),
    (Conflict, 409),
)


def status_of(error: StorefrontError) -> int | None:
    """The HTTP status of a service's refusal (:data:`STATUS_OF`); ``None`` for an error
    class it does not know (a page answers 400, the API logs it and answers 500)."""
    for cls, status in STATUS_OF:
        if isinstance(error, cls):
            return status
    return None


def json_error(
    status: int,
    message: str,
    errors: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    """The error response for ``status`` with a human ``message``."""
    payload: dict[str, Any] = {
        "status": status,
        "error": HTTP_STATUS_CODES.get(status, "Error"),
        "message": message,
    }
    if errors:
        payload["errors"] = errors
    response = jsonify(payload)
    response.status_code = status
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def fail(
    status: int,
    message: str | None = None,
    *,
    errors: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> NoReturn:
    """Abort the request with ``status``; the blueprint's handler renders the JSON error."""
    data: dict[str, Any] = {}
    if message:
        data["message"] = message
    if errors:
        data["errors"] = errors
    if headers:
        data["headers"] = headers
    smorest_abort(status, **data)
    raise AssertionError("abort() returned")  # pragma: no cover


def handle_http_exception(error: HTTPException) -> Response:
    """``abort()``, flask-smorest validation errors and werkzeug errors as JSON."""
    status = error.code or 500
    data = getattr(error, "data", None) or {}
    errors = data.get("errors") or data.get("messages")
    message = data.get("message") or _default_message(status, error, errors)
    headers = dict(data.get("headers") or {})
    if isinstance(error, MethodNotAllowed) and error.valid_methods:
        headers["Allow"] = ", ".join(sorted(error.valid_methods))
    return json_error(status, message, errors, headers)


def _default_message(status: int, error: HTTPException, errors: Any) -> str:
    if status == 422 and errors:
        return "The request is invalid; see errors."
    if status == 413:
        limit = current_app.config["STOREFRONT_MAX_REQUEST_BYTES"]
        return f"Request body larger than {limit} bytes."
    return error.description or HTTP_STATUS_CODES.get(status, "Error")


def handle_storefront_error(error: StorefrontError) -> Response:
    """Domain errors raised by services, mapped through :func:`status_of`."""
    status = status_of(error)
    if status is not None:
        return json_error(status, error.message, error.errors)
    log.error("unmapped storefront error", exc_info=error)
    return json_error(500, "Internal error.")


def handle_unexpected(error: Exception) -> Response:
    """Anything else: logged with its traceback, answered with a bare 500."""
    log.exception("unhandled error in storefront API", exc_info=error)
    return json_error(500, "Internal error.")
