"""orders: which distributor bought, for a distributor's own purchase (credit ``self``), so
their console's Orders tab lists it wherever they bought.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03 16:30:00

No backfill is possible: own purchases placed before this revision did not record who
bought, so they keep ``NULL`` and appear only in the shop they were placed in, as "a
distributor's own purchase".
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0014'
down_revision: str | None = '0013'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('sf_order', schema=None) as batch_op:
        batch_op.add_column(sa.Column('self_purchase_distributor_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=False, nullable=True))
        batch_op.create_index(batch_op.f('ix_sf_order_self_purchase_distributor_id'), ['self_purchase_distributor_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_sf_order_self_purchase_distributor_id_sf_distributor'), 'sf_distributor', ['self_purchase_distributor_id'], ['id'])


def downgrade() -> None:
    with op.batch_alter_table('sf_order', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_sf_order_self_purchase_distributor_id_sf_distributor'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_sf_order_self_purchase_distributor_id'))
        batch_op.drop_column('self_purchase_distributor_id')
