"""The "My account" page: the coupons a consumer claimed in this shop (by the promotion's name),
never another consumer's, another shop's or an ended one."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from consumer_support import app_on, ask_for_code, last_code, sign_in
from shop_support import csrf_token, make_shop

from storefront_sdk.consumers.models import Consumer
from storefront_sdk.db import session_scope, utcnow
from storefront_sdk.promotions.models import CouponClaim, Promotion


@pytest.fixture
def app(db_url: str, tmp_path: Path):
    with app_on(db_url, tmp_path / "instance") as app:
        yield app


def claim(app, email: str, shop_id: int, name: str, *, ends_in: timedelta) -> None:
    """A claimable platform coupon called ``name`` claimed by ``email`` in ``shop_id``."""
    now = utcnow()
    with session_scope(app) as session:
        consumer_id = session.scalars(sa.select(Consumer.id).where(Consumer.email == email)).one()
        promotion = Promotion(
            public_id=f"pr_{name.replace(' ', '')}",
            kind="coupon",
            funder="platform",
            name=name,
            claimable=True,
            created_by="platform:test",
            amount_off_minor=500,
            currency="CNY",
            starts_at=now - timedelta(days=2),
            ends_at=now + ends_in,
        )
        session.add(promotion)
        session.flush()
        session.add(
            CouponClaim(promotion_id=promotion.id, consumer_id=consumer_id, shop_id=shop_id)
        )


def test_my_account_lists_the_coupons_claimed_here_that_are_still_valid(app):
    # Given Ada's and Bob's claims, here and in another shop, one of them expired
    shop = make_shop(app)
    other = make_shop(app, "other@example.com")
    ada = app.test_client()
    sign_in(ada, app, shop.slug, "ada@example.com")
    sign_in(app.test_client(), app, shop.slug, "bob@example.com")
    claim(app, "ada@example.com", shop.shop_id, "Spring 5 off", ends_in=timedelta(days=3))
    claim(app, "ada@example.com", shop.shop_id, "Winter 5 off", ends_in=timedelta(days=-1))
    claim(app, "ada@example.com", other.shop_id, "Other shop 5 off", ends_in=timedelta(days=3))
    claim(app, "bob@example.com", shop.shop_id, "Bobs 5 off", ends_in=timedelta(days=3))

    # When Ada opens "My account" here
    page = ada.get(f"/s/{shop.slug}/account/").get_data(as_text=True)

    # Then she sees her valid claim of this shop only
    assert "Spring 5 off" in page
    assert "Winter 5 off" not in page
    assert "Other shop 5 off" not in page
    assert "Bobs 5 off" not in page
    assert "No coupons claimed." not in page


@pytest.mark.parametrize("next_path", ["/s/x\r\nSet-Cookie: a=b", "https://evil.test/", "/\\evil"])
def test_a_bad_next_path_goes_to_my_account(app, next_path):
    shop = make_shop(app)
    client = app.test_client()
    ask_for_code(client, shop.slug, "ada@example.com")
    page = client.get(f"/s/{shop.slug}/account/login/code").get_data(as_text=True)

    response = client.post(
        f"/s/{shop.slug}/account/login/code",
        data={
            "csrf_token": csrf_token(page),
            "code": last_code(app, "ada@example.com"),
            "next": next_path,
        },
    )

    assert response.status_code == 303
    assert response.headers["Location"] == f"/s/{shop.slug}/account/"
