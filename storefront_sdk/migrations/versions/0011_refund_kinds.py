"""refunds: what each refund is for (units cancelled, units returned, or goodwill), its
per-line detail, the admin form's one-time key, and each line's returned units (and
those of them returned before they were shipped).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03 14:20:00

Refunds made before this revision are ``goodwill`` (the platform's), ``cancelled`` when
they belong to a supplier order (a supplier's cancellation), or ``late_payment`` (a
payment that came after its order ended, given back whole).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '0011'
down_revision: str | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('sf_order_line', schema=None) as batch_op:
        batch_op.add_column(sa.Column('returned_quantity', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('returned_unshipped_quantity', sa.Integer(), server_default='0', nullable=False))
        batch_op.create_check_constraint(
            'returned',
            'returned_quantity >= 0 AND cancelled_quantity + returned_quantity <= quantity '
            'AND returned_unshipped_quantity >= 0 '
            'AND returned_unshipped_quantity <= returned_quantity '
            'AND shipped_quantity + cancelled_quantity + returned_unshipped_quantity <= quantity',
        )

    with op.batch_alter_table('sf_refund', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=16), server_default='goodwill', nullable=False))
        batch_op.add_column(sa.Column('lines', sa.JSON(), server_default='[]', nullable=False))
        batch_op.add_column(sa.Column('form_key', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))
        batch_op.create_check_constraint(
            'kind', "kind IN ('cancelled', 'returned', 'goodwill', 'late_payment')"
        )
        batch_op.create_unique_constraint(batch_op.f('uq_sf_refund_order_id_form_key'), ['order_id', 'form_key'])

    op.execute("UPDATE sf_refund SET kind = 'cancelled' WHERE supplier_order_id IS NOT NULL")
    op.execute(
        "UPDATE sf_refund SET kind = 'late_payment' "
        "WHERE supplier_order_id IS NULL AND reason = 'paid after the order ended'"
    )


def downgrade() -> None:
    with op.batch_alter_table('sf_refund', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_sf_refund_order_id_form_key'), type_='unique')
        batch_op.drop_constraint(batch_op.f('ck_sf_refund_kind'), type_='check')
        batch_op.drop_column('form_key')
        batch_op.drop_column('lines')
        batch_op.drop_column('kind')

    with op.batch_alter_table('sf_order_line', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_sf_order_line_returned'), type_='check')
        batch_op.drop_column('returned_unshipped_quantity')
        batch_op.drop_column('returned_quantity')
