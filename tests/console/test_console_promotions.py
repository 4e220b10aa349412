"""The console's promotions: the owner's shop coupons and spend-and-save offers, created with
amounts typed in the currency's units, listed with their figures, ended after a
confirmation; never another shop's."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from console_support import make_distributor, post, signed_in_client
from promotion_pages_support import add_promotion

from storefront_sdk.db import session_scope, utcnow
from storefront_sdk.promotions.models import SHOP, THRESHOLD, Promotion


@pytest.fixture
def ada(app):
    return make_distributor(app, "ada@example.com", name="Ada", shop_name="Ada's corner")


@pytest.fixture
def ada_client(app, ada):
    return signed_in_client(app, ada)


def _promotions(app) -> list[Promotion]:
    with session_scope(app) as session:
        found = list(session.scalars(sa.select(Promotion).order_by(Promotion.id)))
        for row in found:
            session.expunge(row)
        return found


def _window() -> dict[str, str]:
    # (Asia/Shanghai, the platform's zone: UTC+8)
    return {"starts": "2030-01-01T08:00", "ends": "2030-01-03T08:00"}


def test_the_console_links_to_its_promotions_and_says_who_pays(ada_client):
    home = ada_client.get("/console/").get_data(as_text=True)
    assert 'href="/console/promotions"' in home
    html = ada_client.get("/console/promotions").get_data(as_text=True)
    assert "out of your level-1 commission" in html
    assert "checkout skips it on that item" in html


def test_an_owner_creates_a_shop_coupon_with_amounts_in_yuan(app, ada, ada_client):
    response = post(
        ada_client,
        "/console/promotions/coupon",
        {
            "discount": "amount",
            "amount_off": "5.50",
            "min_spend": "50",
            "currency": "CNY",
            "code": "ada5",
            "max_uses": "100",
            "per_consumer": "1",
            **_window(),
        },
    )
    assert response.status_code == 303
    assert response.headers["Location"] == "/console/promotions"
    [coupon] = _promotions(app)
    assert (coupon.funder, coupon.shop_id, coupon.kind) == (SHOP, ada.shop_id, "coupon")
    assert (coupon.amount_off_minor, coupon.min_spend_minor, coupon.currency) == (550, 5000, "CNY")
    assert (coupon.code, coupon.max_uses, coupon.per_consumer) == ("ADA5", 100, 1)
    assert coupon.starts_at.isoformat() == "2030-01-01T00:00:00+00:00"
    assert coupon.created_by == f"distributor:{ada.id}"
    html = ada_client.get("/console/promotions").get_data(as_text=True)
    assert "CN¥5.50 off orders over CN¥50.00" in html


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"amount_off": "5,50"}, "Amount off: a plain amount such as 12.50."),
        ({"amount_off": "0"}, "Amount off: a plain amount such as 12.50."),
        ({"discount": "percent", "percent_off": "150"}, "The percent off is a whole number"),
        ({"discount": "percent", "percent_off": ""}, "The percent off is a whole number"),
        ({"starts": "tomorrow"}, "Starts: a date and time such as 2026-12-24 20:00."),
        ({"ends": "2030-01-01T07:00"}, "The end must be after the start."),
        ({"code": "a b"}, "A code is 3 to 32 letters, digits, - or _."),
        ({"currency": "yuan"}, "Give the currency, such as CNY."),
    ],
)
def test_a_bad_coupon_form_says_what_is_wrong_and_creates_nothing(app, ada_client, fields, message):
    data = {"discount": "amount", "amount_off": "5", "code": "ADA5", "currency": "CNY"}
    response = post(ada_client, "/console/promotions/coupon", {**data, **_window(), **fields})
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert _promotions(app) == []


def test_a_refusal_of_the_service_is_shown_on_the_page(app, ada_client):
    add_promotion(app, code="TAKEN", claimable=False)
    response = post(
        ada_client,
        "/console/promotions/coupon",
        {"discount": "amount", "amount_off": "5", "code": "taken", "currency": "CNY", **_window()},
    )
    assert response.status_code == 422
    assert "This promotion was refused:" in response.get_data(as_text=True)
    assert len(_promotions(app)) == 1


def test_an_owner_creates_a_spend_and_save_with_tiers(app, ada, ada_client):
    response = post(
        ada_client,
        "/console/promotions/threshold",
        {"spend_1": "100", "off_1": "10", "spend_2": "200.00", "off_2": "30", "currency": "CNY"}
        | _window(),
    )
    assert response.status_code == 303
    [threshold] = _promotions(app)
    assert (threshold.kind, threshold.funder, threshold.shop_id) == (THRESHOLD, SHOP, ada.shop_id)
    assert threshold.tiers == [{"spend": 10000, "off": 1000}, {"spend": 20000, "off": 3000}]
    empty = post(ada_client, "/console/promotions/threshold", {"currency": "CNY"} | _window())
    assert empty.status_code == 422
    assert "Give at least one tier" in empty.get_data(as_text=True)


def test_the_list_shows_each_promotions_figures(app, ada, ada_client):
    add_promotion(
        app,
        name="Ada's ten",
        funder=SHOP,
        shop_id=ada.shop_id,
        uses=3,
        discount_given_minor=1500,
    )
    html = ada_client.get("/console/promotions").get_data(as_text=True)
    assert "Ada&#39;s ten" in html
    assert '<dd data-testid="uses">3</dd>' in html
    assert '<dd data-testid="discount">CN¥15.00</dd>' in html
    assert '<dd data-testid="orders">0</dd>' in html
    assert '<dd data-testid="sales">CN¥0.00</dd>' in html


def test_an_owner_ends_a_promotion_after_confirming(app, ada, ada_client):
    coupon = add_promotion(app, name="Ada's ten", funder=SHOP, shop_id=ada.shop_id)
    confirm = ada_client.get(f"/console/promotions/{coupon.public_id}/end")
    assert confirm.status_code == 200
    assert "End “Ada&#39;s ten”?" in confirm.get_data(as_text=True)
    assert _promotions(app)[0].ended_at is None

    ended = post(ada_client, f"/console/promotions/{coupon.public_id}/end", {})
    assert ended.status_code == 303
    assert _promotions(app)[0].ended_at is not None
    assert "End it</a>" not in ada_client.get("/console/promotions").get_data(as_text=True)


def test_another_shops_or_the_platforms_promotions_are_not_found(app, ada_client):
    bob = make_distributor(app, "bob@example.com")
    bobs = add_promotion(app, name="Bob's", funder=SHOP, shop_id=bob.shop_id)
    platform = add_promotion(app, name="Platform's", ends_at=utcnow() + timedelta(days=2))
    html = ada_client.get("/console/promotions").get_data(as_text=True)
    assert "Bob&#39;s" not in html
    assert "Platform&#39;s" not in html
    for promotion in (bobs, platform):
        assert ada_client.get(f"/console/promotions/{promotion.public_id}/end").status_code == 404
        refused = post(ada_client, f"/console/promotions/{promotion.public_id}/end", {})
        assert refused.status_code == 404
    assert [p.ended_at for p in _promotions(app)] == [None, None]
