"""Checkout throughput and handoff latency on PostgreSQL.

Not a test: prints figures. Starts a throwaway PostgreSQL cluster, a supplier with 100 hot
SKUs and a shop, then measures, for ``--seconds`` each:

1. **service path**: 16 threads placing orders of 2 lines through the domain services
   (``place_order`` with stock allocation, payment started and confirmed with the dev
   provider, split into supplier orders, outbox row) — paid orders/s;
2. **raw SQL**: 16 threads doing the same writes by hand in one transaction each (stock
   update, order, 2 lines, outbox row) — transactions/s, the same-run baseline;
3. **HTTP**: the full flow through the example shop under gunicorn (2 workers): cart →
   checkout → pay, 16 client threads — orders/s;
4. **handoff latency**: paid → webhook received by a local supplier endpoint, p50/p95, with
   2 ``flask storefront dispatch`` processes running while the service path is under load.

At the end it checks that no unit was oversold (every SKU's units sold equal what left its
stock). Targets (issue 4): service >= 0.3 x raw; p95 < 1 s; zero oversell.
Usage: ``python bench/checkout.py [--seconds 10] [--runs 3]``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import requests
from _common import ROOT, create_database, free_port, shop_env, start_gunicorn, stop
from flask import Flask

from storefront_sdk import Storefront
from storefront_sdk.db import session_scope, utcnow
from storefront_sdk.orders.checkout import CheckoutRequest, Contact, place_order
from storefront_sdk.payments import service
from storefront_sdk.payments.providers import SUCCEEDED, PaymentState
from storefront_sdk.pricing.prices import Rates
from storefront_sdk.pricing.rates import RateBook
from storefront_sdk.shops.accounts import create_distributor
from storefront_sdk.shops.listing import load_shop
from storefront_sdk.testing.factories import make_supplier
from storefront_sdk.testing.postgres import start_cluster

THREADS = 16
SKUS = 100
STOCK = 10_000_000
ADDRESS = {"name": "Bench", "line1": "1 Road", "city": "Shanghai", "country": "CN"}


def build_app(url: str) -> Flask:
    app = Flask("bench_checkout")
    app.config.update(
        SECRET_KEY=secrets.token_urlsafe(32),
        STOREFRONT_DATABASE_URL=url,
        STOREFRONT_PAYMENT_PROVIDER="dev",
        STOREFRONT_WEBHOOK_ALLOW_HTTP=True,
        STOREFRONT_WEBHOOK_ALLOW_PRIVATE=True,
        STOREFRONT_ENGINE_OPTIONS={"pool_size": THREADS + 4},
        # Every client thread comes from 127.0.0.1: no limit of unpaid orders per client.
        STOREFRONT_UNPAID_ORDERS_PER_CLIENT=0,
    )
    Storefront(app)
    return app


def seed(app: Flask, webhook_url: str) -> tuple[str, list[int], str]:
    """A supplier with :data:`SKUS` products (one SKU each) and a shop; its slug, the
    variant ids and the supplier's API key."""
    from storefront_sdk.catalog.suppliers import set_webhook
    from storefront_sdk.catalog.sync import sync_products
    from storefront_sdk.config import transport_policy
    from storefront_sdk.testing.factories import product_payload, variant_payload

    with session_scope(app) as session:
        supplier, key = make_supplier(session, currency="CNY")
        products = [
            product_payload(
                f"HOT{n}",
                variants=[
                    variant_payload(
                        f"HOT{n}-A",
                        stock=STOCK,
                        supply_price=3000,
                        retail_price=5000,
                        min_price=None,
                    )
                ],
            )
            for n in range(SKUS)
        ]
        sync_products(session, supplier, products, keep_valid=False, now=utcnow())
        set_webhook(session, supplier, webhook_url, transport_policy(app.config))
        signup = create_distributor(session, "bench@example.com", "password123")
        slug = signup.shop.slug
    with session_scope(app) as session:
        ids = [
            row[0]
            for row in session.execute(
                __import__("sqlalchemy").text("SELECT id FROM sf_variant ORDER BY id")
            )
        ]
    return slug, ids, key


class Receiver:
    """The supplier's webhook endpoint (``webhook_receiver.py``, its own process): when
    each event arrived, by order number."""

    def __init__(self, folder: Path) -> None:
        self.file = folder / "arrivals.txt"
        self.process = subprocess.Popen(
            [sys.executable, str(ROOT / "bench" / "webhook_receiver.py"), str(self.file)],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None
        self.url = self.process.stdout.readline().strip()

    @property
    def arrivals(self) -> dict[str, float]:
        found: dict[str, float] = {}
        if self.file.exists():
            for line in self.file.read_text().splitlines():
                number, arrived = line.split()
                found.setdefault(number, float(arrived))
        return found


def in_threads(work: Any) -> float:
    """Runs ``work(n)`` in :data:`THREADS` threads until all end; the seconds it took."""
    started = time.monotonic()
    threads = [threading.Thread(target=work, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.monotonic() - started


def service_path(app: Flask, slug: str, ids: list[int], seconds: float) -> tuple[int, float]:
    """Paid orders placed by :data:`THREADS` threads in ``seconds``; (count, rate)."""
    state = app.extensions["storefront"]
    rates = RateBook(Rates(1000, 200))
    provider = state.payments
    stop_at = time.monotonic() + seconds
    done = [0] * THREADS

    def work(n: int) -> None:
        import random

        rng = random.Random(n)
        while time.monotonic() < stop_at:
            session = state.sessionmaker()
            try:
                shop = load_shop(session, slug=slug)
                a, b = rng.sample(ids, 2)
                request = CheckoutRequest(
                    shop=shop,
                    cart={a: 1, b: 1},
                    contact=Contact(f"c{n}-{rng.random()}@example.com"),
                    address=ADDRESS,
                    checkout_key=secrets.token_urlsafe(18),
                    locale="en",
                    provider="dev",
                )
                order = place_order(session, request, rates, utcnow(), timedelta(minutes=30))
                service.start_payment(session, order, provider)
                session.commit()
                paid = PaymentState(order.payment_ref, SUCCEEDED, order.total_minor, "CNY")
                service.apply_payment(
                    session, order.id, paid, actor="bench", now=utcnow(), binding_days=365
                )
                session.commit()
                done[n] += 1
            finally:
                session.close()

    elapsed = in_threads(work)
    return sum(done), sum(done) / elapsed


def raw_path(dsn: str, ids: list[int], seconds: float) -> float:
    """The same writes by hand: stock update, order, 2 lines, outbox row per transaction."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(
            "CREATE TABLE IF NOT EXISTS bench_order (id bigserial primary key, number text, "
            "total int, status text, created_at timestamptz default now());"
            "CREATE TABLE IF NOT EXISTS bench_line (id bigserial primary key, order_id bigint, "
            "variant_id bigint, quantity int, price int);"
            "CREATE TABLE IF NOT EXISTS bench_outbox (id bigserial primary key, order_id bigint, "
            "body text, status text)"
        )
    stop_at = time.monotonic() + seconds
    done = [0] * THREADS

    def work(n: int) -> None:
        import random

        rng = random.Random(n)
        with psycopg.connect(dsn) as conn:
            while time.monotonic() < stop_at:
                a, b = sorted(rng.sample(ids, 2))
                with conn.transaction():
                    for variant in (a, b):
                        conn.execute(
                            "UPDATE sf_variant SET available = available - 1 "
                            "WHERE id = %s AND available >= 1",
                            (variant,),
                        )
                    order_id = conn.execute(
                        "INSERT INTO bench_order (number, total, status) VALUES (%s, %s, 'paid') "
                        "RETURNING id",
                        (secrets.token_hex(6), 10000),
                    ).fetchone()[0]  # type: ignore[index]
                    for variant in (a, b):
                        conn.execute(
                            "INSERT INTO bench_line (order_id, variant_id, quantity, price) "
                            "VALUES (%s, %s, 1, 5000)",
                            (order_id, variant),
                        )
                    conn.execute(
                        "INSERT INTO bench_outbox (order_id, body, status) "
                        "VALUES (%s, %s, 'pending')",
                        (order_id, json.dumps({"order": order_id})),
                    )
                done[n] += 1

    elapsed = in_threads(work)
    return sum(done) / elapsed


def http_path(base: str, slug: str, ids: list[int], seconds: float) -> float:
    """Orders/s through the pages: cart → checkout → pay (dev), per client thread."""
    stop_at = time.monotonic() + seconds
    done = [0] * THREADS
    csrf = re.compile(r'name="csrf_token" value="([^"]+)"')
    key = re.compile(r'name="checkout_key" value="([^"]+)"')
    product_of = {}
    with requests.Session() as probe:
        for match in re.finditer(rf"/s/{slug}/p/(\d+)", probe.get(f"{base}/s/{slug}/").text):
            product_of.setdefault(int(match.group(1)), True)
    products = list(product_of)

    def work(n: int) -> None:
        import random

        rng = random.Random(n)
        while time.monotonic() < stop_at:
            with requests.Session() as web:
                page = web.get(f"{base}/s/{slug}/p/{rng.choice(products)}").text
                variant = re.search(r'name="variant_id" value="(\d+)"', page)
                token = csrf.search(page)
                assert variant
                assert token
                web.post(
                    f"{base}/s/{slug}/cart/add",
                    data={
                        "csrf_token": token.group(1),
                        "variant_id": variant.group(1),
                        "quantity": 1,
                    },
                )
                form = web.get(f"{base}/s/{slug}/checkout").text
                placed = web.post(
                    f"{base}/s/{slug}/checkout",
                    data={
                        "csrf_token": csrf.search(form).group(1),  # type: ignore[union-attr]
                        "checkout_key": key.search(form).group(1),  # type: ignore[union-attr]
                        "email": f"h{n}@example.com",
                        **ADDRESS,
                    },
                    allow_redirects=False,
                )
                pay_url = base + placed.headers["Location"]
                pay = web.get(pay_url).text
                order_url = pay_url.removesuffix("/pay")
                paid = web.post(
                    f"{order_url}/dev-pay",
                    data={"csrf_token": csrf.search(pay).group(1), "outcome": "succeeded"},  # type: ignore[union-attr]
                    allow_redirects=False,
                )
                if paid.status_code == 303:
                    done[n] += 1

    elapsed = in_threads(work)
    return sum(done) / elapsed


def start_dispatchers(url: str, instance: Path, count: int = 2) -> list[subprocess.Popen[bytes]]:
    env = dict(os.environ)
    env.update(shop_env(url, instance))
    env.update(STOREFRONT_WEBHOOK_ALLOW_HTTP="true", STOREFRONT_WEBHOOK_ALLOW_PRIVATE="true")
    command = [sys.executable, "-m", "flask", "--app", "example_shop.wsgi:app"]
    command += ["storefront", "dispatch", "--poll", "0.05"]
    return [
        subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL)
        for _ in range(count)
    ]


def latencies(dsn: str, receiver: Receiver, since: datetime) -> list[float]:
    with psycopg.connect(dsn) as conn:
        rows = conn.execute(
            "SELECT number, paid_at FROM sf_order WHERE paid_at >= %s", (since,)
        ).fetchall()
    arrivals = receiver.arrivals
    return [
        arrivals[number] - paid_at.timestamp() for number, paid_at in rows if number in arrivals
    ]


def oversold(dsn: str) -> int:
    """SKUs whose sold units differ from what left their stock (should be 0)."""
    with psycopg.connect(dsn) as conn:
        return int(
            conn.execute(
                "SELECT count(*) FROM sf_variant v WHERE v.stock - v.available <> "
                "(SELECT COALESCE(SUM(quantity), 0) FROM sf_order_line l JOIN sf_order o "
                "ON o.id = l.order_id WHERE l.variant_id = v.id AND l.stock_held) "
                "+ (SELECT COALESCE(SUM(quantity), 0) FROM bench_line b WHERE b.variant_id = v.id)"
            ).fetchone()[0]  # type: ignore[index]
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    cluster = start_cluster()
    gunicorn = None
    dispatchers: list[subprocess.Popen[bytes]] = []
    with tempfile.TemporaryDirectory() as tmp:
        instance = Path(tmp)
        receiver = Receiver(instance)
        try:
            database = create_database(cluster)
            app = build_app(database.url)
            slug, ids, _ = seed(app, receiver.url)
            figures: dict[str, list[float]] = {"service": [], "raw": [], "http": [], "ratio": []}
            for run in range(args.runs):
                _, service_rate = service_path(app, slug, ids, args.seconds)
                raw_rate = raw_path(database.dsn, ids, args.seconds)
                figures["service"].append(service_rate)
                figures["raw"].append(raw_rate)
                figures["ratio"].append(service_rate / raw_rate)
                print(
                    f"run {run + 1}: service {service_rate:.0f} paid orders/s, "
                    f"raw {raw_rate:.0f} tx/s, ratio {service_rate / raw_rate:.2f}",
                    flush=True,
                )
            # Latency: two dispatchers drain the outbox while the service path runs.
            with psycopg.connect(database.dsn, autocommit=True) as conn:
                conn.execute(
                    "UPDATE sf_outbox_event SET status = 'skipped' WHERE status = 'pending'"
                )
            dispatchers = start_dispatchers(database.url, instance)
            time.sleep(2)
            p50s, p95s, counts, rates = [], [], [], []
            for _ in range(args.runs):
                since = datetime.now(UTC)
                placed, rate = service_path(app, slug, ids, args.seconds)
                time.sleep(3)  # the last orders' events
                found = sorted(latencies(database.dsn, receiver, since))
                if found:
                    p50s.append(statistics.median(found))
                    p95s.append(found[max(int(len(found) * 0.95) - 1, 0)])
                    counts.append(len(found))
                    rates.append(rate)
                    print(
                        f"latency: {rate:.0f} orders/s placed, {len(found)} of {placed} "
                        f"received, p50 {p50s[-1] * 1000:.0f} ms, p95 {p95s[-1] * 1000:.0f} ms",
                        flush=True,
                    )
            for process in dispatchers:
                stop(process)
            port = free_port()
            gunicorn = start_gunicorn(
                "example_shop.wsgi:app",
                port,
                instance / "gunicorn.log",
                env={**shop_env(database.url, instance), "STOREFRONT_PAYMENT_PROVIDER": "dev"},
                ready_path=f"/s/{slug}/",
            )
            for _ in range(args.runs):
                figures["http"].append(
                    http_path(f"http://127.0.0.1:{port}", slug, ids, args.seconds)
                )
            median = {name: statistics.median(values) for name, values in figures.items()}
            print()
            print(f"service path : {median['service']:.0f} paid orders/s (16 threads, 2 lines)")
            print(f"raw SQL      : {median['raw']:.0f} transactions/s (same writes by hand)")
            print(f"ratio        : {median['ratio']:.2f} (target >= 0.3)")
            print(f"HTTP flow    : {median['http']:.1f} orders/s (cart, checkout, pay; -w 2)")
            if p50s:
                print(
                    f"paid -> webhook received: p50 {statistics.median(p50s) * 1000:.0f} ms, "
                    f"p95 {statistics.median(p95s) * 1000:.0f} ms (medians of {len(p50s)} "
                    f"runs of ~{statistics.median(counts):.0f} orders at "
                    f"{statistics.median(rates):.0f}/s, 2 dispatchers; target p95 < 1 s)"
                )
            print(f"oversold SKUs: {oversold(database.dsn)} (target 0)")
        finally:
            for process in dispatchers:
                stop(process)
            stop(gunicorn)
            stop(receiver.process)
            cluster.stop()


if __name__ == "__main__":
    main()
