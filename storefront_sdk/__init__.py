"""storefront_sdk — Flask blueprints for S2b2C white-label shops over a shared catalogue.

Typical use::

    from flask import Flask
    from storefront_sdk import Storefront

    app = Flask(__name__)
    app.config["STOREFRONT_DATABASE_URL"] = "postgresql+psycopg://shop@db/shop"
    Storefront(app)
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import Any

from flask import Flask
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from . import config as _config
from . import migrate, signals
from .commissions.payout_providers import ManualPayouts, PayoutProvider, load_payout_provider
from .db import create_engine, make_sessionmaker, session_scope
from .errors import ConfigurationError, Conflict, NotFound, StorefrontError, ValidationError
from .messages import MessageSender, load_sender
from .money import Money
from .payments.providers import PaymentProvider, load_provider
from .ratelimit import RateLimiter
from .shops.dns import txt_records
from .shops.hosts import TxtLookup
from .shops.page_cache import PageCache
from .storage import LocalFolderStorage, Storage
from .web.sessions import close_session, get_session

__all__ = [
    "ConfigurationError",
    "Conflict",
    "Money",
    "NotFound",
    "Storefront",
    "StorefrontError",
    "StorefrontState",
    "ValidationError",
    "get_session",
    "session_scope",
]

__version__ = "0.1.0"


@dataclass
class StorefrontState:
    """Per-app state, kept in ``app.extensions["storefront"]``."""

    extension: Storefront
    engine: Engine
    sessionmaker: sessionmaker[Session]
    rate_limiter: RateLimiter
    api: Any
    #: How messages leave (``STOREFRONT_MESSAGE_SENDER``): password resets, order emails.
    messages: MessageSender
    #: Where uploaded logos go; a host may replace it with its own :class:`Storage`.
    storage: Storage
    #: What shop pages show, kept up to ``STOREFRONT_PAGE_CACHE_SECONDS`` and cleared by
    #: every change (see :mod:`storefront_sdk.shops.page_cache`).
    page_cache: PageCache
    #: The payment provider (``STOREFRONT_PAYMENT_PROVIDER``); ``None`` without payments.
    payments: PaymentProvider | None = None
    #: How payouts reach distributors (``STOREFRONT_PAYOUT_PROVIDER``).
    payouts: PayoutProvider = field(default_factory=ManualPayouts)
    #: The shop script's URL per application root.
    script_urls: dict[str, str] = field(default_factory=dict)
    #: Looks up a DNS name's TXT records, for the console's "Check now" of a shop's own
    #: host name (:data:`storefront_sdk.shops.hosts.TxtLookup`; by default one UDP query to
    #: the system's name server, :func:`storefront_sdk.shops.dns.txt_records`); ``None``:
    #: only a platform admin's approval verifies one.
    host_txt_lookup: TxtLookup | None = field(default_factory=lambda: txt_records)
    #: The middleware serving shops on their own host names (``forget()`` drops its cache).
    shop_hosts: Any = None


class Storefront:
    """The Flask extension: ``Storefront(app)`` or ``storefront.init_app(app)``.

    ``init_app`` fills every missing ``STOREFRONT_*`` key with its default, refuses unknown
    ``STOREFRONT_*`` keys and invalid values (raising :class:`ConfigurationError` naming the
    key), mounts the shop, console, admin, supplier API and hooks at their prefixes (refusing
    a host route that collides with them), registers the ``flask storefront`` commands and
    logs what would keep the shops from working (a database without its tables, no payment
    provider). Every setting, its default and meaning: :data:`storefront_sdk.config.SETTINGS`
    (``docs/configuration.md``).
    """

    def __init__(self, app: Flask | None = None, **options: Any) -> None:
        #: ``STOREFRONT_*`` values applied to every app this extension initialises (the
        #: app's own config wins); ``Storefront(api_prefix="/api/v2")`` sets
        #: ``STOREFRONT_API_PREFIX``.
        self.options = {_setting_name(k): v for k, v in options.items()}
        if app is not None:
            self.init_app(app)

    def init_app(self, app: Flask) -> None:
        """Configure ``app``; refuses an app that already has a storefront."""
        if "storefront" in app.extensions:
            raise RuntimeError("storefront is already registered on this app")
        for name, value in self.options.items():
            app.config.setdefault(name, value)
        _config.apply_defaults(app.config, app.instance_path)
        _config.validate(app.config, debug=app.debug, testing=app.testing)
        engine = create_engine(
            app.config["STOREFRONT_DATABASE_URL"], app.config["STOREFRONT_ENGINE_OPTIONS"]
        )
        state = StorefrontState(
            extension=self,
            engine=engine,
            sessionmaker=make_sessionmaker(engine),
            rate_limiter=RateLimiter(
                app.config["STOREFRONT_SUPPLIER_RATE_LIMIT"],
                app.config["STOREFRONT_RATE_LIMIT_STORAGE_URI"],
            ),
            api=None,
            messages=load_sender(app.config, app.instance_path),
            storage=LocalFolderStorage(app.config["STOREFRONT_UPLOAD_FOLDER"]),
            page_cache=PageCache(app.config["STOREFRONT_PAGE_CACHE_SECONDS"]),
            payments=load_provider(app.config),
            payouts=load_payout_provider(app.config),
        )
        signals.bind(state.sessionmaker, app)
        state.page_cache.watch(engine)
        app.extensions["storefront"] = state
        app.teardown_appcontext(close_session)
        # (Imported here: importing the package stays light for workers and scripts that
        # need a module or two of it, such as the webhook helper.)
        from . import web
        from .cli import storefront_cli

        state.api = web.init_app(app)
        app.cli.add_command(storefront_cli)
        _warn_about_setup(app, state)


def _warn_about_setup(app: Flask, state: StorefrontState) -> None:
    """Logs what would make the shops fail or disappoint although the app starts: a
    database without the storefront's tables, no payment provider."""
    problem = None if _loaded_by_a_command() else migrate.database_problem(state.engine)
    if problem is not None:
        app.logger.error("storefront: %s", problem)
    if state.payments is None and not _loaded_by_a_command():
        app.logger.warning(
            "storefront: no payment provider (set STOREFRONT_PAYMENT_PROVIDER, or "
            "STRIPE_SECRET_KEY): the shops' checkout refuses every order until one is set"
        )


def _loaded_by_a_command() -> bool:
    """Whether a ``flask`` command other than ``flask run`` loads the app (the CLI loads it
    while it looks the command up, inside click's context): commands report their own
    database errors, and ``init-db`` is what creates the tables."""
    import click

    return click.get_current_context(silent=True) is not None and "run" not in sys.argv[1:]


def _setting_name(option: str) -> str:
    name = option.upper()
    name = name if name.startswith("STOREFRONT_") else f"STOREFRONT_{name}"
    if name not in _config.SETTINGS_BY_NAME:
        raise ConfigurationError(f"unknown storefront option {option!r}")
    return name
