"""A flash sale's quota, reserved from stock when it is created and given back unsold when
it ends (``docs/promotions.md``, "Flash-sale stock"); a stock report during the sale keeps
the reservation out of ``available`` — on both backends, and two workers ending the same
sales on PostgreSQL."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from promotion_support import LATER, NOW, Catalogue, available, catalogue, window

from storefront_sdk.db import create_engine, make_sessionmaker, session_scope
from storefront_sdk.errors import ValidationError
from storefront_sdk.promotions import manage
from storefront_sdk.promotions.models import Promotion


@pytest.fixture
def shop_catalogue(app: Flask) -> Catalogue:
    return catalogue(app)


def _flash(app: Flask, shop_catalogue: Catalogue, **terms: Any) -> Promotion:
    given = {
        "funder": "supplier",
        "supplier_id": shop_catalogue.supplier.supplier_id,
        "sku": "A",
        "price": 3900,
        "quota": 4,
        **terms,
    }
    with session_scope(app) as session:
        promotion = manage.create_flash_sale(session, **window(**given))
        session.expunge(promotion)
        return promotion


def _refused(app: Flask, shop_catalogue: Catalogue, **terms: Any) -> dict[str, Any]:
    with pytest.raises(ValidationError) as refused:
        _flash(app, shop_catalogue, **terms)
    assert refused.value.errors is not None
    return refused.value.errors


def _variant_a(shop_catalogue: Catalogue) -> int:
    return shop_catalogue.variants[(shop_catalogue.supplier.supplier_id, "A")]


def _end(app: Flask, promotion: Promotion, now: Any = NOW) -> bool:
    with session_scope(app) as session:
        found = manage.find_promotion(session, promotion.public_id)
        return manage.end_promotion(session, found, now)


def _report(shop_catalogue: Catalogue, stock: int) -> None:
    response = shop_catalogue.supplier.patch(
        "/stock", json={"items": [{"sku": "A", "stock": stock}]}
    )
    assert response.status_code == 200, response.get_json()


def _sell(app: Flask, promotion: Promotion, units: int) -> None:
    """What a checkout's usage takes of the quota (``promotions.usage``, another area)."""
    with session_scope(app) as session:
        session.execute(
            sa.text("UPDATE sf_promotion SET units_sold = units_sold + :units WHERE id = :id"),
            {"units": units, "id": promotion.id},
        )


def test_creating_a_flash_sale_reserves_its_quota_from_stock(
    app: Flask, shop_catalogue: Catalogue
) -> None:
    # Given SKU A with 10 available
    # When a flash sale of 4 units is created
    sale = _flash(app, shop_catalogue)
    # Then 4 units are held out of available for it
    assert available(app, _variant_a(shop_catalogue)) == 6
    assert (sale.kind, sale.reserved, sale.quota, sale.units_sold, sale.price_minor) == (
        "flash_sale",
        True,
        4,
        0,
        3900,
    )
    assert (sale.variant_id, sale.currency, sale.name) == (
        _variant_a(shop_catalogue),
        "CNY",
        "Flash sale A",
    )


def test_a_quota_beyond_the_stock_is_refused_and_nothing_is_reserved(
    app: Flask, shop_catalogue: Catalogue
) -> None:
    errors = _refused(app, shop_catalogue, quota=11)
    assert errors == {"quota": ["Only 10 units of SKU A are available."]}
    assert available(app, _variant_a(shop_catalogue)) == 10


def test_a_supplier_flash_price_below_retail_minus_supply_is_refused(
    app: Flask, shop_catalogue: Catalogue
) -> None:
    # Given SKU A: retail 5000, supply 3000 — the supplier can give at most 2000 off
    errors = _refused(app, shop_catalogue, price=1999)
    assert errors == {
        "price": [
            "Must be at least 2000: below it the supplier's part of the retail price (5000) "
            "would be negative."
        ]
    }
    assert _flash(app, shop_catalogue, price=2000).price_minor == 2000


def test_the_platform_may_fund_a_flash_price_below_supply(
    app: Flask, shop_catalogue: Catalogue
) -> None:
    assert _flash(app, shop_catalogue, funder="platform", price=1000).funder == "platform"


@pytest.mark.parametrize(
    ("terms", "errors"),
    [
        ({"price": 5000}, {"price": ["Must be below the retail price (5000)."]}),
        ({"price": 0}, {"price": ["Must be between 1 and 2147483647."]}),
        ({"quota": 0}, {"quota": ["Must be between 1 and 2147483647."]}),
        ({"per_consumer": 0}, {"per_consumer": ["Must be between 1 and 2147483647."]}),
        ({"sku": "NOPE"}, {"sku": ["No SKU 'NOPE' on sale by this supplier."]}),
        ({"sku": "Q"}, {"sku": ["No SKU 'Q' on sale by this supplier."]}),
        (
            {"funder": "shop"},
            {"funder": ["A flash sale is funded by the supplier or the platform."]},
        ),
        ({"ends_at": NOW}, {"ends_at": ["Must be after the start."]}),
    ],
)
def test_bad_flash_sale_terms_are_refused(
    app: Flask, shop_catalogue: Catalogue, terms: dict[str, Any], errors: dict[str, Any]
) -> None:
    assert _refused(app, shop_catalogue, **terms) == errors
    assert available(app, _variant_a(shop_catalogue)) == 10


def test_a_second_flash_sale_of_a_sku_in_an_overlapping_window_is_refused(
    app: Flask, shop_catalogue: Catalogue
) -> None:
    first = _flash(app, shop_catalogue)
    errors = _refused(
        app, shop_catalogue, starts_at=LATER - timedelta(hours=1), ends_at=LATER + timedelta(days=1)
    )
    assert errors == {"sku": [f"Flash sale {first.public_id} of this SKU overlaps this window."]}
    # And once the first has ended, the SKU may have another one
    _end(app, first)
    assert _flash(app, shop_catalogue).reserved is True


def test_a_stock_report_during_the_sale_keeps_the_reservation_out_of_available(
    app: Flask, shop_catalogue: Catalogue
) -> None:
    # Given a live flash sale of 4 units of SKU A, 1 of them sold
    sale = _flash(app, shop_catalogue)
    _sell(app, sale, 1)
    # When the supplier reports 20 units
    _report(shop_catalogue, 20)
    # Then the 3 unsold units of the quota stay out of available
    assert available(app, _variant_a(shop_catalogue)) == 17


def test_ending_the_sale_gives_the_unsold_units_back_once(
    app: Flask, shop_catalogue: Catalogue
) -> None:
    # Given a flash sale of 4 units, 1 sold
    sale = _flash(app, shop_catalogue)
    _sell(app, sale, 1)
    # When it is ended, twice
    assert _end(app, sale) is True
    assert _end(app, sale) is False
    # Then its 3 unsold units are back, once, and it holds nothing any more
    assert available(app, _variant_a(shop_catalogue)) == 9
    with session_scope(app) as session:
        ended = session.get(Promotion, sale.id)
        assert ended is not None
        assert (ended.reserved, ended.ended_at) == (False, NOW)


def test_after_a_low_report_the_end_gives_back_no_more_than_the_report_allows(
    app: Flask, shop_catalogue: Catalogue
) -> None:
    # Given a flash sale of 4 units, and then a report of only 3 units
    sale = _flash(app, shop_catalogue)
    _report(shop_catalogue, 3)
    assert available(app, _variant_a(shop_catalogue)) == 0
    # When the sale ends
    _end(app, sale)
    # Then the units come back capped by the report, as any release is
    assert available(app, _variant_a(shop_catalogue)) == 3


def test_the_job_ends_only_flash_sales_whose_window_is_over(
    app: Flask, shop_catalogue: Catalogue
) -> None:
    # Given a sale of SKU A ending at LATER and one of SKU B ending a day after
    over = _flash(app, shop_catalogue)
    live = _flash(app, shop_catalogue, sku="B", price=1500, ends_at=LATER + timedelta(days=1))
    with session_scope(app) as session:
        # When the job runs before LATER, then at LATER, then again
        before = manage.end_expired_flash_sales(session, LATER - timedelta(seconds=1))
        at_end = manage.end_expired_flash_sales(session, LATER)
        again = manage.end_expired_flash_sales(session, LATER)
    # Then only the first is ended, once, and its units are back
    assert (before, at_end, again) == (0, 1, 0)
    assert available(app, _variant_a(shop_catalogue)) == 10
    with session_scope(app) as session:
        assert session.get(Promotion, over.id).ended_at == LATER  # type: ignore[union-attr]
        assert session.get(Promotion, live.id).reserved is True  # type: ignore[union-attr]


def test_two_workers_ending_the_same_sales_release_each_once(pg_app: Flask) -> None:
    # Given 5 flash sales of 2 units each of SKU A, all over
    shop_catalogue = catalogue(pg_app)
    for index in range(5):
        start = NOW + timedelta(hours=index)
        _flash(
            pg_app, shop_catalogue, quota=2, starts_at=start, ends_at=start + timedelta(minutes=30)
        )
    assert available(pg_app, _variant_a(shop_catalogue)) == 0
    # When two workers run the job at once
    url = pg_app.config["STOREFRONT_DATABASE_URL"]
    engine = create_engine(url, {"pool_size": 2, "max_overflow": 0})
    sessions = make_sessionmaker(engine)
    start_together = threading.Barrier(2)

    def job(_: int) -> int:
        start_together.wait()
        with sessions() as session:
            ended = manage.end_expired_flash_sales(session, LATER)
            session.commit()
            return ended

    try:
        with ThreadPoolExecutor(2) as pool:
            counts = list(pool.map(job, range(2)))
    finally:
        engine.dispose()
    # Then every sale is ended once and every unit is back once
    assert sum(counts) == 5
    assert available(pg_app, _variant_a(shop_catalogue)) == 10
