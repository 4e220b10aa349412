"""page cache notifications: PostgreSQL triggers announcing every change shop pages show

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 09:30:00

Every statement that writes to a table the shop pages read sends
``NOTIFY storefront_page_cache`` (delivered only if its transaction commits, once per
transaction), whoever writes: the library, bulk SQL, another program, psql. Each process
listening clears its page cache (see ``storefront_sdk.shops.page_cache``). SQLite needs no
trigger: its processes read ``PRAGMA data_version``.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: The tables whose changes shop pages show (``page_cache.WATCHED_TABLES`` at this revision).
TABLES = (
    'sf_category',
    'sf_product',
    'sf_variant',
    'sf_shop',
    'sf_shop_follow',
    'sf_shop_product',
    'sf_shop_price',
    'sf_distributor',
)


def upgrade() -> None:
    if op.get_bind().dialect.name != 'postgresql':
        return
    op.execute(
        """
        CREATE FUNCTION sf_page_cache_notify() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('storefront_page_cache', '');
            RETURN NULL;
        END
        $$
        """
    )
    for table in TABLES:
        op.execute(
            f'CREATE TRIGGER sf_page_cache_notify AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE '
            f'ON {table} FOR EACH STATEMENT EXECUTE FUNCTION sf_page_cache_notify()'
        )


def downgrade() -> None:
    if op.get_bind().dialect.name != 'postgresql':
        return
    for table in TABLES:
        op.execute(f'DROP TRIGGER sf_page_cache_notify ON {table}')
    op.execute('DROP FUNCTION sf_page_cache_notify()')
