"""Taking units out of a variant's available stock (for an order, for a flash sale's quota),
and giving them back.

No oversell (``docs/architecture.md``, invariant 3): each allocation is one conditional update,
``available = available - n WHERE available >= n``, so two checkouts racing for the last
unit cannot both win, on PostgreSQL (row locks) as on SQLite (one writer at a time); and the
database refuses a negative ``available`` outright (a CHECK constraint). An allocation of
several variants is all or nothing (a savepoint), and takes its rows in id order, so two
carts holding the same variants never wait on each other in a circle.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import nullcontext

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..errors import Conflict
from ..sql import is_postgresql, table_of
from .models import ACTIVE, Product, Variant
from .stock import available_sql

_variant = table_of(Variant)
_product = table_of(Product)
#: The variant's product is on sale (not archived).
_on_sale = (
    sa.select(_product.c.id)
    .where(_product.c.id == _variant.c.product_id, _product.c.status == ACTIVE)
    .exists()
)
#: One variant's allocation: a conditional update, so racing checkouts cannot both win.
_TAKE = (
    sa.update(_variant)
    .where(
        _variant.c.id == sa.bindparam("variant"),
        _variant.c.status == ACTIVE,
        _variant.c.available >= sa.bindparam("units"),
        _on_sale,
    )
    .values(available=_variant.c.available - sa.bindparam("units"))
)


class SoldOut(Conflict):
    """Some variants do not have the units asked for (HTTP 409); ``variant_ids`` says which."""

    code = "sold_out"

    def __init__(self, variant_ids: list[int]) -> None:
        listed = ", ".join(str(id_) for id_ in variant_ids)
        super().__init__(f"not enough stock of variant(s) {listed}")
        self.variant_ids = variant_ids


def allocate(session: Session, quantities: Mapping[int, int], *, savepoint: bool = True) -> None:
    """Takes ``quantities`` (variant id → units, each at least 1) from the available stock
    of variants on sale (active, of an active product), all or nothing: :class:`SoldOut`
    names every variant that is short (archived or unknown ones included), and then nothing
    was taken. ``savepoint=False`` when the caller's own savepoint undoes the allocation
    on :class:`SoldOut` (a round trip less per order)."""
    wanted = _checked(quantities)
    short: list[int] = []
    with session.begin_nested() if savepoint else nullcontext():
        connection = session.connection()
        for variant_id, units in wanted:
            taken = connection.execute(_TAKE, {"variant": variant_id, "units": units})
            if taken.rowcount != 1:
                short.append(variant_id)
        if short:
            raise SoldOut(short)  # leaving the block rolls the savepoint back


def release(session: Session, quantities: Mapping[int, int]) -> None:
    """Gives ``quantities`` (variant id → units) back to the variants' available stock (an
    order expired or was cancelled before the supplier took it in hand), but never more
    than the supplier's last report allows: after a report lower than what orders held,
    the units it left out are not there to give back. (The lines giving the units back
    must no longer be marked as holding stock.)"""
    least = "LEAST" if is_postgresql(session) else "MIN"
    cap = available_sql(session, "sf_variant.stock", "sf_variant.stock_as_of")
    statement = sa.text(
        f"UPDATE sf_variant SET available = {least}(available + :units, {cap}) "  # noqa: S608
        "WHERE id = :id"
    )
    for variant_id, units in _checked(quantities):
        session.execute(statement, {"units": units, "id": variant_id})


def _checked(quantities: Mapping[int, int]) -> list[tuple[int, int]]:
    wanted = sorted(quantities.items())
    if any(units < 1 for _, units in wanted):
        raise ValueError("every quantity must be at least 1")
    return wanted
