"""A flash sale of 100 units opening to 2,000 buyers through the HTTP checkout.

Not a test: prints figures. Starts a throwaway PostgreSQL cluster and the example shop under
gunicorn (2 workers), a supplier whose SKU has exactly as many units as the sale's quota (so
nothing is left to sell at the normal price once the quota is gone) and a shop. Each run
opens a new flash sale and sends ``--buyers`` distinct buyers at it, spread evenly over
``--seconds`` (an open arrival model: buyers do not wait for each other), each through the
pages a phone would load: the product page, "Add to cart", the checkout page, "Place
order". It reports:

- units sold at the sale price (``units_sold`` of the promotion, and the order lines that
  carry it: both must be exactly the quota);
- orders placed per second while the sale sold (first arrival to the last order placed);
- p50 / p99 of the place-order request;
- answers other than an order placed (303) or sold out (409): must be 0.

Usage: ``python bench/flash_sale.py [--buyers 2000] [--seconds 10] [--quota 100] [--runs 3]``.
"""

from __future__ import annotations

import argparse
import re
import secrets
import statistics
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import psycopg
import requests
from _common import create_database, free_port, shop_env, start_gunicorn, stop
from flask import Flask

from storefront_sdk import Storefront
from storefront_sdk.db import session_scope, utcnow
from storefront_sdk.testing.factories import make_supplier
from storefront_sdk.testing.postgres import start_cluster

ADDRESS = {"name": "Buyer", "line1": "1 Road", "city": "Shanghai", "country": "CN"}
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
CHECKOUT_KEY = re.compile(r'name="checkout_key" value="([^"]+)"')
VARIANT = re.compile(r'name="variant_id" value="(\d+)"')
#: Client threads: enough that buyers arriving on time never queue behind each other here.
THREADS = 64


def build_app(url: str) -> Flask:
    app = Flask("bench_flash_sale")
    app.config.update(
        SECRET_KEY=secrets.token_urlsafe(32),
        STOREFRONT_DATABASE_URL=url,
        STOREFRONT_PAYMENT_PROVIDER="dev",
    )
    Storefront(app)
    return app


def seed(app: Flask, runs: int, quota: int) -> tuple[int, str, list[tuple[str, int]]]:
    """A supplier with one product per run (one SKU of ``quota`` units each) and a shop:
    the supplier's id, the shop's slug, and each run's (SKU, product id)."""
    from storefront_sdk.catalog.sync import sync_products
    from storefront_sdk.shops.accounts import create_distributor
    from storefront_sdk.testing.factories import product_payload, variant_payload

    with session_scope(app) as session:
        supplier, _ = make_supplier(session, currency="CNY")
        products = [
            product_payload(
                f"FLASH{n}",
                variants=[
                    variant_payload(
                        f"FLASH{n}-A",
                        stock=quota,
                        supply_price=3000,
                        retail_price=5000,
                        min_price=None,
                    )
                ],
            )
            for n in range(runs)
        ]
        sync_products(session, supplier, products, keep_valid=False, now=utcnow())
        slug = create_distributor(session, "flash@example.com", "password123").shop.slug
        supplier_id = supplier.id
    with session_scope(app) as session:
        found = session.execute(
            __import__("sqlalchemy").text(
                "SELECT v.sku, v.product_id FROM sf_variant v ORDER BY v.id"
            )
        ).all()
    assert supplier_id is not None
    return supplier_id, slug, [(sku, product_id) for sku, product_id in found]


def open_sale(app: Flask, supplier_id: int, sku: str, quota: int) -> str:
    """A platform-funded flash sale of ``quota`` units of ``sku`` at ¥39.90 (retail ¥50.00)
    for the next ten minutes; its public id."""
    from storefront_sdk.promotions.manage import create_flash_sale

    now = utcnow()
    with session_scope(app) as session:
        sale = create_flash_sale(
            session,
            funder="platform",
            created_by="bench",
            now=now,
            supplier_id=supplier_id,
            sku=sku,
            price=3990,
            quota=quota,
            starts_at=now,
            ends_at=now + timedelta(minutes=10),
            per_consumer=1,
        )
        return sale.public_id


def buy(base: str, slug: str, product_id: int, n: int) -> tuple[int, float]:
    """One buyer: product page, add to cart, checkout page, place order; the place-order
    answer's status and how long it took."""
    with requests.Session() as web:
        page = web.get(f"{base}/s/{slug}/p/{product_id}").text
        variant, token = VARIANT.search(page), CSRF.search(page)
        if variant is None or token is None:
            return 0, 0.0  # sold out before the buyer could add it: the page has no form
        web.post(
            f"{base}/s/{slug}/cart/add",
            data={"csrf_token": token.group(1), "variant_id": variant.group(1), "quantity": 1},
        )
        form = web.get(f"{base}/s/{slug}/checkout").text
        csrf, key = CSRF.search(form), CHECKOUT_KEY.search(form)
        if csrf is None or key is None:
            return 0, 0.0
        started = time.perf_counter()
        placed = web.post(
            f"{base}/s/{slug}/checkout",
            data={
                "csrf_token": csrf.group(1),
                "checkout_key": key.group(1),
                "email": f"buyer{n}@example.com",
                **ADDRESS,
            },
            allow_redirects=False,
        )
        return placed.status_code, time.perf_counter() - started


def run_sale(
    base: str, slug: str, product_id: int, buyers: int, seconds: float
) -> tuple[Counter[int], list[float], float]:
    """Send ``buyers`` buyers at the product, evenly over ``seconds``: the place-order
    statuses, their latencies, and how long the sale took to sell out (from the first
    arrival to the last order placed)."""
    statuses: Counter[int] = Counter()
    latencies: list[float] = []
    placed_at: list[float] = []
    lock = threading.Lock()
    start = time.monotonic() + 0.5

    def arrive(n: int) -> None:
        delay = start + n * seconds / buyers - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        status, took = buy(base, slug, product_id, n)
        with lock:
            statuses[status] += 1
            if status:
                latencies.append(took)
            if status == 303:
                placed_at.append(time.monotonic())

    with ThreadPoolExecutor(THREADS) as pool:
        list(pool.map(arrive, range(buyers)))
    return statuses, latencies, (max(placed_at) if placed_at else time.monotonic()) - start


def sold(dsn: str, public_id: str) -> tuple[int, int]:
    """Units the sale counts as sold, and units of order lines that carry its discount."""
    with psycopg.connect(dsn) as conn:
        counted = conn.execute(
            "SELECT units_sold FROM sf_promotion WHERE public_id = %s", (public_id,)
        ).fetchone()
        carried = conn.execute(
            "SELECT COALESCE(SUM(l.quantity), 0) FROM sf_order_line l "
            "JOIN sf_order_line_discount d ON d.order_line_id = l.id "
            "JOIN sf_promotion p ON p.id = d.promotion_id WHERE p.public_id = %s",
            (public_id,),
        ).fetchone()
    assert counted is not None
    assert carried is not None
    return int(counted[0]), int(carried[0])


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(int(len(ordered) * share), len(ordered) - 1)] if ordered else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--buyers", type=int, default=2000)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--quota", type=int, default=100)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    cluster = start_cluster()
    gunicorn = None
    with tempfile.TemporaryDirectory() as tmp:
        instance = Path(tmp)
        try:
            database = create_database(cluster)
            app = build_app(database.url)
            supplier_id, slug, products = seed(app, args.runs, args.quota)
            port = free_port()
            gunicorn = start_gunicorn(
                "example_shop.wsgi:app",
                port,
                instance / "gunicorn.log",
                env={
                    **shop_env(database.url, instance),
                    "STOREFRONT_PAYMENT_PROVIDER": "dev",
                    # Every buyer comes from 127.0.0.1: no limit of unpaid orders per address.
                    "STOREFRONT_UNPAID_ORDERS_PER_CLIENT": "0",
                },
                ready_path=f"/s/{slug}/",
            )
            base = f"http://127.0.0.1:{port}"
            rows: list[dict[str, float]] = []
            for run, (sku, product_id) in enumerate(products[: args.runs]):
                public_id = open_sale(app, supplier_id, sku, args.quota)
                statuses, latencies, elapsed = run_sale(
                    base, slug, product_id, args.buyers, args.seconds
                )
                units, carried = sold(database.dsn, public_id)
                other = sum(n for status, n in statuses.items() if status not in (303, 409, 0))
                row = {
                    "units": units,
                    "carried": carried,
                    "orders_per_s": statuses[303] / elapsed,
                    "p50_ms": statistics.median(latencies) * 1000 if latencies else 0.0,
                    "p99_ms": percentile(latencies, 0.99) * 1000,
                    "other": other,
                }
                rows.append(row)
                print(
                    f"run {run + 1}: {units} units sold ({carried} on order lines) of "
                    f"{args.quota}; {statuses[303]} orders placed, {statuses[409]} sold out, "
                    f"{statuses[0]} saw it sold out on the page; {row['orders_per_s']:.1f} "
                    f"orders/s; place order p50 {row['p50_ms']:.0f} ms, p99 "
                    f"{row['p99_ms']:.0f} ms; other answers {other} {dict(statuses)}",
                    flush=True,
                )
            print()
            median = {name: statistics.median(r[name] for r in rows) for name in rows[0]}
            print(
                f"flash sale of {args.quota} units, {args.buyers} buyers over {args.seconds:g} s "
                f"(example shop, gunicorn -w 2, PostgreSQL), medians of {len(rows)} runs:"
            )
            print(f"units sold        : {median['units']:.0f} (must be exactly {args.quota})")
            print(f"orders/s          : {median['orders_per_s']:.1f} (while it sold)")
            print(f"place order p50   : {median['p50_ms']:.0f} ms")
            print(f"place order p99   : {median['p99_ms']:.0f} ms")
            print(f"other non-2xx     : {max(r['other'] for r in rows):.0f} (must be 0)")
            exact = all(r["units"] == args.quota == r["carried"] for r in rows)
            print(f"exactly the quota : {'yes' if exact else 'NO'} in every run")
        finally:
            stop(gunicorn)
            cluster.stop()


if __name__ == "__main__":
    main()
