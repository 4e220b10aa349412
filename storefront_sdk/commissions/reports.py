"""What a distributor's dashboard shows: sales and commissions per day, the team's sales,
the orders credited to them, the ledger's latest entries. Every query is scoped to the one
distributor.

Every figure is net of refunds: sales are what the lines sold for less what was refunded of
them, commissions and overrides are the sums of the distributor's ``earned`` and
``reversed`` ledger entries (so they equal what the ledger holds for those lines)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..orders.models import REFUND_FAILED, Order, OrderLine, Refund
from ..shops.models import Distributor, Shop
from ..sql import table_of
from .models import AVAILABLE, EARNED, REVERSED, CommissionEntry

_line = table_of(OrderLine).c
_order = table_of(Order).c
_entry = table_of(CommissionEntry).c
_refund = table_of(Refund).c
#: A line's sales after refunds.
_NET_SALES = _line.amount_minor - _line.refunded_minor


def _commission_of(
    distributor_id: int, since: datetime, *, level: int | None = None
) -> sa.Subquery:
    """Per order line, the distributor's net commission on it (earned less reversed), at
    ``level`` or both: ``order_line_id``, ``order_id``, ``amount``; only the entries written
    ``since`` (all of them, for the orders paid since then)."""
    stmt = sa.select(
        _entry.order_line_id,
        _entry.order_id,
        sa.func.sum(_entry.amount_minor).label("amount"),
    ).where(
        _entry.distributor_id == distributor_id,
        _entry.created_at >= since,
        _entry.kind.in_((EARNED, REVERSED)),
    )
    if level is not None:
        stmt = stmt.where(_entry.level == level)
    return stmt.group_by(_entry.order_line_id, _entry.order_id).subquery()


@dataclass(frozen=True, slots=True)
class Day:
    """One day of a distributor's sales (what sold in their name) and commissions (both
    levels), in one currency, both after refunds."""

    day: date
    sales: int
    commission: int


def daily(
    session: Session, distributor_id: int, currency: str, until: datetime, days: int = 30
) -> list[Day]:
    """The ``days`` days up to ``until`` (UTC), oldest first, every day present; each day's
    figures are those of the orders paid that day, net of their refunds since."""
    start = (until - timedelta(days=days - 1)).replace(hour=0, minute=0, second=0, microsecond=0)
    in_range = (_order.currency == currency, _order.paid_at >= start, _order.paid_at <= until)
    sold = session.execute(
        sa.select(_order.paid_at, _NET_SALES)
        .join(table_of(Order), _order.id == _line.order_id)
        .where(_line.level1_distributor_id == distributor_id, *in_range)
    )
    sales: dict[date, int] = {}
    for paid_at, amount in sold:
        sales[paid_at.date()] = sales.get(paid_at.date(), 0) + int(amount)
    commission = _commission_of(distributor_id, start)
    earned_rows = session.execute(
        sa.select(_order.paid_at, commission.c.amount)
        .join(table_of(Order), _order.id == commission.c.order_id)
        .where(*in_range)
    )
    earned: dict[date, int] = {}
    for paid_at, amount in earned_rows:
        earned[paid_at.date()] = earned.get(paid_at.date(), 0) + int(amount)
    first = start.date()
    return [
        Day(day, sales.get(day, 0), earned.get(day, 0))
        for day in (first + timedelta(days=n) for n in range(days))
    ]


@dataclass(frozen=True, slots=True)
class Recruit:
    """A recruit's sales since a date and the override they earned their recruiter, both
    after refunds."""

    distributor_id: int
    name: str
    shop_name: str
    currency: str
    sales: int
    override: int


def team(session: Session, distributor_id: int, since: datetime, limit: int = 50) -> list[Recruit]:
    """The recruits who sold since ``since``, best first (at most ``limit``)."""
    distributor, shop = table_of(Distributor).c, table_of(Shop).c
    override = _commission_of(distributor_id, since, level=2)
    sales = sa.func.sum(_NET_SALES)
    rows = session.execute(
        sa.select(
            distributor.id,
            distributor.name,
            shop.name,
            _order.currency,
            sales,
            sa.func.sum(sa.func.coalesce(override.c.amount, 0)),
        )
        .select_from(table_of(OrderLine))
        .join(table_of(Order), _order.id == _line.order_id)
        .join(table_of(Distributor), distributor.id == _line.level1_distributor_id)
        .join(table_of(Shop), shop.distributor_id == distributor.id)
        .outerjoin(override, override.c.order_line_id == _line.id)
        .where(
            _line.level2_distributor_id == distributor_id,
            distributor.parent_id == distributor_id,
            _order.paid_at >= since,
        )
        .group_by(distributor.id, distributor.name, shop.name, _order.currency)
        .order_by(sales.desc(), distributor.id)
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


#: How an order on the console's Orders tab concerns the distributor.
CREDITED, OWN_PURCHASE, CREDITED_ELSEWHERE = "credited", "own_purchase", "credited_elsewhere"
#: The distributor's own purchase (in their shop or another), which earns them nothing.
YOUR_OWN_PURCHASE = "your_own_purchase"


@dataclass(frozen=True, slots=True)
class CreditedOrder:
    """An order on the distributor's Orders tab: one credited to them (in their shop or,
    for a customer bound to them or who came through their link, in another), a
    distributor's own purchase in their shop (no commission), their own purchase wherever
    placed (no commission, the other shop never named), or an order in their shop
    credited to another distributor (``credit``: one of the three constants above;
    ``source``: how the credit was decided). ``refunded``: the refunds decided, made or
    still being made; ``commission``: their net commission on it (earned less reversed,
    both levels), already net of ``shop_discount``, what the coupons of their own shop took
    off their level 1 on it."""

    id: int
    number: str
    created_at: datetime
    currency: str
    status: str
    total: int
    refunded: int
    credit: str
    source: str
    in_own_shop: bool
    commission: int
    shop_discount: int = 0

    @property
    def net_total(self) -> int:
        """What the customer paid less what was refunded."""
        return self.total - self.refunded


def credited_orders(
    session: Session, distributor_id: int, shop_id: int, limit: int = 50
) -> list[CreditedOrder]:
    """The latest orders credited to the distributor, wherever placed, their own purchases,
    wherever placed, and those placed in their shop ``shop_id``, newest first (at most
    ``limit``)."""
    # Refunds decided count at once (as their commission reversal does), made or still
    # being made; one the provider refused for good does not.
    refunded = (
        sa.select(sa.func.coalesce(sa.func.sum(_refund.amount_minor), 0))
        .where(_refund.order_id == _order.id, _refund.status != REFUND_FAILED)
        .scalar_subquery()
    )
    rows = session.execute(
        sa.select(
            _order.id,
            _order.number,
            _order.created_at,
            _order.currency,
            _order.status,
            _order.total_minor,
            refunded.label("refunded"),
            _order.credited_distributor_id,
            _order.credit_source,
            _order.shop_id,
            _order.self_purchase_distributor_id,
        )
        .where(
            _order.id.in_(_latest_order_ids(distributor_id, shop_id, limit)),
            sa.or_(
                _order.credited_distributor_id == distributor_id,
                _order.shop_id == shop_id,
                _order.self_purchase_distributor_id == distributor_id,
            ),
        )
        .order_by(_order.id.desc())
        .limit(limit)
    ).all()
    earned = _commission_on(session, distributor_id, [row.id for row in rows])
    funded = _shop_discounts_on(session, distributor_id, [row.id for row in rows])
    return [
        CreditedOrder(
            row.id,
            row.number,
            row.created_at,
            row.currency,
            row.status,
            row.total_minor,
            min(int(row.refunded), row.total_minor),
            _credit(row, distributor_id),
            row.credit_source,
            row.shop_id == shop_id,
            earned.get(row.id, 0),
            funded.get(row.id, 0),
        )
        for row in rows
    ]


def _latest_order_ids(distributor_id: int, shop_id: int, limit: int) -> sa.CompoundSelect[Any]:
    """The ids of the latest ``limit`` orders of the shop, of the distributor's own
    purchases (indexed) and of those credited to the distributor (each line of an order
    carries who it is credited to, indexed), so no part reads more than its own latest
    orders."""
    in_shop = (
        sa.select(_order.id.label("id"))
        .where(_order.shop_id == shop_id)
        .order_by(_order.id.desc())
        .limit(limit)
        .subquery()
    )
    credited = (
        sa.select(_line.order_id.label("id"))
        .where(_line.level1_distributor_id == distributor_id)
        .distinct()
        .order_by(_line.order_id.desc())
        .limit(limit)
        .subquery()
    )
    own = (
        sa.select(_order.id.label("id"))
        .where(_order.self_purchase_distributor_id == distributor_id)
        .order_by(_order.id.desc())
        .limit(limit)
        .subquery()
    )
    return sa.union(sa.select(in_shop.c.id), sa.select(credited.c.id), sa.select(own.c.id))


def _commission_on(session: Session, distributor_id: int, order_ids: list[int]) -> dict[int, int]:
    """``{order id: the distributor's net commission on it}`` (earned less reversed)."""
    if not order_ids:
        return {}
    rows = session.execute(
        sa.select(_entry.order_id, sa.func.sum(_entry.amount_minor))
        .where(
            _entry.distributor_id == distributor_id,
            _entry.kind.in_((EARNED, REVERSED)),
            _entry.order_id.in_(order_ids),
        )
        .group_by(_entry.order_id)
    )
    return {int(order_id): int(amount) for order_id, amount in rows}


def _shop_discounts_on(
    session: Session, distributor_id: int, order_ids: list[int]
) -> dict[int, int]:
    """``{order id: what the distributor's shop coupons took off their level 1}`` (only
    lines whose level 1 they earn carry a shop discount)."""
    if not order_ids:
        return {}
    rows = session.execute(
        sa.select(_line.order_id, sa.func.sum(_line.shop_discount_minor))
        .where(
            _line.level1_distributor_id == distributor_id,
            _line.order_id.in_(order_ids),
            _line.shop_discount_minor > 0,
        )
        .group_by(_line.order_id)
    )
    return {int(order_id): int(amount) for order_id, amount in rows}


def _credit(row: Any, distributor_id: int) -> str:
    """How the order (a row of :func:`credited_orders`) concerns the distributor."""
    if row.credited_distributor_id == distributor_id:
        return CREDITED
    if row.self_purchase_distributor_id == distributor_id:
        return YOUR_OWN_PURCHASE
    return OWN_PURCHASE if row.credit_source == "self" else CREDITED_ELSEWHERE


@dataclass(frozen=True, slots=True)
class TakenBack:
    """What refunds took back of an order's commissions after they became available."""

    order_number: str
    amount: int


def taken_back_after_settling(
    session: Session, distributor_id: int, currency: str, limit: int = 5
) -> list[TakenBack]:
    """The latest orders whose refunds took commission back from the distributor's available
    balance in ``currency`` (what makes it negative once it was paid out), newest first."""
    amount = -sa.func.sum(_entry.amount_minor)
    rows = session.execute(
        sa.select(_order.number, amount)
        .join(table_of(Order), _order.id == _entry.order_id)
        .where(
            _entry.distributor_id == distributor_id,
            _entry.currency == currency,
            _entry.bucket == AVAILABLE,
            _entry.kind == REVERSED,
        )
        .group_by(_order.id, _order.number)
        .order_by(sa.func.max(_entry.id).desc())
        .limit(limit)
    )
    return [TakenBack(number, int(total)) for number, total in rows]
