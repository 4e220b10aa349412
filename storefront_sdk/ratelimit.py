"""Per-client request limits on a shared counter store (the ``limits`` library).

``memory://`` counts per process — right for the embedded single-process default; several
workers must point ``STOREFRONT_RATE_LIMIT_STORAGE_URI`` at Redis or Memcached.
"""

from __future__ import annotations

import math
import time

from limits import RateLimitItem, parse_many
from limits.errors import ConfigurationError as LimitsConfigurationError
from limits.storage import storage_from_string
from limits.strategies import SlidingWindowCounterRateLimiter

from .errors import ConfigurationError


class RateLimiter:
    """Limits such as ``"1200/minute"`` applied per key (e.g. per API key id)."""

    def __init__(self, limits: str | None, storage_uri: str) -> None:
        self.items: list[RateLimitItem] = parse_many(limits) if limits else []
        try:
            storage = storage_from_string(storage_uri)
        except (LimitsConfigurationError, ValueError) as exc:
            # e.g. redis:// without the redis client installed (pip install "limits[redis]")
            raise ConfigurationError(
                f"STOREFRONT_RATE_LIMIT_STORAGE_URI {storage_uri!r} cannot be used: {exc}"
            ) from exc
        self.strategy = SlidingWindowCounterRateLimiter(storage)

    def hit(self, namespace: str, key: str) -> int | None:
        """Count one request; ``None`` if allowed, else the seconds to wait (``Retry-After``)."""
        for item in self.items:
            if not self.strategy.hit(item, namespace, key):
                reset_at, _ = self.strategy.get_window_stats(item, namespace, key)
                return max(1, math.ceil(reset_at - time.time()))
        return None
