"""Engine and sessions per app, the shared SQLModel metadata, column types.

Every table of the library is named ``sf_*`` and lives on ``SQLModel.metadata``, which the
host app shares; :data:`NAMING_CONVENTION` gives every constraint a deterministic name so
Alembic migrations are identical on SQLite and PostgreSQL.

Services receive a :class:`~sqlalchemy.orm.Session` and only ``flush``; whoever owns the
unit of work (a request, a CLI command, a worker) commits. A job that must commit as it goes
(in batches, or before it asks a provider outside any transaction) is given a
:data:`Commit` by its caller.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Session, sessionmaker
from sqlmodel import Field, SQLModel

#: Constraint names used by every ``sf_`` table (Alembic's recommended convention).
NAMING_CONVENTION: dict[str, str] = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# The convention must be in place before any model class is declared.
SQLModel.metadata.naming_convention = NAMING_CONVENTION

#: Metadata holding every storefront table (SQLModel's, shared with the host app).
metadata = SQLModel.metadata

#: Ends a job's transaction, committing what it did so far (``session.commit``, usually):
#: what a job that commits in batches, or must not hold a transaction open while it asks a
#: provider, is given by its caller.
Commit = Callable[[], None]

#: Big integer primary keys on PostgreSQL, SQLite's rowid alias on SQLite.
BigIntKey = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


class UTCDateTime(sa.TypeDecorator[datetime]):
    """A timezone-aware UTC timestamp on every backend (SQLite stores no zone)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def id_field() -> Any:
    """A big-integer autoincrement primary key column for a table model."""
    return Field(default=None, sa_column=sa.Column(BigIntKey, primary_key=True, autoincrement=True))


def one_of(column: str, values: Iterable[object]) -> str:
    """The SQL of a check constraint: ``column`` holds one of ``values`` (strings)."""
    return f"{column} IN ({', '.join(repr(str(value)) for value in values)})"


def json_field(default: dict[Any, Any] | list[Any]) -> Any:
    """A non-null JSON column whose default is a new empty ``dict`` or ``list`` per row."""
    return Field(
        default_factory=lambda: type(default)(), sa_column=sa.Column(sa.JSON, nullable=False)
    )


def reference_field(
    target: str,
    *,
    nullable: bool = False,
    index: bool = False,
    unique: bool = False,
    primary_key: bool = False,
) -> Any:
    """A big-integer foreign key column to ``target`` (``"sf_table.id"``), optionally part of
    a composite primary key."""
    column = sa.Column(
        BigIntKey,
        sa.ForeignKey(target),
        nullable=nullable,
        index=index,
        unique=unique,
        primary_key=primary_key,
        autoincrement=False,
    )
    return Field(default=None, sa_column=column)


def timestamp_field(*, nullable: bool = False) -> Any:
    """A UTC timestamp column, set to now on insert unless ``nullable``."""
    default = None if nullable else utcnow
    return Field(
        default=None, sa_column=sa.Column(UTCDateTime(), nullable=nullable, default=default)
    )


def utcnow() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)


def create_engine(url: str, options: dict[str, Any] | None = None) -> Engine:
    """An engine for ``url`` with the settings storefront relies on.

    SQLite gets foreign keys, WAL and a busy timeout, and transactions that take the write
    lock up front (``BEGIN IMMEDIATE``) so concurrent writers queue instead of failing;
    :func:`begin_read` opts a read-only transaction out of that lock.
    """
    options = dict(options or {})
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        options.setdefault("connect_args", {}).setdefault("check_same_thread", False)
        engine = sa.create_engine(url, **options)
        _configure_sqlite(engine)
        return engine
    options.setdefault("pool_pre_ping", True)
    return sa.create_engine(url, **options)


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(connection: sa.Connection) -> None:
        deferred = connection.get_execution_options().get(_READ_ONLY, False)
        connection.exec_driver_sql("BEGIN DEFERRED" if deferred else "BEGIN IMMEDIATE")


_READ_ONLY = "storefront_read_only"

#: ``Connection.info`` flag of a transaction that wrote to tables shop pages show: its
#: commit clears this process's page cache (:mod:`storefront_sdk.shops.page_cache`).
WROTE_PAGE_DATA = "storefront_wrote_page_data"


def note_page_data_write(connection: sa.Connection) -> None:
    """Flags ``connection``'s transaction as one changing what shop pages show (for writes
    that bypass SQLAlchemy's statement events, such as raw driver statements)."""
    connection.info[WROTE_PAGE_DATA] = True


def begin_read(session: Session, *, snapshot: bool = True) -> None:
    """Start ``session``'s transaction as a read: on SQLite it does not take the write lock,
    so reads run alongside a writer. (Writes in it would fail to upgrade under contention.)

    ``snapshot=False`` is for pages whose queries need not see one consistent snapshot: on
    PostgreSQL each statement then runs on its own (autocommit), saving the ``BEGIN`` and
    ``ROLLBACK`` round trips.
    """
    options: dict[str, Any] = {_READ_ONLY: True}
    if not snapshot and session.get_bind().dialect.name == "postgresql":
        options["isolation_level"] = "AUTOCOMMIT"
    session.connection(execution_options=options)


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    """Sessions that keep loaded objects usable after commit."""
    return sessionmaker(bind=engine, expire_on_commit=False, autoflush=False)


@contextmanager
def session_scope(app: Flask) -> Iterator[Session]:
    """A session for a CLI command or worker: commits on success, rolls back on error."""
    session = app.extensions["storefront"].sessionmaker()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
