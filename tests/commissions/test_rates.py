"""Commission rates at every scope: the most specific wins, each level on its own; a change
that would leave a negative part in some product's retail price is refused naming it; the
shop prices and the sale follow the rates."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from commission_world import World, dispose, make_world

from storefront_sdk.catalog.models import Product
from storefront_sdk.errors import NotFound, ValidationError
from storefront_sdk.pricing.models import CATEGORY, PLATFORM, PRODUCT, SUPPLIER
from storefront_sdk.pricing.prices import Rates
from storefront_sdk.pricing.rates import RateBook, RateChange, load_rate_book, set_rates

NOW = datetime(2026, 12, 1, tzinfo=UTC)


@pytest.fixture
def world(db_url: str) -> Iterator[World]:
    made = make_world(db_url)
    yield made
    dispose(made)


def _set(world: World, scope: str, target: int, level1: int | None, level2: int | None) -> None:
    with world.session() as session:
        set_rates(session, world.book(session), RateChange(scope, target, level1, level2), NOW)


def _product(world: World, sku: str) -> tuple[int, int, int | None]:
    with world.session() as session:
        row = session.execute(
            sa.select(Product.id, Product.supplier_id, Product.category_id).where(
                Product.external_id == f"P-{sku}"
            )
        ).one()
        return row.id, row.supplier_id, row.category_id


def test_without_rates_set_every_product_has_the_configured_ones(world: World) -> None:
    with world.session() as session:
        book = world.book(session)
    assert book.uniform
    assert book.for_product(*_product(world, "TEE")) == Rates(1000, 200)


def test_the_most_specific_scope_wins_level_by_level(world: World) -> None:
    tee, supplier, category = _product(world, "TEE")
    cap = _product(world, "CAP")
    _set(world, PLATFORM, 0, 800, None)
    _set(world, SUPPLIER, supplier, 900, 300)
    assert category is not None
    _set(world, CATEGORY, category, None, 100)  # Apparel/Tops: level 2 only
    _set(world, PRODUCT, tee, 1200, None)
    with world.session() as session:
        book = world.book(session)
    assert book.for_product(tee, supplier, category) == Rates(1200, 100)  # product, category
    assert book.for_product(*cap) == Rates(900, 100)  # supplier, category
    assert book.for_product(999, 999, None) == Rates(800, 200)  # platform, configured


def test_a_category_rate_reaches_its_subcategories(world: World) -> None:
    tee, supplier, category = _product(world, "TEE")  # in Apparel/Tops
    with world.session() as session:
        from storefront_sdk.catalog.models import Category

        apparel = session.scalar(sa.select(Category.id).where(Category.path == "Apparel"))
    assert apparel is not None
    _set(world, CATEGORY, apparel, 1500, None)
    with world.session() as session:
        assert world.book(session).for_product(tee, supplier, category) == Rates(1500, 200)


def test_rates_leaving_a_negative_part_are_refused_naming_the_product(world: World) -> None:
    # TEE: supply 3000 of retail 5000 leaves 2000 for both levels and the platform (40 %)
    tee, _, _ = _product(world, "TEE")
    with pytest.raises(ValidationError, match=r"negative part .*Product TEE \(P-TEE\)"):
        _set(world, PRODUCT, tee, 3500, 600)
    with pytest.raises(ValidationError, match=r"Product TEE \(P-TEE\)"):
        _set(world, PLATFORM, 0, 3900, 200)  # every product: TEE is the one that breaks
    _set(world, PRODUCT, tee, 3500, 500)  # exactly 40 %: the platform keeps nothing
    product = _product(world, "TEE")
    with world.session() as session:
        assert world.book(session).for_product(*product) == Rates(3500, 500)


def test_bad_rate_changes_are_refused(world: World) -> None:
    with pytest.raises(ValidationError, match="from 0 to 10000"):
        _set(world, PLATFORM, 0, 10001, None)
    with pytest.raises(NotFound, match="no supplier 999"):
        _set(world, SUPPLIER, 999, 100, None)
    with pytest.raises(ValidationError, match="unknown scope"):
        _set(world, "galaxy", 1, 100, None)


def test_clearing_a_scope_goes_back_to_the_wider_one(world: World) -> None:
    tee, supplier, category = _product(world, "TEE")
    _set(world, PRODUCT, tee, 1200, 300)
    _set(world, PRODUCT, tee, None, None)
    with world.session() as session:
        book = world.book(session)
    assert book.for_product(tee, supplier, category) == Rates(1000, 200)


def test_a_sale_uses_the_products_rates(world: World) -> None:
    tee, _, _ = _product(world, "TEE")
    _set(world, PRODUCT, tee, 1500, 300)
    order = world.buy({"TEE": 1, "CAP": 1})
    lines = world.lines(order)
    assert (lines["TEE"].level1_minor, lines["TEE"].level2_minor) == (750, 150)
    assert (lines["CAP"].level1_minor, lines["CAP"].level2_minor) == (200, 40)


def test_a_rate_book_loaded_from_nothing_is_the_defaults(world: World) -> None:
    with world.session() as session:
        assert load_rate_book(session, Rates(1, 2)) == RateBook(Rates(1, 2))
