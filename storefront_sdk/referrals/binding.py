"""Customer binding: a customer's first paid order credited to a distributor binds them to
that distributor for ``STOREFRONT_CUSTOMER_BINDING_DAYS``, so their later orders credit it
whatever link they use (:mod:`.credit`)."""

from __future__ import annotations

import functools
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from ..sql import table_of
from .models import CustomerBinding

_binding = table_of(CustomerBinding)
_BOUND = ("distributor_id", "order_id", "bound_at", "expires_at")


@functools.cache
def _binding_upsert(dialect: str) -> Any:
    """Bind a customer, or bind them again once their binding has run out."""
    insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(_binding)
    return insert.on_conflict_do_update(
        index_elements=["customer_key"],
        set_={name: insert.excluded[name] for name in _BOUND},
        where=_binding.c.expires_at <= sa.bindparam("now", type_=_binding.c.expires_at.type),
    )


def bind_customer(session: Session, order: sa.Row[Any], now: datetime, days: int) -> None:
    """A customer's first paid order credited to a distributor binds them to it (again,
    once an earlier binding has run out)."""
    if days <= 0 or order.credited_distributor_id is None:
        return
    connection = session.connection()
    connection.execute(
        _binding_upsert(connection.dialect.name),
        {
            "customer_key": order.customer_key,
            "distributor_id": order.credited_distributor_id,
            "order_id": order.id,
            "bound_at": now,
            "expires_at": now + timedelta(days=days),
            "now": now,
        },
    )
