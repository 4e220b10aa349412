"""Usage of promotions: taken with the order that uses them, given back when it does not
happen.

:func:`take` runs in the checkout's transaction, before the stock is allocated: one
conditional ``UPDATE`` of each promotion (a use more, its discount and flash units added,
WHERE it is still live, under its uses, within its budget and quota) and one conditional
upsert of the identity's counter (WHERE under the per-consumer limit). Racing checkouts
cannot exceed a limit: on PostgreSQL the second update waits for the first's row lock and
re-checks its condition; SQLite has one writer at a time. A promotion that no longer has
room raises :class:`PromotionUnavailable` and the caller rolls the whole order back.
Promotions are taken in id order, so two carts never wait on each other in a circle.

:func:`give_back` marks an order's uses returned (each once: a use already returned is
skipped) and takes them off the counters. A flash sale's units go back to its quota while
the sale still holds its reservation; once it has ended they belong to the stock again,
and the caller releases them there (:attr:`GivenBack.to_stock`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..db import UTCDateTime
from ..errors import Conflict
from ..sql import insert_for, table_of
from .models import FLASH_SALE, USE_RETURNED, USE_TAKEN, Promotion, PromotionCounter, PromotionUse

_promotion = table_of(Promotion)
_counter = table_of(PromotionCounter)
_use = table_of(PromotionUse)


class PromotionUnavailable(Conflict):
    """A promotion the cart was priced with has no room left for this order (used up, over
    budget, sold out, past the consumer's limit, or ended meanwhile): HTTP 409, nothing was
    ordered."""

    code = "promotion_unavailable"

    def __init__(self, promotion_id: int, name: str) -> None:
        super().__init__(f"the promotion {name!r} is no longer available for this order")
        self.promotion_id = promotion_id
        self.name = name


@dataclass(frozen=True, slots=True)
class Use:
    """What an order takes of one promotion: its discount and its flash units."""

    promotion: Promotion
    discount: int
    units: int = 0


@dataclass(frozen=True, slots=True)
class GivenBack:
    """A use given back: its promotion, the flash sale's variant and units (else ``None``
    and 0), and whether those units go back to the stock (the sale no longer holds them)."""

    promotion_id: int
    variant_id: int | None
    units: int
    to_stock: bool


def take(
    session: Session, uses: Sequence[Use], order_id: int, identity_key: str, now: datetime
) -> None:
    """Takes each of ``uses`` for order ``order_id`` and the identity ``identity_key``, and
    records them (``sf_promotion_use``); :class:`PromotionUnavailable` if one has no room."""
    for use in sorted(uses, key=lambda u: u.promotion.id or 0):
        promotion = use.promotion
        if not _take_promotion(session, use, now) or not _take_counter(session, use, identity_key):
            raise PromotionUnavailable(promotion.id or 0, promotion.name)
        session.execute(
            sa.insert(_use).values(
                promotion_id=promotion.id,
                order_id=order_id,
                identity_key=identity_key,
                discount_minor=use.discount,
                units=use.units,
                status=USE_TAKEN,
                created_at=now,
            )
        )


def _take_promotion(session: Session, use: Use, now: datetime) -> bool:
    c = _promotion.c
    at_now = sa.literal(now, UTCDateTime())
    statement = (
        sa.update(_promotion)
        .where(
            c.id == use.promotion.id,
            c.starts_at <= at_now,
            c.ends_at > at_now,
            c.ended_at.is_(None),
            sa.or_(c.max_uses.is_(None), c.uses < c.max_uses),
            sa.or_(
                c.budget_minor.is_(None), c.discount_given_minor + use.discount <= c.budget_minor
            ),
            sa.or_(c.quota.is_(None), c.units_sold + use.units <= c.quota),
        )
        .values(
            uses=c.uses + 1,
            discount_given_minor=c.discount_given_minor + use.discount,
            units_sold=c.units_sold + use.units,
        )
        .returning(c.id)
    )
    return session.execute(statement).first() is not None


def _take_counter(session: Session, use: Use, identity_key: str) -> bool:
    """One conditional upsert of the identity's counter; whether it was under the limit."""
    limit = use.promotion.per_consumer
    by_units = use.promotion.kind == FLASH_SALE
    if limit is not None and (use.units if by_units else 1) > limit:
        return False
    c = _counter.c
    insert = insert_for(session, _counter).values(
        promotion_id=use.promotion.id, identity_key=identity_key, uses=1, units=use.units
    )
    under = None
    if limit is not None:
        under = (c.units + use.units <= limit) if by_units else (c.uses + 1 <= limit)
    statement = insert.on_conflict_do_update(
        index_elements=[c.promotion_id, c.identity_key],
        set_={"uses": c.uses + 1, "units": c.units + use.units},
        where=under,
    ).returning(c.uses)
    return session.execute(statement).first() is not None


def give_back(session: Session, order_id: int, now: datetime) -> list[GivenBack]:
    """Gives back every use order ``order_id`` still holds (none twice): its promotion's
    use, discount and flash units, and its identity's counter; what was given back."""
    u = _use.c
    returned = session.execute(
        sa.update(_use)
        .where(u.order_id == order_id, u.status == USE_TAKEN)
        .values(status=USE_RETURNED, returned_at=now)
        .returning(u.promotion_id, u.identity_key, u.discount_minor, u.units)
    ).all()
    given: list[GivenBack] = []
    for row in sorted(returned, key=lambda r: r.promotion_id):
        given.append(_give_back_promotion(session, row.promotion_id, row.discount_minor, row.units))
        session.execute(
            sa.update(_counter)
            .where(
                _counter.c.promotion_id == row.promotion_id,
                _counter.c.identity_key == row.identity_key,
            )
            .values(
                uses=_counter.c.uses - 1,
                units=_counter.c.units - row.units,
            )
        )
    return given


def _give_back_promotion(
    session: Session, promotion_id: int, discount: int, units: int
) -> GivenBack:
    c = _promotion.c
    statement = (
        sa.update(_promotion)
        .where(c.id == promotion_id)
        .values(
            uses=c.uses - 1,
            discount_given_minor=c.discount_given_minor - discount,
            units_sold=c.units_sold - sa.case((c.reserved, units), else_=0),
        )
        .returning(c.variant_id, c.reserved)
    )
    row = session.execute(statement).one()
    variant_id = row.variant_id if units else None
    return GivenBack(promotion_id, variant_id, units, to_stock=units > 0 and not row.reserved)
