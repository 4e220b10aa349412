"""payouts: each distributor's payout account (bank or Alipay) and the record of its changes.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03 14:30:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import storefront_sdk.db


revision: str = '0010'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table('sf_payout_account',
    sa.Column('id', _ID, autoincrement=True, nullable=False),
    sa.Column('distributor_id', _ID, autoincrement=False, nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.Column('holder_name', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('bank_name', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
    sa.Column('account_number', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('updated_at', storefront_sdk.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("kind IN ('bank', 'alipay')", name=op.f('ck_sf_payout_account_kind')),
    sa.ForeignKeyConstraint(['distributor_id'], ['sf_distributor.id'], name=op.f('fk_sf_payout_account_distributor_id_sf_distributor')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sf_payout_account')),
    sa.UniqueConstraint('distributor_id', name=op.f('uq_sf_payout_account_distributor_id'))
    )
    op.create_table('sf_payout_account_change',
    sa.Column('id', _ID, autoincrement=True, nullable=False),
    sa.Column('distributor_id', _ID, autoincrement=False, nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.Column('holder_name', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('bank_name', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
    sa.Column('masked', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
    sa.Column('replaced', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=True),
    sa.Column('changed_at', storefront_sdk.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("kind IN ('bank', 'alipay')", name=op.f('ck_sf_payout_account_change_kind')),
    sa.ForeignKeyConstraint(['distributor_id'], ['sf_distributor.id'], name=op.f('fk_sf_payout_account_change_distributor_id_sf_distributor')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sf_payout_account_change'))
    )
    with op.batch_alter_table('sf_payout_account_change', schema=None) as batch_op:
        batch_op.create_index('ix_sf_payout_account_change_distributor', ['distributor_id', 'id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('sf_payout_account_change', schema=None) as batch_op:
        batch_op.drop_index('ix_sf_payout_account_change_distributor')
    op.drop_table('sf_payout_account_change')
    op.drop_table('sf_payout_account')
