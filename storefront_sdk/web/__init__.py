"""The four front doors, thin adapters over the domain: each validates input, calls the
services and owns its request's transaction (:mod:`.transactions`).

- :mod:`.shop`: consumers (each shop's H5 pages, checkout, orders, referral links, posters);
- :mod:`.console`: distributors (``/console/``);
- :mod:`.admin`: the platform (``/admin/``);
- :mod:`.api`: suppliers (the supplier API and its OpenAPI document) and payment
  providers (``/hooks/...``).

Each door is a sub-package whose ``__init__.py`` declares its blueprints and lists every
route; what the doors share is here: errors and their status codes (:mod:`.errors`), the
units of work (:mod:`.transactions`), the request's session (:mod:`.sessions`), who is
signed in (:mod:`.identity`), page helpers (:mod:`.pages`), route tables (:mod:`.routes`),
the shop reads the shop and the console share (:mod:`.shop_reads`), the payment provider
(:mod:`.payments`) and where the doors are mounted beside the host's routes (:mod:`.mounts`).
"""

from __future__ import annotations

from typing import Any

from flask import Flask

from .. import i18n
from . import mounts


def init_app(app: Flask) -> Any:
    """Registers every front door on ``app`` at its mount point; the supplier API's ``Api``.

    Raises :class:`~storefront_sdk.errors.ConfigurationError` when two doors overlap or a
    route of the app collides with one of ours (checked again at the first request)."""
    # (The doors are imported here, so that importing what they share, such as
    # :mod:`.sessions`, stays light.)
    from . import admin, api, console, shop
    from .pages import transport_security

    before = set(app.blueprints)
    mounts.refuse_overlapping_mounts(app.config)
    app.before_request(mounts.exempt_from_host_csrf(app, (api.supplier_api, api.hooks)))
    found = api.init_app(app)
    i18n.init_app(app)
    shop.init_app(app)
    console.init_app(app)
    admin.init_app(app)
    app.after_request(transport_security(frozenset(set(app.blueprints) - before)))
    mounts.refuse_collisions(app)
    app.before_request(mounts.check_routes_at_first_request(app))
    return found
