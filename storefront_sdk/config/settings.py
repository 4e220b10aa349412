"""Every ``STOREFRONT_*`` setting (:data:`SETTINGS`): its name, default, meaning and
check, in the order ``docs/configuration.md`` lists them."""

from __future__ import annotations

import os
from collections.abc import Callable

from .checks import (
    Setting,
    binding_policy,
    boolean,
    database_url,
    font_file,
    host_names,
    int_range,
    locale,
    mount_point,
    optional_str,
    payment_methods,
    payment_provider,
    payout_provider,
    public_url,
    rate_limit,
    storage_uri,
    text,
    time_zone,
)


def _default_database_url(instance_path: str) -> str:
    return "sqlite:///" + os.path.join(instance_path, "storefront.sqlite3")


def _default_upload_folder(instance_path: str) -> str:
    return os.path.join(instance_path, "storefront-uploads")


#: Settings whose default depends on the app's instance folder.
INSTANCE_DEFAULTS: dict[str, Callable[[str], str]] = {
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
        database_url,
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
        mount_point,
    ),
    Setting(
        "STOREFRONT_SHOP_PREFIX",
        "/s",
        "Where the shops are mounted: `<prefix>/<slug>/` (with their posters).",
        mount_point,
    ),
    Setting(
        "STOREFRONT_REFERRAL_PREFIX",
        "/r",
        "Where referral links are mounted: `<prefix>/<code>`.",
        mount_point,
    ),
    Setting(
        "STOREFRONT_CONSOLE_PREFIX",
        "/console",
        "Where the distributor console is mounted.",
        mount_point,
    ),
    Setting(
        "STOREFRONT_CONSOLE_SIGNUP",
        True,
        "Whether anyone may open a shop at the console's `join` page; `False` answers `404` "
        "there (distributors are then created with `flask storefront create-distributor`).",
        boolean,
    ),
    Setting(
        "STOREFRONT_ADMIN_PREFIX",
        "/admin",
        "Where the platform admin is mounted.",
        mount_point,
    ),
    Setting(
        "STOREFRONT_ADMIN",
        True,
        "Whether the platform admin is served at all; `False` registers none of its pages.",
        boolean,
    ),
    Setting(
        "STOREFRONT_HOOKS_PREFIX",
        "/hooks",
        "Where payment providers' events are received: `<prefix>/stripe`.",
        mount_point,
    ),
    Setting(
        "STOREFRONT_MAX_REQUEST_BYTES",
        16 * 1024 * 1024,
        "Largest accepted API request body in bytes; larger bodies get `413`.",
        int_range(1024, 1024**3),
    ),
    Setting(
        "STOREFRONT_MAX_FORM_BYTES",
        64 * 1024,
        "Largest accepted body of a shop form (cart, checkout, test payment) in bytes; "
        "larger or endless (chunked) bodies get `413` before they are read further. (The "
        "console takes 256 KiB forms and a 1 MiB logo, the admin 64 KiB.)",
        int_range(1024, 16 * 1024 * 1024),
    ),
    Setting(
        "STOREFRONT_MAX_HOOK_BYTES",
        1024 * 1024,
        "Largest accepted body of a payment provider's event (`/hooks/stripe`) in bytes; "
        "larger or endless (chunked) bodies get `413` before they are read further.",
        int_range(1024, 64 * 1024 * 1024),
    ),
    Setting(
        "STOREFRONT_SUPPLIER_RATE_LIMIT",
        "1200/minute",
        "Requests allowed per supplier API key (`limits` notation, several separated by `;`); "
        "empty disables limiting. Past it: `429` with `Retry-After`.",
        rate_limit,
    ),
    Setting(
        "STOREFRONT_RATE_LIMIT_STORAGE_URI",
        "memory://",
        "Where rate-limit counters live. `memory://` is per process (one-process deployments); "
        "use `redis://host:6379` when several workers serve the API.",
        storage_uri,
    ),
    Setting(
        "STOREFRONT_LOGIN_RATE_LIMIT",
        "10/15 minutes",
        "Sign-in attempts allowed per account (email address) in the console and in the "
        "admin (`limits` notation), counted in the database before the password is checked; "
        "a successful sign-in clears the account's count. Past it the sign-in answers `429` "
        "for the window, doubled at each new lockout up to 24 hours. Empty disables the limit.",
        rate_limit,
    ),
    Setting(
        "STOREFRONT_LOGIN_CLIENT_RATE_LIMIT",
        "100/15 minutes",
        "Failed sign-in attempts allowed per client IP address, apart from the per-account "
        "limit and larger (one office shares an address); successful sign-ins do not count. "
        "Same back-off. Empty disables the limit.",
        rate_limit,
    ),
    Setting(
        "STOREFRONT_JOIN_RATE_LIMIT",
        "10/hour",
        "Sign-ups allowed per client IP address at `/console/join` (`limits` notation); past "
        "it the sign-up answers `429` with `Retry-After`. Empty disables the limit.",
        rate_limit,
    ),
    Setting(
        "STOREFRONT_PASSWORD_RESET_RATE_LIMIT",
        "5/hour",
        "Password-reset requests allowed per email address and, separately, per client IP "
        "address (`limits` notation). Empty disables the limit.",
        rate_limit,
    ),
    Setting(
        "STOREFRONT_SESSION_IDLE_MINUTES",
        240,
        "Minutes without a request after which a console session ends (sign in again).",
        int_range(1, 60 * 24 * 30),
    ),
    Setting(
        "STOREFRONT_ADMIN_SESSION_IDLE_MINUTES",
        30,
        "Minutes without a request after which a platform admin's session ends.",
        int_range(1, 60 * 24),
    ),
    Setting(
        "STOREFRONT_MESSAGE_SENDER",
        "dev",
        "How messages (password-reset links, order emails) are sent: `dev` writes each one as "
        "a file under the instance folder's `outbox/`; `smtp` sends through "
        "`STOREFRONT_SMTP_URL`; or a dotted path `package.module:Class` built with the app's "
        "config and having `send(message)`.",
        text,
    ),
    Setting(
        "STOREFRONT_MESSAGE_FROM",
        "no-reply@localhost",
        "The `From:` address of emails sent by the message sender.",
        text,
    ),
    Setting(
        "STOREFRONT_SMTP_URL",
        None,
        "The SMTP server of the `smtp` sender: `smtp://user:password@host:587` (STARTTLS; "
        "port 25 or `?starttls=no` in the clear) or `smtps://user:password@host:465` (TLS).",
        optional_str,
    ),
    Setting(
        "STOREFRONT_PUBLIC_URL",
        None,
        "The public address of the site (`https://shop.example.com`) for links in messages "
        "(password reset, order emails). Unset: the address the request came to.",
        public_url,
    ),
    Setting(
        "STOREFRONT_UPLOAD_FOLDER",
        None,
        "Folder of uploaded shop logos, served at `/sf-uploads/<name>`. Default: "
        "`storefront-uploads` in the app's instance folder.",
        text,
    ),
    Setting(
        "STOREFRONT_POSTER_FONT",
        None,
        "Font file (TrueType/OpenType, `.ttc` too) the PNG share posters are drawn with; it "
        "needs CJK glyphs for Chinese text. Default: the first found of WenQuanYi Micro Hei "
        "(`/usr/share/fonts/truetype/wqy/wqy-microhei.ttc`, installed by `make system-deps`), "
        "Noto Sans CJK, WenQuanYi Zen Hei, PingFang (macOS), Microsoft YaHei (Windows); "
        "without any, Pillow's own font (no Chinese glyphs).",
        font_file,
    ),
    Setting(
        "STOREFRONT_PAGE_CACHE_SECONDS",
        300,
        "The longest each process keeps what shop pages show (shops, products, listings, "
        "categories). Every committed change to the catalogue or a shop clears it in every "
        "process at once (PostgreSQL `LISTEN`/`NOTIFY`, SQLite `data_version`). The cart, "
        "checkout and a shop's signed-in owner always read fresh. `0` reads the database "
        "every time.",
        int_range(0, 3600),
    ),
    Setting(
        "STOREFRONT_IDEMPOTENCY_TTL_HOURS",
        24,
        "How long `Idempotency-Key`s are remembered (at least 24 h per the API contract).",
        int_range(24, 24 * 365),
    ),
    Setting(
        "STOREFRONT_REQUIRE_SECRET_KEY",
        True,
        "Refuse to start without a strong `SECRET_KEY` unless the app is in debug or "
        "testing mode. Signed cookies (sessions, attribution) depend on it.",
        boolean,
    ),
    Setting(
        "STOREFRONT_PAYMENT_PROVIDER",
        None,
        "`stripe` or `dev`. The library never defaults to `dev`; the example shop picks "
        "`stripe` when `STRIPE_SECRET_KEY` is set, else `dev` in demo mode only.",
        payment_provider,
    ),
    Setting(
        "STOREFRONT_WEBHOOK_ALLOW_HTTP",
        False,
        "Allow `http://` supplier webhook URLs (development and tests only).",
        boolean,
    ),
    Setting(
        "STOREFRONT_WEBHOOK_ALLOW_PRIVATE",
        False,
        "Allow webhook URLs resolving to loopback/private/link-local addresses (dev, tests).",
        boolean,
    ),
    Setting(
        "STOREFRONT_ATTRIBUTION_DAYS",
        30,
        "How long a referral link visit attributes sales to its distributor.",
        int_range(1, 365),
    ),
    Setting(
        "STOREFRONT_RETURN_WINDOW_DAYS",
        7,
        "Commission hold after delivery before it becomes available.",
        int_range(0, 365),
    ),
    Setting(
        "STOREFRONT_COMMISSION_LEVEL1_BP",
        1000,
        "Default level-1 commission in basis points of the retail price (1000 = 10 %).",
        int_range(0, 10000),
    ),
    Setting(
        "STOREFRONT_COMMISSION_LEVEL2_BP",
        200,
        "Default level-2 (recruiter) override in basis points of the retail price.",
        int_range(0, 10000),
    ),
    Setting(
        "STOREFRONT_CUSTOMER_BINDING_DAYS",
        365,
        "How long a customer stays bound to the distributor credited with their first paid "
        "order (later orders credit that distributor whatever link they use); each later "
        "paid order credited to them renews it; `0` binds nobody.",
        int_range(0, 3650),
    ),
    Setting(
        "STOREFRONT_CUSTOMER_BINDING_POLICY",
        "keep",
        "What a bound customer's visit through another distributor's link does: `keep` (the "
        "sale stays with the distributor they are bound to) or `last_click` (that link wins "
        "the sale and the customer is bound to its distributor).",
        binding_policy,
    ),
    Setting(
        "STOREFRONT_STRIPE_PAYMENT_METHODS",
        "card",
        "Comma-separated Stripe `payment_method_types` offered at payment, e.g. "
        "`card,alipay,wechat_pay` (each must be enabled in your Stripe account).",
        payment_methods,
    ),
    Setting(
        "STOREFRONT_ORDER_EXPIRY_MINUTES",
        30,
        "Minutes before an unpaid order expires and releases its stock.",
        int_range(1, 7 * 24 * 60),
    ),
    Setting(
        "STOREFRONT_UNPAID_ORDERS_PER_CLIENT",
        20,
        "Orders awaiting payment one client address may hold at once (each holds its stock "
        "until paid or expired); past it the checkout refuses (`429`) until one is paid or "
        "expires. Behind a proxy, let `ProxyFix` give Flask the client's address. `0` "
        "disables the limit.",
        int_range(0, 10000),
    ),
    Setting(
        "STOREFRONT_UNPAID_ORDERS_PER_CONSUMER",
        5,
        "Orders awaiting payment one consumer (signed in, or a guest by their normalised "
        "contact) may have placed in the last 10 minutes; past it the checkout refuses "
        "(`429`). Paid orders never count. `0` disables the limit.",
        int_range(0, 10000),
    ),
    Setting(
        "STOREFRONT_PAYOUT_PROVIDER",
        "manual",
        "How payouts reach distributors: `manual` (bank transfers, marked paid) or "
        "`stripe_connect` (transfers to their connected accounts).",
        payout_provider,
    ),
    Setting(
        "STOREFRONT_PAYOUT_MINIMUM_MINOR",
        10000,
        "The smallest payout a distributor may ask for, in minor units of its currency.",
        int_range(1, 2**31 - 1),
    ),
    Setting(
        "STOREFRONT_DISTRIBUTOR_APPROVAL",
        False,
        "New distributors' shops wait for the platform's approval in `/admin/` before they sell.",
        boolean,
    ),
    Setting(
        "STOREFRONT_CUSTOM_HOSTS",
        False,
        "Let distributors serve their shop on their own host name, once it is verified (a DNS "
        "TXT record or the platform admin's approval in `/admin/hosts`). Off: the console has "
        "no such field and no request is ever mapped to a shop by its host.",
        boolean,
    ),
    Setting(
        "STOREFRONT_PLATFORM_HOSTS",
        [],
        "The platform's own host names (besides `SERVER_NAME`), which no shop may take; from "
        "the environment, separated by commas.",
        host_names,
    ),
    Setting(
        "STOREFRONT_HSTS_SECONDS",
        365 * 24 * 3600,
        "`max-age` of the `Strict-Transport-Security` header on the library's responses "
        "served over HTTPS (`request.is_secure`; behind a proxy, `ProxyFix` must pass on "
        "`X-Forwarded-Proto`); `0` sends none.",
        int_range(0, 2 * 365 * 24 * 3600),
    ),
    Setting(
        "STOREFRONT_DEMO_MODE",
        False,
        "The app is a demo (`make demo` turns it on): `seed-demo` may create the demo "
        "accounts with their published passwords, and the example shop lists them on its "
        "front page and takes test payments without Stripe keys. Never in production.",
        boolean,
    ),
    Setting(
        "STOREFRONT_DEFAULT_LOCALE",
        "zh-Hans",
        "Language of pages when nothing else decides: no choice of the visitor's (`?lang=`), "
        "no fixed language of the shop's and no supported one in the browser's "
        "`Accept-Language`. `zh-Hans` or `en`.",
        locale,
    ),
    Setting(
        "STOREFRONT_DEFAULT_TIME_ZONE",
        "Asia/Shanghai",
        "IANA time zone of the admin pages, and of every shop that chose none of its own.",
        time_zone,
    ),
    Setting(
        "STOREFRONT_ORDER_REFRESH_SECONDS",
        30,
        "How often a consumer's order page reloads itself while its payment settles or its "
        "parcels are on their way.",
        int_range(1, 3600),
    ),
)
