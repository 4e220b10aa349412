"""Route tables: each front door lists its URLs in one place, its ``__init__.py``, and
registers them explicitly (no module adds routes to a blueprint by being imported)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from flask import Blueprint


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
