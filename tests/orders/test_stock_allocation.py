"""Stock allocation for orders: no oversell under real concurrency, all or nothing, no
negative stock — on both backends (PostgreSQL with 100 threads)."""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa
from conftest import new_supplier_client
from flask import Flask
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from storefront_sdk.catalog.allocation import SoldOut, allocate, release
from storefront_sdk.catalog.models import Variant
from storefront_sdk.db import create_engine, make_sessionmaker, session_scope
from storefront_sdk.testing.factories import product_payload, variant_payload


def _variants(app: Flask, supplier, **stock: int) -> dict[str, int]:
    """Variant ids by SKU of one product with a variant per ``stock`` item (``sku=units``)."""
    variants = [variant_payload(sku, stock=units) for sku, units in stock.items()]
    response = supplier.put(
        "/products", json={"products": [product_payload("P", variants=variants)]}
    )
    assert response.status_code == 200, response.get_json()
    with session_scope(app) as session:
        return {v.sku: v.id or 0 for v in session.scalars(select(Variant))}


def _available(app: Flask) -> dict[int, int]:
    with session_scope(app) as session:
        return {v.id or 0: v.available for v in session.scalars(select(Variant))}


def _race(url: str, workers: int, wanted: dict[int, int]) -> Counter[str]:
    """``workers`` threads, each with its own connection, allocate ``wanted`` at once."""
    engine = create_engine(url, {"pool_size": workers, "max_overflow": 0})
    sessions = make_sessionmaker(engine)
    start = threading.Barrier(workers)

    def checkout(_: int) -> str:
        start.wait()
        session = sessions()
        try:
            allocate(session, wanted)
            session.commit()
            return "allocated"
        except SoldOut:
            session.rollback()
            return "sold out"
        finally:
            session.close()

    try:
        with ThreadPoolExecutor(workers) as pool:
            return Counter(pool.map(checkout, range(workers)))
    finally:
        engine.dispose()


def test_100_concurrent_checkouts_for_the_last_10_units_sell_exactly_10(pg_app, postgres_url):
    ids = _variants(pg_app, new_supplier_client(pg_app), LAST=10)
    results = _race(postgres_url, 100, {ids["LAST"]: 1})
    assert results == Counter({"allocated": 10, "sold out": 90})
    assert _available(pg_app)[ids["LAST"]] == 0


def test_concurrent_carts_of_the_same_variants_in_any_order_neither_deadlock_nor_oversell(
    pg_app, postgres_url
):
    ids = _variants(pg_app, new_supplier_client(pg_app), A=7, B=100)
    # The same two variants, listed in opposite orders by half of the carts
    forward = _race(postgres_url, 20, {ids["A"]: 1, ids["B"]: 2})
    backward = _race(postgres_url, 20, dict(reversed([(ids["A"], 1), (ids["B"], 2)])))
    assert forward["allocated"] + backward["allocated"] == 7
    left = _available(pg_app)
    assert left[ids["A"]] == 0
    assert left[ids["B"]] == 100 - 2 * 7  # the refused carts took nothing of B


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)  # PostgreSQL: the tests above
def test_concurrent_checkouts_on_sqlite_do_not_oversell(app, backend, db_url, supplier):
    ids = _variants(app, supplier, LAST=3)
    results = _race(db_url, 8, {ids["LAST"]: 1})
    assert results == Counter({"allocated": 3, "sold out": 5})
    assert _available(app)[ids["LAST"]] == 0


def test_an_allocation_is_all_or_nothing_and_names_what_is_short(app, supplier):
    ids = _variants(app, supplier, A=5, B=1, C=0)
    with session_scope(app) as session:
        with pytest.raises(SoldOut) as refused:
            allocate(session, {ids["A"]: 2, ids["B"]: 2, ids["C"]: 1})
        assert refused.value.variant_ids == [ids["B"], ids["C"]]
        assert refused.value.code == "sold_out"
        # The transaction goes on, without the refused allocation
        allocate(session, {ids["A"]: 5})
    assert _available(app) == {ids["A"]: 0, ids["B"]: 1, ids["C"]: 0}


def test_archived_and_unknown_variants_cannot_be_allocated(app, supplier):
    ids = _variants(app, supplier, A=5)
    product = product_payload("P", variants=[variant_payload("A", stock=5)], status="archived")
    assert supplier.put("/products", json={"products": [product]}).status_code == 200
    with session_scope(app) as session, pytest.raises(SoldOut) as refused:
        allocate(session, {ids["A"]: 1, 10**9: 1})
    assert refused.value.variant_ids == [ids["A"], 10**9]
    assert _available(app)[ids["A"]] == 5


def test_released_units_can_be_sold_again(app, supplier):
    ids = _variants(app, supplier, A=2)
    with session_scope(app) as session:
        allocate(session, {ids["A"]: 2})
    with session_scope(app) as session, pytest.raises(SoldOut):
        allocate(session, {ids["A"]: 1})
    with session_scope(app) as session:
        release(session, {ids["A"]: 2})
        allocate(session, {ids["A"]: 1})
    assert _available(app)[ids["A"]] == 1


@pytest.mark.parametrize("quantity", [0, -1])
def test_quantities_below_one_are_refused(app, supplier, quantity):
    ids = _variants(app, supplier, A=2)
    with session_scope(app) as session, pytest.raises(ValueError, match="at least 1"):
        allocate(session, {ids["A"]: quantity})
    assert _available(app)[ids["A"]] == 2


def test_the_database_refuses_negative_availability(app, supplier):
    ids = _variants(app, supplier, A=2)
    table = Variant.__table__
    with pytest.raises(IntegrityError), session_scope(app) as session:
        session.execute(sa.update(table).where(table.c.id == ids["A"]).values(available=-1))
    assert _available(app)[ids["A"]] == 2
