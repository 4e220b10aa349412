"""Alembic environment of storefront_sdk (see ``storefront_sdk.migrate``)."""

from __future__ import annotations

from typing import Any

from alembic import context
from sqlalchemy import create_engine

from storefront_sdk.migrate import VERSION_TABLE
from storefront_sdk.models import metadata

config = context.config


def include_name(name: str | None, type_: str, _parent: Any) -> bool:
    # The metadata is shared with the host app: only ever compare the sf_ tables.
    return type_ != "table" or bool(name and name.startswith("sf_"))


def include_object(
    obj: Any, _name: str | None, type_: str, _reflected: bool, _compare: Any
) -> bool:
    # An index declared for one dialect only (``Index(...).ddl_if(dialect=...)``) exists
    # only there.
    ddl_if = getattr(obj, "_ddl_if", None) if type_ == "index" else None
    if ddl_if is not None and ddl_if.dialect is not None:
        return bool(ddl_if.dialect == context.get_context().dialect.name)
    return True


def run_migrations() -> None:
    engine = config.attributes.get("engine") or create_engine(
        config.get_main_option("sqlalchemy.url")
    )
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=metadata,
            version_table=VERSION_TABLE,
            include_name=include_name,
            include_object=include_object,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


run_migrations()
