"""consumer accounts: one-time sign-in codes (only keyed hashes of the code and of the
contact are stored) and consumers' address books (province, city, district).

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-03 18:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import storefront_sdk.db


revision: str = '0016'
down_revision: str | None = '0015'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('sf_sign_in_code',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('contact_key', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('code_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('tries', sa.Integer(), nullable=False),
    sa.Column('created_at', storefront_sdk.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', storefront_sdk.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('used_at', storefront_sdk.db.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sf_sign_in_code'))
    )
    with op.batch_alter_table('sf_sign_in_code', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sf_sign_in_code_contact_key'), ['contact_key'], unique=False)

    op.create_table('sf_consumer_address',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('consumer_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=False, nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('phone', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('province', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('city', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('district', sqlmodel.sql.sqltypes.AutoString(length=50), nullable=False),
    sa.Column('line1', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('line2', sqlmodel.sql.sqltypes.AutoString(length=140), nullable=False),
    sa.Column('postal_code', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('country', sqlmodel.sql.sqltypes.AutoString(length=2), nullable=False),
    sa.Column('is_default', sa.Boolean(), nullable=False),
    sa.Column('created_at', storefront_sdk.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['consumer_id'], ['sf_consumer.id'], name=op.f('fk_sf_consumer_address_consumer_id_sf_consumer')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sf_consumer_address'))
    )
    with op.batch_alter_table('sf_consumer_address', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sf_consumer_address_consumer_id'), ['consumer_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('sf_consumer_address', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sf_consumer_address_consumer_id'))
    op.drop_table('sf_consumer_address')
    with op.batch_alter_table('sf_sign_in_code', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sf_sign_in_code_contact_key'))
    op.drop_table('sf_sign_in_code')
