"""The commission ledger: what distributors earn, when it becomes theirs, and what refunds
take back. Entries are only ever added (see :mod:`.models`); balances are their sums.

- :func:`earn`: at payment, each paid line's level-1 and level-2 parts, ``pending``;
- :func:`settle`: once a supplier order was delivered and the return window has passed,
  the commissions of its lines (less what refunds took back) become ``available``: one move
  per distributor and currency for each batch of supplier orders (``flask storefront
  settle``);
- :func:`reverse`: a refund (a supplier's cancellation, an after-sales refund) takes back
  each part in proportion (:func:`.breakdown.refund_reversal`), from ``pending`` before the
  line's supplier order settled and from ``available`` after — which may go negative once
  the money was paid out: later payouts absorb it;
- :func:`move`: between buckets, for payouts.

Every function flushes its own statements and never commits, but :func:`settle`, which
commits each batch through the ``commit`` its caller gives it.
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
from ..db import Commit
from ..orders.models import Order, OrderLine, SupplierOrder
from ..pricing.breakdown import LineParts, refund_reversal, stored_parts
from ..sql import in_values, is_postgresql, table_of
from .models import (
    AVAILABLE,
    BUCKETS,
    EARNED,
    PENDING,
    REVERSED,
    SETTLED,
    CommissionEntry,
)

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
    """The line's four parts as sold, each net of the discounts its holder funded
    (:func:`.breakdown.stored_parts`)."""
    return stored_parts(line)


def reverse(
    session: Session,
    line: OrderLine,
    currency: str,
    refund: int,
    now: datetime,
    *,
    settled: bool,
) -> LineParts:
    """Record that ``refund`` of ``line`` goes back to the consumer: its ``refunded_minor``
    grows and each distributor gives back their proportion (from available if the line's
    supplier order ``settled``, else from pending); what each part gave back.

    The caller holds the line's supplier order locked (``with_for_update``), so a
    concurrent :func:`settle` waits for this refund, or this refund for it. A refund beyond
    what is left of the line is a ``ValueError`` (the caller checks amounts first)."""
    back = refund_reversal(parts_of(line), line.refunded_minor, refund)
    bucket = AVAILABLE if settled else PENDING
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
    """What :func:`settle` did: supplier orders settled, entries written, amounts made
    available per currency."""

    supplier_orders: int = 0
    entries: int = 0
    amounts: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "supplier_orders": self.supplier_orders,
            "entries": self.entries,
            "available": self.amounts,
        }


def settle(
    session: Session, now: datetime, return_window: timedelta, *, commit: Commit
) -> SettleCounts:
    """Make available the commissions of every supplier order delivered at least
    ``return_window`` ago, ending each batch with ``commit``; what it did."""
    counts = SettleCounts()
    cutoff = now - return_window
    batch = SETTLE_BATCH["postgresql" if is_postgresql(session) else "sqlite"]
    due = (
        sa.select(_part.c.id)
        .where(_part.c.settled_at.is_(None), _part.c.delivered_at <= cutoff)
        .order_by(_part.c.delivered_at, _part.c.id)
        .limit(batch)
    )
    mark = (
        sa.update(_part)
        .where(_part.c.id.in_(due), _part.c.settled_at.is_(None))
        .values(settled_at=now)
        .returning(_part.c.id)
    )
    while True:
        ids = list(session.connection().execute(mark).scalars())
        if not ids:
            commit()
            return counts
        for distributor_id, currency, amount in _remaining(session, ids):
            move_id = new_move_id()
            append(
                session,
                [
                    entry(
                        distributor_id, currency, PENDING, -amount, SETTLED, now, move_id=move_id
                    ),
                    entry(
                        distributor_id, currency, AVAILABLE, amount, SETTLED, now, move_id=move_id
                    ),
                ],
            )
            counts.entries += 2
            counts.amounts[currency] = counts.amounts.get(currency, 0) + amount
            signals.send_after_commit(
                session,
                signals.commission_available,
                distributor_id=distributor_id,
                currency=currency,
                amount_minor=amount,
            )
        counts.supplier_orders += len(ids)
        commit()


def _remaining(session: Session, part_ids: Sequence[int]) -> list[tuple[int, str, int]]:
    """``(distributor, currency, amount)``: what each distributor still has of the
    commissions of the lines of supplier orders ``part_ids`` (their shares less the
    proportion refunds took back, as :func:`.split.reversed_parts` rounds it)."""

    def left(share: Any) -> Any:
        # 64-bit arithmetic: a large line's refunded amount times its share exceeds int4.
        refunded = sa.cast(_line.c.refunded_minor, sa.BigInteger) * share
        return share - sa.case(
            (_line.c.amount_minor == 0, 0), else_=refunded // _line.c.amount_minor
        )

    level1 = left(_line.c.level1_minor)
    level2 = left(_line.c.level2_minor)
    in_parts = in_values(session, _line.c.supplier_order_id, part_ids)
    shares = sa.union_all(
        sa.select(
            _line.c.level1_distributor_id.label("who"), _line.c.currency, level1.label("amount")
        ).where(in_parts, _line.c.level1_distributor_id.is_not(None)),
        sa.select(_line.c.level2_distributor_id, _line.c.currency, level2).where(
            in_parts, _line.c.level2_distributor_id.is_not(None)
        ),
    ).subquery()
    total = sa.func.sum(shares.c.amount)
    rows = session.connection().execute(
        sa.select(shares.c.who, shares.c.currency, total)
        .group_by(shares.c.who, shares.c.currency)
        .having(total > 0)
        .order_by(shares.c.who, shares.c.currency)
    )
    return [(int(who), str(currency), int(amount)) for who, currency, amount in rows]


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
