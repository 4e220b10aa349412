"""The commission ledger: what distributors earn, when it becomes theirs, and what refunds
take back. Entries are only ever added (see :mod:`.models`); balances are their sums.

- :func:`earn`: at payment, each paid line's level-1 and level-2 parts, ``pending``;
- :func:`settle`: once a line's supplier order was delivered and the return window has
  passed, its pending commissions become ``available`` (``flask storefront settle``);
- :func:`reverse`: a refund (a supplier's cancellation, an after-sales refund) takes back
  each part in proportion (:func:`.split.refund_reversal`), from ``pending`` before the line
  settled and from ``available`` after — which may go negative once the money was paid out:
  later payouts absorb it;
- :func:`move`: between buckets, for payouts.

Every function flushes its own statements and never commits.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from .. import signals
from ..orders.models import Order, OrderLine, SupplierOrder
from ..sql import chunks, is_postgresql, table_of
from .models import (
    AVAILABLE,
    BUCKETS,
    EARNED,
    PENDING,
    REVERSED,
    SETTLED,
    CommissionEntry,
)
from .split import LineParts, refund_reversal

_entry = table_of(CommissionEntry)
_line = table_of(OrderLine)
_order = table_of(Order)
_part = table_of(SupplierOrder)
_INSERT = sa.insert(_entry)
#: Lines settled per transaction by :func:`settle` (SQLite binds at most 32,766 values).
SETTLE_BATCH = {"postgresql": 50_000, "sqlite": 5_000}


@dataclass
class Balances:
    """A distributor's money in one currency, by bucket (sums of ledger entries)."""

    currency: str
    pending: int = 0
    available: int = 0
    payout: int = 0
    paid: int = 0

    @property
    def owed(self) -> int:
        """What the platform still owes (pending, available and asked for)."""
        return self.pending + self.available + self.payout


def new_move_id() -> str:
    """The id shared by the two entries of one move between buckets."""
    return f"mv_{secrets.token_urlsafe(15)}"


def entry(
    distributor_id: int,
    currency: str,
    bucket: str,
    amount: int,
    kind: str,
    now: datetime,
    **links: Any,
) -> dict[str, Any]:
    """A ledger row (``links``: ``order_id``, ``order_line_id``, ``level``, ``payout_id``,
    ``move_id``)."""
    return {
        "distributor_id": distributor_id,
        "currency": currency,
        "bucket": bucket,
        "amount_minor": amount,
        "kind": kind,
        "move_id": links.get("move_id"),
        "order_id": links.get("order_id"),
        "order_line_id": links.get("order_line_id"),
        "level": links.get("level"),
        "payout_id": links.get("payout_id"),
        "created_at": now,
    }


def append(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Write ledger rows (one statement)."""
    if rows:
        session.connection().execute(_INSERT, list(rows))


def earn(
    session: Session, order_id: int, currency: str, lines: Iterable[Any], now: datetime
) -> int:
    """Pending entries for the commissions of a paid order's ``lines`` (rows or models
    with their ``level*`` columns); how many were written."""
    rows = []
    for line in lines:
        for level, distributor_id, amount in (
            (1, line.level1_distributor_id, line.level1_minor),
            (2, line.level2_distributor_id, line.level2_minor),
        ):
            if distributor_id is not None and amount > 0:
                rows.append(
                    entry(
                        distributor_id,
                        currency,
                        PENDING,
                        amount,
                        EARNED,
                        now,
                        order_id=order_id,
                        order_line_id=line.id,
                        level=level,
                    )
                )
    append(session, rows)
    return len(rows)


def parts_of(line: OrderLine) -> LineParts:
    """The line's four parts as sold."""
    return LineParts(
        line.supply_price_minor * line.quantity,
        line.level1_minor,
        line.level2_minor,
        line.platform_minor,
    )


def reverse(
    session: Session, line: OrderLine, currency: str, refund: int, now: datetime
) -> LineParts:
    """Record that ``refund`` of ``line`` goes back to the consumer: its ``refunded_minor``
    grows and each distributor gives back their proportion; what each part gave back.

    ``line`` must be locked (loaded ``with_for_update``), so a concurrent :func:`settle`
    waits and then sees the reversal; a refund beyond what is left of the line is a
    ``ValueError`` (the caller checks amounts first)."""
    back = refund_reversal(parts_of(line), line.refunded_minor, refund)
    bucket = PENDING if line.settled_at is None else AVAILABLE
    rows = [
        entry(
            distributor_id,
            currency,
            bucket,
            -amount,
            REVERSED,
            now,
            order_id=line.order_id,
            order_line_id=line.id,
            level=level,
        )
        for level, distributor_id, amount in (
            (1, line.level1_distributor_id, back.level1),
            (2, line.level2_distributor_id, back.level2),
        )
        if distributor_id is not None and amount > 0
    ]
    line.refunded_minor += refund
    session.add(line)
    session.flush()
    append(session, rows)
    return back


@dataclass
class SettleCounts:
    """What :func:`settle` did."""

    lines: int = 0
    entries: int = 0
    amounts: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"lines": self.lines, "entries": self.entries, "available": self.amounts}


def settle(session: Session, now: datetime, return_window: timedelta) -> SettleCounts:
    """Make available the pending commissions of every line whose supplier order was
    delivered at least ``return_window`` ago, committing each batch of lines; counts."""
    counts = SettleCounts()
    cutoff = now - return_window
    batch = SETTLE_BATCH["postgresql" if is_postgresql(session) else "sqlite"]
    while True:
        due = (
            sa.select(_line.c.id)
            .join(_part, _part.c.id == _line.c.supplier_order_id)
            .where(_line.c.settled_at.is_(None), _part.c.delivered_at <= cutoff)
            .limit(batch)
            .scalar_subquery()
        )
        ids = list(
            session.connection()
            .execute(
                sa.update(_line)
                .where(_line.c.id.in_(due), _line.c.settled_at.is_(None))
                .values(settled_at=now)
                .returning(_line.c.id)
            )
            .scalars()
        )
        if not ids:
            session.commit()
            return counts
        released: dict[tuple[int, str], int] = {}
        for part in chunks(sorted(ids), batch):
            _release(session, part, now, counts, released)
        for (distributor_id, currency), amount in released.items():
            signals.send_after_commit(
                session,
                signals.commission_available,
                distributor_id=distributor_id,
                currency=currency,
                amount_minor=amount,
            )
        counts.lines += len(ids)
        session.commit()


def _release(
    session: Session,
    line_ids: Sequence[int],
    now: datetime,
    counts: SettleCounts,
    released: dict[tuple[int, str], int],
) -> None:
    """Move the pending balance of each ``(distributor, line, level)`` of ``line_ids`` to
    available: two entries per move, in one statement."""
    pending = (
        sa.select(
            _entry.c.distributor_id,
            _entry.c.currency,
            _entry.c.order_id,
            _entry.c.order_line_id,
            _entry.c.level,
            sa.func.sum(_entry.c.amount_minor).label("amount"),
        )
        .where(_entry.c.order_line_id.in_(line_ids), _entry.c.bucket == PENDING)
        .group_by(
            _entry.c.distributor_id,
            _entry.c.currency,
            _entry.c.order_id,
            _entry.c.order_line_id,
            _entry.c.level,
        )
        .having(sa.func.sum(_entry.c.amount_minor) != 0)
    )
    rows: list[dict[str, Any]] = []
    for found in session.connection().execute(pending):
        move = f"settle_{found.order_line_id}_{found.level}_{found.distributor_id}"
        links = {
            "move_id": move,
            "order_id": found.order_id,
            "order_line_id": found.order_line_id,
            "level": found.level,
        }
        for bucket, sign in ((PENDING, -1), (AVAILABLE, 1)):
            rows.append(
                entry(
                    found.distributor_id,
                    found.currency,
                    bucket,
                    sign * found.amount,
                    SETTLED,
                    now,
                    **links,
                )
            )
        counts.amounts[found.currency] = counts.amounts.get(found.currency, 0) + found.amount
        key = (found.distributor_id, found.currency)
        released[key] = released.get(key, 0) + found.amount
    append(session, rows)
    counts.entries += len(rows)


def balances(session: Session, distributor_id: int) -> list[Balances]:
    """The distributor's balances, one per currency they earned in, by currency."""
    found: dict[str, Balances] = {}
    query = (
        sa.select(_entry.c.currency, _entry.c.bucket, sa.func.sum(_entry.c.amount_minor))
        .where(_entry.c.distributor_id == distributor_id)
        .group_by(_entry.c.currency, _entry.c.bucket)
    )
    for currency, bucket, amount in session.execute(query):
        assert bucket in BUCKETS
        setattr(found.setdefault(currency, Balances(currency)), bucket, int(amount))
    return [found[currency] for currency in sorted(found)]


def balance(session: Session, distributor_id: int, currency: str, bucket: str) -> int:
    """One bucket of the distributor's balance in ``currency``."""
    return int(
        session.scalar(
            sa.select(sa.func.coalesce(sa.func.sum(_entry.c.amount_minor), 0)).where(
                _entry.c.distributor_id == distributor_id,
                _entry.c.currency == currency,
                _entry.c.bucket == bucket,
            )
        )
        or 0
    )


def move(
    session: Session,
    distributor_id: int,
    currency: str,
    amount: int,
    source: str,
    target: str,
    kind: str,
    now: datetime,
    *,
    payout_id: int | None = None,
) -> str:
    """Move ``amount`` from bucket ``source`` to ``target`` (two entries); the move id."""
    move_id = new_move_id()
    links = {"move_id": move_id, "payout_id": payout_id}
    append(
        session,
        [
            entry(distributor_id, currency, source, -amount, kind, now, **links),
            entry(distributor_id, currency, target, amount, kind, now, **links),
        ],
    )
    return move_id
