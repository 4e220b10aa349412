"""The flask-smorest ``Api`` of the storefront JSON APIs: the OpenAPI document, the
decorators of each operation (:data:`operation`) and the JSON error handlers."""

from __future__ import annotations

from typing import Any

from apispec import BasePlugin
from flask import Flask, request
from flask_smorest import Api, Blueprint
from flask_smorest.arguments import ArgumentsMixin
from flask_smorest.response import ResponseMixin
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from ...errors import StorefrontError
from ..errors import (
    ErrorSchema,
    handle_http_exception,
    handle_storefront_error,
    handle_unexpected,
)
from ..transactions import SAFE_METHODS

#: The ``Idempotency-Key`` request header, documented on every write operation.
IDEMPOTENCY_KEY_PARAMETER: dict[str, Any] = {
    "in": "header",
    "name": "Idempotency-Key",
    "required": False,
    "schema": {"type": "string", "minLength": 1, "maxLength": 255},
    "description": "Repeat-safe retries: a repeat with the same key and request returns the "
    "first response (header `Idempotent-Replayed: true`) without repeating the effect; the "
    "same key with another request is a 409. Keys are kept at least 24 h.",
}


class IdempotencyKeyPlugin(BasePlugin):  # type: ignore[misc]
    """Adds the ``Idempotency-Key`` header to every write operation of the document."""

    def operation_helper(
        self, path: str | None = None, operations: dict[str, Any] | None = None, **_: Any
    ) -> None:
        for method, operation in (operations or {}).items():
            if method.upper() not in SAFE_METHODS:
                operation.setdefault("parameters", []).append(IDEMPOTENCY_KEY_PARAMETER)


class OperationDocs(ArgumentsMixin, ResponseMixin):  # type: ignore[misc]
    """flask-smorest's operation decorators, apart from any blueprint: ``arguments``
    (validated input), ``response`` and ``alt_response`` (serialised output, documented
    answers) and ``doc``. They record what the OpenAPI document says on the view itself and
    use only the mixins' class settings, so the views of the resource modules are decorated
    here and their blueprint (``web/api/__init__.py``) registers them, reading those
    records as it adds each route."""

    doc = staticmethod(Blueprint.doc)


#: The decorators of every operation of the JSON APIs.
operation = OperationDocs()


#: The name flask-smorest's settings are prefixed with (``STOREFRONT_API_TITLE``...).
CONFIG_PREFIX = "STOREFRONT_"


class StorefrontApi(Api):  # type: ignore[misc]
    """flask-smorest's ``Api`` whose error handlers stay on the storefront's blueprints.

    flask-smorest registers its JSON error handler on the whole app; a host app's HTML pages
    must keep their own error pages, so ours are attached per blueprint instead.
    """

    #: Documents every error response with the body the handlers really send.
    ERROR_SCHEMA = ErrorSchema

    def _register_error_handlers(self) -> None:
        pass  # see attach_error_handlers


def attach_error_handlers(blp: Blueprint) -> None:
    """Every error raised inside ``blp``'s views becomes the one JSON error shape."""
    blp.register_error_handler(HTTPException, handle_http_exception)
    blp.register_error_handler(StorefrontError, handle_storefront_error)
    blp.register_error_handler(Exception, handle_unexpected)


def init_api(app: Flask) -> StorefrontApi:
    """Create the ``Api`` for ``app`` with the OpenAPI document at ``<prefix>/openapi.json``."""
    prefix = app.config["STOREFRONT_API_PREFIX"]
    app.config.setdefault("STOREFRONT_API_TITLE", "storefront-sdk supplier API")
    app.config.setdefault("STOREFRONT_API_VERSION", "v1")
    app.config.setdefault("STOREFRONT_OPENAPI_VERSION", "3.1.0")
    app.config.setdefault("STOREFRONT_OPENAPI_URL_PREFIX", prefix)
    app.config.setdefault("STOREFRONT_OPENAPI_JSON_PATH", "openapi.json")
    api = StorefrontApi(
        app,
        config_prefix=CONFIG_PREFIX,
        spec_kwargs={
            "extra_plugins": [IdempotencyKeyPlugin()],
            "info": {
                "description": "Catalogue sync and order handoff for suppliers. "
                "Authenticate with `Authorization: Bearer <api key>`."
            },
        },
    )
    api.spec.components.security_scheme(
        "supplierKey", {"type": "http", "scheme": "bearer", "description": "Supplier API key"}
    )

    @app.before_request
    def api_routing_errors() -> Response | None:
        # Unknown paths and wrong methods under the API prefix fail during routing, before
        # any blueprint is known; answer them in the API's JSON shape here.
        error = request.routing_exception
        if (
            isinstance(error, HTTPException)
            and (error.code or 0) >= 400
            and _under(request.path, prefix)
        ):
            return handle_http_exception(error)
        return None

    return api


def _under(path: str, prefix: str) -> bool:
    return path == prefix or path.startswith(prefix + "/")
