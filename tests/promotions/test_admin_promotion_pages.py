"""The admin's promotions: platform- and supplier-funded coupons and thresholds, flash sales
of any supplier's SKU (a 48-hour brand sale, its quota reserved from stock), every promotion
listed with its figures, ended after a confirmation."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient
from promotion_pages_support import add_promotion
from shop_support import product, push, variant, variant_ids

from storefront_sdk.catalog.models import Variant
from storefront_sdk.db import session_scope
from storefront_sdk.platform_admins import create_admin
from storefront_sdk.promotions.models import FLASH_SALE, PLATFORM, SUPPLIER, Promotion

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
# (Asia/Shanghai, the platform's zone: UTC+8) a 48-hour window
WINDOW = {"starts": "2030-06-18T00:00", "ends": "2030-06-20T00:00"}


def _token(client: FlaskClient, path: str = "/admin/login") -> str:
    found = _CSRF.search(client.get(path).get_data(as_text=True))
    assert found, path
    return found.group(1)


@pytest.fixture
def admin(app) -> FlaskClient:
    with session_scope(app) as session:
        create_admin(session, "root@example.com", "password123")
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    answer = client.post(
        "/admin/login",
        data={"csrf_token": _token(client), "email": "root@example.com", "password": "password123"},
    )
    assert answer.status_code == 303
    return client


def _post(client: FlaskClient, path: str, data: dict[str, str]):
    return client.post(path, data={"csrf_token": _token(client, "/admin/"), **data})


def _promotions(app) -> list[Promotion]:
    with session_scope(app) as session:
        found = list(session.scalars(sa.select(Promotion).order_by(Promotion.id)))
        for row in found:
            session.expunge(row)
        return found


def _available(app, variant_id: int) -> int:
    with session_scope(app) as session:
        return session.scalars(sa.select(Variant.available).where(Variant.id == variant_id)).one()


def test_an_admin_runs_a_48_hour_brand_flash_sale_of_a_suppliers_sku(app, admin, supplier):
    push(supplier, product("A", variants=[variant("A-1", stock=50, retail_price=6900)]))
    sku = variant_ids(app)["A-1"]
    before = _available(app, sku)
    response = _post(
        admin,
        "/admin/promotions/flash-sale",
        {
            "funder": "supplier",
            "supplier_id": str(supplier.supplier_id),
            "sku": "A-1",
            "price": "39.00",
            "quota": "20",
            "per_consumer": "2",
            "name": "Brand day",
            **WINDOW,
        },
    )
    assert response.status_code == 303, response.get_data(as_text=True)
    [sale] = _promotions(app)
    assert (sale.kind, sale.funder, sale.supplier_id) == (
        FLASH_SALE,
        SUPPLIER,
        supplier.supplier_id,
    )
    assert (sale.variant_id, sale.price_minor, sale.quota, sale.per_consumer) == (sku, 3900, 20, 2)
    assert (sale.ends_at - sale.starts_at).total_seconds() == 48 * 3600
    assert sale.starts_at.isoformat() == "2030-06-17T16:00:00+00:00"
    assert _available(app, sku) == before - 20
    html = admin.get("/admin/promotions").get_data(as_text=True)
    assert "Brand day" in html
    assert "CNY\xa039.00 each, 20 units" in html


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"price": "39,00"}, "Sale price: a plain amount such as 12.50."),
        ({"quota": ""}, "Quota: a whole number from 1."),
        ({"quota": "-3"}, "Quota: a whole number from 1."),
        ({"supplier_id": ""}, "Choose the supplier"),
        ({"funder": "shop"}, "Choose who pays: the platform or a supplier."),
        ({"ends": "2030-06-17T00:00"}, "The end must be after the start."),
        ({"sku": ""}, "Give the SKU on sale."),
    ],
)
def test_a_bad_flash_sale_form_says_what_is_wrong(app, admin, supplier, fields, message):
    push(supplier, product("A", variants=[variant("A-1", stock=50)]))
    data = {"funder": "platform", "supplier_id": str(supplier.supplier_id), "sku": "A-1"}
    data |= {"price": "39", "quota": "5", **WINDOW, **fields}
    response = _post(admin, "/admin/promotions/flash-sale", data)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert _promotions(app) == []


def test_a_quota_above_the_stock_is_refused_by_the_service(app, admin, supplier):
    push(supplier, product("A", variants=[variant("A-1", stock=5)]))
    data = {"funder": "platform", "supplier_id": str(supplier.supplier_id), "sku": "A-1"}
    response = _post(
        admin, "/admin/promotions/flash-sale", data | {"price": "39", "quota": "6"} | WINDOW
    )
    assert response.status_code == 422
    assert "This promotion was refused:" in response.get_data(as_text=True)
    assert _promotions(app) == []


def test_an_admin_creates_platform_and_supplier_coupons_and_thresholds(app, admin, supplier):
    coupon = _post(
        admin,
        "/admin/promotions/coupon",
        {"funder": "platform", "discount": "percent", "percent_off": "10", "currency": "CNY",
         "claimable": "y", "budget": "1000", **WINDOW},
    )  # fmt: skip
    threshold = _post(
        admin,
        "/admin/promotions/threshold",
        {"funder": "supplier", "supplier_id": str(supplier.supplier_id), "currency": "CNY",
         "spend_1": "100", "off_1": "20", **WINDOW},
    )  # fmt: skip
    assert (coupon.status_code, threshold.status_code) == (303, 303)
    first, second = _promotions(app)
    assert (first.funder, first.percent_off, first.claimable, first.budget_minor) == (
        PLATFORM, 10, True, 100000,
    )  # fmt: skip
    assert (second.funder, second.supplier_id, second.tiers) == (
        SUPPLIER, supplier.supplier_id, [{"spend": 10000, "off": 2000}],
    )  # fmt: skip


def test_the_list_shows_figures_and_an_admin_ends_one_after_confirming(app, admin):
    coupon = add_promotion(app, name="Big day", uses=4, discount_given_minor=2000)
    html = admin.get("/admin/promotions").get_data(as_text=True)
    assert '<td class="num" data-testid="uses">4</td>' in html
    assert '<td class="num" data-testid="discount">CNY\xa020.00</td>' in html
    confirm = admin.get(f"/admin/promotions/{coupon.public_id}/end")
    assert "End “Big day”?" in confirm.get_data(as_text=True)
    assert _promotions(app)[0].ended_at is None
    assert _post(admin, f"/admin/promotions/{coupon.public_id}/end", {}).status_code == 303
    assert _promotions(app)[0].ended_at is not None
    assert admin.get("/admin/promotions/pr_nope/end").status_code == 404
    assert _post(admin, "/admin/promotions/pr_nope/end", {}).status_code == 404


def test_the_promotions_need_a_signed_in_admin(app, client):
    assert client.get("/admin/promotions").status_code == 303
