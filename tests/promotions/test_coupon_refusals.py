"""Every coupon the cart cannot take is explained in words, and an order is never placed
with a coupon that does not apply; claimed coupons work only for their claimer; a
self-purchase earns no commission, coupon or not."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from promotion_support import (
    add_consumer,
    add_coupon,
    add_to_cart,
    apply_coupon,
    checkout,
    claim,
    figures,
    order_token,
    sell_two_products,
    shop_app,
    sign_in,
)
from shop_support import make_shop

from storefront_sdk.db import session_scope, utcnow
from storefront_sdk.orders.models import Order, OrderLine
from storefront_sdk.promotions.models import Promotion
from storefront_sdk.shops.models import Distributor


def _other_shop(app: Any) -> dict[str, Any]:
    return {"funder": "shop", "shop_id": make_shop(app, "other@example.com").shop_id}


REFUSALS: list[tuple[str, Any, str]] = [
    ("unknown", None, "There is no coupon NOPE. Check the code and try again."),
    (
        "not started",
        lambda app: {
            "starts_at": utcnow() + timedelta(hours=1),
            "ends_at": utcnow() + timedelta(hours=2),
        },
        "The coupon C cannot be used yet.",
    ),
    ("ended", lambda app: {"ended_at": utcnow()}, "The coupon C has ended."),
    ("other shop", _other_shop, "The coupon C is not valid in this shop."),
    (
        "nothing applies",
        lambda app: {"product_ids": [999_999]},
        "The coupon C does not apply to anything in your cart.",
    ),
    (
        "min spend",
        lambda app: {"min_spend_minor": 8000},
        "Spend CN¥30.00 more to use the coupon C.",
    ),
    ("used up", lambda app: {"max_uses": 2, "uses": 2}, "The coupon C is used up."),
    (
        "budget",
        lambda app: {"budget_minor": 700, "discount_given_minor": 500},
        "The coupon C has run out of budget.",
    ),
    (
        "claimable",
        lambda app: {"claimable": True},
        "The coupon C works only for the consumer who claimed it: sign in with the account "
        "that claimed it.",
    ),
]


@pytest.mark.parametrize(("case", "terms", "message"), REFUSALS, ids=[r[0] for r in REFUSALS])
def test_a_refused_coupon_is_explained_in_the_cart_and_refuses_the_order(
    db_url: str, case: str, terms: Any, message: str
) -> None:
    with shop_app(db_url) as app:
        # Given 50.00 in the cart and a 10% coupon C that does not apply for this reason
        _, shop, skus = sell_two_products(app)
        if terms is not None:
            add_coupon(app, code="CODE", name="C", **terms(app))
        client = app.test_client()
        add_to_cart(client, shop.slug, skus["A"])
        # When its code is applied
        page = apply_coupon(client, shop.slug, "NOPE" if terms is None else "code")
        # Then the cart says why, and charges no discount
        assert f'data-testid="coupon-refusal">{message}<' in page
        assert "discount-amount" not in page
        # And "Place order" with it is refused with the same words, nothing ordered
        response = checkout(client, shop.slug)
        assert response.status_code == 409
        assert message in response.get_data(as_text=True)
    with session_scope(app) as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Order)) == 0


def test_a_coupon_used_as_often_as_allowed_by_this_consumer_is_refused(db_url: str) -> None:
    with shop_app(db_url) as app:
        # Given a coupon of one use per consumer, used once by the consumer signed in
        _, shop, skus = sell_two_products(app)
        add_coupon(app, code="ONCE", name="Once", per_consumer=1)
        consumer = add_consumer(app, "ann@example.com")
        client = app.test_client()
        sign_in(client, consumer)
        add_to_cart(client, shop.slug, skus["A"])
        apply_coupon(client, shop.slug, "ONCE")
        order_token(checkout(client, shop.slug))
        # When they apply it again
        add_to_cart(client, shop.slug, skus["A"])
        page = apply_coupon(client, shop.slug, "ONCE")
        # Then it is refused, saying so
        assert "You have already used the coupon Once as many times as allowed (1)." in page


def test_a_claimed_coupon_works_for_its_claimer_only(db_url: str) -> None:
    with shop_app(db_url) as app:
        # Given a claimable 10% coupon claimed by Ann, not by Bob
        _, shop, skus = sell_two_products(app)
        coupon = add_coupon(app, code="LEAKED", name="Members 10%", claimable=True)
        with session_scope(app) as session:
            public_id = session.get_one(Promotion, coupon).public_id
        ann = add_consumer(app, "ann@example.com")
        bob = add_consumer(app, "bob@example.com")
        claim(app, coupon, ann, shop.shop_id)
        refusal = "The coupon Members 10% works only for the consumer who claimed it"
        # When Bob (signed in) or a guest types its leaked code
        for who in (bob, None):
            client = app.test_client()
            if who is not None:
                sign_in(client, who)
            add_to_cart(client, shop.slug, skus["A"])
            page = apply_coupon(client, shop.slug, "LEAKED")
            # Then it is refused
            assert refusal in page
            assert "discount-amount" not in page
            assert 'data-testid="claimed-coupons"' not in page
        # When Ann opens her cart, her claimed coupon is offered and applies
        client = app.test_client()
        sign_in(client, ann)
        add_to_cart(client, shop.slug, skus["A"])
        page = client.get(f"/s/{shop.slug}/cart").get_data(as_text=True)
        assert f'name="coupon_code" value="{public_id}"' in page
        page = apply_coupon(client, shop.slug, public_id)
        assert figures(page)["discount-amount"] == [500]
        token = order_token(checkout(client, shop.slug))
    with session_scope(app) as session:
        order = session.scalars(sa.select(Order).where(Order.token == token)).one()
        assert (order.discount_minor, order.consumer_id, order.identity_key) == (
            500,
            ann,
            f"consumer:{ann}",
        )


def test_a_self_purchase_with_a_coupon_earns_no_commission(db_url: str) -> None:
    with shop_app(db_url) as app:
        # Given the shop's owner buying in their own shop with the platform's 10% coupon
        _, shop, skus = sell_two_products(app)
        add_coupon(app, code="SAVE10")
        client = app.test_client()
        add_to_cart(client, shop.slug, skus["A"])
        apply_coupon(client, shop.slug, "SAVE10")
        with session_scope(app) as session:
            email = session.get_one(Distributor, shop.distributor_id).email
        # When they place the order with their own email
        token = order_token(checkout(client, shop.slug, email=email))
    # Then the coupon is the platform's alone and level 1 is nobody's
    with session_scope(app) as session:
        order = session.scalars(sa.select(Order).where(Order.token == token)).one()
        assert (order.credit_source, order.credited_distributor_id) == ("self", None)
        line = session.scalars(sa.select(OrderLine).where(OrderLine.order_id == order.id)).one()
        assert (line.level1_minor, line.level1_distributor_id) == (0, None)
        assert (line.platform_discount_minor, line.shop_discount_minor) == (500, 0)
        assert line.amount_minor == 4500


def test_a_shop_coupon_on_a_self_purchase_cannot_be_funded(db_url: str) -> None:
    with shop_app(db_url) as app:
        _, shop, skus = sell_two_products(app)
        add_coupon(app, "shop", shop_id=shop.shop_id, code="MINE", name="Mine")
        with session_scope(app) as session:
            email = session.get_one(Distributor, shop.distributor_id).email
        client = app.test_client()
        add_to_cart(client, shop.slug, skus["A"])
        apply_coupon(client, shop.slug, "MINE")
        response = checkout(client, shop.slug, email=email)
        assert response.status_code == 409
        assert "The coupon Mine cannot be used on these items." in response.get_data(as_text=True)
