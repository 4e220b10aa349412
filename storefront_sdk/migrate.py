"""Alembic, configured from code: the migrations ship inside the package.

The library keeps its own version table (``sf_alembic_version``) so a host app can run its
own Alembic history on the same database.
"""

from __future__ import annotations

import os
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

#: Where the migration scripts live (``migrations/`` at the repository root links here).
SCRIPT_LOCATION = Path(__file__).parent / "migrations"
#: Alembic version table of the library.
VERSION_TABLE = "sf_alembic_version"


def alembic_config(engine: Engine) -> Config:
    """An Alembic ``Config`` that runs against ``engine``."""
    config = Config()
    config.set_main_option("script_location", str(SCRIPT_LOCATION))
    config.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Apply migrations up to ``revision`` (idempotent)."""
    command.upgrade(alembic_config(engine), revision)


def downgrade(engine: Engine, revision: str) -> None:
    """Revert migrations down to ``revision`` (``base`` drops every storefront table)."""
    command.downgrade(alembic_config(engine), revision)


#: What every database problem found at start-up asks the operator to do.
INIT_DB_HINT = "run `flask storefront init-db`"


def database_problem(engine: Engine) -> str | None:
    """Why the storefront cannot work on ``engine``'s database yet (a missing SQLite file,
    no connection, no tables), naming the database and what to do; ``None`` when its
    tables are there. Never creates a SQLite file by looking."""
    url = engine.url
    shown = url.render_as_string(hide_password=True)
    path = url.database if url.get_backend_name() == "sqlite" else None
    if path and path != ":memory:" and not path.startswith("file:"):
        folder = os.path.dirname(os.path.abspath(path))
        if not os.path.isdir(folder):
            return f"the database folder {folder} does not exist: create it, then {INIT_DB_HINT}"
        if not os.path.exists(path):
            return f"the database file {path} does not exist: {INIT_DB_HINT}"
    try:
        with engine.connect() as connection:
            migrated = sa.inspect(connection).has_table(VERSION_TABLE)
    except SQLAlchemyError as error:
        kind = type(error).__name__
        return f"cannot open the database {shown} ({kind}): check it, then {INIT_DB_HINT}"
    if not migrated:
        return f"the database {shown} has no storefront tables: {INIT_DB_HINT}"
    return None
