"""Request limits: the supplier API's per key on a shared counter store (the ``limits``
library), and attempts at sign-in, sign-up and password reset counted in the database.

``memory://`` counts per process — right for the embedded single-process default; several
workers must point ``STOREFRONT_RATE_LIMIT_STORAGE_URI`` at Redis or Memcached.

Attempts (:class:`AttemptCounter`) are counted in the database instead, by one atomic
``INSERT ... ON CONFLICT DO UPDATE ... RETURNING`` per key and window before the attempt is
checked: parallel requests, gunicorn workers and machines share one count, and no more than
the limit are ever checked.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from limits import RateLimitItem, parse_many
from limits.errors import ConfigurationError as LimitsConfigurationError
from limits.storage import storage_from_string
from limits.strategies import SlidingWindowCounterRateLimiter
from sqlalchemy.orm import Session
from sqlmodel import Field, SQLModel

from .db import UTCDateTime
from .errors import ConfigurationError
from .sql import insert_for, table_of


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


#: The longest an account or a client is refused after too many attempts.
MAX_BLOCK = timedelta(hours=24)


@dataclass(frozen=True, slots=True)
class Limit:
    """At most ``attempts`` per ``window`` (the first item of a ``limits`` notation)."""

    attempts: int
    window: timedelta

    @classmethod
    def parse(cls, notation: str | None) -> Limit | None:
        """``"10/15 minutes"`` as a :class:`Limit`; ``None`` when empty (no limit)."""
        if not notation:
            return None
        item = parse_many(notation)[0]
        return cls(item.amount, timedelta(seconds=item.get_expiry()))


class AttemptCounter(SQLModel, table=True):
    """Attempts of one key (an account, a client address) at one door (the console's
    sign-in, the admin's, sign-up, password reset) in the current window, and how long
    the key is refused after the limit (doubling with each ``strike``, up to
    :data:`MAX_BLOCK`)."""

    __tablename__ = "sf_attempt_counter"

    door: str = Field(sa_column=sa.Column(sa.String(32), primary_key=True))
    #: ``account:<sha256 of the email>`` or ``client:<address>``: no email is stored.
    key: str = Field(sa_column=sa.Column(sa.String(80), primary_key=True))
    attempts: int = Field(default=0)
    window_start: datetime = Field(sa_column=sa.Column(UTCDateTime(), nullable=False))
    blocked_until: datetime | None = Field(
        default=None, sa_column=sa.Column(UTCDateTime(), nullable=True)
    )
    strikes: int = Field(default=0)


def count_attempt(session: Session, door: str, key: str, limit: Limit, now: datetime) -> int | None:
    """Counts one attempt of ``key`` at ``door`` in one atomic upsert, *before* the attempt
    is checked: ``None`` if it may go ahead, else the seconds to wait. Of any number of
    parallel attempts exactly ``limit.attempts`` per window go ahead; the first refused one
    blocks the key for the window, doubled at each strike (up to :data:`MAX_BLOCK`)."""
    attempts, window_start, blocked_until, strikes = _upsert(session, door, key, limit, now)
    if blocked_until is not None and blocked_until > now:
        return _seconds(blocked_until - now)
    if attempts <= limit.attempts:
        return None
    if attempts == limit.attempts + 1:  # exactly one attempt crosses the limit
        block = min(limit.window * 2 ** min(strikes, 16), MAX_BLOCK)  # no overflow
        session.execute(
            sa.update(_table())
            .where(_table().c.door == door, _table().c.key == key)
            .values(blocked_until=now + block, strikes=_table().c.strikes + 1)
        )
        return _seconds(block)
    return _seconds(window_start + limit.window - now)


def forgive(session: Session, door: str, key: str) -> None:
    """Forgets ``key``'s attempts and strikes at ``door`` (it signed in)."""
    table = _table()
    session.execute(sa.delete(table).where(table.c.door == door, table.c.key == key))


def give_back(session: Session, door: str, key: str) -> None:
    """Takes back one counted attempt of ``key`` (it succeeded: a client's successful
    sign-ins never count against the others behind the same address)."""
    table = _table()
    session.execute(
        sa.update(table)
        .where(table.c.door == door, table.c.key == key, table.c.attempts > 0)
        .where(table.c.blocked_until.is_(None))
        .values(attempts=table.c.attempts - 1)
    )


def _table() -> sa.Table:
    return table_of(AttemptCounter)


def _upsert(
    session: Session, door: str, key: str, limit: Limit, now: datetime
) -> tuple[int, datetime, datetime | None, int]:
    table = _table()
    c = table.c
    at_now = sa.literal(now, UTCDateTime())
    fresh = sa.or_(
        c.window_start <= sa.literal(now - limit.window, UTCDateTime()),
        sa.and_(c.blocked_until.is_not(None), c.blocked_until <= at_now),
    )
    insert = insert_for(session, table).values(
        door=door, key=key, attempts=1, window_start=now, blocked_until=None, strikes=0
    )
    statement = insert.on_conflict_do_update(
        index_elements=[c.door, c.key],
        set_={
            "attempts": sa.case((fresh, 1), else_=c.attempts + 1),
            "window_start": sa.case((fresh, at_now), else_=c.window_start),
            "blocked_until": sa.case((fresh, sa.null()), else_=c.blocked_until),
        },
    ).returning(c.attempts, c.window_start, c.blocked_until, c.strikes)
    row = session.execute(statement).one()
    return int(row[0]), row[1], row[2], int(row[3])


def _seconds(wait: timedelta) -> int:
    return max(1, math.ceil(wait.total_seconds()))
