"""sign-in and sessions: attempts counted in the database (sign-in, sign-up, password
reset) and a session generation per distributor and per platform admin.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 14:30:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storefront_sdk.db


revision: str = '0009'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('sf_attempt_counter',
    sa.Column('door', sa.String(length=32), nullable=False),
    sa.Column('key', sa.String(length=80), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('window_start', storefront_sdk.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('blocked_until', storefront_sdk.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('strikes', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('door', 'key', name=op.f('pk_sf_attempt_counter'))
    )
    with op.batch_alter_table('sf_distributor') as batch:
        batch.add_column(sa.Column('session_generation', sa.Integer(), server_default='0', nullable=False))
    with op.batch_alter_table('sf_platform_admin') as batch:
        batch.add_column(sa.Column('session_generation', sa.Integer(), server_default='0', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('sf_platform_admin') as batch:
        batch.drop_column('session_generation')
    with op.batch_alter_table('sf_distributor') as batch:
        batch.drop_column('session_generation')
    op.drop_table('sf_attempt_counter')
