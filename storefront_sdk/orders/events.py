"""The audit trail of orders (:class:`~.models.OrderEvent`): appended, never changed."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..db import utcnow
from ..sql import table_of
from .models import Order, OrderEvent, SupplierOrder

_INSERT = sa.insert(table_of(OrderEvent))


def record(
    session: Session,
    order: Order,
    kind: str,
    actor: str,
    detail: dict[str, Any] | None = None,
    *,
    supplier_order: SupplierOrder | None = None,
) -> None:
    """Append ``kind`` (done by ``actor``) to ``order``'s history (written at once: the
    order, and ``supplier_order`` if given, must be in the database already)."""
    part = supplier_order.id if supplier_order is not None else None
    record_many(session, order.id or 0, [(kind, actor, detail or {}, part)])


def record_many(
    session: Session,
    order_id: int,
    entries: Sequence[tuple[str, str, dict[str, Any], int | None]],
    now: datetime | None = None,
) -> None:
    """Append ``(kind, actor, detail, supplier order id)`` entries to the history of order
    ``order_id`` in one statement."""
    created = now or utcnow()
    session.connection().execute(
        _INSERT,
        [
            {
                "order_id": order_id,
                "supplier_order_id": part,
                "kind": kind,
                "actor": actor,
                "detail": detail,
                "created_at": created,
            }
            for kind, actor, detail, part in entries
        ],
    )
