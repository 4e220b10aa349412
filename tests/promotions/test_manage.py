"""Creating, finding and ending promotions (``storefront_sdk.promotions.manage``): each
funder's rules, every term checked with a message at its field, tenancy by supplier and
shop — on both backends."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from promotion_support import LATER, NOW, Catalogue, catalogue, window
from shop_support import make_shop

from storefront_sdk.db import session_scope
from storefront_sdk.errors import NotFound, ValidationError
from storefront_sdk.promotions import manage
from storefront_sdk.promotions.models import Promotion


@pytest.fixture
def shop_catalogue(app: Flask) -> Catalogue:
    return catalogue(app)


def _coupon(app: Flask, **terms: Any) -> Promotion:
    with session_scope(app) as session:
        promotion = manage.create_coupon(session, **window(**terms))
        session.expunge(promotion)
        return promotion


def _refused(app: Flask, create: Any, **terms: Any) -> dict[str, Any]:
    with session_scope(app) as session, pytest.raises(ValidationError) as refused:
        create(session, **window(**terms))
    assert refused.value.errors is not None
    return refused.value.errors


def test_a_supplier_coupon_is_stored_upper_case_in_the_supplier_currency(
    app: Flask, shop_catalogue: Catalogue
) -> None:
    supplier_id = shop_catalogue.supplier.supplier_id
    coupon = _coupon(
        app, funder="supplier", supplier_id=supplier_id, amount_off=500, code=" spring-10 "
    )
    assert (coupon.kind, coupon.code, coupon.currency) == ("coupon", "SPRING-10", "CNY")
    assert (coupon.amount_off_minor, coupon.percent_off, coupon.supplier_id) == (
        500,
        None,
        supplier_id,
    )
    assert coupon.public_id.startswith("pr_")
    assert coupon.name == "CNY 5.00 off"


def test_a_claimable_coupon_may_be_used_once_per_claimer_unless_told(
    app: Flask, shop_catalogue: Catalogue
) -> None:
    coupon = _coupon(app, funder="platform", percent_off=10, claimable=True)
    assert (coupon.claimable, coupon.per_consumer, coupon.code, coupon.currency) == (
        True,
        1,
        None,
        None,
    )
    told = _coupon(app, funder="platform", percent_off=10, claimable=True, per_consumer=3)
    assert told.per_consumer == 3


@pytest.mark.parametrize(
    ("terms", "field", "message"),
    [
        ({"percent_off": 10, "amount_off": 100, "currency": "CNY"}, "percent_off", "Give either"),
        ({}, "percent_off", "Give either"),
        ({"percent_off": 0}, "percent_off", "Must be between 1 and 100."),
        ({"percent_off": 101}, "percent_off", "Must be between 1 and 100."),
        ({"amount_off": 0, "currency": "CNY"}, "amount_off", "Must be between 1"),
        ({"amount_off": 100}, "currency", "Required for amounts"),
        ({"amount_off": 100, "currency": "XYZ"}, "currency", "Unknown currency 'XYZ'."),
        ({"percent_off": 10, "min_spend": -1, "currency": "CNY"}, "min_spend", "Must be between 0"),
        ({"percent_off": 10, "max_uses": 0}, "max_uses", "Must be between 1"),
        ({"percent_off": 10, "per_consumer": 0}, "per_consumer", "Must be between 1"),
        ({"percent_off": 10, "budget": 0, "currency": "CNY"}, "budget", "Must be between 1"),
        ({"percent_off": 10, "code": "AB"}, "code", "Must be 3 to 32 letters"),
        ({"percent_off": 10, "code": "NO SPACE"}, "code", "Must be 3 to 32 letters"),
        ({"percent_off": 10, "code": None}, "code", "A coupon needs a code"),
        ({"percent_off": 10, "ends_at": NOW}, "ends_at", "Must be after the start."),
        ({"percent_off": 10, "now": LATER}, "ends_at", "Must be in the future."),
        ({"percent_off": 10, "name": " "}, "name", "Must be 1 to 120 characters."),
        ({"percent_off": 10, "funder": "bank"}, "funder", "Must be one of"),
        ({"percent_off": 10, "shop_id": 999}, "shop_id", "Unknown shop 999."),
        ({"percent_off": 10, "product_ids": [999]}, "product_ids", "Unknown product 999."),
        ({"percent_off": 10, "category_ids": [999]}, "category_ids", "Unknown category 999."),
    ],
)
def test_every_bad_coupon_term_is_refused_at_its_field(
    app: Flask, shop_catalogue: Catalogue, terms: dict[str, Any], field: str, message: str
) -> None:
    given = {"funder": "platform", "code": "GOOD", **terms}
    errors = _refused(app, manage.create_coupon, **given)
    assert list(errors) == [field]
    assert errors[field][0].startswith(message)


def test_each_funder_must_name_its_owner(app: Flask, shop_catalogue: Catalogue) -> None:
    errors = _refused(app, manage.create_coupon, funder="supplier", percent_off=5, code="SUP")
    assert errors == {"supplier_id": ["Required when the funder is the supplier."]}
    errors = _refused(app, manage.create_coupon, funder="shop", percent_off=5, code="SHOP")
    assert errors == {"shop_id": ["Required when the funder is the shop."]}


def test_a_taken_code_is_refused_whatever_its_case(app: Flask, shop_catalogue: Catalogue) -> None:
    _coupon(app, funder="platform", percent_off=10, code="WELCOME")
    errors = _refused(app, manage.create_coupon, funder="platform", percent_off=5, code="welcome")
    assert errors == {"code": ["The code WELCOME is already taken."]}


def test_a_supplier_coupon_applies_only_to_its_own_products_and_categories(
    app: Flask, shop_catalogue: Catalogue
) -> None:
    # Given supplier A, and supplier B's product Q1 in B's category Home/Kitchen
    terms = {"funder": "supplier", "supplier_id": shop_catalogue.supplier.supplier_id}
    theirs = shop_catalogue.products["Q1"]
    kitchen = shop_catalogue.categories["Home/Kitchen"]
    # When A scopes a coupon to B's product or category, Then it is refused as unknown
    errors = _refused(
        app,
        manage.create_coupon,
        **terms,
        percent_off=5,
        code="MINE",
        product_ids=[theirs],
        category_ids=[kitchen],
    )
    assert errors == {
        "product_ids": [f"Unknown product {theirs}."],
        "category_ids": [f"Unknown category {kitchen}."],
    }
    # And its own product and category are accepted
    own = _coupon(
        app,
        **terms,
        percent_off=5,
        code="MINE",
        product_ids=[shop_catalogue.products["P1"]] * 2,
        category_ids=[shop_catalogue.categories["Apparel/Tops"]],
    )
    assert own.product_ids == [shop_catalogue.products["P1"]]


def test_a_supplier_coupon_in_another_currency_is_refused(
    app: Flask, shop_catalogue: Catalogue
) -> None:
    errors = _refused(
        app,
        manage.create_coupon,
        funder="supplier",
        supplier_id=shop_catalogue.supplier.supplier_id,
        amount_off=100,
        currency="USD",
        code="USD1",
    )
    assert errors == {"currency": ["Must be the supplier's currency, CNY."]}


def test_a_supplier_percent_off_beyond_its_supply_share_is_refused(
    app: Flask, shop_catalogue: Catalogue
) -> None:
    # Given SKU A (supply 3000 of retail 5000: 60%) and SKU B (1000 of 2000: 50%)
    terms = {"funder": "supplier", "supplier_id": shop_catalogue.supplier.supplier_id}
    # When the supplier offers 51% off everything, Then SKU B could not bear it
    errors = _refused(app, manage.create_coupon, **terms, percent_off=51, code="HALF")
    assert errors == {
        "percent_off": [
            "More than the supplier can bear on SKU B: its supply price is a smaller share "
            "of its retail price."
        ]
    }
    # And 50% is accepted
    assert _coupon(app, **terms, percent_off=50, code="HALF").percent_off == 50


def test_a_shop_coupon_is_scoped_to_its_shop(app: Flask, shop_catalogue: Catalogue) -> None:
    shop = make_shop(app)
    coupon = _coupon(app, funder="shop", shop_id=shop.shop_id, percent_off=10, code="ANN10")
    assert (coupon.funder, coupon.shop_id, coupon.supplier_id) == ("shop", shop.shop_id, None)


def test_a_threshold_keeps_its_rising_tiers(app: Flask, shop_catalogue: Catalogue) -> None:
    with session_scope(app) as session:
        threshold = manage.create_threshold(
            session,
            **window(
                funder="supplier",
                supplier_id=shop_catalogue.supplier.supplier_id,
                currency=None,
                tiers=[{"spend": 10000, "off": 1000}, {"spend": 20000, "off": 3000}],
            ),
        )
        stored = (threshold.kind, threshold.currency, threshold.tiers, threshold.name)
    assert stored == (
        "threshold",
        "CNY",
        [{"spend": 10000, "off": 1000}, {"spend": 20000, "off": 3000}],
        "Spend CNY 100.00, save CNY 10.00, Spend CNY 200.00, save CNY 30.00",
    )


@pytest.mark.parametrize(
    ("tiers", "errors"),
    [
        ([], {"tiers": ["Give 1 to 10 tiers."]}),
        (
            [{"spend": 1000, "off": 1000}],
            {"tiers": {"0": ["Needs a spend and an off, 0 < off < spend."]}},
        ),
        ([{"spend": 1000}], {"tiers": {"0": ["Needs a spend and an off, 0 < off < spend."]}}),
        (
            [{"spend": 2000, "off": 300}, {"spend": 1000, "off": 100}],
            {"tiers": {"1": ["Spends and offs must rise from tier to tier."]}},
        ),
        (
            [{"spend": 1000, "off": 300}, {"spend": 2000, "off": 300}],
            {"tiers": {"1": ["Spends and offs must rise from tier to tier."]}},
        ),
    ],
)
def test_bad_tiers_are_refused(
    app: Flask, shop_catalogue: Catalogue, tiers: list[Any], errors: dict[str, Any]
) -> None:
    refused = _refused(app, manage.create_threshold, funder="platform", currency="CNY", tiers=tiers)
    assert refused == errors


def test_a_platform_threshold_needs_a_currency(app: Flask, shop_catalogue: Catalogue) -> None:
    refused = _refused(
        app,
        manage.create_threshold,
        funder="platform",
        currency=None,
        tiers=[{"spend": 1000, "off": 100}],
    )
    assert refused == {"currency": ["Required for amounts (an ISO 4217 code)."]}


def test_find_promotion_shows_each_owner_only_its_own(
    app: Flask, shop_catalogue: Catalogue
) -> None:
    # Given a coupon of supplier A and one of a shop
    mine = _coupon(
        app,
        funder="supplier",
        supplier_id=shop_catalogue.supplier.supplier_id,
        percent_off=5,
        code="AONLY",
    )
    shop = make_shop(app)
    shops = _coupon(app, funder="shop", shop_id=shop.shop_id, percent_off=5, code="SHOPONLY")
    other_shop = make_shop(app, "bob@example.com")
    with session_scope(app) as session:
        # Then each owner finds its own, the platform finds any
        found = manage.find_promotion(
            session, mine.public_id, supplier_id=shop_catalogue.supplier.supplier_id
        )
        assert found.code == "AONLY"
        assert manage.find_promotion(session, shops.public_id, shop_id=shop.shop_id).id
        assert manage.find_promotion(session, shops.public_id).id == shops.id
        # And the other tenant's ids are not found
        for public_id, owner in (
            (mine.public_id, {"supplier_id": shop_catalogue.other.supplier_id}),
            (shops.public_id, {"supplier_id": shop_catalogue.supplier.supplier_id}),
            (shops.public_id, {"shop_id": other_shop.shop_id}),
            (mine.public_id, {"shop_id": shop.shop_id}),
            ("pr_unknown", {}),
        ):
            with pytest.raises(NotFound):
                manage.find_promotion(session, public_id, **owner)


def test_ending_a_coupon_is_idempotent(app: Flask, shop_catalogue: Catalogue) -> None:
    coupon = _coupon(app, funder="platform", percent_off=5, code="ENDME")
    with session_scope(app) as session:
        found = manage.find_promotion(session, coupon.public_id)
        assert manage.end_promotion(session, found, NOW) is True
        assert manage.end_promotion(session, found, LATER) is False
        assert found.ended_at == NOW


def test_figures_of_an_unused_promotion_are_zero(app: Flask, shop_catalogue: Catalogue) -> None:
    coupon = _coupon(app, funder="platform", percent_off=5, code="ZERO")
    with session_scope(app) as session:
        figures = manage.promotion_figures(session, [coupon.id or 0])
    assert figures == {coupon.id: manage.PromotionFigures(0, 0, 0, 0)}
