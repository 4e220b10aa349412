"""storefront_sdk — Flask blueprints for S2b2C white-label shops over a shared catalogue.

Typical use::

    from flask import Flask
    from storefront_sdk import Storefront

    app = Flask(__name__)
    app.config["STOREFRONT_DATABASE_URL"] = "postgresql+psycopg://shop@db/shop"
    Storefront(app)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask import Flask
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from . import config as _config
from . import signals
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

    ``init_app`` fills every missing ``STOREFRONT_*`` key with its default, validates them
    all (raising :class:`ConfigurationError` naming the bad key) and registers the supplier
    API, its OpenAPI document and the ``flask storefront`` commands. Settings (see
    ``docs/configuration.md`` and :data:`storefront_sdk.config.SETTINGS`):

    - ``STOREFRONT_DATABASE_URL``: SQLAlchemy URL (default: SQLite in the instance folder).
    - ``STOREFRONT_ENGINE_OPTIONS``: extra ``create_engine`` arguments.
    - ``STOREFRONT_API_PREFIX``: JSON API prefix (default ``/api/v1``).
    - ``STOREFRONT_MAX_REQUEST_BYTES``: largest API request body (default 16 MiB);
      ``STOREFRONT_MAX_FORM_BYTES``, ``STOREFRONT_MAX_HOOK_BYTES``: the shop's forms (64 KiB)
      and ``/hooks/stripe`` (1 MiB).
    - ``STOREFRONT_SUPPLIER_RATE_LIMIT``: requests per supplier key (default ``1200/minute``).
    - ``STOREFRONT_RATE_LIMIT_STORAGE_URI``: counter store (``memory://``; Redis for many
      workers).
    - ``STOREFRONT_LOGIN_RATE_LIMIT``, ``STOREFRONT_LOGIN_CLIENT_RATE_LIMIT``,
      ``STOREFRONT_JOIN_RATE_LIMIT``, ``STOREFRONT_PASSWORD_RESET_RATE_LIMIT``: sign-in
      attempts per account and per client, sign-ups, reset requests (counted in the database).
    - ``STOREFRONT_SESSION_IDLE_MINUTES``, ``STOREFRONT_ADMIN_SESSION_IDLE_MINUTES``: idle
      timeouts of console and admin sessions.
    - ``STOREFRONT_MESSAGE_SENDER`` (``dev``, ``smtp``, a class), ``STOREFRONT_MESSAGE_FROM``,
      ``STOREFRONT_SMTP_URL``, ``STOREFRONT_PUBLIC_URL``: how messages leave, and the
      address their links use.
    - ``STOREFRONT_UPLOAD_FOLDER``: uploaded logos (default: ``storefront-uploads`` in the
      instance folder); ``app.extensions["storefront"].storage`` swaps the storage itself.
    - ``STOREFRONT_POSTER_FONT``: the font file of the PNG share posters (default: the
      first CJK font found, WenQuanYi Micro Hei first).
    - ``STOREFRONT_PAGE_CACHE_SECONDS``: the longest each process keeps what shop pages
      show (300); every committed change clears it in every process.
    - ``STOREFRONT_IDEMPOTENCY_TTL_HOURS``: how long idempotency keys are kept (24).
    - ``STOREFRONT_REQUIRE_SECRET_KEY``: refuse a weak ``SECRET_KEY`` outside debug/testing.
    - ``STOREFRONT_PAYMENT_PROVIDER``, ``STOREFRONT_WEBHOOK_ALLOW_HTTP``,
      ``STOREFRONT_WEBHOOK_ALLOW_PRIVATE``, ``STOREFRONT_ATTRIBUTION_DAYS``,
      ``STOREFRONT_RETURN_WINDOW_DAYS``, ``STOREFRONT_COMMISSION_LEVEL1_BP``,
      ``STOREFRONT_COMMISSION_LEVEL2_BP``, ``STOREFRONT_ORDER_EXPIRY_MINUTES``: payments,
      webhooks, referrals, commissions and orders.
    - ``STOREFRONT_PAYOUT_PROVIDER`` (``manual``, ``stripe_connect``),
      ``STOREFRONT_PAYOUT_MINIMUM_MINOR``, ``STOREFRONT_DISTRIBUTOR_APPROVAL``: payouts and
      the approval of new distributors.
    - ``STOREFRONT_CUSTOM_HOSTS``, ``STOREFRONT_PLATFORM_HOSTS``: shops on their own
      (verified) host names, and the platform's own names no shop may take.

    - ``STOREFRONT_UNPAID_ORDERS_PER_CLIENT`` (5), ``STOREFRONT_HSTS_SECONDS`` (one year),
      ``STOREFRONT_DEMO_MODE`` (off): unpaid orders one client address may hold, HSTS over
      HTTPS, and the demo's published accounts and test payments.
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


def _setting_name(option: str) -> str:
    name = option.upper()
    name = name if name.startswith("STOREFRONT_") else f"STOREFRONT_{name}"
    if name not in _config.SETTINGS_BY_NAME:
        raise ConfigurationError(f"unknown storefront option {option!r}")
    return name
