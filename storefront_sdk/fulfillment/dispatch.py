"""Draining the outbox: signed webhook deliveries to suppliers, retried (``webhooks.md``).

Any number of dispatchers (``flask storefront dispatch``) may run at once. Each *claims* a
few due events in a short transaction (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so
claimers never wait on each other; SQLite has one writer at a time anyway) by setting a
lease, commits, and only then sends them: no transaction or lock is held during the HTTP
call. While its lease runs no other dispatcher takes the event, so an event is never being
delivered twice at the same time; a dispatcher killed mid-delivery loses nothing, the lease
runs out and another sends it again, under the same event id (at-least-once).

Failures are retried after 1 min, 5 min, 30 min, 2 h, then every 6 h (each ±10 %) until
three days after the event was written; then it is ``failed`` and waits for a person to
re-queue it (:func:`requeue`). Pull works all along.
"""

from __future__ import annotations

import functools
import random
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session
from sqlmodel import col

from ..catalog.models import Supplier
from ..db import Commit
from ..errors import Conflict, NotFound
from ..outbound import DeliveryResult, TransportPolicy, post
from ..sql import table_of
from ..webhooks import sign
from .models import DELIVERED, FAILED, PENDING, SKIPPED, DeliveryAttempt, OutboxEvent

#: Waits before each retry; the last repeats until :data:`RETRY_HORIZON`.
RETRY_DELAYS = (
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=6),
)
#: How long after an event was written it is still retried.
RETRY_HORIZON = timedelta(days=3)
#: How long a claimed event is held by its dispatcher (deliveries time out after 10 s).
LEASE = timedelta(seconds=60)
USER_AGENT = "storefront-sdk-webhooks/1"


def next_attempt(
    attempts: int, now: datetime, jitter: Callable[[], float] = random.random
) -> datetime:
    """When to try again after ``attempts`` failed tries (with ±10 % jitter)."""
    delay = RETRY_DELAYS[min(attempts, len(RETRY_DELAYS)) - 1]
    return now + delay * (0.9 + 0.2 * jitter())


@dataclass
class DispatchCounts:
    delivered: int = 0
    retrying: int = 0
    failed: int = 0
    skipped: int = 0

    @property
    def total(self) -> int:
        return self.delivered + self.retrying + self.failed + self.skipped

    def as_dict(self) -> dict[str, int]:
        return {
            "delivered": self.delivered,
            "retrying": self.retrying,
            "failed": self.failed,
            "skipped": self.skipped,
        }


@dataclass(frozen=True, slots=True)
class Delivery:
    """A claimed event with what sending it needs (read while claiming it)."""

    id: int
    event_id: str
    body: bytes
    attempts: int
    created_at: datetime
    url: str | None
    secret: str | None
    #: This dispatcher's hold on the event (see :func:`_renew`).
    leased_until: datetime


_outbox = table_of(OutboxEvent)
_supplier = table_of(Supplier)
_attempt = table_of(DeliveryAttempt)
_DUE = (
    sa.select(
        _outbox.c.id,
        _outbox.c.event_id,
        _outbox.c.body,
        _outbox.c.attempts,
        _outbox.c.created_at,
        _supplier.c.webhook_url,
        _supplier.c.webhook_secret,
    )
    .join(_supplier, _supplier.c.id == _outbox.c.supplier_id)
    .where(
        _outbox.c.status == PENDING,
        _outbox.c.next_attempt_at <= sa.bindparam("now"),
        sa.or_(_outbox.c.leased_until.is_(None), _outbox.c.leased_until <= sa.bindparam("now")),
    )
    .order_by(_outbox.c.next_attempt_at)
    .limit(sa.bindparam("limit"))
)
_LEASE = (
    sa.update(_outbox)
    .where(_outbox.c.id.in_(sa.bindparam("ids", expanding=True)))
    .values(leased_until=sa.bindparam("until"))
)


def claim(
    session: Session, now: datetime, limit: int, lease: timedelta = LEASE, *, commit: Commit
) -> list[Delivery]:
    """Take up to ``limit`` due events for this dispatcher, with what delivering them
    needs; the leases are committed with ``commit`` before anything is sent."""
    query = _DUE
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True, of=_outbox)
    connection = session.connection()
    until = now + lease
    claimed = [
        Delivery(
            row.id,
            row.event_id,
            row.body.encode(),
            row.attempts,
            row.created_at,
            row.webhook_url,
            row.webhook_secret,
            until,
        )
        for row in connection.execute(query, {"now": now, "limit": limit})
    ]
    if claimed:
        ids = [delivery.id for delivery in claimed]
        connection.execute(_LEASE, {"ids": ids, "until": until})
    commit()
    return claimed


def dispatch_once(
    session: Session,
    policy: TransportPolicy,
    clock: Callable[[], datetime],
    *,
    commit: Commit,
    limit: int = 20,
    lease: timedelta = LEASE,
    pool: Executor | None = None,
) -> DispatchCounts:
    """Claim and deliver one batch of due events (at once, in ``pool``'s threads, if one
    is given); returns what became of them. The claim is committed with ``commit``; each
    outcome, as soon as it is known, in a short transaction of its own on the engine
    (deliveries run in threads, each with its own connection)."""
    engine = session.get_bind()
    assert isinstance(engine, sa.Engine)
    claimed = claim(session, clock(), limit, lease, commit=commit)
    deliver = functools.partial(_deliver, engine, policy, clock, lease)
    outcomes = list(pool.map(deliver, claimed) if pool is not None else map(deliver, claimed))
    counts = DispatchCounts()
    for outcome in outcomes:
        if outcome is not None:
            setattr(counts, outcome, getattr(counts, outcome) + 1)
    return counts


_OUTCOMES = {DELIVERED: "delivered", FAILED: "failed", PENDING: "retrying", SKIPPED: "skipped"}


def _deliver(
    engine: sa.Engine,
    policy: TransportPolicy,
    clock: Callable[[], datetime],
    lease: timedelta,
    claimed: Delivery,
) -> str | None:
    """Send one claimed event and record the outcome: which :class:`DispatchCounts` it
    adds to (``None``: another dispatcher holds it now). No transaction is open during
    the HTTP call."""
    delivery = _renew(engine, claimed, clock(), lease)
    if delivery is None:
        return None
    if not delivery.url or not delivery.secret:
        _finish(engine, delivery, clock(), None, SKIPPED)
        return _OUTCOMES[SKIPPED]
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "Storefront-Event-Id": delivery.event_id,
        "Storefront-Signature": sign(delivery.body, delivery.secret, int(clock().timestamp())),
    }
    result = post(delivery.url, delivery.body, headers, policy)
    now = clock()
    if result.ok:
        status = DELIVERED
    elif now - delivery.created_at >= RETRY_HORIZON:
        status = FAILED
    else:
        status = PENDING
    _finish(engine, delivery, now, (delivery.url, result), status)
    return _OUTCOMES[status]


_RENEW = (
    sa.update(_outbox)
    .where(_outbox.c.id == sa.bindparam("event"), _outbox.c.leased_until == sa.bindparam("held"))
    .values(leased_until=sa.bindparam("until"))
)


def _renew(
    engine: sa.Engine, delivery: Delivery, now: datetime, lease: timedelta
) -> Delivery | None:
    """``delivery`` held for a whole ``lease`` from ``now`` (its delivery is about to
    start), or ``None`` if its hold ran out while it waited and another dispatcher took
    it (it is that one's to send)."""
    until = now + lease
    with engine.begin() as connection:
        renewed = connection.execute(
            _RENEW, {"event": delivery.id, "held": delivery.leased_until, "until": until}
        )
    return replace(delivery, leased_until=until) if renewed.rowcount == 1 else None


def _finish(
    engine: sa.Engine,
    delivery: Delivery,
    now: datetime,
    attempt: tuple[str, DeliveryResult] | None,
    status: str,
) -> None:
    """Record what became of ``delivery`` (its lease ends) and the attempt, if one was
    made, in one short transaction."""
    values: dict[str, Any] = {"status": status, "leased_until": None}
    if status == DELIVERED:
        values["delivered_at"] = now
    with engine.begin() as connection:
        if attempt is not None:
            url, result = attempt
            error = _error_of(result)
            attempts = delivery.attempts + 1
            values |= {
                "attempts": attempts,
                "last_attempt_at": now,
                "last_status_code": result.status_code,
                "last_error": error,
            }
            if status == PENDING:
                values["next_attempt_at"] = next_attempt(attempts, now)
            connection.execute(
                sa.insert(_attempt),
                {
                    "outbox_event_id": delivery.id,
                    "url": url,
                    "status_code": result.status_code,
                    "error": error,
                    "duration_ms": result.duration_ms,
                    "response_excerpt": result.response_excerpt[:500],
                    "attempted_at": now,
                },
            )
        # (Only while this dispatcher holds the event: never over another's outcome.)
        connection.execute(
            sa.update(_outbox)
            .where(_outbox.c.id == delivery.id, _outbox.c.leased_until == delivery.leased_until)
            .values(values)
        )


def _error_of(result: DeliveryResult) -> str | None:
    if result.error is not None:
        return result.error[:500]
    if not result.ok:
        return f"HTTP {result.status_code}"
    return None


def requeue(session: Session, supplier_id: int | None, event_id: str, now: datetime) -> OutboxEvent:
    """Send a ``failed`` (or ``skipped``) event again now, with a fresh retry horizon;
    ``supplier_id`` scopes the lookup (``None``: the platform admin)."""
    query = sa.select(OutboxEvent).where(col(OutboxEvent.event_id) == event_id)
    if supplier_id is not None:
        query = query.where(col(OutboxEvent.supplier_id) == supplier_id)
    event = session.scalars(query.with_for_update()).first()
    if event is None:
        raise NotFound(f"no delivery {event_id!r}")
    if event.status == PENDING:
        event.next_attempt_at = now
    elif event.status in (FAILED, SKIPPED, DELIVERED):
        event.status = PENDING
        event.next_attempt_at = now
        event.created_at = now  # the retry horizon runs from the re-queueing
    else:  # pragma: no cover - the CHECK constraint knows no other status
        raise Conflict(f"cannot retry a delivery that is {event.status}")
    session.add(event)
    session.flush()
    return event


def recent_deliveries(
    session: Session, supplier_id: int, *, limit: int, cursor: int | None
) -> tuple[list[OutboxEvent], int | None]:
    """The supplier's events, newest first, and the cursor of the next page."""
    query = (
        sa.select(OutboxEvent)
        .where(col(OutboxEvent.supplier_id) == supplier_id)
        .order_by(col(OutboxEvent.id).desc())
        .limit(limit + 1)
    )
    if cursor is not None:
        query = query.where(col(OutboxEvent.id) < cursor)
    found = list(session.scalars(query))
    page = found[:limit]
    return page, (page[-1].id if len(found) > limit and page else None)
