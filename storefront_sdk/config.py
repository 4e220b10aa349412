"""Every ``STOREFRONT_*`` setting: its default, its meaning and its validation.

:data:`SETTINGS` is the single source of truth; ``docs/configuration.md`` mirrors it and a
test keeps the two in step. :func:`apply_defaults` fills the app's config (``setdefault``
semantics: the host app's values win) and :func:`validate` refuses bad values at
``init_app`` with a message naming the key.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from .errors import ConfigurationError
from .outbound import TransportPolicy

Check = Callable[[str, Any], None]


@dataclass(frozen=True, slots=True)
class Setting:
    """One configuration key: name, default (callable defaults get the app), meaning, check."""

    name: str
    default: Any
    doc: str
    check: Check | None = None


def _int_range(low: int, high: int) -> Check:
    def check(name: str, value: Any) -> None:
        if type(value) is not int or not low <= value <= high:
            raise ConfigurationError(
                f"{name} must be an integer from {low} to {high}, got {value!r}"
            )

    return check


def _bool(name: str, value: Any) -> None:
    if not isinstance(value, bool):
        raise ConfigurationError(f"{name} must be true or false, got {value!r}")


def _str(name: str, value: Any) -> None:
    if not isinstance(value, str) or not value:
        raise ConfigurationError(f"{name} must be a non-empty string, got {value!r}")


def _host_names(name: str, value: Any) -> None:
    names = value if isinstance(value, list | tuple) else None
    if names is None or not all(isinstance(n, str) and n and " " not in n for n in names):
        raise ConfigurationError(
            f"{name} must be a list of host names like ['shop.example.com'], got {value!r}"
        )


def platform_host_names(config: Mapping[str, Any]) -> frozenset[str]:
    """The platform's own host names under ``config`` (``SERVER_NAME`` without its port and
    ``STOREFRONT_PLATFORM_HOSTS``), lower-case: never a shop's own host."""
    names = [*config["STOREFRONT_PLATFORM_HOSTS"], config.get("SERVER_NAME") or ""]
    return frozenset(
        found for found in (n.strip().lower().rsplit(":", 1)[0].rstrip(".") for n in names) if found
    )


def _font_file(name: str, value: Any) -> None:
    if value is None or value == "":
        return
    if not isinstance(value, str) or not os.path.isfile(value):
        raise ConfigurationError(f"{name} must be the path of a font file, got {value!r}")


def _optional_str(name: str, value: Any) -> None:
    if value is not None:
        _str(name, value)


def _public_url(name: str, value: Any) -> None:
    if value is None:
        return
    _str(name, value)
    if not value.startswith(("https://", "http://")) or value.count("/") > 2:
        raise ConfigurationError(f"{name} must look like https://host (no path), got {value!r}")


def _database_url(name: str, value: Any) -> None:
    try:
        url = make_url(value)
    except (ArgumentError, TypeError, ValueError) as exc:
        raise ConfigurationError(f"{name} is not a database URL: {value!r}") from exc
    if url.get_backend_name() not in {"sqlite", "postgresql"}:
        raise ConfigurationError(
            f"{name} must be a sqlite:// or postgresql+psycopg:// URL, got {url.drivername!r}"
        )
    if url.get_backend_name() == "postgresql" and url.drivername not in {
        "postgresql",
        "postgresql+psycopg",
    }:
        raise ConfigurationError(f"{name}: use the psycopg 3 driver (postgresql+psycopg://...)")


def _api_prefix(name: str, value: Any) -> None:
    _str(name, value)
    if not value.startswith("/") or value.endswith("/") or " " in value:
        raise ConfigurationError(f"{name} must start with '/' and not end with '/', got {value!r}")


def _rate_limit(name: str, value: Any) -> None:
    from limits import parse_many

    if value in (None, ""):
        return
    try:
        parse_many(value)
    except ValueError as exc:
        raise ConfigurationError(f"{name} must look like '600/minute', got {value!r}") from exc


def _storage_uri(name: str, value: Any) -> None:
    _str(name, value)
    if "://" not in value:
        raise ConfigurationError(f"{name} must be a limits storage URI such as memory://")


def _payment_provider(name: str, value: Any) -> None:
    if value not in (None, "stripe", "dev"):
        raise ConfigurationError(f"{name} must be 'stripe' or 'dev', got {value!r}")


#: The Stripe ``payment_method_types`` the pay page (Stripe's Payment Element) can offer.
STRIPE_PAYMENT_METHODS = frozenset(
    {
        "affirm", "afterpay_clearpay", "alipay", "amazon_pay", "bancontact", "blik",
        "boleto", "card", "cashapp", "eps", "fpx", "giropay", "grabpay", "ideal", "klarna",
        "konbini", "link", "mobilepay", "multibanco", "oxxo", "p24", "paynow", "paypal",
        "pix", "promptpay", "revolut_pay", "sepa_debit", "sofort", "swish", "twint",
        "us_bank_account", "wechat_pay",
    }
)  # fmt: skip


def _payment_methods(name: str, value: Any) -> None:
    _str(name, value)
    methods = [m.strip() for m in value.split(",")]
    unknown = [m for m in methods if m not in STRIPE_PAYMENT_METHODS]
    if unknown or len(set(methods)) != len(methods):
        raise ConfigurationError(
            f"{name} must list Stripe payment method types once each, from "
            f"{', '.join(sorted(STRIPE_PAYMENT_METHODS))} (e.g. 'card,alipay'), got {value!r}"
        )


def _mount_point(name: str, value: Any) -> None:
    _api_prefix(name, value)
    if any(not part or part in (".", "..") for part in value[1:].split("/")):
        raise ConfigurationError(f"{name} must be a path like '/shop', got {value!r}")


def _payout_provider(name: str, value: Any) -> None:
    if value not in ("manual", "stripe_connect"):
        raise ConfigurationError(f"{name} must be 'manual' or 'stripe_connect', got {value!r}")


def _binding_policy(name: str, value: Any) -> None:
    if value not in ("keep", "last_click"):
        raise ConfigurationError(f"{name} must be 'keep' or 'last_click', got {value!r}")


def _locale(name: str, value: Any) -> None:
    from .i18n import SUPPORTED

    if value not in SUPPORTED:
        raise ConfigurationError(f"{name} must be one of {', '.join(SUPPORTED)}, got {value!r}")


def _time_zone(name: str, value: Any) -> None:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise ConfigurationError(
            f"{name} must be an IANA time zone such as 'Asia/Shanghai', got {value!r}"
        ) from None


def transport_policy(config: Mapping[str, Any]) -> TransportPolicy:
    """How webhook deliveries may reach supplier URLs under ``config``."""
    return TransportPolicy(
        allow_http=config["STOREFRONT_WEBHOOK_ALLOW_HTTP"],
        allow_private=config["STOREFRONT_WEBHOOK_ALLOW_PRIVATE"],
    )


def _default_database_url(instance_path: str) -> str:
    return "sqlite:///" + os.path.join(instance_path, "storefront.sqlite3")


def _default_upload_folder(instance_path: str) -> str:
    return os.path.join(instance_path, "storefront-uploads")


#: Settings whose default depends on the app's instance folder.
_INSTANCE_DEFAULTS: dict[str, Callable[[str], str]] = {
    "STOREFRONT_DATABASE_URL": _default_database_url,
    "STOREFRONT_UPLOAD_FOLDER": _default_upload_folder,
}


#: All settings, in documentation order.
SETTINGS: tuple[Setting, ...] = (
    Setting(
        "STOREFRONT_DATABASE_URL",
        None,
        "SQLAlchemy URL of the database; `postgresql+psycopg://...` in production. "
        "Default: a SQLite file `storefront.sqlite3` in the app's instance folder.",
        _database_url,
    ),
    Setting(
        "STOREFRONT_ENGINE_OPTIONS",
        {},
        "Extra keyword arguments for `sqlalchemy.create_engine` (pool size, echo...).",
    ),
    Setting(
        "STOREFRONT_API_PREFIX",
        "/api/v1",
        "URL prefix of the JSON APIs; the supplier API lives under `<prefix>/supplier`.",
        _mount_point,
    ),
    Setting(
        "STOREFRONT_SHOP_PREFIX",
        "/s",
        "Where the shops are mounted: `<prefix>/<slug>/` (with their posters).",
        _mount_point,
    ),
    Setting(
        "STOREFRONT_REFERRAL_PREFIX",
        "/r",
        "Where referral links are mounted: `<prefix>/<code>`.",
        _mount_point,
    ),
    Setting(
        "STOREFRONT_CONSOLE_PREFIX",
        "/console",
        "Where the distributor console is mounted.",
        _mount_point,
    ),
    Setting(
        "STOREFRONT_CONSOLE_SIGNUP",
        True,
        "Whether anyone may open a shop at the console's `join` page; `False` answers `404` "
        "there (distributors are then created with `flask storefront create-distributor`).",
        _bool,
    ),
    Setting(
        "STOREFRONT_ADMIN_PREFIX",
        "/admin",
        "Where the platform admin is mounted.",
        _mount_point,
    ),
    Setting(
        "STOREFRONT_ADMIN",
        True,
        "Whether the platform admin is served at all; `False` registers none of its pages.",
        _bool,
    ),
    Setting(
        "STOREFRONT_HOOKS_PREFIX",
        "/hooks",
        "Where payment providers' events are received: `<prefix>/stripe`.",
        _mount_point,
    ),
    Setting(
        "STOREFRONT_MAX_REQUEST_BYTES",
        16 * 1024 * 1024,
        "Largest accepted API request body in bytes; larger bodies get `413`.",
        _int_range(1024, 1024**3),
    ),
    Setting(
        "STOREFRONT_MAX_FORM_BYTES",
        64 * 1024,
        "Largest accepted body of a shop form (cart, checkout, test payment) in bytes; "
        "larger or endless (chunked) bodies get `413` before they are read further. (The "
        "console takes 256 KiB forms and a 1 MiB logo, the admin 64 KiB.)",
        _int_range(1024, 16 * 1024 * 1024),
    ),
    Setting(
        "STOREFRONT_MAX_HOOK_BYTES",
        1024 * 1024,
        "Largest accepted body of a payment provider's event (`/hooks/stripe`) in bytes; "
        "larger or endless (chunked) bodies get `413` before they are read further.",
        _int_range(1024, 64 * 1024 * 1024),
    ),
    Setting(
        "STOREFRONT_SUPPLIER_RATE_LIMIT",
        "1200/minute",
        "Requests allowed per supplier API key (`limits` notation, several separated by `;`); "
        "empty disables limiting. Past it: `429` with `Retry-After`.",
        _rate_limit,
    ),
    Setting(
        "STOREFRONT_RATE_LIMIT_STORAGE_URI",
        "memory://",
        "Where rate-limit counters live. `memory://` is per process (one-process deployments); "
        "use `redis://host:6379` when several workers serve the API.",
        _storage_uri,
    ),
    Setting(
        "STOREFRONT_LOGIN_RATE_LIMIT",
        "10/15 minutes",
        "Sign-in attempts allowed per account (email address) in the console and in the "
        "admin (`limits` notation), counted in the database before the password is checked; "
        "a successful sign-in clears the account's count. Past it the sign-in answers `429` "
        "for the window, doubled at each new lockout up to 24 hours. Empty disables the limit.",
        _rate_limit,
    ),
    Setting(
        "STOREFRONT_LOGIN_CLIENT_RATE_LIMIT",
        "100/15 minutes",
        "Failed sign-in attempts allowed per client IP address, apart from the per-account "
        "limit and larger (one office shares an address); successful sign-ins do not count. "
        "Same back-off. Empty disables the limit.",
        _rate_limit,
    ),
    Setting(
        "STOREFRONT_JOIN_RATE_LIMIT",
        "10/hour",
        "Sign-ups allowed per client IP address at `/console/join` (`limits` notation); past "
        "it the sign-up answers `429` with `Retry-After`. Empty disables the limit.",
        _rate_limit,
    ),
    Setting(
        "STOREFRONT_PASSWORD_RESET_RATE_LIMIT",
        "5/hour",
        "Password-reset requests allowed per email address and, separately, per client IP "
        "address (`limits` notation). Empty disables the limit.",
        _rate_limit,
    ),
    Setting(
        "STOREFRONT_SESSION_IDLE_MINUTES",
        240,
        "Minutes without a request after which a console session ends (sign in again).",
        _int_range(1, 60 * 24 * 30),
    ),
    Setting(
        "STOREFRONT_ADMIN_SESSION_IDLE_MINUTES",
        30,
        "Minutes without a request after which a platform admin's session ends.",
        _int_range(1, 60 * 24),
    ),
    Setting(
        "STOREFRONT_MESSAGE_SENDER",
        "dev",
        "How messages (password-reset links, order emails) are sent: `dev` writes each one as "
        "a file under the instance folder's `outbox/`; `smtp` sends through "
        "`STOREFRONT_SMTP_URL`; or a dotted path `package.module:Class` built with the app's "
        "config and having `send(message)`.",
        _str,
    ),
    Setting(
        "STOREFRONT_MESSAGE_FROM",
        "no-reply@localhost",
        "The `From:` address of emails sent by the message sender.",
        _str,
    ),
    Setting(
        "STOREFRONT_SMTP_URL",
        None,
        "The SMTP server of the `smtp` sender: `smtp://user:password@host:587` (STARTTLS; "
        "port 25 or `?starttls=no` in the clear) or `smtps://user:password@host:465` (TLS).",
        _optional_str,
    ),
    Setting(
        "STOREFRONT_PUBLIC_URL",
        None,
        "The public address of the site (`https://shop.example.com`) for links in messages "
        "(password reset, order emails). Unset: the address the request came to.",
        _public_url,
    ),
    Setting(
        "STOREFRONT_UPLOAD_FOLDER",
        None,
        "Folder of uploaded shop logos, served at `/sf-uploads/<name>`. Default: "
        "`storefront-uploads` in the app's instance folder.",
        _str,
    ),
    Setting(
        "STOREFRONT_POSTER_FONT",
        None,
        "Font file (TrueType/OpenType, `.ttc` too) the PNG share posters are drawn with; it "
        "needs CJK glyphs for Chinese text. Default: the first found of WenQuanYi Micro Hei "
        "(`/usr/share/fonts/truetype/wqy/wqy-microhei.ttc`, installed by `make system-deps`), "
        "Noto Sans CJK, WenQuanYi Zen Hei, PingFang (macOS), Microsoft YaHei (Windows); "
        "without any, Pillow's own font (no Chinese glyphs).",
        _font_file,
    ),
    Setting(
        "STOREFRONT_PAGE_CACHE_SECONDS",
        300,
        "The longest each process keeps what shop pages show (shops, products, listings, "
        "categories). Every committed change to the catalogue or a shop clears it in every "
        "process at once (PostgreSQL `LISTEN`/`NOTIFY`, SQLite `data_version`). The cart, "
        "checkout and a shop's signed-in owner always read fresh. `0` reads the database "
        "every time.",
        _int_range(0, 3600),
    ),
    Setting(
        "STOREFRONT_IDEMPOTENCY_TTL_HOURS",
        24,
        "How long `Idempotency-Key`s are remembered (at least 24 h per the API contract).",
        _int_range(24, 24 * 365),
    ),
    Setting(
        "STOREFRONT_REQUIRE_SECRET_KEY",
        True,
        "Refuse to start without a strong `SECRET_KEY` unless the app is in debug or "
        "testing mode. Signed cookies (sessions, attribution) depend on it.",
        _bool,
    ),
    Setting(
        "STOREFRONT_PAYMENT_PROVIDER",
        None,
        "`stripe` or `dev`. The library never defaults to `dev`; the example shop picks "
        "`stripe` when `STRIPE_SECRET_KEY` is set, else `dev` in demo mode only.",
        _payment_provider,
    ),
    Setting(
        "STOREFRONT_WEBHOOK_ALLOW_HTTP",
        False,
        "Allow `http://` supplier webhook URLs (development and tests only).",
        _bool,
    ),
    Setting(
        "STOREFRONT_WEBHOOK_ALLOW_PRIVATE",
        False,
        "Allow webhook URLs resolving to loopback/private/link-local addresses (dev, tests).",
        _bool,
    ),
    Setting(
        "STOREFRONT_ATTRIBUTION_DAYS",
        30,
        "How long a referral link visit attributes sales to its distributor.",
        _int_range(1, 365),
    ),
    Setting(
        "STOREFRONT_RETURN_WINDOW_DAYS",
        7,
        "Commission hold after delivery before it becomes available.",
        _int_range(0, 365),
    ),
    Setting(
        "STOREFRONT_COMMISSION_LEVEL1_BP",
        1000,
        "Default level-1 commission in basis points of the retail price (1000 = 10 %).",
        _int_range(0, 10000),
    ),
    Setting(
        "STOREFRONT_COMMISSION_LEVEL2_BP",
        200,
        "Default level-2 (recruiter) override in basis points of the retail price.",
        _int_range(0, 10000),
    ),
    Setting(
        "STOREFRONT_CUSTOMER_BINDING_DAYS",
        365,
        "How long a customer stays bound to the distributor credited with their first paid "
        "order (later orders credit that distributor whatever link they use); each later "
        "paid order credited to them renews it; `0` binds nobody.",
        _int_range(0, 3650),
    ),
    Setting(
        "STOREFRONT_CUSTOMER_BINDING_POLICY",
        "keep",
        "What a bound customer's visit through another distributor's link does: `keep` (the "
        "sale stays with the distributor they are bound to) or `last_click` (that link wins "
        "the sale and the customer is bound to its distributor).",
        _binding_policy,
    ),
    Setting(
        "STOREFRONT_STRIPE_PAYMENT_METHODS",
        "card",
        "Comma-separated Stripe `payment_method_types` offered at payment, e.g. "
        "`card,alipay,wechat_pay` (each must be enabled in your Stripe account).",
        _payment_methods,
    ),
    Setting(
        "STOREFRONT_ORDER_EXPIRY_MINUTES",
        30,
        "Minutes before an unpaid order expires and releases its stock.",
        _int_range(1, 7 * 24 * 60),
    ),
    Setting(
        "STOREFRONT_UNPAID_ORDERS_PER_CLIENT",
        5,
        "Orders awaiting payment one client address may hold at once (each holds its stock "
        "until paid or expired); past it the checkout refuses (`429`) until one is paid or "
        "expires. Behind a proxy, let `ProxyFix` give Flask the client's address. `0` "
        "disables the limit.",
        _int_range(0, 10000),
    ),
    Setting(
        "STOREFRONT_PAYOUT_PROVIDER",
        "manual",
        "How payouts reach distributors: `manual` (bank transfers, marked paid) or "
        "`stripe_connect` (transfers to their connected accounts).",
        _payout_provider,
    ),
    Setting(
        "STOREFRONT_PAYOUT_MINIMUM_MINOR",
        10000,
        "The smallest payout a distributor may ask for, in minor units of its currency.",
        _int_range(1, 2**31 - 1),
    ),
    Setting(
        "STOREFRONT_DISTRIBUTOR_APPROVAL",
        False,
        "New distributors' shops wait for the platform's approval in `/admin/` before they sell.",
        _bool,
    ),
    Setting(
        "STOREFRONT_CUSTOM_HOSTS",
        False,
        "Let distributors serve their shop on their own host name, once it is verified (a DNS "
        "TXT record or the platform admin's approval in `/admin/hosts`). Off: the console has "
        "no such field and no request is ever mapped to a shop by its host.",
        _bool,
    ),
    Setting(
        "STOREFRONT_PLATFORM_HOSTS",
        [],
        "The platform's own host names (besides `SERVER_NAME`), which no shop may take; from "
        "the environment, separated by commas.",
        _host_names,
    ),
    Setting(
        "STOREFRONT_HSTS_SECONDS",
        365 * 24 * 3600,
        "`max-age` of the `Strict-Transport-Security` header on the library's responses "
        "served over HTTPS (`request.is_secure`; behind a proxy, `ProxyFix` must pass on "
        "`X-Forwarded-Proto`); `0` sends none.",
        _int_range(0, 2 * 365 * 24 * 3600),
    ),
    Setting(
        "STOREFRONT_DEMO_MODE",
        False,
        "The app is a demo (`make demo` turns it on): `seed-demo` may create the demo "
        "accounts with their published passwords, and the example shop lists them on its "
        "front page and takes test payments without Stripe keys. Never in production.",
        _bool,
    ),
    Setting(
        "STOREFRONT_DEFAULT_LOCALE",
        "zh-Hans",
        "Language of pages when nothing else decides: no choice of the visitor's (`?lang=`), "
        "no fixed language of the shop's and no supported one in the browser's "
        "`Accept-Language`. `zh-Hans` or `en`.",
        _locale,
    ),
    Setting(
        "STOREFRONT_DEFAULT_TIME_ZONE",
        "Asia/Shanghai",
        "IANA time zone the shop, console and admin pages show times in.",
        _time_zone,
    ),
    Setting(
        "STOREFRONT_ORDER_REFRESH_SECONDS",
        30,
        "How often a consumer's order page reloads itself while its payment settles or its "
        "parcels are on their way.",
        _int_range(1, 3600),
    ),
)

#: Settings by name.
SETTINGS_BY_NAME: dict[str, Setting] = {s.name: s for s in SETTINGS}

_WEAK_SECRETS = {"", "dev", "secret", "changeme", "change-me"}


def apply_defaults(config: dict[str, Any], instance_path: str) -> None:
    """Fill every missing ``STOREFRONT_*`` key of ``config`` with its default."""
    for setting in SETTINGS:
        default = copy.deepcopy(setting.default)  # no app shares a mutable default
        if default is None and setting.name in _INSTANCE_DEFAULTS:
            default = _INSTANCE_DEFAULTS[setting.name](instance_path)
        config.setdefault(setting.name, default)


#: ``STOREFRONT_*`` keys that are flask-smorest's own settings of the API document (it reads
#: them under the library's prefix), not the library's.
API_DOCUMENT_KEYS = frozenset(
    "STOREFRONT_" + key
    for key in (
        "API_TITLE", "API_VERSION", "API_SPEC_OPTIONS", "OPENAPI_VERSION",
        "OPENAPI_URL_PREFIX", "OPENAPI_JSON_PATH", "OPENAPI_REDOC_PATH", "OPENAPI_REDOC_URL",
        "OPENAPI_SWAGGER_UI_PATH", "OPENAPI_SWAGGER_UI_URL", "OPENAPI_SWAGGER_UI_CONFIG",
        "OPENAPI_RAPIDOC_PATH", "OPENAPI_RAPIDOC_URL", "OPENAPI_RAPIDOC_CONFIG",
    )
)  # fmt: skip


def refuse_unknown_keys(config: Mapping[str, Any]) -> None:
    """Raise :class:`ConfigurationError` for a ``STOREFRONT_*`` key that is no setting (a
    typo would otherwise be ignored silently)."""
    for name in sorted(config):
        if (
            name.startswith("STOREFRONT_")
            and name not in SETTINGS_BY_NAME
            and name not in API_DOCUMENT_KEYS
        ):
            raise ConfigurationError(
                f"unknown setting {name} in app.config (see docs/configuration.md)"
            )


def validate(config: dict[str, Any], *, debug: bool, testing: bool) -> None:
    """Raise :class:`ConfigurationError` naming the first unknown or invalid setting."""
    refuse_unknown_keys(config)
    for setting in SETTINGS:
        if setting.check is not None:
            setting.check(setting.name, config[setting.name])
    if not isinstance(config["STOREFRONT_ENGINE_OPTIONS"], dict):
        raise ConfigurationError("STOREFRONT_ENGINE_OPTIONS must be a dict")
    secret = config.get("SECRET_KEY")
    weak = not isinstance(secret, str | bytes) or secret in _WEAK_SECRETS or len(secret) < 16
    if weak and config["STOREFRONT_REQUIRE_SECRET_KEY"] and not (debug or testing):
        raise ConfigurationError(
            "SECRET_KEY must be set to a random string of at least 16 characters in "
            "production (or set STOREFRONT_REQUIRE_SECRET_KEY = False)"
        )


def from_environ(environ: dict[str, str] | None = None) -> dict[str, Any]:
    """Config values from ``STOREFRONT_*`` and ``STRIPE_*`` environment variables.

    Values are converted to the type of the setting's default (``true``/``false``,
    integers); unknown ``STOREFRONT_*`` names are refused so typos do not pass silently.
    """
    environ = dict(os.environ if environ is None else environ)
    values: dict[str, Any] = {}
    for name, raw in environ.items():
        if name.startswith("STRIPE_"):
            values[name] = raw
        elif name.startswith("STOREFRONT_"):
            if name.startswith("STOREFRONT_TEST_"):
                continue  # the test suite's own variables
            setting = SETTINGS_BY_NAME.get(name)
            if setting is None:
                raise ConfigurationError(f"unknown setting {name} in the environment")
            values[name] = _convert(name, raw, setting.default)
    return values


def _convert(name: str, raw: str, default: Any) -> Any:
    if isinstance(default, bool):
        if raw.lower() in {"1", "true", "yes", "on"}:
            return True
        if raw.lower() in {"0", "false", "no", "off"}:
            return False
        raise ConfigurationError(f"{name} must be true or false, got {raw!r}")
    if isinstance(default, int):
        try:
            return int(raw)
        except ValueError:
            raise ConfigurationError(f"{name} must be an integer, got {raw!r}") from None
    if isinstance(default, list):
        return [part.strip() for part in raw.split(",") if part.strip()]
    if isinstance(default, dict):
        raise ConfigurationError(f"{name} cannot be set from the environment")
    return raw
