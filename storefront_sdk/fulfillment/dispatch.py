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

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session
from sqlmodel import col

from ..catalog.models import Supplier
from ..errors import Conflict, NotFound
from ..webhooks import sign
from .models import DELIVERED, FAILED, PENDING, SKIPPED, DeliveryAttempt, OutboxEvent
from .transport import DeliveryResult, TransportPolicy, post

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


def claim(session: Session, now: datetime, limit: int, lease: timedelta = LEASE) -> list[int]:
    """Take up to ``limit`` due events for this dispatcher (committed)."""
    query = (
        sa.select(col(OutboxEvent.id))
        .where(
            col(OutboxEvent.status) == PENDING,
            col(OutboxEvent.next_attempt_at) <= now,
            sa.or_(col(OutboxEvent.leased_until).is_(None), col(OutboxEvent.leased_until) <= now),
        )
        .order_by(col(OutboxEvent.next_attempt_at))
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    ids: list[int] = list(session.scalars(query))
    if ids:
        session.execute(
            sa.update(OutboxEvent)
            .where(col(OutboxEvent.id).in_(ids))
            .values(leased_until=now + lease)
        )
    session.commit()
    return ids


def dispatch_once(
    session: Session,
    policy: TransportPolicy,
    clock: Callable[[], datetime],
    *,
    limit: int = 20,
    lease: timedelta = LEASE,
) -> DispatchCounts:
    """Claim and deliver one batch of due events; returns what became of them."""
    counts = DispatchCounts()
    for event_id in claim(session, clock(), limit, lease):
        event = session.get_one(OutboxEvent, event_id, populate_existing=True)
        supplier = session.get_one(Supplier, event.supplier_id, populate_existing=True)
        # What the delivery needs, read now: no transaction (on SQLite, no write lock) may
        # stay open during the HTTP call, and rolling back expires the loaded rows.
        url, secret, public_id = supplier.webhook_url, supplier.webhook_secret, event.event_id
        body, created_at = event.body.encode(), event.created_at
        session.rollback()
        if not url or not secret:
            _finish(session, event_id, clock(), None, SKIPPED)
            counts.skipped += 1
            continue
        headers = {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            "Storefront-Event-Id": public_id,
            "Storefront-Signature": sign(body, secret, int(clock().timestamp())),
        }
        result = post(url, body, headers, policy)
        now = clock()
        if result.ok:
            status = DELIVERED
            counts.delivered += 1
        elif created_at is not None and now - created_at >= RETRY_HORIZON:
            status = FAILED
            counts.failed += 1
        else:
            status = PENDING
            counts.retrying += 1
        _finish(session, event_id, now, (url, result), status)
    return counts


def _finish(
    session: Session,
    event_id: int,
    now: datetime,
    attempt: tuple[str, DeliveryResult] | None,
    status: str,
) -> None:
    event = session.get_one(OutboxEvent, event_id, with_for_update=True, populate_existing=True)
    event.status = status
    event.leased_until = None
    if attempt is not None:
        url, result = attempt
        event.attempts += 1
        event.last_attempt_at = now
        event.last_status_code = result.status_code
        event.last_error = _error_of(result)
        session.add(
            DeliveryAttempt(
                outbox_event_id=event_id,
                url=url,
                status_code=result.status_code,
                error=event.last_error,
                duration_ms=result.duration_ms,
                response_excerpt=result.response_excerpt[:500],
                attempted_at=now,
            )
        )
    if status == DELIVERED:
        event.delivered_at = now
    elif status == PENDING:
        event.next_attempt_at = next_attempt(event.attempts, now)
    session.add(event)
    session.commit()


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
