"""What a setting is (:class:`Setting`) and the checks of its values, each raising
:class:`~storefront_sdk.errors.ConfigurationError` naming the key."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from ..errors import ConfigurationError

Check = Callable[[str, Any], None]


@dataclass(frozen=True, slots=True)
class Setting:
    """One configuration key: name, default (callable defaults get the app), meaning, check."""

    name: str
    default: Any
    doc: str
    check: Check | None = None


def int_range(low: int, high: int) -> Check:
    def check(name: str, value: Any) -> None:
        if type(value) is not int or not low <= value <= high:
            raise ConfigurationError(
                f"{name} must be an integer from {low} to {high}, got {value!r}"
            )

    return check


def boolean(name: str, value: Any) -> None:
    if not isinstance(value, bool):
        raise ConfigurationError(f"{name} must be true or false, got {value!r}")


def text(name: str, value: Any) -> None:
    if not isinstance(value, str) or not value:
        raise ConfigurationError(f"{name} must be a non-empty string, got {value!r}")


def host_names(name: str, value: Any) -> None:
    names = value if isinstance(value, list | tuple) else None
    if names is None or not all(isinstance(n, str) and n and " " not in n for n in names):
        raise ConfigurationError(
            f"{name} must be a list of host names like ['shop.example.com'], got {value!r}"
        )


def font_file(name: str, value: Any) -> None:
    if value is None or value == "":
        return
    if not isinstance(value, str) or not os.path.isfile(value):
        raise ConfigurationError(f"{name} must be the path of a font file, got {value!r}")


def optional_str(name: str, value: Any) -> None:
    if value is not None:
        text(name, value)


def public_url(name: str, value: Any) -> None:
    if value is None:
        return
    text(name, value)
    if not value.startswith(("https://", "http://")) or value.count("/") > 2:
        raise ConfigurationError(f"{name} must look like https://host (no path), got {value!r}")


def database_url(name: str, value: Any) -> None:
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


def api_prefix(name: str, value: Any) -> None:
    text(name, value)
    if not value.startswith("/") or value.endswith("/") or " " in value:
        raise ConfigurationError(f"{name} must start with '/' and not end with '/', got {value!r}")


def rate_limit(name: str, value: Any) -> None:
    from limits import parse_many

    if value in (None, ""):
        return
    try:
        parse_many(value)
    except ValueError as exc:
        raise ConfigurationError(f"{name} must look like '600/minute', got {value!r}") from exc


def storage_uri(name: str, value: Any) -> None:
    text(name, value)
    if "://" not in value:
        raise ConfigurationError(f"{name} must be a limits storage URI such as memory://")


def payment_provider(name: str, value: Any) -> None:
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


def payment_methods(name: str, value: Any) -> None:
    text(name, value)
    methods = [m.strip() for m in value.split(",")]
    unknown = [m for m in methods if m not in STRIPE_PAYMENT_METHODS]
    if unknown or len(set(methods)) != len(methods):
        raise ConfigurationError(
            f"{name} must list Stripe payment method types once each, from "
            f"{', '.join(sorted(STRIPE_PAYMENT_METHODS))} (e.g. 'card,alipay'), got {value!r}"
        )


def mount_point(name: str, value: Any) -> None:
    api_prefix(name, value)
    if any(not part or part in (".", "..") for part in value[1:].split("/")):
        raise ConfigurationError(f"{name} must be a path like '/shop', got {value!r}")


def payout_provider(name: str, value: Any) -> None:
    if value not in ("manual", "stripe_connect"):
        raise ConfigurationError(f"{name} must be 'manual' or 'stripe_connect', got {value!r}")


def binding_policy(name: str, value: Any) -> None:
    if value not in ("keep", "last_click"):
        raise ConfigurationError(f"{name} must be 'keep' or 'last_click', got {value!r}")


def locale(name: str, value: Any) -> None:
    from ..i18n import SUPPORTED

    if value not in SUPPORTED:
        raise ConfigurationError(f"{name} must be one of {', '.join(SUPPORTED)}, got {value!r}")


def time_zone(name: str, value: Any) -> None:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise ConfigurationError(
            f"{name} must be an IANA time zone such as 'Asia/Shanghai', got {value!r}"
        ) from None
