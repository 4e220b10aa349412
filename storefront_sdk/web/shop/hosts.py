"""Shops served on their own host names.

Only with ``STOREFRONT_CUSTOM_HOSTS`` on, and only a ``verified`` host name (see
:mod:`storefront_sdk.shops.hosts`): a shop whose host name (``shop.example.com``) is verified
is served at that host's root: a small WSGI middleware maps ``https://shop.example.com/p/12``
onto ``/s/<slug>/p/12`` before Flask routes it. Paths the library or the host app serve on
every host (``/s/``, ``/r/``, ``/console``, the API, static files) pass through unchanged, so
links built with ``url_for`` keep working there too. A pending, refused or unknown host name,
and the platform's own names (``SERVER_NAME``, ``STOREFRONT_PLATFORM_HOSTS``), are never
mapped: the request reaches the host app's own routes as if the library were not there.

Host look-ups are cached per process for :data:`TTL` seconds (misses too), so most requests
cost no query; a changed or newly verified host name takes effect within that time (at once
in the process that changed it, which calls :meth:`ShopHosts.forget`).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

import sqlalchemy as sa
from flask import Flask
from sqlalchemy.exc import SQLAlchemyError

from ...config import platform_host_names
from ...shops.models import Shop
from ...sql import table_of
from ..mounts import mount_points

log = logging.getLogger(__name__)

#: Seconds a host look-up is remembered.
TTL = 30.0
#: The most host names remembered per process.
MAX_ENTRIES = 10_000


class ShopHosts:
    """WSGI middleware mapping a shop's own host name onto its ``/s/<slug>`` pages."""

    def __init__(self, app: Flask, wsgi_app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app
        self.wsgi_app = wsgi_app
        self._cache: dict[str, tuple[str | None, float]] = {}
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        config = self.app.config
        if not config["STOREFRONT_CUSTOM_HOSTS"]:
            return self.wsgi_app(environ, start_response)
        path = environ.get("PATH_INFO") or "/"
        if not _passes_through(path, self.app):
            slug = self.slug_for(_host(environ))
            if slug is not None:
                shops = self.app.config["STOREFRONT_SHOP_PREFIX"]
                environ["PATH_INFO"] = f"{shops}/{slug}{path}"
        return self.wsgi_app(environ, start_response)

    def slug_for(self, host: str) -> str | None:
        """The slug of the shop served on ``host``, if any: a verified host name that is not
        one of the platform's own."""
        if not host or host in platform_host_names(self.app.config):
            return None
        now = time.monotonic()
        cached = self._cache.get(host)
        if cached is not None and cached[1] > now:
            return cached[0]
        shop = table_of(Shop).c
        engine = self.app.extensions["storefront"].engine
        try:
            with engine.connect() as connection:
                slug: str | None = connection.execute(
                    sa.select(shop.slug).where(shop.host == host, shop.host_status == "verified")
                ).scalar()
        except SQLAlchemyError:
            # The host app's own pages must not fail because the shop tables are not there
            # (yet): serve the request unmapped.
            log.warning("shop host look-up failed for %r", host, exc_info=True)
            slug = None
        with self._lock:
            if len(self._cache) >= MAX_ENTRIES:
                self._cache.clear()
            self._cache[host] = (slug, now + TTL)
        return slug

    def forget(self) -> None:
        """Drops every cached look-up (tests, or after changing host names)."""
        with self._lock:
            self._cache.clear()


def _passes_through(path: str, app: Flask) -> bool:
    """Whether ``path`` is the library's or the app's static files on every host (never
    mapped into a shop)."""
    static = app.static_url_path or "/static"
    return any(
        path == point or path.startswith(point + "/")
        for point in (*mount_points(app.config), static)
    )


def _host(environ: dict[str, Any]) -> str:
    host = environ.get("HTTP_HOST") or environ.get("SERVER_NAME") or ""
    host = host.strip().lower()
    if host.startswith("["):  # IPv6 literal: never a shop
        return ""
    return host.rsplit(":", 1)[0].rstrip(".") if ":" in host else host.rstrip(".")


def init_app(app: Flask) -> ShopHosts:
    """Installs the middleware in front of ``app``'s WSGI app."""
    middleware = ShopHosts(app, app.wsgi_app)
    app.wsgi_app = middleware  # type: ignore[method-assign]
    return middleware
