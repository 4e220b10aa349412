"""The shop's own host name in the console: whether the platform offers it, the names no shop
may take, what the distributor is told when one is refused, and the DNS check.

The platform's own names are ``SERVER_NAME``, ``STOREFRONT_PLATFORM_HOSTS`` and the host this
request came in on (the console's own address is never a shop's).
"""

from __future__ import annotations

from typing import Any

from flask import current_app, request

from ...config import platform_host_names
from ...errors import StorefrontError
from ...shops import hosts
from ...shops.hosts import TxtLookup
from ...shops.models import Shop
from ..pages import gettext as _


def offered() -> bool:
    """Whether distributors may have their own host name here (``STOREFRONT_CUSTOM_HOSTS``)."""
    return bool(current_app.config["STOREFRONT_CUSTOM_HOSTS"])


def reserved_names() -> frozenset[str]:
    """The platform's own host names, this request's among them."""
    here = hosts.normalise_host(request.host.rsplit(":", 1)[0]) if request.host else None
    return platform_host_names(current_app.config) | ({here} if here else set())


def txt_lookup() -> TxtLookup | None:
    """How the platform looks up TXT records (``None``: the admin approves instead)."""
    lookup: TxtLookup | None = current_app.extensions["storefront"].host_txt_lookup
    return lookup


def forget_cached_hosts() -> None:
    """The host-name middleware of this process forgets what it looked up."""
    middleware = current_app.extensions["storefront"].shop_hosts
    if middleware is not None:
        middleware.forget()


def refusal(error: StorefrontError, host: str | None) -> str:
    """What the distributor is told when ``host`` is refused."""
    reason = (error.errors or {}).get("host")
    if reason == "invalid":
        return _("This is not a host name: %(host)s.", host=host)
    if reason == "platform":
        return _(
            "%(host)s is one of the platform's own host names: use a domain of your own.",
            host=host,
        )
    if reason == "taken":
        return _("Another shop already uses the host name %(host)s.", host=host)
    return error.message


def not_offered() -> str:
    """Why a host name is refused when the platform does not offer them."""
    return _("This platform does not serve shops on their own domain names.")


def host_context(shop: Shop) -> dict[str, Any]:
    """What the settings page shows of the shop's own host name."""
    record = hosts.verification_record(shop)
    return {
        "custom_hosts": offered(),
        "host_status": shop.host_status,
        "host_record": record,
        "can_check": txt_lookup() is not None and shop.host_status == "pending",
    }
