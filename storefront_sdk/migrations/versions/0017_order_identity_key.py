"""orders: the identity an order's per-consumer limits counted under, so the checkout can
count an identity's unpaid orders (``STOREFRONT_UNPAID_ORDERS_PER_CONSUMER``).

Revision ID: 0017
Revises: 0015
Create Date: 2026-12-03 18:00:00

Orders placed before this revision keep ``NULL``: they count for no identity's limit.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '0017'
down_revision: str | None = '0015'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('sf_order', schema=None) as batch_op:
        batch_op.add_column(sa.Column('identity_key', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=True))
        batch_op.create_index('ix_sf_order_identity_created', ['identity_key', 'created_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('sf_order', schema=None) as batch_op:
        batch_op.drop_index('ix_sf_order_identity_created')
        batch_op.drop_column('identity_key')
