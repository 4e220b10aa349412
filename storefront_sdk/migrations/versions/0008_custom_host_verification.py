"""shops: a shop's own host name is served only once verified (a DNS TXT record carrying its
token, or the platform admin's approval): its status and its token.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 14:30:00

Host names set before this revision become ``pending`` with a new token: none is served
again until it is verified.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('sf_shop', schema=None) as batch_op:
        batch_op.add_column(sa.Column('host_status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True))
        batch_op.add_column(sa.Column('host_token', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))
        batch_op.create_check_constraint(
            'host_status',
            "host_status IS NULL OR host_status IN ('pending', 'verified', 'refused')",
        )
    connection = op.get_bind()
    shop_ids = connection.execute(sa.text("SELECT id FROM sf_shop WHERE host IS NOT NULL")).scalars()
    for shop_id in list(shop_ids):
        connection.execute(
            sa.text("UPDATE sf_shop SET host_status = 'pending', host_token = :token WHERE id = :id"),
            {"token": secrets.token_hex(16), "id": shop_id},
        )


def downgrade() -> None:
    with op.batch_alter_table('sf_shop', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_sf_shop_host_status'), type_='check')
        batch_op.drop_column('host_token')
        batch_op.drop_column('host_status')
