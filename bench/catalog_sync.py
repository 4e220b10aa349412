"""Catalogue sync throughput through the real HTTP API, against PostgreSQL COPY.

Not a test: prints figures. Starts a throwaway PostgreSQL cluster and the example shop under
gunicorn (2 sync workers), then per run:

1. pushes 100,000 variants as 100 ``PUT /products`` requests of 1,000 products,
2. loads the same rows with ``COPY`` into a scratch table (the same-run baseline),
3. sends 100,000 stock updates as 20 ``PATCH /stock`` requests of 5,000 items,

and prints variants/s for each and the ratios to COPY (targets: API/COPY >= 0.1, stock/COPY
>= 0.2). Medians over ``--runs``. Usage: ``python bench/catalog_sync.py [--runs 3]``.
"""

from __future__ import annotations

import argparse
import http.client
import json
import statistics
import subprocess
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psycopg
from _common import create_database, free_port, shop_env, start_gunicorn, stop

from storefront_sdk.db import create_engine, make_sessionmaker
from storefront_sdk.testing.factories import make_supplier
from storefront_sdk.testing.postgres import start_cluster

PRODUCTS_PER_REQUEST = 1000
REQUESTS = 100
STOCK_PER_REQUEST = 5000


def product(run: int, n: int) -> dict[str, object]:
    """One product with one variant, as a supplier would send it."""
    return {
        "external_id": f"R{run}-P{n:06d}",
        "title": f"Benchmark product {n}",
        "title_i18n": {"zh-Hans": f"基准商品 {n}"},
        "description": "Plain text description of a benchmark product.",
        "category": f"Bench/Category {n % 50}",
        "images": [f"https://cdn.example.com/bench/{n}.jpg"],
        "status": "active",
        "currency": "CNY",
        "variants": [
            {
                "sku": f"R{run}-S{n:06d}",
                "options": {"Size": "M"},
                "supply_price": 1000 + n % 500,
                "retail_price": 2000 + n % 500,
                "min_price": 1500 + n % 500,
                "stock": n % 100,
                "weight_grams": 100,
            }
        ],
    }


def start_shop(db_url: str, port: int, workdir: Path) -> subprocess.Popen[bytes]:
    """The example shop under gunicorn (2 sync workers) on ``db_url``, ready to serve."""
    env = shop_env(db_url, workdir / "instance")
    env["STOREFRONT_SUPPLIER_RATE_LIMIT"] = ""  # measure the API, not the limiter
    return start_gunicorn(
        "example_shop.wsgi:app",
        port,
        workdir / "gunicorn.log",
        env=env,
        ready_path="/api/v1/openapi.json",
    )


def send_all(
    port: int, method: str, path: str, key: str, bodies: list[bytes], clients: int
) -> float:
    """Send ``bodies`` over ``clients`` keep-alive connections; seconds taken."""

    def worker(share: list[bytes]) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
        for body in share:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            payload = response.read()
            if response.status != 200:
                raise RuntimeError(f"{method} {path} -> {response.status}: {payload[:300]!r}")

    shares = [bodies[i::clients] for i in range(clients)]
    started = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(worker, shares))
    return time.perf_counter() - started


def copy_baseline(pg_dsn: str, products: list[dict[str, object]]) -> float:
    """Seconds to COPY the same variant rows into a fresh scratch table."""
    rows = [
        (
            p["external_id"],
            p["title"],
            json.dumps(p["title_i18n"]),
            p["description"],
            p["category"],
            json.dumps(p["images"]),
            v["sku"],
            json.dumps(v["options"]),
            v["supply_price"],
            v["retail_price"],
            v["min_price"],
            v["stock"],
            v["weight_grams"],
        )
        for p in products
        for v in p["variants"]  # type: ignore[attr-defined]
    ]
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS bench_copy")
        conn.execute(
            "CREATE TABLE bench_copy (external_id text, title text, title_i18n json, "
            "description text, category text, images json, sku text, options json, "
            "supply_price int, retail_price int, min_price int, stock int, weight_grams int)"
        )
        started = time.perf_counter()
        with conn.cursor() as cur, cur.copy("COPY bench_copy FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        return time.perf_counter() - started


def one_run(run: int, port: int, app_url: str, pg_dsn: str, clients: int) -> dict[str, float]:
    engine = create_engine(app_url)
    with make_sessionmaker(engine)() as session:
        _, key = make_supplier(session, name=f"Bench supplier {run}")
        session.commit()
    engine.dispose()
    products = [product(run, n) for n in range(REQUESTS * PRODUCTS_PER_REQUEST)]
    bodies = [
        json.dumps({"products": products[i : i + PRODUCTS_PER_REQUEST]}).encode()
        for i in range(0, len(products), PRODUCTS_PER_REQUEST)
    ]
    api_s = send_all(port, "PUT", "/api/v1/supplier/products", key, bodies, clients)
    copy_s = copy_baseline(pg_dsn, products)
    stock_items = [
        {"sku": f"R{run}-S{n:06d}", "stock": (n * 7) % 1000} for n in range(len(products))
    ]
    stock_bodies = [
        json.dumps({"items": stock_items[i : i + STOCK_PER_REQUEST]}).encode()
        for i in range(0, len(stock_items), STOCK_PER_REQUEST)
    ]
    stock_s = send_all(port, "PATCH", "/api/v1/supplier/stock", key, stock_bodies, clients)
    n = len(products)
    return {"api": n / api_s, "copy": n / copy_s, "stock": n / stock_s}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--clients", type=int, default=2, help="concurrent HTTP clients")
    args = parser.parse_args()
    cluster = start_cluster()
    workdir = Path(tempfile.mkdtemp(prefix="bench-sync-"))
    gunicorn = None
    try:
        database = create_database(cluster)
        pg_dsn, app_url = database.dsn, database.url
        port = free_port()
        gunicorn = start_shop(app_url, port, workdir)
        results = []
        for run in range(1, args.runs + 1):
            figures = one_run(run, port, app_url, pg_dsn, args.clients)
            results.append(figures)
            print(
                f"run {run}: API {figures['api']:,.0f} variants/s, COPY {figures['copy']:,.0f} "
                f"rows/s, stock {figures['stock']:,.0f} updates/s, API/COPY "
                f"{figures['api'] / figures['copy']:.3f}, stock/COPY "
                f"{figures['stock'] / figures['copy']:.3f}",
                flush=True,
            )
        median = {k: statistics.median(r[k] for r in results) for k in results[0]}
        ratios = [r["api"] / r["copy"] for r in results]
        stock_ratios = [r["stock"] / r["copy"] for r in results]
        print(f"\nmedian of {args.runs} runs ({args.clients} clients, gunicorn -w 2, PostgreSQL):")
        print(f"  API upsert   {median['api']:>10,.0f} variants/s")
        print(f"  COPY         {median['copy']:>10,.0f} rows/s")
        print(f"  stock PATCH  {median['stock']:>10,.0f} updates/s")
        print(f"  API/COPY     {statistics.median(ratios):.3f}   (target >= 0.1)")
        print(f"  stock/COPY   {statistics.median(stock_ratios):.3f}   (target >= 0.2)")
    finally:
        stop(gunicorn)
        cluster.stop()


if __name__ == "__main__":
    main()
