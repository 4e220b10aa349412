"""Where the front doors are mounted in the host app, and how they live beside its own
routes and extensions.

Each door is mounted under its prefix setting (``STOREFRONT_SHOP_PREFIX``...); the library
owns every path under those prefixes and under :data:`FIXED_PATHS`. A host route there would
be shadowed or would shadow one of ours depending on Werkzeug's rule order, so it is refused
(:func:`refuse_collisions`) when the storefront is initialised and again at the first request
(for routes the host adds after ``Storefront(app)``).

A host's ``CSRFProtect(app)`` (Flask-WTF) checks a token on every ``POST`` of the app; the
supplier API (bearer keys) and the providers' hooks (signed events) never carry one, so they
are exempted (:func:`exempt_from_host_csrf`), whichever of the two extensions came first.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from flask import Blueprint, Flask

from ..errors import ConfigurationError

#: The prefix setting of each door that can be moved.
PREFIX_SETTINGS = (
    "STOREFRONT_SHOP_PREFIX",
    "STOREFRONT_REFERRAL_PREFIX",
    "STOREFRONT_CONSOLE_PREFIX",
    "STOREFRONT_ADMIN_PREFIX",
    "STOREFRONT_API_PREFIX",
    "STOREFRONT_HOOKS_PREFIX",
)
#: Paths the library serves on every app: the shop's scripts and the uploaded logos.
FIXED_PATHS = ("/sf-static", "/sf-uploads")
#: Blueprint names of the library's own routes.
OWN_BLUEPRINT_PREFIXES = ("storefront_", "storefront-")


def mount_points(config: Mapping[str, Any]) -> tuple[str, ...]:
    """The path prefixes the library owns under ``config`` (a turned-off admin owns none)."""
    points = [
        config[name]
        for name in PREFIX_SETTINGS
        if name != "STOREFRONT_ADMIN_PREFIX" or config["STOREFRONT_ADMIN"]
    ]
    return (*points, *FIXED_PATHS)


def refuse_overlapping_mounts(config: Mapping[str, Any]) -> None:
    """Raise :class:`ConfigurationError` when two doors are mounted on the same path or one
    inside another."""
    named = [(name, config[name]) for name in PREFIX_SETTINGS]
    for index, (name, prefix) in enumerate(named):
        for other, other_prefix in named[index + 1 :]:
            if _within(prefix, other_prefix) or _within(other_prefix, prefix):
                raise ConfigurationError(
                    f"{name} ({prefix!r}) and {other} ({other_prefix!r}) overlap: "
                    "give each door a path of its own"
                )


def _within(path: str, prefix: str) -> bool:
    return path == prefix or path.startswith(prefix.rstrip("/") + "/")


def collisions(app: Flask) -> list[str]:
    """The host's URL rules under a path the library owns, as ``"<rule> (<endpoint>)"``."""
    points = mount_points(app.config)
    found = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith(OWN_BLUEPRINT_PREFIXES):
            continue
        if any(_within(rule.rule, point) for point in points):
            found.append(f"{rule.rule} ({rule.endpoint})")
    return found


def refuse_collisions(app: Flask) -> None:
    """Raise :class:`ConfigurationError` naming the host routes that collide with ours."""
    found = collisions(app)
    if found:
        raise ConfigurationError(
            "these routes of the app collide with the storefront's: "
            + ", ".join(found)
            + "; move them, or move the storefront with its STOREFRONT_*_PREFIX settings"
        )


def check_routes_at_first_request(app: Flask) -> Callable[[], None]:
    """A ``before_request`` function that runs :func:`refuse_collisions` once, for the
    routes the host added after ``Storefront(app)``."""
    checked: list[bool] = []

    def check_routes() -> None:
        if not checked:
            refuse_collisions(app)
            checked.append(True)

    return check_routes


def exempt_from_host_csrf(app: Flask, blueprints: Iterable[Blueprint]) -> Callable[[], None]:
    """A ``before_request`` function exempting ``blueprints`` from the host's
    ``CSRFProtect``; registered by ``init_app``, it runs before a ``CSRFProtect`` made after
    the storefront, and one made before is exempted at once."""
    kept = tuple(blueprints)

    def exempt() -> None:
        csrf = app.extensions.get("csrf")
        if csrf is not None:
            for blueprint in kept:
                csrf.exempt(blueprint)

    exempt()
    return exempt
