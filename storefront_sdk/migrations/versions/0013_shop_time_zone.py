"""shop time zone: the IANA zone a shop's pages and console show times in.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03 16:30:00.000000

Shops created before this revision have none: they keep the platform's default
(``STOREFRONT_DEFAULT_TIME_ZONE``).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '0013'
down_revision: str | None = '0012'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('sf_shop', schema=None) as batch_op:
        batch_op.add_column(sa.Column('time_zone', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('sf_shop', schema=None) as batch_op:
        batch_op.drop_column('time_zone')
