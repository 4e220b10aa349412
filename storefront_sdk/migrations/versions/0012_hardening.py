"""hardening: the client an order was placed from (a hash, to count a client's unpaid
orders), and why a signed provider event was refused.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03 14:40:00.000000

Orders placed before this revision have no client key: they count for nobody's limit.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '0012'
down_revision: str | None = '0011'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('sf_order', schema=None) as batch_op:
        batch_op.add_column(sa.Column('client_key', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))
        batch_op.create_index('ix_sf_order_client_status', ['client_key', 'status'], unique=False)

    with op.batch_alter_table('sf_provider_event', schema=None) as batch_op:
        batch_op.add_column(sa.Column('problem', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('sf_provider_event', schema=None) as batch_op:
        batch_op.drop_column('problem')

    with op.batch_alter_table('sf_order', schema=None) as batch_op:
        batch_op.drop_index('ix_sf_order_client_status')
        batch_op.drop_column('client_key')
