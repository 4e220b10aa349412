"""The shop's coupon centre (领券): the live claimable coupons of the shop with their terms,
claimed once per signed-in consumer, a claim link an owner shares — on both backends."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from promotion_pages_support import add_consumer, add_promotion, set_window, sign_in_consumer
from shop_support import csrf_token, make_shop, product, push

from storefront_sdk.db import session_scope, utcnow
from storefront_sdk.promotions.models import SHOP, SUPPLIER, CouponClaim


@pytest.fixture
def shop(app):
    return make_shop(app)


def _claims(app) -> list[tuple[int, int, int | None]]:
    with session_scope(app) as session:
        rows = session.execute(
            sa.select(CouponClaim.promotion_id, CouponClaim.consumer_id, CouponClaim.shop_id)
        )
        return [tuple(row) for row in rows]


def _centre(client, shop, lang: str = "en") -> str:
    return client.get(f"/s/{shop.slug}/coupons?lang={lang}").get_data(as_text=True)


def test_the_coupon_centre_lists_each_live_claimable_coupon_with_its_terms(app, client, shop):
    add_promotion(app, name="Five off", amount_off_minor=500, min_spend_minor=5000)
    add_promotion(app, name="Ten percent", amount_off_minor=None, percent_off=10, currency=None)
    add_promotion(app, name="Public code", code="SPRING", claimable=False)
    add_promotion(app, name="Over", ends_at=utcnow() - timedelta(minutes=1))
    add_promotion(app, name="Early", ended_at=utcnow())
    add_promotion(app, name="Used up", max_uses=2, uses=2)
    add_promotion(app, name="Spent", budget_minor=1000, discount_given_minor=1000)
    other = make_shop(app, "bob@example.com")
    add_promotion(app, name="Bob's own", funder=SHOP, shop_id=other.shop_id)

    html = _centre(client, shop)

    assert "CN¥5.00 off orders over CN¥50.00" in html
    assert "10% off" in html
    assert "Offered by the platform" in html
    assert "Sign in to claim" in html
    for left_out in ("Public code", "Over", "Early", "Used up", "Spent", "Bob&#39;s own"):
        assert left_out not in html


def test_in_chinese_the_coupon_centre_is_lingquan(app, client, shop):
    add_promotion(app, amount_off_minor=500, min_spend_minor=5000)
    html = _centre(client, shop, "zh-Hans")
    assert "<h1>领券</h1>" in html
    assert "满¥50.00减¥5.00" in html
    assert "领取" in html or "登录后领取" in html


def test_the_shop_home_links_to_its_coupon_centre(client, shop):
    html = client.get(f"/s/{shop.slug}/?lang=en").get_data(as_text=True)
    assert f'href="/s/{shop.slug}/coupons"' in html


def test_a_supplier_coupon_shows_only_in_shops_listing_that_suppliers_products(
    app, client, supplier, other_supplier, shop
):
    push(supplier, product("A"))
    add_promotion(app, name="Listed supplier", funder=SUPPLIER, supplier_id=supplier.supplier_id)
    add_promotion(
        app, name="Unlisted supplier", funder=SUPPLIER, supplier_id=other_supplier.supplier_id
    )
    html = _centre(client, shop)
    assert "Listed supplier" in html
    assert "Unlisted supplier" not in html


def test_a_signed_in_consumer_claims_a_coupon_once(app, client, shop):
    coupon = add_promotion(app)
    consumer = add_consumer(app)
    sign_in_consumer(client, consumer)
    page = _centre(client, shop)
    assert "Claim</button>" in page

    claimed = client.post(
        f"/s/{shop.slug}/coupons/{coupon.public_id}/claim", data={"csrf_token": csrf_token(page)}
    )
    assert claimed.status_code == 303
    assert claimed.headers["Location"] == f"/s/{shop.slug}/coupons?claimed={coupon.public_id}"
    after = client.get(claimed.headers["Location"]).get_data(as_text=True)
    assert "Coupon claimed." in after
    assert 'data-testid="claimed">Claimed<' in after
    assert _claims(app) == [(coupon.id, consumer, shop.shop_id)]

    again = client.post(
        f"/s/{shop.slug}/coupons/{coupon.public_id}/claim", data={"csrf_token": csrf_token(page)}
    )
    assert again.status_code == 409
    assert "You have already claimed this coupon." in again.get_data(as_text=True)
    assert len(_claims(app)) == 1


def test_claiming_without_signing_in_goes_to_the_shops_sign_in_and_back(app, client, shop):
    coupon = add_promotion(app)
    page = _centre(client, shop)
    assert "Sign in to claim</button>" in page
    response = client.post(
        f"/s/{shop.slug}/coupons/{coupon.public_id}/claim", data={"csrf_token": csrf_token(page)}
    )
    assert response.status_code == 303
    assert response.headers["Location"] == (
        f"/s/{shop.slug}/account/login?next=/s/{shop.slug}/coupons/{coupon.public_id}"
    )
    assert _claims(app) == []


def test_a_claim_without_the_forms_token_is_refused(app, client, shop):
    coupon = add_promotion(app)
    sign_in_consumer(client, add_consumer(app))
    response = client.post(f"/s/{shop.slug}/coupons/{coupon.public_id}/claim?lang=en")
    assert response.status_code == 400
    assert "This form has expired" in response.get_data(as_text=True)
    assert _claims(app) == []


def test_a_session_naming_no_consumer_is_not_signed_in(app, client, shop):
    coupon = add_promotion(app)
    sign_in_consumer(client, 999_999)
    page = _centre(client, shop)
    response = client.post(
        f"/s/{shop.slug}/coupons/{coupon.public_id}/claim", data={"csrf_token": csrf_token(page)}
    )
    assert response.status_code == 303
    assert "/account/login?next=" in response.headers["Location"]
    assert _claims(app) == []


def test_the_claim_link_shows_its_coupon_and_not_another_shops(app, client, shop):
    own = add_promotion(app, name="Ann's coupon", funder=SHOP, shop_id=shop.shop_id)
    other = make_shop(app, "bob@example.com")
    bobs = add_promotion(app, name="Bob's coupon", funder=SHOP, shop_id=other.shop_id)

    page = client.get(f"/s/{shop.slug}/coupons/{own.public_id}?lang=en")
    assert page.status_code == 200
    assert "Ann&#39;s coupon" in page.get_data(as_text=True)
    assert "Offered by this shop" in page.get_data(as_text=True)
    assert client.get(f"/s/{shop.slug}/coupons/{bobs.public_id}").status_code == 404
    assert client.get(f"/s/{shop.slug}/coupons/pr_unknown").status_code == 404

    sign_in_consumer(client, add_consumer(app))
    token = csrf_token(page.get_data(as_text=True))
    refused = client.post(
        f"/s/{shop.slug}/coupons/{bobs.public_id}/claim", data={"csrf_token": token}
    )
    assert refused.status_code == 404
    assert "This coupon can no longer be claimed." in refused.get_data(as_text=True)
    assert _claims(app) == []


def test_a_coupon_that_ended_meanwhile_cannot_be_claimed(app, client, shop):
    coupon = add_promotion(app)
    sign_in_consumer(client, add_consumer(app))
    page = _centre(client, shop)
    set_window(app, coupon.id, ends_at=utcnow() - timedelta(seconds=1))
    response = client.post(
        f"/s/{shop.slug}/coupons/{coupon.public_id}/claim", data={"csrf_token": csrf_token(page)}
    )
    assert response.status_code == 404
    assert _claims(app) == []
