"""What a distributor's dashboard shows: sales and commissions per day, the team's sales,
the ledger's latest entries. Every query is scoped to the one distributor."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..orders.models import Order, OrderLine
from ..shops.models import Distributor, Shop
from ..sql import table_of
from .models import CommissionEntry

_line = table_of(OrderLine).c
_order = table_of(Order).c
_entry = table_of(CommissionEntry).c


@dataclass(frozen=True, slots=True)
class Day:
    """One day of a distributor's sales (what sold in their name) and commissions (both
    levels, as earned at payment), in one currency."""

    day: date
    sales: int
    commission: int


def daily(
    session: Session, distributor_id: int, currency: str, until: datetime, days: int = 30
) -> list[Day]:
    """The ``days`` days up to ``until`` (UTC), oldest first, every day present."""
    start = (until - timedelta(days=days - 1)).replace(hour=0, minute=0, second=0, microsecond=0)
    mine = sa.or_(
        _line.level1_distributor_id == distributor_id,
        _line.level2_distributor_id == distributor_id,
    )
    rows = session.execute(
        sa.select(
            _order.paid_at,
            _line.amount_minor,
            _line.level1_distributor_id,
            _line.level1_minor,
            _line.level2_minor,
        )
        .join(table_of(Order), _order.id == _line.order_id)
        .where(mine, _order.currency == currency, _order.paid_at >= start, _order.paid_at <= until)
    )
    sales: dict[date, int] = {}
    earned: dict[date, int] = {}
    for paid_at, amount, level1_to, level1, level2 in rows:
        day = paid_at.date()
        if level1_to == distributor_id:
            sales[day] = sales.get(day, 0) + amount
            earned[day] = earned.get(day, 0) + level1
        else:
            earned[day] = earned.get(day, 0) + level2
    first = start.date()
    return [
        Day(day, sales.get(day, 0), earned.get(day, 0))
        for day in (first + timedelta(days=n) for n in range(days))
    ]


@dataclass(frozen=True, slots=True)
class Recruit:
    """A recruit's sales since a date and the override they earned their recruiter."""

    distributor_id: int
    name: str
    shop_name: str
    currency: str
    sales: int
    override: int


def team(session: Session, distributor_id: int, since: datetime, limit: int = 50) -> list[Recruit]:
    """The recruits who sold since ``since``, best first (at most ``limit``)."""
    distributor, shop = table_of(Distributor).c, table_of(Shop).c
    rows = session.execute(
        sa.select(
            distributor.id,
            distributor.name,
            shop.name,
            _order.currency,
            sa.func.sum(_line.amount_minor),
            sa.func.sum(_line.level2_minor),
        )
        .select_from(table_of(OrderLine))
        .join(table_of(Order), _order.id == _line.order_id)
        .join(table_of(Distributor), distributor.id == _line.level1_distributor_id)
        .join(table_of(Shop), shop.distributor_id == distributor.id)
        .where(
            _line.level2_distributor_id == distributor_id,
            distributor.parent_id == distributor_id,
            _order.paid_at >= since,
        )
        .group_by(distributor.id, distributor.name, shop.name, _order.currency)
        .order_by(sa.func.sum(_line.amount_minor).desc(), distributor.id)
        .limit(limit)
    )
    return [Recruit(row[0], row[1], row[2], row[3], int(row[4]), int(row[5])) for row in rows]


def recent_entries(
    session: Session, distributor_id: int, limit: int = 30
) -> Sequence[CommissionEntry]:
    """The distributor's latest ledger entries, newest first."""
    return session.scalars(
        sa.select(CommissionEntry)
        .where(_entry.distributor_id == distributor_id)
        .order_by(_entry.id.desc())
        .limit(limit)
    ).all()


def currencies(session: Session, distributor_id: int) -> list[str]:
    """The currencies the distributor has ledger entries in, by code."""
    return sorted(
        session.scalars(
            sa.select(_entry.currency).where(_entry.distributor_id == distributor_id).distinct()
        )
    )
