"""`settle` over a million ledger entries on PostgreSQL.

Not a test: prints figures. Starts a throwaway PostgreSQL cluster and fills it, with set-based
SQL, with ``--lines`` delivered order lines (two per order, one supplier order each), each
with its two pending commission entries (level 1 to the shop's distributor, level 2 to her
recruiter): 500,000 lines make 1,000,000 entries. Then, for ``--runs`` rounds on the same
data (each round on a fresh copy of the filled database):

1. **raw SQL**, the same-run baseline: one statement that marks every due supplier order
   settled and writes each distributor's move (what settle does, nothing around it);
2. **settle**: ``storefront_sdk.commissions.ledger.settle`` as ``flask storefront settle``
   runs it (batches of 50,000 supplier orders, each committed).

It checks that settle made every pending balance available. Target (issue 5): settle < 10 s.
Usage: ``python bench/settle.py [--lines 500000] [--runs 3]``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta

import psycopg
from _common import Database, create_database

from storefront_sdk.catalog.sync import sync_products
from storefront_sdk.commissions.ledger import settle
from storefront_sdk.db import create_engine, make_sessionmaker
from storefront_sdk.shops.accounts import create_distributor
from storefront_sdk.testing.factories import make_supplier, product_payload, variant_payload
from storefront_sdk.testing.postgres import start_cluster

NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)


def fill(database: Database, lines: int) -> None:
    """A supplier with one product, Ann and the distributor she recruited (through the
    library), then ``lines`` delivered lines with their pending entries, written by the
    database itself (generate_series)."""
    engine = create_engine(database.url)
    with make_sessionmaker(engine)() as session:
        supplier, _ = make_supplier(session, currency="CNY")
        product = product_payload(
            "P1",
            variants=[variant_payload("T1", supply_price=3000, retail_price=5000, min_price=None)],
        )
        sync_products(session, supplier, [product], keep_valid=False, now=NOW)
        ann = create_distributor(session, "ann@bench.example", "password123")
        create_distributor(
            session, "bob@bench.example", "password123", parent_code=ann.distributor.referral_code
        )
        session.commit()
    engine.dispose()
    orders = lines // 2
    with psycopg.connect(database.dsn, autocommit=True) as conn:
        conn.execute(
            """
            INSERT INTO sf_order (id, number, token, shop_id, credited_distributor_id,
                credit_source, customer_key, checkout_key, status, currency, subtotal_minor,
                shipping_minor, shipping_parts, total_minor, refunded_minor, contact_email,
                shipping_address, locale, payment_provider, expires_at, paid_at, created_at,
                updated_at)
            SELECT n, 'B-' || n, 't-' || n, 1, 2, 'shop', 'c' || n, 'k' || n, 'paid', 'CNY',
                10000, 0, '{"1": 0}', 10000, 0, 'c@bench', '{}', 'en', 'dev', %(now)s,
                %(now)s, %(now)s, %(now)s
            FROM generate_series(1, %(orders)s) AS n
            """,
            {"orders": orders, "now": NOW - timedelta(days=10)},
        )
        conn.execute(
            """
            INSERT INTO sf_supplier_order (id, public_id, order_id, supplier_id, status,
                currency, shipping_minor, created_at, updated_at, delivered_at)
            SELECT n, 'so_' || n, n, 1, 'delivered', 'CNY', 0, %(now)s, %(now)s, %(now)s
            FROM generate_series(1, %(orders)s) AS n
            """,
            {"orders": orders, "now": NOW - timedelta(days=8)},
        )
        conn.execute(
            """
            INSERT INTO sf_order_line (id, order_id, supplier_id, supplier_order_id,
                product_id, variant_id, sku, external_id, title, options, quantity, currency,
                unit_price_minor, retail_price_minor, supply_price_minor, amount_minor,
                shipped_quantity, cancelled_quantity, refunded_minor, stock_held,
                level1_distributor_id, level2_distributor_id, level1_minor, level2_minor,
                platform_minor, supply_amount_minor)
            SELECT n, (n + 1) / 2, 1, (n + 1) / 2, 1, 1, 'T1', 'P1', 'Tee', '{}', 1, 'CNY',
                5000, 5000, 3000, 5000, 1, 0, 0, false, 2, 1, 500, 100, 1400, 3000
            FROM generate_series(1, %(lines)s) AS n
            """,
            {"lines": orders * 2},
        )
        conn.execute(
            """
            INSERT INTO sf_commission_entry (distributor_id, currency, bucket, amount_minor,
                kind, order_id, order_line_id, level, created_at)
            SELECT level.d, 'CNY', 'pending', level.amount, 'earned', (n + 1) / 2, n,
                level.l, %(now)s
            FROM generate_series(1, %(lines)s) AS n,
                (VALUES (2, 500, 1), (1, 100, 2)) AS level(d, amount, l)
            """,
            {"lines": orders * 2, "now": NOW - timedelta(days=10)},
        )
        for table in ("sf_order", "sf_supplier_order", "sf_order_line"):
            conn.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
                f"(SELECT max(id) FROM {table}))"
            )
        conn.execute("VACUUM ANALYZE")


RAW = """
WITH due AS (
    UPDATE sf_supplier_order SET settled_at = %(now)s
    WHERE settled_at IS NULL AND delivered_at <= %(cut)s
    RETURNING id
), shares AS (
    SELECT l.level1_distributor_id AS who, l.currency,
        l.level1_minor - l.refunded_minor * l.level1_minor / l.amount_minor AS amount
    FROM sf_order_line l JOIN due ON due.id = l.supplier_order_id
    WHERE l.level1_distributor_id IS NOT NULL
    UNION ALL
    SELECT l.level2_distributor_id, l.currency,
        l.level2_minor - l.refunded_minor * l.level2_minor / l.amount_minor
    FROM sf_order_line l JOIN due ON due.id = l.supplier_order_id
    WHERE l.level2_distributor_id IS NOT NULL
), totals AS (
    SELECT who, currency, sum(amount) AS amount FROM shares GROUP BY who, currency
    HAVING sum(amount) > 0
)
INSERT INTO sf_commission_entry (distributor_id, currency, bucket, amount_minor, kind,
    move_id, created_at)
SELECT t.who, t.currency, b.bucket, b.sign * t.amount, 'settled', 'mv_raw_' || t.who, %(now)s
FROM totals t, (VALUES ('pending', -1), ('available', 1)) AS b(bucket, sign)
"""


def raw(dsn: str) -> float:
    with psycopg.connect(dsn) as conn:
        started = time.perf_counter()
        conn.execute(RAW, {"now": NOW, "cut": NOW})
        elapsed = time.perf_counter() - started
        conn.rollback()
    return elapsed


def service(url: str) -> tuple[float, dict[str, object]]:
    engine = create_engine(url)
    try:
        with make_sessionmaker(engine)() as session:
            started = time.perf_counter()
            counts = settle(session, NOW, timedelta(days=7), commit=session.commit)
            return time.perf_counter() - started, counts.as_dict()
    finally:
        engine.dispose()


def balances(dsn: str) -> dict[str, int]:
    with psycopg.connect(dsn) as conn:
        rows = conn.execute(
            "SELECT bucket, sum(amount_minor) FROM sf_commission_entry GROUP BY bucket"
        ).fetchall()
    return {bucket: int(amount) for bucket, amount in rows}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--lines", type=int, default=500_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    cluster = start_cluster()
    try:
        template = create_database(cluster, "settle_template")
        started = time.perf_counter()
        fill(template, args.lines)
        print(f"filled {args.lines:,} lines, {args.lines * 2:,} entries in "
              f"{time.perf_counter() - started:.1f} s", flush=True)  # fmt: skip
        admin = f"host=127.0.0.1 port={cluster.port} user=postgres dbname=postgres"
        raws, services = [], []
        for run in range(args.runs):
            name = f"settle_{run}"
            with psycopg.connect(admin, autocommit=True) as conn:
                conn.execute(f'CREATE DATABASE "{name}" TEMPLATE settle_template')
            dsn = template.dsn.replace("dbname=settle_template", f"dbname={name}")
            url = template.url.replace("/settle_template", f"/{name}")
            raws.append(raw(dsn))
            seconds, counts = service(url)
            services.append(seconds)
            found = balances(dsn)
            assert found == {"pending": 0, "available": args.lines * 600}, found
            print(
                f"run {run + 1}: settle {seconds:.2f} s ({counts['supplier_orders']:,} supplier "
                f"orders, {counts['entries']:,} entries written), raw SQL {raws[-1]:.2f} s",
                flush=True,
            )
        ratio = statistics.median(raws) / statistics.median(services)
        print()
        print(f"settle  : {statistics.median(services):.2f} s over {args.lines * 2:,} entries "
              "(target < 10 s)")  # fmt: skip
        print(f"raw SQL : {statistics.median(raws):.2f} s (one statement, the same writes)")
        print(f"ratio   : {ratio:.2f} (raw / settle)")
    finally:
        cluster.stop()


if __name__ == "__main__":
    sys.exit(main())
