"""Small SQL helpers that differ between PostgreSQL and SQLite."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

T = TypeVar("T")


def insert_for(session: Session, table: sa.Table) -> Any:
    """An ``INSERT`` construct with ``on_conflict_*`` for the session's dialect."""
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def table_of(model: type[Any]) -> sa.Table:
    """The Core table of a SQLModel table class (typed for mypy)."""
    table: sa.Table = model.__table__
    return table


def chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    """Consecutive slices of at most ``size`` items (bounds statement parameters)."""
    for start in range(0, len(items), size):
        yield items[start : start + size]
