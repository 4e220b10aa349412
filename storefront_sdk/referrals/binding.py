"""Customer binding (锁客): a customer's paid order credited to a distributor binds the
customer to that distributor for ``STOREFRONT_CUSTOMER_BINDING_DAYS``, so their later
orders credit it whatever link they use (:mod:`.credit`).

The rules, applied when an order is paid (:func:`bind_customer`):

- no binding yet, or the last one ran out: the customer is **bound** to the distributor
  credited with the order (a run-out binding is first recorded as **expired**);
- the order is credited to the distributor the customer is bound to: the binding is
  **renewed**, for the whole window from this order;
- the customer came through another distributor's link while bound: under the ``keep``
  policy (the default, ``STOREFRONT_CUSTOMER_BINDING_POLICY``) the binding is **kept** and
  the other distributor is told why the sale is not theirs; under ``last_click`` that link
  wins the sale (:func:`.credit.decide_credit`) and the customer is **bound** to its
  distributor, taken over from the one before;
- a distributor's own purchase, and an order credited to nobody, change nothing.

Each of those is a :class:`~.models.BindingEvent` row (who, which shop, which order or
visit, when): a distributor asking "why is this customer not mine?" finds the answer in
the console. :func:`binding_after` is the rule itself, without a database.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from ..sql import table_of
from .models import BindingEvent, CustomerBinding, ReferralVisit

#: Policies when a bound customer comes through another distributor's link (the setting's
#: values, checked by :mod:`storefront_sdk.config`).
KEEP = "keep"
LAST_CLICK = "last_click"

#: Kinds of :class:`~.models.BindingEvent`.
BOUND = "bound"
RENEWED = "renewed"
EXPIRED = "expired"
KEPT = "kept"


@dataclass(frozen=True, slots=True)
class BindingTerms:
    """How customers are bound: for ``days`` after a paid order (``0`` binds nobody), and
    what another distributor's link does meanwhile (``policy``)."""

    days: int = 365
    policy: str = KEEP

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> BindingTerms:
        """The terms set by ``STOREFRONT_CUSTOMER_BINDING_DAYS`` and ``..._POLICY``."""
        return cls(
            config["STOREFRONT_CUSTOMER_BINDING_DAYS"],
            config["STOREFRONT_CUSTOMER_BINDING_POLICY"],
        )


@dataclass(frozen=True, slots=True)
class Binding:
    """A customer's binding as it stands."""

    distributor_id: int
    order_id: int
    bound_at: datetime
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class PaidSale:
    """What a paid order tells the binding rules."""

    order_id: int
    shop_id: int
    #: Who the sale was credited to, and why (``binding``, ``referral``, ``shop``, ``self``).
    credited_id: int | None
    credit_source: str
    #: The distributor whose link the customer came through, and that visit, if any.
    referred_by: int | None = None
    visit_token_id: str | None = None


@dataclass(frozen=True, slots=True)
class Event:
    """A :class:`~.models.BindingEvent` to record."""

    kind: str
    distributor_id: int
    expires_at: datetime
    happened_at: datetime
    other_distributor_id: int | None = None
    #: The order behind it when it is not the sale's: the order that made an expired
    #: binding.
    order_id: int | None = None


@dataclass(frozen=True, slots=True)
class BindingChange:
    """The binding after a sale (``None``: there is none) and the events that led there."""

    binding: Binding | None
    events: tuple[Event, ...] = ()


def binding_after(
    current: Binding | None, sale: PaidSale, terms: BindingTerms, now: datetime
) -> BindingChange:
    """What paying ``sale`` at ``now`` makes of the customer's ``current`` binding (see the
    module for the rules)."""
    credited = sale.credited_id
    if terms.days <= 0 or credited is None:
        return BindingChange(current)
    until = now + timedelta(days=terms.days)
    fresh = Binding(credited, sale.order_id, now, until)
    if current is None:
        return BindingChange(fresh, (Event(BOUND, credited, until, now),))
    if current.expires_at <= now:
        ended = Event(
            EXPIRED,
            current.distributor_id,
            current.expires_at,
            current.expires_at,
            order_id=current.order_id,
        )
        return BindingChange(fresh, (ended, Event(BOUND, credited, until, now)))
    if current.distributor_id == credited:
        renewed = Binding(credited, current.order_id, current.bound_at, until)
        events = [Event(RENEWED, credited, until, now)]
        if sale.referred_by not in (None, credited):
            events.append(Event(KEPT, credited, until, now, sale.referred_by))
        return BindingChange(renewed, tuple(events))
    if terms.policy == LAST_CLICK and sale.credit_source == "referral":
        return BindingChange(fresh, (Event(BOUND, credited, until, now, current.distributor_id),))
    # (The bound distributor was passed over, not active: the binding waits for them.)
    return BindingChange(current)


_binding = table_of(CustomerBinding)
_event = table_of(BindingEvent)
_visit = table_of(ReferralVisit).c
_CURRENT = sa.select(
    _binding.c.distributor_id, _binding.c.order_id, _binding.c.bound_at, _binding.c.expires_at
).where(_binding.c.customer_key == sa.bindparam("key"))
_VISITOR = sa.select(_visit.distributor_id).where(_visit.token_id == sa.bindparam("token"))


def bind_customer(
    session: Session, order: Any, now: datetime, terms: BindingTerms
) -> tuple[Event, ...]:
    """Apply the binding rules to a paid ``order`` (a row with its ``id``, ``shop_id``,
    ``customer_key``, ``credited_distributor_id``, ``credit_source`` and
    ``referral_token_id``); the events it recorded. The customer's binding row is locked
    first, so two payments of one customer at once are applied one after the other."""
    if terms.days <= 0 or order.credited_distributor_id is None:
        return ()
    connection = session.connection()
    sale = PaidSale(
        order.id,
        order.shop_id,
        order.credited_distributor_id,
        order.credit_source,
        _referrer(connection, order),
        order.referral_token_id,
    )
    for _attempt in range(2):
        current = _current(connection, order.customer_key)
        change = binding_after(current, sale, terms, now)
        if _store(connection, order.customer_key, current, change.binding):
            break
        # A twin payment of this customer bound them first: apply the rules to that.
    _record(connection, order.customer_key, sale, change.events)
    return change.events


def _referrer(connection: sa.Connection, order: Any) -> int | None:
    """The distributor whose link the customer came through (a lookup only when the sale
    was credited otherwise: through the binding)."""
    if order.credit_source == "referral":
        found: int | None = order.credited_distributor_id
        return found
    if order.referral_token_id is None or order.credit_source != "binding":
        return None
    return connection.execute(_VISITOR, {"token": order.referral_token_id}).scalar()


def _current(connection: sa.Connection, customer_key: str) -> Binding | None:
    query = _CURRENT
    if connection.dialect.name == "postgresql":
        query = query.with_for_update()
    row = connection.execute(query, {"key": customer_key}).first()
    return None if row is None else Binding(*row)


def _store(
    connection: sa.Connection, customer_key: str, current: Binding | None, new: Binding | None
) -> bool:
    """Write ``new`` over ``current``; ``False`` if a concurrent payment inserted the
    customer's first binding meanwhile (the rules must look at that one)."""
    if new is None or new == current:
        return True
    values = {
        "distributor_id": new.distributor_id,
        "order_id": new.order_id,
        "bound_at": new.bound_at,
        "expires_at": new.expires_at,
    }
    if current is not None:
        connection.execute(
            sa.update(_binding).where(_binding.c.customer_key == customer_key).values(**values)
        )
        return True
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    insert = dialect.insert(_binding).values(customer_key=customer_key, **values)
    inserted = connection.execute(
        insert.on_conflict_do_nothing(index_elements=["customer_key"]).returning(_binding.c.id)
    )
    return inserted.first() is not None


def _record(
    connection: sa.Connection, customer_key: str, sale: PaidSale, events: tuple[Event, ...]
) -> None:
    if not events:
        return
    connection.execute(
        sa.insert(_event),
        [
            {
                "customer_key": customer_key,
                "kind": event.kind,
                "distributor_id": event.distributor_id,
                "other_distributor_id": event.other_distributor_id,
                "shop_id": sale.shop_id if event.order_id is None else None,
                "order_id": sale.order_id if event.order_id is None else event.order_id,
                "visit_token_id": sale.visit_token_id if event.order_id is None else None,
                "expires_at": event.expires_at,
                "happened_at": event.happened_at,
            }
            for event in events
        ],
    )


#: Rows of :func:`history_of` at most.
HISTORY_SIZE = 50


@dataclass(frozen=True, slots=True)
class HistoryRow:
    """One event of :func:`history_of` as the distributor may see it: whose binding it
    speaks of (``theirs``), whether another distributor took part (``other``: never who),
    and the order behind it."""

    kind: str
    theirs: bool
    other: bool
    happened_at: datetime
    expires_at: datetime
    order_id: int | None


def history_of(session: Session, distributor_id: int) -> list[HistoryRow]:
    """The latest binding events concerning ``distributor_id``, newest first: their own
    bindings', and those where a customer came through their link or left them."""
    event = _event.c
    mine = sa.or_(
        event.distributor_id == distributor_id, event.other_distributor_id == distributor_id
    )
    rows = session.execute(
        sa.select(
            event.kind,
            event.distributor_id,
            event.other_distributor_id,
            event.happened_at,
            event.expires_at,
            event.order_id,
        )
        .where(mine)
        .order_by(event.id.desc())
        .limit(HISTORY_SIZE)
    )
    return [
        HistoryRow(
            row.kind,
            row.distributor_id == distributor_id,
            row.other_distributor_id is not None,
            row.happened_at,
            row.expires_at,
            row.order_id,
        )
        for row in rows
    ]
