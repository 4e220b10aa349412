"""The shop pages' cache in each process: what it keeps, what clears it (this process's
commits, other processes' through the change feed), what happens when the feed is lost, and
the Python twin of the SQL listing rule — on both backends unless a test says otherwise."""

from __future__ import annotations

import html as html_text
import random
import re
import sqlite3
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa
from conftest import SupplierClient, build_app
from flask import Flask
from flask.testing import FlaskClient
from shop_support import (
    ShopRef,
    csrf_token,
    edit_shop,
    listed_ids,
    make_shop,
    product,
    product_ids,
    push,
    variant,
    variant_ids,
)

from storefront_sdk.catalog.models import Category, Product
from storefront_sdk.db import create_engine, session_scope
from storefront_sdk.pricing.prices import Rates, VariantBounds, shop_price
from storefront_sdk.pricing.rates import RateBook
from storefront_sdk.shops import curation
from storefront_sdk.shops.listing import (
    ShopView,
    in_shop,
    listing_ids,
    load_shop,
    offers_for_cart,
    search_condition,
)
from storefront_sdk.shops.page_cache import (
    CHANNEL,
    RECONNECT_INTERVAL,
    TREE_RELOAD_INTERVAL,
    LocalOnly,
    PageCache,
    PostgresNotifications,
    SQLiteDataVersion,
    change_feed,
)
from storefront_sdk.shops.reader import (
    MEMO_ENTRIES,
    SHARED_SLACK,
    ProductData,
    ShopState,
    VariantData,
    load_category_tree,
    load_products,
    load_shop_state,
)
from storefront_sdk.sql import table_of

RATES = RateBook(Rates(1000, 200))  # the app's default commission rates
PASSWORD = "password123"  # make_shop's
_product = table_of(Product).c
_NEXT = re.compile(r'rel="next" href="([^"]+)"')
_CSRF_VALUE = re.compile(r'(name="csrf_token" value=")[^"]*')


# --- Helpers ---------------------------------------------------------------------------------


class Clock:
    """A timer the test moves by hand."""

    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class ScriptedFeed:
    """A change feed answering the polls the test scripted (``None``: cannot follow)."""

    def __init__(self, *answers: bool | None) -> None:
        self.answers = list(answers)
        self.polls = 0

    def poll(self) -> bool | None:
        self.polls += 1
        return self.answers.pop(0)

    def announce(self, dbapi_connection: Any) -> None:
        pass


@pytest.fixture
def other_app(db_url: str) -> Iterator[Flask]:
    """A second app on the same database, as another process would be: its own engine,
    its own page cache and change feed."""
    second = build_app(db_url)
    yield second
    second.extensions["storefront"].engine.dispose()


def supplier_of(app: Flask, supplier: SupplierClient) -> SupplierClient:
    """``supplier`` calling the API of ``app``."""
    return SupplierClient(app.test_client(), supplier.supplier_id, supplier.api_key)


def _counted(statement: str) -> bool:
    """Whether a statement counts as reading the page's parts: the live promotions are read
    at every page on purpose, outside the cache (one ``sf_promotion`` query, and on SQLite
    the ``BEGIN`` of its read), so that a sale starts and ends on time."""
    return "sf_promotion" not in statement and not statement.strip().upper().startswith("BEGIN")


def page(client: FlaskClient, url: str) -> tuple[str, int]:
    """The page at ``url`` and how many SQL statements its app ran for it (but the live
    promotions' read, :func:`_counted`). Its CSRF tokens are blanked: they carry the second
    they were made in, so two views of one cached page a second apart would differ by them
    alone."""
    engine = client.application.extensions["storefront"].engine
    statements: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        if _counted(statement):
            statements.append(statement)

    sa.event.listen(engine, "before_cursor_execute", seen)
    try:
        response = client.get(url)
    finally:
        sa.event.remove(engine, "before_cursor_execute", seen)
    assert response.status_code == 200, (url, response.status_code)
    return _CSRF_VALUE.sub(r"\1", response.get_data(as_text=True)), len(statements)


def eventually(client: FlaskClient, url: str, shown: Callable[[str], bool], backend: str) -> str:
    """The page at ``url`` once ``shown`` holds: at once on SQLite (``data_version`` is
    read at every page), within 3 s on PostgreSQL (notifications arrive asynchronously)."""
    deadline = time.monotonic() + (3.0 if backend == "postgresql" else 0.0)
    while True:
        html, _ = page(client, url)
        if shown(html) or time.monotonic() >= deadline:
            return html
        time.sleep(0.05)


def signed_in(app: Flask, email: str) -> FlaskClient:
    """A client of ``app`` signed in to the console as ``email`` (a shop's owner)."""
    client = app.test_client()
    token = csrf_token(client.get("/console/login").get_data(as_text=True))
    response = client.post(
        "/console/login", data={"csrf_token": token, "email": email, "password": PASSWORD}
    )
    assert response.status_code == 303, response.get_data(as_text=True)
    return client


def walk(client: FlaskClient, url: str) -> list[list[int]]:
    """The product ids of every page of a listing, following its ``rel="next"`` links."""
    pages = []
    while True:
        html, _ = page(client, url)
        pages.append(listed_ids(html))
        found = _NEXT.search(html)
        if found is None:
            return pages
        url = html_text.unescape(found.group(1))


def category_id(app: Flask, path: str) -> int:
    """The id of the category at ``path``."""
    with session_scope(app) as session:
        found: int = session.scalars(sa.select(Category.id).where(Category.path == path)).one()
        return found


# --- 1. The Python rule and the SQL rule agree ----------------------------------------------

CATEGORY_PATHS = ["Apparel", "Apparel/Tops", "Apparel/Outerwear/Coats", "Food/Tea", "Toys", None]
COLOURS = ["Red", "Blue", "Green"]
QUERIES = ["red", "blue thing", "thing 1", "绿"]


def _catalogue_item(prefix: str, n: int) -> dict[str, Any]:
    colour = COLOURS[n % 3]
    variants = [variant(f"{prefix}{n:02d}-M")]
    if n % 2:
        variants.append(variant(f"{prefix}{n:02d}-L", options={"Size": "L"}, stock=0))
    return product(
        f"{prefix}{n:02d}",
        title=f"{colour} thing {n}",
        title_i18n={"zh-Hans": {"Red": "红", "Blue": "蓝", "Green": "绿"}[colour]},
        category=CATEGORY_PATHS[(n + len(prefix)) % len(CATEGORY_PATHS)],
        status="archived" if n % 4 == 3 else "active",
        variants=variants,
    )


def _curate(rng: random.Random, catalogue: dict[str, Any], variants: list[int]) -> Any:
    """One to three random curation steps of a shop, as ``edit_shop`` runs them."""
    steps = rng.sample(["follows_all", "follow", "include", "price", "markup"], rng.randint(1, 3))

    def apply(session: Any, shop: Any) -> None:
        for step in steps:
            if step == "follows_all":
                curation.set_follows_all(session, shop, rng.random() < 0.3)
            elif step == "follow":
                kind = rng.choice(["supplier", "category"])
                targets = catalogue["suppliers"] if kind == "supplier" else catalogue["categories"]
                curation.follow(session, shop, kind, rng.choice(targets), rng.random() < 0.7)
            elif step == "include":
                chosen = rng.sample(catalogue["products"], rng.randint(1, 4))
                curation.include_products(session, shop, chosen, rng.random() < 0.6)
            elif step == "price":
                price = rng.choice([7500, 8000, None])
                curation.set_price(session, shop, rng.choice(variants), price, RATES)
            else:
                curation.set_markup(session, shop, rng.choice([None, 10, -5]))

    return apply


def _change_catalogue(rng: random.Random, items: dict[str, Any]) -> None:
    """Archives or brings back a product, or moves it to another category."""
    by, item = items[rng.choice(sorted(items))]
    if rng.random() < 0.5:
        item["status"] = "active" if item["status"] == "archived" else "archived"
    else:
        item["category"] = rng.choice(CATEGORY_PATHS)
    push(by, item)


def _plain_listing(
    session: Any, view: ShopView | None, subtree: tuple[int, ...] | None, query: str | None
) -> list[int]:
    """The listing as one plain query: the rule, the filters, newest first."""
    condition = _product.status == "active" if view is None else in_shop(view)
    stmt = sa.select(_product.id).where(condition).order_by(_product.id.desc())
    if subtree is not None:
        stmt = stmt.where(_product.category_id.in_(subtree))
    if query:
        stmt = stmt.where(search_condition(query))
    return list(session.scalars(stmt))


def _paged(session: Any, view: ShopView | None, limit: int, **filters: Any) -> list[int]:
    found: list[int] = []
    after = None
    while True:
        ids = listing_ids(session, view, after=after, limit=limit, **filters)
        assert len(ids) <= limit
        found.extend(ids)
        if len(ids) < limit:
            return found
        after = ids[-1]


def _assert_listings_agree(session: Any, view: ShopView | None, rng: random.Random) -> None:
    tree = load_category_tree(session)
    all_ids = sorted(session.scalars(sa.select(_product.id)))
    for category in (None, rng.choice(sorted(tree.names))):
        subtree = None if category is None else tree.subtree(category)
        for query in (None, rng.choice(QUERIES)):
            expected = _plain_listing(session, view, subtree, query)
            filters = {"category_ids": subtree, "query": query}
            assert list(listing_ids(session, view, limit=100, **filters)) == expected
            assert _paged(session, view, rng.randint(1, 3), **filters) == expected
            after = rng.choice(all_ids)
            assert list(listing_ids(session, view, after=after, limit=100, **filters)) == [
                id_ for id_ in expected if id_ < after
            ]


def _assert_shop_agrees(app: Flask, slug: str, rng: random.Random) -> tuple[bool, list[int]]:
    """Asserts the Python and SQL twins agree on ``slug``'s shop; whether it follows the
    whole catalogue, and its listing."""
    with session_scope(app) as session:
        state = load_shop_state(session, load_category_tree(session), slug=slug)
        products = load_products(session, session.scalars(sa.select(_product.id)))
        in_python = {id_ for id_, found in products.items() if state.lists(found)}
        for view in (state.view, load_shop(session, slug=slug)):
            in_sql = set(session.scalars(sa.select(_product.id).where(in_shop(view))))
            assert in_python == in_sql, (slug, view)
        every_variant = [v.id for found in products.values() for v in found.variants]
        sold = offers_for_cart(session, state.view, RATES, "en", every_variant)
        assert {vid: (c.offer.price, c.offer.available) for vid, c in sold.items()} == {
            offer.id: (offer.price, offer.available)
            for id_ in in_python
            for offer in state.offers(products[id_], RATES)
        }
        _assert_listings_agree(session, state.view, rng)
        return state.view.follows_all, sorted(in_python, reverse=True)


def test_the_python_rule_and_the_sql_rule_list_the_same_products(
    app, client, supplier, other_supplier
):
    # Given a catalogue of two suppliers over a few categories, some products archived,
    # and four shops
    items = {
        item["external_id"]: (by, item)
        for by, prefix in ((supplier, "A"), (other_supplier, "BB"))
        for item in (_catalogue_item(prefix, n) for n in range(10))
    }
    for owner in (supplier, other_supplier):
        push(owner, *(item for by, item in items.values() if by is owner))
    ids, variants = product_ids(app), sorted(variant_ids(app).values())
    with session_scope(app) as session:
        categories = sorted(session.scalars(sa.select(Category.id)))
    catalogue: dict[str, Any] = {
        "products": sorted(ids.values()),
        "categories": categories,
        "suppliers": [supplier.supplier_id, other_supplier.supplier_id],
    }
    shops = [make_shop(app, f"shop{n}@example.com") for n in range(4)]
    rng = random.Random(20240611)
    kinds = set()
    for _round in range(20):
        # When a shop is curated at random (and now and then the catalogue changes)
        shop = rng.choice(shops)
        if rng.random() < 0.3:
            _change_catalogue(rng, items)
        edit_shop(app, shop, _curate(rng, catalogue, variants))
        # Then the Python rule, the SQL rule and the listing queries agree
        follows_all, _ = _assert_shop_agrees(app, shop.slug, rng)
        kinds.add(follows_all)
    assert kinds == {True, False}  # the seed tried both kinds of shops
    with session_scope(app) as session:
        _assert_listings_agree(session, None, rng)
    for shop in shops:
        _, expected = _assert_shop_agrees(app, shop.slug, rng)
        # and the pages list exactly that
        shown = walk(client, f"/s/{shop.slug}/")
        assert [id_ for ids_ in shown for id_ in ids_] == expected


# --- 2. Another process's change shows on this process's cached pages -----------------------


@dataclass(frozen=True)
class Change:
    """A change another process commits, the shop page that shows it (``path`` under
    ``/s/<slug>/``), and how to tell that it does."""

    path: Callable[[dict[str, int]], str]
    make: Callable[[Flask, SupplierClient, ShopRef, dict[str, int], dict[str, int]], None]
    shown: Callable[[str, dict[str, int]], bool]


CHANGES = {
    "product title": Change(
        lambda ids: "",
        lambda other, by, shop, ids, vids: push(by, product("A", title="New title")),
        lambda html, ids: "New title" in html,
    ),
    "shop colour": Change(
        lambda ids: "",
        lambda other, by, shop, ids, vids: edit_shop(
            other, shop, lambda s, sh: setattr(sh, "primary_color", "#123456")
        ),
        lambda html, ids: "--sf-primary:#123456" in html,
    ),
    "own price": Change(
        lambda ids: f"p/{ids['A']}",
        lambda other, by, shop, ids, vids: edit_shop(
            other, shop, lambda s, sh: curation.set_price(s, sh, vids["A-M"], 7500, RATES)
        ),
        lambda html, ids: 'aria-live="polite">CN¥75.00' in html,
    ),
    "stock sold out (bulk update)": Change(
        lambda ids: f"p/{ids['A']}",
        lambda other, by, shop, ids, vids: _patch_stock(by, "A-M", 0),
        lambda html, ids: 'data-testid="sold-out"' in html,
    ),
    "new product in a known category (bulk insert)": Change(
        lambda ids: "",
        lambda other, by, shop, ids, vids: push(by, product("NEW", title="Brand new")),
        lambda html, ids: "Brand new" in html,
    ),
    "product taken out": Change(
        lambda ids: "",
        lambda other, by, shop, ids, vids: edit_shop(
            other, shop, lambda s, sh: curation.include_products(s, sh, [ids["A"]], False)
        ),
        lambda html, ids: ids["A"] not in listed_ids(html),
    ),
}


def _patch_stock(supplier: SupplierClient, sku: str, units: int) -> None:
    response = supplier.patch("/stock", json={"items": [{"sku": sku, "stock": units}]})
    assert response.status_code == 200, response.get_json()


@pytest.mark.parametrize("change", CHANGES.values(), ids=CHANGES.keys())
def test_a_change_committed_by_another_process_shows_on_a_cached_page(
    backend, app, other_app, supplier, change
):
    # Given a shop page that this process has cached
    shop = make_shop(app)
    push(supplier, product("A", title="Old title"), product("B"))
    ids, vids = product_ids(app), variant_ids(app)
    visitor = app.test_client()
    url = f"/s/{shop.slug}/{change.path(ids)}?lang=en"
    before, _ = page(visitor, url)
    assert not change.shown(before, ids)
    again, statements = page(visitor, url)
    assert (again, statements) == (before, 0)  # served from the cache
    # When another process commits a change
    change.make(other_app, supplier_of(other_app, supplier), shop, ids, vids)
    # Then this process's page shows it
    after = eventually(visitor, url, lambda html: change.shown(html, ids), backend)
    assert change.shown(after, ids)


def test_this_process_sees_its_own_bulk_stock_update_at_once(app, supplier):
    # Given a product page this process has cached, and no other process's news to wait for
    shop = make_shop(app)
    push(supplier, product("A"))
    app.extensions["storefront"].page_cache.feed = LocalOnly()
    visitor, url = app.test_client(), f"/s/{shop.slug}/p/{product_ids(app)['A']}?lang=en"
    assert 'data-testid="sold-out"' not in page(visitor, url)[0]
    assert page(visitor, url)[1] == 0
    # When this process's supplier API sells the stock out (a raw bulk statement)
    _patch_stock(supplier, "A-M", 0)
    # Then its next page shows it
    assert 'data-testid="sold-out"' in page(visitor, url)[0]


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)  # triggers
def test_a_change_made_outside_the_library_reaches_every_process(backend, app, supplier, db_url):
    # Given a cached page
    shop = make_shop(app)
    push(supplier, product("A", title="Old title"))
    visitor, url = app.test_client(), f"/s/{shop.slug}/?lang=en"
    assert "Old title" in page(visitor, url)[0]
    assert page(visitor, url)[1] == 0
    # When a script renames the product with plain SQL on its own connection
    outsider = create_engine(db_url)
    try:
        with outsider.begin() as conn:
            conn.execute(sa.text("UPDATE sf_product SET title = 'Fixed by hand'"))
    finally:
        outsider.dispose()
    # Then the page shows it (the database announced the change)
    assert "Fixed by hand" in eventually(visitor, url, lambda h: "Fixed by hand" in h, backend)


def test_without_the_change_feed_pages_stay_cached_but_the_owner_reads_fresh(
    app, other_app, supplier
):
    # Given a shop page cached by a process that follows no other process's changes
    shop = make_shop(app)
    push(supplier, product("A", title="Old title"))
    owner = signed_in(app, "ann@example.com")
    app.extensions["storefront"].page_cache.feed = LocalOnly()
    visitor = app.test_client()
    url = f"/s/{shop.slug}/?lang=en"
    assert "Old title" in page(visitor, url)[0]
    # When another process renames the product and recolours the shop
    push(supplier_of(other_app, supplier), product("A", title="New title"))
    edit_shop(other_app, shop, lambda s, sh: setattr(sh, "primary_color", "#123456"))
    # Then a visitor still gets the cached page, without a query: the feed is what clears it
    html, statements = page(visitor, url)
    assert "Old title" in html
    assert "#123456" not in html
    assert statements == 0
    # but the shop's owner sees both changes at once
    mine, statements = page(owner, url)
    assert "New title" in mine
    assert "--sf-primary:#123456" in mine
    assert statements > 0


def test_each_backend_follows_other_processes_through_its_own_feed(backend, app):
    feed = app.extensions["storefront"].page_cache.feed
    wanted = {"sqlite": SQLiteDataVersion, "postgresql": PostgresNotifications}[backend]
    assert isinstance(feed, wanted)
    in_memory = create_engine("sqlite://")
    assert isinstance(change_feed(in_memory), LocalOnly)  # no other process can write to it
    in_memory.dispose()


def test_sqlite_data_version_tells_of_other_connections_commits(tmp_path):
    path = tmp_path / "feed.sqlite3"
    writer = sqlite3.connect(path)
    writer.execute("CREATE TABLE t (x INTEGER)")
    writer.commit()
    feed = SQLiteDataVersion(str(path))
    assert feed.poll() is True  # what happened before the first poll is unknown
    assert feed.poll() is False
    writer.execute("INSERT INTO t VALUES (1)")
    assert feed.poll() is False  # not committed yet
    writer.commit()
    assert feed.poll() is True
    assert feed.poll() is False
    writer.close()


def test_sqlite_data_version_cannot_follow_a_database_it_cannot_open(tmp_path):
    assert SQLiteDataVersion(str(tmp_path / "missing" / "db.sqlite3")).poll() is None


# --- 3. A lost listening connection (PostgreSQL) ---------------------------------------------


def _listening(engine: sa.Engine) -> set[int]:
    """Backends of this database that ran ``LISTEN`` on the page cache's channel."""
    with engine.connect() as conn:
        return set(
            conn.scalars(
                sa.text(
                    "SELECT pid FROM pg_stat_activity"
                    " WHERE datname = current_database() AND query = :listen"
                ),
                {"listen": f"LISTEN {CHANNEL}"},
            )
        )


def _terminate(engine: sa.Engine, pid: int) -> None:
    """Ends backend ``pid`` and waits until it is gone."""
    with engine.connect() as conn:
        assert conn.scalar(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    deadline = time.monotonic() + 5
    while pid in _listening(engine):
        assert time.monotonic() < deadline, f"backend {pid} still runs"
        time.sleep(0.02)


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)  # LISTEN/NOTIFY
def test_a_lost_listening_connection_bypasses_the_cache_until_it_listens_again(
    backend, app, other_app, supplier, db_url
):
    cache = app.extensions["storefront"].page_cache
    clock = Clock()
    cache.timer = cache.feed.timer = clock
    admin = create_engine(db_url)
    try:
        shop = make_shop(app)
        push(supplier, product("A", title="Title 1"))
        by_other = supplier_of(other_app, supplier)
        visitor, url = app.test_client(), f"/s/{shop.slug}/?lang=en"
        others = _listening(admin)
        # Given a process listening for changes, its page cached
        assert "Title 1" in page(visitor, url)[0]
        (listener,) = _listening(admin) - others
        assert page(visitor, url)[1] == 0
        # When its listening connection is killed and another process changes the product
        _terminate(admin, listener)
        push(by_other, product("A", title="Title 2"))
        # Then its pages read the database: fresh, though the notification was lost
        html, statements = page(visitor, url)
        assert "Title 2" in html
        assert statements > 0
        push(by_other, product("A", title="Title 3"))
        clock.advance(RECONNECT_INTERVAL - 1)
        html, statements = page(visitor, url)
        assert "Title 3" in html
        assert statements > 0
        assert page(visitor, url)[1] > 0  # nothing is kept meanwhile
        assert not _listening(admin) - others  # too early to reconnect
        # and after the reconnect interval it listens again, and caches again
        clock.advance(1)
        assert "Title 3" in page(visitor, url)[0]
        (again,) = _listening(admin) - others
        assert again != listener
        assert page(visitor, url)[1] == 0
        push(by_other, product("A", title="Title 4"))
        assert "Title 4" in eventually(visitor, url, lambda html: "Title 4" in html, backend)
    finally:
        admin.dispose()


# --- 4. The cache itself ---------------------------------------------------------------------


def test_a_load_that_started_before_a_clear_is_not_kept():
    cache = PageCache(300)

    def load_while_a_change_commits() -> str:
        cache.clear()  # another thread's commit lands while this load runs
        return "before the change"

    assert cache.get("shop", "s", load_while_a_change_commits) == "before the change"
    assert cache.get("shop", "s", lambda: "after the change") == "after the change"
    assert cache.get("shop", "s", lambda: "not loaded") == "after the change"

    def load_many_while_a_change_commits(missing: list[int]) -> dict[int, str]:
        cache.clear()
        return {key: "before the change" for key in missing}

    assert cache.get_many("product", [1], load_many_while_a_change_commits) == {
        1: "before the change"
    }
    assert cache.get_many("product", [1], lambda missing: {1: "after"}) == {1: "after"}
    assert cache.get_many("product", [1], lambda missing: {1: "not loaded"}) == {1: "after"}


def test_get_many_remembers_absent_keys_as_none():
    cache = PageCache(300)
    loads: list[list[int]] = []

    def load(missing: list[int]) -> dict[int, str]:
        loads.append(missing)
        return {key: f"product {key}" for key in missing if key != 2}

    assert cache.get_many("product", [1, 2], load) == {1: "product 1", 2: None}
    assert cache.get_many("product", [2, 1], load) == {1: "product 1", 2: None}
    assert cache.get_many("product", [3, 2], load) == {2: None, 3: "product 3"}
    assert loads == [[1, 2], [3]]


def test_zero_seconds_keeps_nothing_and_follows_no_feed():
    cache = PageCache(0)
    cache.feed = feed = ScriptedFeed()
    cache.sync()
    assert feed.polls == 0
    assert not cache.enabled
    loads = iter(range(10))
    assert [cache.get("tree", None, lambda: next(loads)) for _ in range(2)] == [0, 1]
    assert cache.get_many("product", [1], lambda missing: {1: next(loads)}) == {1: 2}
    assert cache.get_many("product", [1], lambda missing: {1: next(loads)}) == {1: 3}
    cache.keep("tree", {None: "kept?"}, cache.generation)
    assert cache.get("tree", None, lambda: "loaded") == "loaded"


def test_parts_expire_after_the_configured_seconds():
    clock = Clock(0.0)
    cache = PageCache(10, timer=clock)
    assert cache.get("tree", None, lambda: "first") == "first"
    clock.advance(9.5)
    assert cache.get("tree", None, lambda: "second") == "first"
    clock.advance(0.5)
    assert cache.get("tree", None, lambda: "second") == "second"


def test_while_changes_cannot_be_followed_nothing_is_kept():
    cache = PageCache(300)
    cache.feed = ScriptedFeed(False, None, None, True, False)
    assert cache.get("shop", "s", lambda: "v1") == "v1"
    cache.sync()  # nothing changed
    assert cache.get("shop", "s", lambda: "not loaded") == "v1"
    cache.sync()  # cannot tell: cleared, and bypassed until the feed is back
    assert not cache.enabled
    assert cache.get("shop", "s", lambda: "v2") == "v2"
    cache.sync()
    assert cache.get("shop", "s", lambda: "v3") == "v3"
    cache.sync()  # back (what was missed is unknown): cleared, kept again
    assert cache.enabled
    assert cache.get("shop", "s", lambda: "v4") == "v4"
    cache.sync()
    assert cache.get("shop", "s", lambda: "not loaded") == "v4"


def test_tree_reloads_for_unknown_categories_are_rate_limited():
    clock = Clock()
    cache = PageCache(300, timer=clock)
    assert cache.tree_reload_allowed()
    assert not cache.tree_reload_allowed()
    clock.advance(TREE_RELOAD_INTERVAL / 2)
    assert not cache.tree_reload_allowed()
    clock.advance(TREE_RELOAD_INTERVAL / 2)
    assert cache.tree_reload_allowed()
    assert not cache.tree_reload_allowed()


# --- 5. The cache turned off -----------------------------------------------------------------


def test_with_the_cache_off_pages_read_the_database_and_show_every_change(db_url, app, supplier):
    # Given a process without a page cache (``app`` plays the other process)
    uncached = build_app(db_url, STOREFRONT_PAGE_CACHE_SECONDS=0)
    try:
        shop = make_shop(app)
        push(supplier, product("A", title="Old title", category="Food/Tea"))
        ids = product_ids(app)
        visitor = uncached.test_client()
        food = category_id(app, "Food")
        urls = [
            f"/s/{shop.slug}/?lang=en",
            f"/s/{shop.slug}/c/{food}?lang=en",
            f"/s/{shop.slug}/?q=old&lang=en",
            f"/s/{shop.slug}/p/{ids['A']}?lang=en",
        ]
        for url in urls:
            html, statements = page(visitor, url)
            assert "Old title" in html, url
            assert statements > 0, url
        # When another process renames the product
        push(supplier, product("A", title="New title", category="Food/Tea"))
        # Then every page shows it at once
        for url in [*urls[:2], f"/s/{shop.slug}/?q=new&lang=en", urls[3]]:
            assert "New title" in page(visitor, url)[0], url
    finally:
        uncached.extensions["storefront"].engine.dispose()


# --- 6. Listings of shops that took products out ---------------------------------------------

TAKE_OUTS = {
    "a few at a page boundary": lambda newest: newest[19:22],
    "the newest SHARED_SLACK": lambda newest: newest[:SHARED_SLACK],
    "more than SHARED_SLACK": lambda newest: newest[5 : 5 + SHARED_SLACK + 1],
}


@pytest.mark.parametrize("take_out", TAKE_OUTS.values(), ids=TAKE_OUTS.keys())
def test_a_shop_that_took_products_out_lists_the_rest_across_pages(app, client, supplier, take_out):
    # Given a shop following the whole catalogue of 63 products, its pages cached
    shop = make_shop(app)
    push(supplier, *(product(f"P{n:02d}") for n in range(63)))
    newest = sorted(product_ids(app).values(), reverse=True)
    apparel = category_id(app, "Apparel")
    urls = [f"/s/{shop.slug}/", f"/s/{shop.slug}/c/{apparel}", f"/s/{shop.slug}/?q=product"]
    for url in urls:
        assert walk(client, url) == [newest[:20], newest[20:40], newest[40:60], newest[60:]]
    # When its owner takes products out
    taken = take_out(newest)
    edit_shop(app, shop, lambda s, sh: curation.include_products(s, sh, taken, False))
    # Then every listing shows exactly the others, page after page, cached or not
    rest = [id_ for id_ in newest if id_ not in taken]
    pages = [rest[start : start + 20] for start in range(0, len(rest), 20)]
    for url in urls:
        assert walk(client, url) == pages, url
        assert walk(client, url) == pages, url


# --- 7. Categories created by another process ------------------------------------------------


def test_a_category_another_process_created_shows_though_the_tree_is_cached(
    app, other_app, supplier
):
    # Given a process whose category tree is cached, following no other process's changes
    cache = app.extensions["storefront"].page_cache
    cache.feed = LocalOnly()
    cache.timer = clock = Clock()
    shop = make_shop(app)
    push(supplier, product("A"))
    visitor, home = app.test_client(), f"/s/{shop.slug}/?lang=en"
    assert "Apparel" in page(visitor, home)[0]
    by_other = supplier_of(other_app, supplier)
    # When another process creates a category with a product in it
    push(by_other, product("G", title="Spade", category="Garden/Tools"))
    garden = category_id(app, "Garden")
    assert f"/c/{garden}" not in page(visitor, home)[0]  # the cached tree lacks it
    # Then its page is found: the tree is reloaded for the unknown id
    html, _ = page(visitor, f"/s/{shop.slug}/c/{garden}?lang=en")
    assert "Spade" in html
    assert "Tools" in html
    # but not again within the reload interval
    push(by_other, product("K", title="Kite", category="Outdoor"))
    outdoor = category_id(app, "Outdoor")
    assert visitor.get(f"/s/{shop.slug}/c/{outdoor}").status_code == 404
    clock.advance(TREE_RELOAD_INTERVAL)
    html, _ = page(visitor, f"/s/{shop.slug}/c/{outdoor}?lang=en")
    assert "Kite" in html


def test_a_products_remembered_cards_stay_few_whatever_the_markup_rules():
    bounds = VariantBounds(supply=3500, retail=6900, floor=5900)
    product = ProductData(
        1, 1, None, True, "Tea", {}, "", {}, (), "CNY", datetime.now(UTC),
        (VariantData(7, "T-1", {}, "CNY", bounds, 5),),
    )  # fmt: skip
    rates = Rates(1000, 200)
    for percent in range(1, 200):
        view = ShopView(
            1, 1, "s", "S", None, "#e4393c", "", "en", "symbol", None, True, percent * 100,
            datetime.now(UTC), None, "CODE",
        )  # fmt: skip
        state = ShopState(view, frozenset(), frozenset(), frozenset(), frozenset(), {})
        card = state.card(product, "en", RateBook(rates))
        assert card.price == shop_price(bounds, rates, markup_bp=percent * 100).amount
        assert len(product.memo) <= MEMO_ENTRIES
