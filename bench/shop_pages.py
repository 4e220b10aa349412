"""Throughput and latency of the shop's H5 pages, against a Flask hello-world baseline.

Not a test: prints figures. Starts a throwaway PostgreSQL cluster, migrates it and loads a
realistic catalogue straight into the tables with ``COPY`` (default: 100,000 products from 2
suppliers with 1-3 variants each, 20 top-level categories of 5 subcategories, 1,000 shops of
which every tenth is curated: it follows one supplier or category, added and took out a few
products and set a few own prices), then ``VACUUM ANALYZE``.

It serves the example shop and a hello-world Flask app (``bench/hello_app.py``) side by side,
both under ``gunicorn -w 2 --no-control-socket`` (2 sync workers), checks that every page
answers 200, warms them up (10 s of load per page: the workers' page caches fill, as they
are in steady use; ``--page-cache-seconds 0`` measures without them), and then per run
measures with ``wrk -t1 -c32 -d10s --latency``:

- ``hello``: the hello-world app (the baseline),
- ``home``: ``/s/<slug>/``, the shop's newest products,
- ``category``: ``/s/<slug>/c/<id>``, a top-level category (subcategories included),
- ``search``: ``/s/<slug>/?q=<word>``, a word found in many titles,
- ``product``: ``/s/<slug>/p/<id>``.

Every request picks a random shop, and a random category, word or product that shop lists
(a generated wrk Lua script), so the load spreads over shops and the catalogue. It prints
req/s, the 50 % and 99 % latencies and the ratio to hello-world's req/s of each page, per run
and the medians over ``--runs`` (the ratio's median is that of the per-run ratios). Targets:
every page at ratio >= 0.3 and p99 < 50 ms. Any non-2xx answer is a failure (exit status 1).

Usage (``make bench-shop``; wrk and PostgreSQL from ``make system-deps``)::

    .venv/bin/python bench/shop_pages.py [--runs 3] [--products 100000] [--shops 1000]
    .venv/bin/python bench/shop_pages.py --products 5000 --shops 50 --runs 1 --duration 3
"""

from __future__ import annotations

import argparse
import http.client
import json
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

import psycopg
from _common import ROOT, create_database, free_port, shop_env, start_gunicorn, stop
from psycopg import sql

from storefront_sdk.catalog.models import search_text
from storefront_sdk.testing.postgres import start_cluster

#: Pages measured, in order; ``hello`` is the baseline the others are compared to.
PAGES = ("hello", "home", "category", "search", "product")
#: Targets of every shop page: req/s at least this share of hello-world's, and p99 below.
TARGET_RATIO = 0.3
TARGET_P99_MS = 50.0

SUPPLIERS = 2
TOP_CATEGORIES = (
    "Apparel", "Shoes", "Bags", "Home", "Kitchen", "Beauty", "Toys", "Sports", "Outdoors",
    "Electronics", "Books", "Garden", "Pets", "Baby", "Jewelry", "Office", "Tools", "Auto",
    "Health", "Food",
)  # fmt: skip
SUBCATEGORIES = ("Essentials", "New in", "Best sellers", "Gifts", "Sale")
#: Title words (English, Simplified Chinese); every title has one of each list.
ADJECTIVES = (
    ("Classic", "经典"), ("Organic", "有机"), ("Vintage", "复古"), ("Summer", "夏季"),
    ("Premium", "高级"), ("Everyday", "日常"), ("Travel", "旅行"), ("Kids", "儿童"),
)  # fmt: skip
MATERIALS = (
    ("cotton", "棉"), ("linen", "亚麻"), ("leather", "皮革"), ("bamboo", "竹"),
    ("ceramic", "陶瓷"), ("steel", "钢"), ("wool", "羊毛"), ("silk", "丝绸"),
)  # fmt: skip
NOUNS = (
    ("tee", "T恤"), ("dress", "连衣裙"), ("mug", "马克杯"), ("lamp", "台灯"),
    ("backpack", "背包"), ("scarf", "围巾"), ("sneakers", "运动鞋"), ("bottle", "水杯"),
    ("pillow", "枕头"), ("wallet", "钱包"),
)  # fmt: skip
#: Searched words: each is in about one title of eight or ten.
SEARCH_WORDS = ("cotton", "classic", "lamp", "bamboo")
SIZES = ("S", "M", "L")
COLORS = ("Red", "Black", "White", "Blue")

#: Every CURATED_EVERY-th shop is curated; the others list the whole catalogue.
CURATED_EVERY = 10
#: Per curated shop: products taken out, added, and given an own price.
REMOVED_PER_SHOP = 3
ADDED_PER_SHOP = 5
PRICED_PER_SHOP = 5
#: Products a curated shop's requests pick from; products the other shops' requests pick from.
PRODUCTS_PER_CURATED_SHOP = 20
SHARED_PRODUCT_SAMPLE = 2000
#: A constant, unusable password hash: nobody signs in during the benchmark.
PASSWORD_HASH = "bench$not-a-real-hash"


# --- Data ------------------------------------------------------------------------------------


@dataclass
class Workload:
    """What the generated requests pick from: per shop (by position in ``slugs``) the product
    and top-level category ids it lists; shops absent from the ``custom_*`` maps pick from the
    shared lists."""

    slugs: list[str]
    shared_products: list[int]
    shared_categories: list[int]
    custom_products: dict[int, list[int]] = field(default_factory=dict)
    custom_categories: dict[int, list[int]] = field(default_factory=dict)


@dataclass
class Catalogue:
    """The generated products as the loader laid them out (ids are assigned here)."""

    count: int
    supplier: list[int]
    category: list[int]
    top: list[int]
    first_variant: list[int]
    variants: list[int]

    def product_id(self, n: int) -> int:
        return n + 1


def _prices(n: int, k: int) -> tuple[int, int, int]:
    """Supply, retail and floor prices (minor units) of variant ``k`` of product ``n``."""
    supply = 500 + (n * 131 + k * 17) % 20_000
    retail = supply * 2 + 90
    return supply, retail, supply + (retail - supply) // 2


def _copy(
    cur: psycopg.Cursor[tuple[object, ...]],
    table: str,
    columns: str,
    rows: Iterable[Sequence[object]],
) -> None:
    with cur.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def _set_sequences(cur: psycopg.Cursor[tuple[object, ...]], tables: Iterable[str]) -> None:
    """Move the id sequences of ``tables`` past the ids loaded explicitly."""
    for table in tables:
        cur.execute(
            sql.SQL(
                "SELECT setval(pg_get_serial_sequence({name}, 'id'), "
                "(SELECT coalesce(max(id), 0) + 1 FROM {table}), false)"
            ).format(name=table, table=sql.Identifier(table))
        )


def load_catalogue(
    cur: psycopg.Cursor[tuple[object, ...]], products: int, rng: random.Random
) -> Catalogue:
    """COPY suppliers, the category tree, ``products`` products and their variants."""
    now = datetime.now(UTC)
    _copy(
        cur,
        "sf_supplier",
        "id, name, currency, created_at",
        [(s, f"Bench supplier {s}", "CNY", now) for s in range(1, SUPPLIERS + 1)],
    )
    categories: list[tuple[object, ...]] = [
        (t + 1, name, name, None, 0) for t, name in enumerate(TOP_CATEGORIES)
    ]
    subcategory_ids: list[int] = []
    for t, top_name in enumerate(TOP_CATEGORIES):
        for s, name in enumerate(SUBCATEGORIES):
            sub_id = len(TOP_CATEGORIES) + 1 + t * len(SUBCATEGORIES) + s
            subcategory_ids.append(sub_id)
            categories.append((sub_id, f"{top_name}/{name}", name, t + 1, 1))
    _copy(cur, "sf_category", "id, path, name, parent_id, depth", categories)

    def top_of(category_id: int) -> int:
        if category_id <= len(TOP_CATEGORIES):
            return category_id
        return (category_id - len(TOP_CATEGORIES) - 1) // len(SUBCATEGORIES) + 1

    catalogue = Catalogue(products, [], [], [], [], [])
    for n in range(products):
        catalogue.supplier.append(1 + n % SUPPLIERS)
        # Most products sit in a subcategory, some directly in a top-level category.
        category_id = (
            rng.randint(1, len(TOP_CATEGORIES))
            if rng.random() < 0.1
            else rng.choice(subcategory_ids)
        )
        catalogue.category.append(category_id)
        catalogue.top.append(top_of(category_id))

    def product_rows() -> Iterator[tuple[object, ...]]:
        for n in range(products):
            adjective, material, noun = (
                rng.choice(ADJECTIVES),
                rng.choice(MATERIALS),
                rng.choice(NOUNS),
            )
            title = f"{adjective[0]} {material[0]} {noun[0]} {n}"
            title_i18n = (
                {"zh-Hans": f"{adjective[1]}{material[1]}{noun[1]} {n}"} if n % 3 == 0 else {}
            )
            description = f"{title}: a benchmark product made of {material[0]}, nothing more."
            description_i18n = (
                {"zh-Hans": f"{title_i18n['zh-Hans']} 基准商品。"} if title_i18n else {}
            )
            images = [f"https://cdn.example.com/bench/{n}-{i}.jpg" for i in range(1 + n % 3)]
            yield (
                n + 1,
                catalogue.supplier[n],
                f"P{n:07d}",
                title,
                json.dumps(title_i18n, ensure_ascii=False),
                description,
                json.dumps(description_i18n, ensure_ascii=False),
                catalogue.category[n],
                json.dumps(images),
                "active",
                "CNY",
                f"{n:064x}",
                search_text(title, title_i18n),
                now,
                now,
            )

    _copy(
        cur,
        "sf_product",
        "id, supplier_id, external_id, title, title_i18n, description, description_i18n, "
        "category_id, images, status, currency, content_hash, search_text, created_at, "
        "updated_at",
        product_rows(),
    )

    def variant_rows() -> Iterator[tuple[object, ...]]:
        # Records each product's variant ids in ``catalogue`` as it goes (for shop prices).
        variant_id = 0
        for n in range(products):
            count = rng.randint(1, 3)
            catalogue.first_variant.append(variant_id + 1)
            catalogue.variants.append(count)
            color = rng.choice(COLORS)
            for k in range(count):
                variant_id += 1
                supply, retail, floor = _prices(n, k)
                stock = 0 if rng.random() < 0.1 else rng.randint(1, 500)
                yield (
                    variant_id,
                    n + 1,
                    catalogue.supplier[n],
                    f"S{n:07d}-{k}",
                    json.dumps({"Color": color, "Size": SIZES[k]}),
                    "CNY",
                    supply,
                    retail,
                    floor,
                    100 + n % 900,
                    k,
                    "active",
                    stock,
                    now,
                    stock,
                    now,
                    now,
                )

    _copy(
        cur,
        "sf_variant",
        "id, product_id, supplier_id, sku, options, currency, supply_price_minor, "
        "retail_price_minor, min_price_minor, weight_grams, position, status, stock, "
        "stock_as_of, available, created_at, updated_at",
        variant_rows(),
    )
    _set_sequences(cur, ["sf_supplier", "sf_category", "sf_product", "sf_variant"])
    return catalogue


def load_shops(
    cur: psycopg.Cursor[tuple[object, ...]], catalogue: Catalogue, shops: int, rng: random.Random
) -> Workload:
    """COPY ``shops`` distributors with one shop each, and the curated shops' follows,
    added and taken-out products and own prices; return what requests may pick from."""
    now = datetime.now(UTC)
    by_supplier: dict[int, list[int]] = {}
    by_top: dict[int, list[int]] = {}
    for n in range(catalogue.count):
        by_supplier.setdefault(catalogue.supplier[n], []).append(n)
        by_top.setdefault(catalogue.top[n], []).append(n)
    shared = rng.sample(range(catalogue.count), min(SHARED_PRODUCT_SAMPLE, catalogue.count))
    workload = Workload(
        slugs=[f"shop-{i + 1:05d}" for i in range(shops)],
        shared_products=[catalogue.product_id(n) for n in shared],
        shared_categories=list(range(1, len(TOP_CATEGORIES) + 1)),
    )
    _copy(
        cur,
        "sf_distributor",
        "id, email, password_hash, name, referral_code, parent_id, created_at",
        (
            (
                i + 1,
                f"owner{i + 1}@bench.example.com",
                PASSWORD_HASH,
                f"Owner {i + 1}",
                f"B{i + 1:07d}",
                None if i < 100 else rng.randint(1, 100),
                now,
            )
            for i in range(shops)
        ),
    )
    shop_rows: list[tuple[object, ...]] = []
    follows: list[tuple[object, ...]] = []
    shop_products: list[tuple[object, ...]] = []
    priced: dict[int, list[int]] = {}  # shop id -> product indexes with own prices
    for i in range(shops):
        shop_id = i + 1
        curated = i % CURATED_EVERY == CURATED_EVERY - 1
        markup = (500, -300)[i % 2] if i % 7 == 3 else None
        shop_rows.append(
            (
                shop_id,
                shop_id,
                workload.slugs[i],
                f"Bench shop {shop_id}",
                None,
                f"#{rng.randrange(0x1000000):06x}",
                f"Welcome to bench shop {shop_id}!",
                "en" if i % 5 == 2 else "zh-Hans",
                None,
                "symbol",
                not curated,
                markup,
                now,
                now,
            )
        )
        if not curated:
            if i % CURATED_EVERY == 4:  # some whole-catalogue shops price a few products too
                priced[shop_id] = rng.sample(shared, min(PRICED_PER_SHOP, len(shared)))
            continue
        if (i // CURATED_EVERY) % 2 == 0:
            target = 1 + (i // CURATED_EVERY // 2) % SUPPLIERS
            follows.append((shop_id, "supplier", target))
            members = by_supplier.get(target, [])
        else:
            target = 1 + (i // CURATED_EVERY // 2) % len(TOP_CATEGORIES)
            follows.append((shop_id, "category", target))
            members = by_top.get(target, [])
            workload.custom_categories[i] = [target]
        member_set = set(members)
        removed = set(rng.sample(members, min(REMOVED_PER_SHOP, len(members) // 2)))
        added: set[int] = set()
        while len(added) < min(ADDED_PER_SHOP, catalogue.count - len(member_set)):
            n = rng.randrange(catalogue.count)
            if n not in member_set:
                added.add(n)
        listed = [n for n in rng.sample(members, min(200, len(members))) if n not in removed]
        own_prices = rng.sample(listed, min(PRICED_PER_SHOP, len(listed)))
        priced[shop_id] = own_prices
        picks = list(dict.fromkeys([*own_prices, *added, *listed]))[:PRODUCTS_PER_CURATED_SHOP]
        workload.custom_products[i] = [catalogue.product_id(n) for n in picks]
        shop_products += [(shop_id, catalogue.product_id(n), False, now) for n in sorted(removed)]
        shop_products += [(shop_id, catalogue.product_id(n), True, now) for n in sorted(added)]
    _copy(
        cur,
        "sf_shop",
        "id, distributor_id, slug, name, logo_url, primary_color, welcome_text, locale, host, "
        "currency_display, follows_all, markup_bp, created_at, updated_at",
        shop_rows,
    )
    _copy(cur, "sf_shop_follow", "shop_id, kind, target_id", follows)
    _copy(cur, "sf_shop_product", "shop_id, product_id, included, created_at", shop_products)

    def price_rows() -> Iterator[tuple[object, ...]]:
        for shop_id, indexes in priced.items():
            for n in indexes:
                for k in range(catalogue.variants[n]):
                    retail = _prices(n, k)[1]
                    yield (
                        shop_id,
                        catalogue.first_variant[n] + k,
                        catalogue.product_id(n),
                        retail + 100,
                    )

    _copy(cur, "sf_shop_price", "shop_id, variant_id, product_id, price_minor", price_rows())
    _set_sequences(cur, ["sf_distributor", "sf_shop"])
    return workload


def load(dsn: str, products: int, shops: int, seed: int) -> Workload:
    """Load the whole data set in one transaction, then ``VACUUM ANALYZE``."""
    rng = random.Random(seed)
    started = time.perf_counter()
    with psycopg.connect(dsn) as conn:
        with conn.cursor() as cur:
            catalogue = load_catalogue(cur, products, rng)
            workload = load_shops(cur, catalogue, shops, rng)
        conn.commit()
    loaded = time.perf_counter()
    with psycopg.connect(dsn, autocommit=True) as conn:
        # VACUUM too: fresh COPY'd tables have no visibility map, and autovacuum would
        # otherwise do this in the middle of a measurement.
        conn.execute("VACUUM (ANALYZE)")
        counts = conn.execute(
            "SELECT (SELECT count(*) FROM sf_product), (SELECT count(*) FROM sf_variant), "
            "(SELECT count(*) FROM sf_category), (SELECT count(*) FROM sf_shop), "
            "(SELECT count(*) FROM sf_shop_product), (SELECT count(*) FROM sf_shop_price)"
        ).fetchone()
    assert counts is not None
    print(
        f"loaded {counts[0]:,} products, {counts[1]:,} variants, {counts[2]} categories, "
        f"{counts[3]:,} shops ({counts[4]} curated products, {counts[5]} own prices) in "
        f"{loaded - started:.1f} s, VACUUM ANALYZE {time.perf_counter() - loaded:.1f} s",
        flush=True,
    )
    return workload


# --- Requests --------------------------------------------------------------------------------


def _lua_list(values: Iterable[object]) -> str:
    return "{" + ",".join(json.dumps(v) if isinstance(v, str) else str(v) for v in values) + "}"


def _lua_map(mapping: dict[int, list[int]]) -> str:
    # Lua arrays count from 1.
    return "{" + ",".join(f"[{k + 1}]={_lua_list(v)}" for k, v in mapping.items()) + "}"


LUA_PATHS = {
    "home": 'return "/s/" .. slug .. "/"',
    "category": 'return "/s/" .. slug .. "/c/" .. pick(categories[i] or shared_categories)',
    "search": 'return "/s/" .. slug .. "/?q=" .. pick(words)',
    "product": 'return "/s/" .. slug .. "/p/" .. pick(products[i] or shared_products)',
}


def write_lua(workload: Workload, page: str, path: Path) -> None:
    """A wrk script requesting ``page`` of a random shop, with a random category, search word
    or product that shop lists."""
    path.write_text(
        f"""-- Generated by bench/shop_pages.py: {page} pages of random shops.
local slugs = {_lua_list(workload.slugs)}
local shared_products = {_lua_list(workload.shared_products)}
local shared_categories = {_lua_list(workload.shared_categories)}
local products = {_lua_map(workload.custom_products)}
local categories = {_lua_map(workload.custom_categories)}
local words = {_lua_list(quote(word) for word in SEARCH_WORDS)}

local function pick(list)
  return list[math.random(#list)]
end

local function path_for(i, slug)
  {LUA_PATHS[page]}
end

function setup(thread)
  thread:set("seed", math.random(1, 2147483647))
end

function init(args)
  math.randomseed(seed or os.time())
end

function request()
  local i = math.random(#slugs)
  return wrk.format("GET", path_for(i, slugs[i]))
end
"""
    )


def sample_paths(workload: Workload, rng: random.Random) -> dict[str, list[str]]:
    """Paths to check before measuring: every curated shop's own lists in full, and samples
    of the shared lists over 30 other shops."""
    custom = set(workload.custom_products) | set(workload.custom_categories)
    others = [i for i in range(len(workload.slugs)) if i not in custom]
    checked = sorted(custom | set(rng.sample(others, min(30, len(others)))))
    paths: dict[str, list[str]] = {page: [] for page in PAGES[1:]}
    for number, i in enumerate(checked):
        base = f"/s/{workload.slugs[i]}/"
        categories = workload.custom_categories.get(i) or rng.sample(
            workload.shared_categories, min(3, len(workload.shared_categories))
        )
        products = workload.custom_products.get(i) or rng.sample(
            workload.shared_products, min(5, len(workload.shared_products))
        )
        words = SEARCH_WORDS if number == 0 else [rng.choice(SEARCH_WORDS)]
        paths["home"].append(base)
        paths["category"] += [f"{base}c/{c}" for c in categories]
        paths["search"] += [f"{base}?q={quote(word)}" for word in words]
        paths["product"] += [f"{base}p/{p}" for p in products]
    return paths


def check_paths(port: int, paths: Sequence[str], log: Path | None = None) -> None:
    """GET every path; when one is not 200, stop with its status, the start of its body and
    the end of the server's ``log``."""

    def get(path: str) -> tuple[str, int, bytes]:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        try:
            conn.request("GET", path)
            response = conn.getresponse()
            return path, response.status, response.read()
        finally:
            conn.close()

    with ThreadPoolExecutor(4) as pool:
        for path, status, body in pool.map(get, paths):
            if status != 200:
                text = body.decode(errors="replace").strip().splitlines()
                head = "\n".join(f"    {line}" for line in text[:25])
                message = f"GET {path} answered {status}, not 200:\n{head}"
                if log is not None and log.exists():
                    tail = log.read_text(errors="replace").strip().splitlines()[-12:]
                    message += f"\nend of {log}:\n" + "\n".join(f"    {line}" for line in tail)
                raise SystemExit(message)


# --- wrk -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class WrkResult:
    """One wrk measurement."""

    requests_per_s: float
    p50_ms: float
    p99_ms: float
    requests: int
    non_2xx: int
    socket_errors: str | None
    output: str


_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    if match is None:
        raise ValueError(f"unexpected wrk latency {text!r}")
    return float(match[1]) * _UNITS_MS[match[2]]


def parse_wrk(output: str) -> WrkResult:
    """The figures of wrk's ``--latency`` report."""

    def find(pattern: str) -> re.Match[str]:
        match = re.search(pattern, output, re.MULTILINE)
        if match is None:
            raise ValueError(f"no {pattern!r} in wrk's output:\n{output}")
        return match

    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    errors = re.search(r"Socket errors: (.*)$", output, re.MULTILINE)
    return WrkResult(
        requests_per_s=float(find(r"^Requests/sec:\s+([\d.]+)")[1]),
        p50_ms=_ms(find(r"^\s+50%\s+(\S+)")[1]),
        p99_ms=_ms(find(r"^\s+99%\s+(\S+)")[1]),
        requests=int(find(r"^\s+(\d+) requests in")[1]),
        non_2xx=int(non_2xx[1]) if non_2xx else 0,
        socket_errors=errors[1].strip() if errors else None,
        output=output,
    )


def find_wrk() -> str:
    """wrk's path; waits a little in case ``make system-deps`` is still installing it."""
    for _ in range(30):
        found = shutil.which("wrk")
        if found:
            return found
        time.sleep(2)
    raise SystemExit("wrk not found: install it (make system-deps, or apt-get install wrk)")


def run_wrk(
    wrk: str, url: str, script: Path | None, duration: float, connections: int
) -> WrkResult:
    """Run wrk against ``url`` (with ``script`` choosing each request's path)."""
    command = [wrk, "-t1", f"-c{connections}", f"-d{duration:g}s", "--latency"]
    if script is not None:
        command += ["-s", str(script)]
    done = subprocess.run([*command, url], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stdout}{done.stderr}")
    result = parse_wrk(done.stdout)
    if result.non_2xx:
        raise SystemExit(
            f"{url} ({script}): {result.non_2xx} of {result.requests} answers were not 2xx or "
            f"3xx:\n{done.stdout}"
        )
    return result


# --- Report ----------------------------------------------------------------------------------


def verdict(page: str, ratio: float, p99_ms: float) -> str:
    if page == "hello":
        return "baseline"
    return "PASS" if ratio >= TARGET_RATIO and p99_ms < TARGET_P99_MS else "MISS"


def print_table(title: str, rows: list[tuple[str, float, float, float, float]]) -> None:
    """Rows of (page, req/s, p50 ms, p99 ms, ratio to hello-world)."""
    print(f"\n{title}")
    print(f"  {'page':<10}{'req/s':>10}{'p50 ms':>10}{'p99 ms':>10}{'ratio':>9}  result")
    for page, rps, p50, p99, ratio in rows:
        print(
            f"  {page:<10}{rps:>10,.0f}{p50:>10.2f}{p99:>10.2f}{ratio:>9.3f}  "
            f"{verdict(page, ratio, p99)}",
            flush=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="measurements (data loaded once)")
    parser.add_argument("--products", type=int, default=100_000)
    parser.add_argument("--shops", type=int, default=1000)
    parser.add_argument("--duration", type=float, default=10, help="seconds of wrk per page")
    parser.add_argument("--connections", type=int, default=32, help="wrk connections")
    parser.add_argument(
        "--warmup",
        type=float,
        default=10,
        help="seconds of wrk per page first (the workers' page caches fill)",
    )
    parser.add_argument(
        "--page-cache-seconds",
        type=int,
        default=None,
        help="STOREFRONT_PAGE_CACHE_SECONDS of the shop (default: the library's; 0: no cache)",
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--pages",
        default=",".join(PAGES[1:]),
        help=f"shop pages to measure, comma-separated (default: all of {', '.join(PAGES[1:])})",
    )
    args = parser.parse_args()
    selected = [page.strip() for page in args.pages.split(",") if page.strip()]
    if not selected or set(selected) - set(PAGES[1:]):
        parser.error(f"--pages: choose among {', '.join(PAGES[1:])}")
    pages = ("hello", *[page for page in PAGES[1:] if page in selected])
    if args.products < 100 or args.shops < CURATED_EVERY:
        parser.error(f"need at least 100 products and {CURATED_EVERY} shops")
    wrk = find_wrk()
    cluster = start_cluster()
    workdir = Path(tempfile.mkdtemp(prefix="bench-shop-"))
    servers: list[subprocess.Popen[bytes] | None] = []
    failed = True
    try:
        database = create_database(cluster)
        workload = load(database.dsn, args.products, args.shops, args.seed)
        shop_port, hello_port = free_port(), free_port()
        servers.append(
            start_gunicorn(
                "example_shop.wsgi:app",
                shop_port,
                workdir / "shop.log",
                env=shop_env(database.url, workdir / "instance", args.page_cache_seconds),
                ready_path="/api/v1/openapi.json",
            )
        )
        servers.append(
            start_gunicorn("hello_app:app", hello_port, workdir / "hello.log", cwd=ROOT / "bench")
        )
        scripts: dict[str, Path | None] = {"hello": None}
        urls = {"hello": f"http://127.0.0.1:{hello_port}/"}
        for page in pages[1:]:
            scripts[page] = workdir / f"{page}.lua"
            write_lua(workload, page, workdir / f"{page}.lua")
            urls[page] = f"http://127.0.0.1:{shop_port}/"
        check_paths(hello_port, ["/"], workdir / "hello.log")
        started = time.perf_counter()
        paths = sample_paths(workload, random.Random(args.seed + 1))
        for page in pages[1:]:
            check_paths(shop_port, paths[page], workdir / "shop.log")
        checked = sum(len(paths[page]) for page in pages[1:])
        print(f"checked {checked} shop URLs: all 200 ({time.perf_counter() - started:.1f} s)")

        def measure(page: str, seconds: float) -> WrkResult:
            return run_wrk(wrk, urls[page], scripts[page], seconds, args.connections)

        if args.warmup > 0:
            for page in pages:
                measure(page, args.warmup)
        runs: list[dict[str, WrkResult]] = []
        for run in range(1, args.runs + 1):
            results = {page: measure(page, args.duration) for page in pages}
            runs.append(results)
            hello = results["hello"].requests_per_s
            print_table(
                f"run {run} of {args.runs}",
                [
                    (page, r.requests_per_s, r.p50_ms, r.p99_ms, r.requests_per_s / hello)
                    for page, r in results.items()
                ],
            )
            for page, r in results.items():
                if r.socket_errors:
                    print(f"  note: {page}: socket errors: {r.socket_errors}")
        medians = []
        for page in pages:
            medians.append(
                (
                    page,
                    statistics.median(r[page].requests_per_s for r in runs),
                    statistics.median(r[page].p50_ms for r in runs),
                    statistics.median(r[page].p99_ms for r in runs),
                    statistics.median(
                        r[page].requests_per_s / r["hello"].requests_per_s for r in runs
                    ),
                )
            )
        print_table(
            f"median of {args.runs} run(s): {args.products:,} products, {args.shops:,} shops, "
            f"gunicorn -w 2 (sync), wrk -t1 -c{args.connections} -d{args.duration:g}s; "
            f"targets: ratio >= {TARGET_RATIO}, p99 < {TARGET_P99_MS:g} ms",
            medians,
        )
        failed = False
    finally:
        for server in servers:
            stop(server)
        cluster.stop()
        if failed:
            print(f"gunicorn logs and wrk scripts kept in {workdir}", file=sys.stderr)
        else:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
