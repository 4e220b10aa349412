"""SQL helpers that differ between PostgreSQL and SQLite.

Bulk writes are where they differ most: on PostgreSQL a multi-row upsert is one statement
whose columns travel as arrays (``INSERT ... SELECT FROM unnest(...)``) — a dozen
parameters whatever the row count, so neither the driver nor the server parses thousands of
placeholders. SQLite gets SQLAlchemy's batched ``executemany``.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Sequence
from typing import Any, TypeVar

import psycopg
import sqlalchemy as sa
from pydantic_core import to_json
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

from .db import note_page_data_write

T = TypeVar("T")
M = TypeVar("M")

_PG: sa.Dialect = postgresql.dialect()  # type: ignore[no-untyped-call]


def table_of(model: type[Any]) -> sa.Table:
    """The Core table of a SQLModel table class (typed for mypy)."""
    table: sa.Table = model.__table__
    return table


def is_postgresql(session: Session) -> bool:
    """Whether ``session`` talks to PostgreSQL."""
    return session.get_bind().dialect.name == "postgresql"


def insert_for(session: Session, table: sa.Table) -> Any:
    """An ``INSERT`` construct with ``on_conflict_*`` for the session's dialect."""
    return postgresql.insert(table) if is_postgresql(session) else sqlite.insert(table)


def insert_row(session: Session, row: M, *, skip_duplicate: bool = False) -> M | None:
    """Insert the table model ``row`` with one ``INSERT ... RETURNING`` and attach it to
    ``session`` as if it had been loaded: no unit-of-work flush, so a hot path pays one
    statement and nothing else. Columns left ``None`` that have a default get it (and are
    read back, with the primary key).

    With ``skip_duplicate``, a row clashing with another on a unique constraint is not
    inserted (``ON CONFLICT DO NOTHING``, which waits for a concurrent twin's transaction)
    and ``None`` is returned; ``session`` is unchanged then.
    """
    table = table_of(type(row))
    values: dict[str, Any] = {}
    read_back: list[str] = []
    for column in table.columns:
        value = getattr(row, column.key)
        if value is None and (
            column.primary_key or column.default is not None or column.server_default is not None
        ):
            read_back.append(column.key)
        else:
            values[column.key] = value
    connection = session.connection()
    insert = _insert_returning(table, tuple(read_back), skip_duplicate, connection.dialect.name)
    found = connection.execute(insert, values).first()
    if found is None:
        return None
    for name, value in zip(read_back, found, strict=True):
        setattr(row, name, value)
    make_transient_to_detached(row)
    session.add(row)
    return row


@functools.lru_cache(maxsize=256)
def _insert_returning(
    table: sa.Table, read_back: tuple[str, ...], skip_duplicate: bool, dialect: str
) -> Any:
    insert: Any = sa.insert(table)
    if skip_duplicate:
        insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)
        insert = insert.on_conflict_do_nothing()
    return insert.returning(*(table.c[name] for name in read_back))


def set_loaded(row: Any, **values: Any) -> None:
    """Set attributes of a loaded model ``row`` to what the database already holds (after a
    Core ``UPDATE``): nothing is flushed for them later."""
    for name, value in values.items():
        set_committed_value(row, name, value)


def in_values(session: Session, column: Any, values: Sequence[Any]) -> Any:
    """``column IN values`` — as ``= ANY(:array)`` on PostgreSQL (one parameter)."""
    if is_postgresql(session):
        param = sa.bindparam(None, list(values), type_=postgresql.ARRAY(column.type))
        return column == sa.any_(param)
    return column.in_(values)


#: Values per ``IN`` list on SQLite (its limit on bound parameters is 32,766).
SQLITE_IN_BATCH = 5000


def rows_where_in(session: Session, query: Any, column: Any, values: Sequence[Any]) -> list[Any]:
    """The rows of ``query`` whose ``column`` is one of ``values``, however many: one array
    parameter on PostgreSQL, batches under SQLite's parameter limit."""
    size = max(len(values), 1) if is_postgresql(session) else SQLITE_IN_BATCH
    rows: list[Any] = []
    for part in chunks(values, size):
        rows.extend(session.execute(query.where(in_values(session, column, part))))
    return rows


def bulk_upsert(
    session: Session,
    table: sa.Table,
    columns: dict[str, list[Any]],
    *,
    conflict: Sequence[str] = (),
    update: Sequence[str] = (),
    update_sql: dict[str, str] | None = None,
    only_if: str | None = None,
    returning: Sequence[str],
) -> list[tuple[Any, ...]]:
    """Insert rows given column by column (equal-length lists), or update the ``update``
    columns where the ``conflict`` columns match. Returns the ``returning`` columns of
    every row written.

    ``only_if`` (SQL over ``<table>`` and ``excluded``, written by the caller) restricts
    which conflicting rows are updated; rows it excludes are not returned. Without
    ``conflict`` this is a plain insert (cheaper than an upsert on PostgreSQL); a duplicate
    then raises :class:`sqlalchemy.exc.IntegrityError`. ``update_sql`` gives some updated
    columns an SQL expression (over ``<table>`` and ``excluded``) instead of the new value.
    """
    expressions = {name: f"excluded.{name}" for name in update} | (update_sql or {})
    count = len(next(iter(columns.values()), []))
    if not count:
        return []
    # Statements the page cache's engine events cannot see: flag the transaction.
    note_page_data_write(session.connection())
    if is_postgresql(session):
        names = list(columns)
        casts = ", ".join(f"CAST(%b AS {_array_type(table.c[name])})" for name in names)
        # Identifiers come from our own table metadata, never from input.
        sql = f"INSERT INTO {table.name} ({', '.join(names)}) SELECT * FROM unnest({casts})"  # noqa: S608
        if conflict:
            sql += f" ON CONFLICT ({', '.join(conflict)}) DO UPDATE SET " + ", ".join(
                f"{name} = {expression}" for name, expression in expressions.items()
            )
            sql += f" WHERE {only_if}" if only_if else ""
        sql += f" RETURNING {', '.join(returning)}"
        arrays = [_pg_values(table.c[name], values) for name, values in columns.items()]
        return _driver_execute(session, sql, arrays)
    insert = sqlite.insert(table)
    if conflict:
        insert = insert.on_conflict_do_update(
            index_elements=list(conflict),
            set_={name: sa.text(expression) for name, expression in expressions.items()},
            where=sa.text(only_if) if only_if else None,
        )
    stmt = insert.returning(*(table.c[name] for name in returning))
    rows = [
        dict(zip(columns, values, strict=True)) for values in zip(*columns.values(), strict=True)
    ]
    return [tuple(row) for row in session.execute(stmt, rows)]


def _pg_values(column: sa.Column[Any], values: list[Any]) -> list[Any]:
    if isinstance(column.type, sa.JSON):
        # pydantic-core's serializer: a tenth of json.dumps' time on small objects.
        return [None if v is None else to_json(v).decode() for v in values]
    return values


def bulk_update(
    session: Session,
    table: sa.Table,
    columns: dict[str, list[Any]],
    *,
    keys: Sequence[str],
    assign: dict[str, str],
    only_if: str | None = None,
    returning: str,
) -> list[Any]:
    """Update the rows matching each row's ``keys`` columns (rows given column by column).

    ``assign`` maps a column to an SQL expression over ``new.<field>`` (the row's values)
    and ``<table>.<column>`` (the current ones); ``only_if`` further restricts the update.
    Returns the ``returning`` column of every row changed.
    """
    if not next(iter(columns.values()), []):
        return []
    sets = ", ".join(f"{column} = {expression}" for column, expression in assign.items())
    condition = " AND ".join(f"{table.name}.{key} = new.{key}" for key in keys)
    condition += f" AND {only_if}" if only_if else ""
    names = list(columns)
    # Statements the page cache's engine events cannot see: flag the transaction.
    note_page_data_write(session.connection())
    if is_postgresql(session):
        casts = ", ".join(f"CAST(%b AS {_array_type(table.c[name])})" for name in names)
        sql = (
            f"UPDATE {table.name} SET {sets} FROM unnest({casts}) AS new({', '.join(names)}) "  # noqa: S608
            f"WHERE {condition} RETURNING {table.name}.{returning}"
        )
        arrays = [_pg_values(table.c[name], values) for name, values in columns.items()]
        return [row[0] for row in _driver_execute(session, sql, arrays)]
    # SQLite: one small statement per row inside the same transaction; typed binds so
    # timestamps are stored (and compared) in the column's UTC form.
    selected = ", ".join(f":{name} AS {name}" for name in names)
    statement = sa.text(
        f"UPDATE {table.name} SET {sets} FROM (SELECT {selected}) AS new "  # noqa: S608
        f"WHERE {condition} RETURNING {table.name}.{returning}"
    ).bindparams(*(sa.bindparam(name, type_=table.c[name].type) for name in names))
    changed: list[Any] = []
    for values in zip(*columns.values(), strict=True):
        row = dict(zip(names, values, strict=True))
        changed.extend(session.execute(statement, row).scalars().all())
    return changed


def _driver_execute(session: Session, sql: str, params: list[Any]) -> list[tuple[Any, ...]]:
    # Binary parameters: psycopg's text format escapes every array element with a regex,
    # which costs more than the statement itself at a thousand rows.
    driver = session.connection().connection.driver_connection
    assert driver is not None
    with driver.cursor() as cursor:
        try:
            cursor.execute(sql, params)
            return [tuple(row) for row in cursor.fetchall()]
        except psycopg.Error as exc:
            # Callers handle SQLAlchemy's exceptions whichever path ran the statement.
            raise sa.exc.DBAPIError.instance(sql, None, exc, psycopg.Error) from exc


def _array_type(column: sa.Column[Any]) -> str:
    if isinstance(column.type, sa.JSON):
        return "JSON[]"
    if isinstance(column.type, sa.String):
        # Not VARCHAR(n)[]: an explicit cast truncates silently, an insert refuses.
        return "TEXT[]"
    return f"{column.type.compile(dialect=_PG)}[]"


def chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    """Consecutive slices of at most ``size`` items (bounds statement parameters)."""
    for start in range(0, len(items), size):
        yield items[start : start + size]
