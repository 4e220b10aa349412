"""Every ``STOREFRONT_*`` setting: its default, its meaning and its validation.

:data:`SETTINGS` is the single source of truth; ``docs/configuration.md`` mirrors it and a
test keeps the two in step. :func:`apply_defaults` fills the app's config (``setdefault``
semantics: the host app's values win) and :func:`validate` refuses bad values at
``init_app`` with a message naming the key.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Mapping
from typing import Any

from ..errors import ConfigurationError
from ..outbound import TransportPolicy
from .checks import STRIPE_PAYMENT_METHODS, Setting
from .settings import INSTANCE_DEFAULTS, SETTINGS

__all__ = [
    "SETTINGS",
    "SETTINGS_BY_NAME",
    "STRIPE_PAYMENT_METHODS",
    "Setting",
    "apply_defaults",
    "from_environ",
    "platform_host_names",
    "transport_policy",
    "validate",
]


def platform_host_names(config: Mapping[str, Any]) -> frozenset[str]:
    """The platform's own host names under ``config`` (``SERVER_NAME`` without its port and
    ``STOREFRONT_PLATFORM_HOSTS``), lower-case: never a shop's own host."""
    names = [*config["STOREFRONT_PLATFORM_HOSTS"], config.get("SERVER_NAME") or ""]
    return frozenset(
        found for found in (n.strip().lower().rsplit(":", 1)[0].rstrip(".") for n in names) if found
    )


def transport_policy(config: Mapping[str, Any]) -> TransportPolicy:
    """How webhook deliveries may reach supplier URLs under ``config``."""
    return TransportPolicy(
        allow_http=config["STOREFRONT_WEBHOOK_ALLOW_HTTP"],
        allow_private=config["STOREFRONT_WEBHOOK_ALLOW_PRIVATE"],
    )


#: Settings by name.
SETTINGS_BY_NAME: dict[str, Setting] = {s.name: s for s in SETTINGS}

_WEAK_SECRETS = {"", "dev", "secret", "changeme", "change-me"}


def apply_defaults(config: dict[str, Any], instance_path: str) -> None:
    """Fill every missing ``STOREFRONT_*`` key of ``config`` with its default."""
    for setting in SETTINGS:
        default = copy.deepcopy(setting.default)  # no app shares a mutable default
        if default is None and setting.name in INSTANCE_DEFAULTS:
            default = INSTANCE_DEFAULTS[setting.name](instance_path)
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
