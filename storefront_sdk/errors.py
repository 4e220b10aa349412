"""The one error hierarchy of storefront_sdk.

Services raise these; the web layer maps each ``code`` to an HTTP status in one place
(:mod:`storefront_sdk.web.errors`) and the CLI prints ``message`` on one line.
"""

from __future__ import annotations

from typing import Any


class StorefrontError(Exception):
    """Base of every error the library raises on purpose.

    ``code`` is stable and machine-readable; ``message`` is for people; ``errors`` locates
    validation problems (same shape as the API's ``errors`` object).
    """

    #: Stable machine-readable identifier of the error kind.
    code = "storefront_error"

    def __init__(self, message: str, *, errors: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.errors = errors


class ConfigurationError(StorefrontError):
    """A ``STOREFRONT_*`` setting is missing or invalid (raised at ``init_app``)."""

    code = "configuration_error"


class ValidationError(StorefrontError):
    """Input that is well-formed but not acceptable (HTTP 422)."""

    code = "validation_error"


class NotFound(StorefrontError):
    """The object does not exist for this tenant (HTTP 404)."""

    code = "not_found"


class Conflict(StorefrontError):
    """The request conflicts with the current state (HTTP 409)."""

    code = "conflict"
