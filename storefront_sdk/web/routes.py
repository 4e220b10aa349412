"""Route tables: each front door lists its URLs in one place, its ``__init__.py``, and
registers them explicitly (no module adds routes to a blueprint by being imported); and the
bound on the bodies of a door's requests (:func:`bound_bodies`)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from flask import Blueprint, Response, current_app, g, request
from werkzeug.exceptions import RequestEntityTooLarge

from .. import i18n
from .pages import negotiate_locale


@dataclass(frozen=True, slots=True)
class Route:
    """A URL rule of a blueprint, the view answering it, its methods and Werkzeug's other
    rule options (``defaults``, ``merge_slashes``...). The endpoint is the view's name."""

    rule: str
    view: Callable[..., Any]
    methods: tuple[str, ...] = ("GET",)
    options: Mapping[str, Any] = field(default_factory=dict)


def route(rule: str, view: Callable[..., Any], *methods: str, **options: Any) -> Route:
    """A :class:`Route` (``GET`` unless ``methods`` say otherwise)."""
    return Route(rule, view, methods or ("GET",), options)


def add_routes(blueprint: Blueprint, routes: Iterable[Route]) -> None:
    """Register every route of ``routes`` on ``blueprint``."""
    for found in routes:
        blueprint.add_url_rule(
            found.rule, view_func=found.view, methods=list(found.methods), **found.options
        )


def bound_bodies(blueprint: Blueprint, setting: str) -> None:
    """Every request to ``blueprint`` may carry at most the bytes its ``setting`` says.

    Set before anything (a host app's ``before_request`` included) reads the body, and per
    request, so the host app's own ``MAX_CONTENT_LENGTH`` stays its routes' own. A larger
    ``Content-Length`` is refused before reading; a chunked body is read only up to the
    bound. Either way the answer is :func:`too_large`.
    """

    def bound(endpoint: str | None, values: dict[str, Any] | None) -> None:
        limit: int = current_app.config[setting]
        g.sf_body_bound = limit
        # One byte more is let through: Werkzeug stops a chunked body at the bound without
        # a word when it is read whole (``get_data``), so :func:`bounded_body` sees the byte.
        request.max_content_length = limit + 1
        request.max_form_memory_size = limit

    blueprint.url_value_preprocessor(bound)
    blueprint.register_error_handler(RequestEntityTooLarge, too_large)


def bounded_body() -> bytes:
    """The raw body of a request to a door under :func:`bound_bodies`; ``413`` when it is
    larger than the bound."""
    body = request.get_data(cache=False)
    if len(body) > g.sf_body_bound:
        raise RequestEntityTooLarge()
    return body


def too_large(error: RequestEntityTooLarge) -> Response:
    """The ``413`` of a body over its door's bound, in the visitor's language."""
    with i18n.locale_of_page(negotiate_locale()):
        text = str(i18n.gettext("This request is too large."))
    return Response(text + "\n", status=413, mimetype="text/plain")
