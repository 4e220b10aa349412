"""Alembic, configured from code: the migrations ship inside the package.

The library keeps its own version table (``sf_alembic_version``) so a host app can run its
own Alembic history on the same database.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Engine

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
