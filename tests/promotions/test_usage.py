"""Taking a promotion's usage is one conditional update per limit, on SQLite as on
PostgreSQL: no room, no use (``PromotionUnavailable``, 409), nothing half taken."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask import Flask
from promotion_support import (
    add_coupon,
    add_flash_sale,
    add_to_cart,
    checkout,
    order_token,
    sell_two_products,
    shop_app,
)

from storefront_sdk.db import session_scope, utcnow
from storefront_sdk.orders.models import Order
from storefront_sdk.promotions.models import Promotion, PromotionCounter
from storefront_sdk.promotions.usage import PromotionUnavailable, Use, take
from storefront_sdk.web.errors import status_of


def _order_id(app: Flask) -> int:
    """An order to take usage for (placed through the shop)."""
    _, shop, skus = sell_two_products(app)
    client = app.test_client()
    add_to_cart(client, shop.slug, skus["B"])
    order_token(checkout(client, shop.slug))
    with session_scope(app) as session:
        return session.scalars(sa.select(Order.id)).one()


def _take(
    app: Flask, promotion_id: int, order_id: int, key: str, discount: int = 100, units: int = 0
) -> None:
    with session_scope(app) as session:
        promotion = session.get_one(Promotion, promotion_id)
        take(session, [Use(promotion, discount, units)], order_id, key, utcnow())


@pytest.mark.parametrize(
    ("terms", "discount"),
    [
        ({"max_uses": 1, "uses": 1}, 100),
        ({"budget_minor": 150, "discount_given_minor": 100}, 100),
        ({"ended_at": utcnow()}, 100),
    ],
    ids=["used up", "over budget", "ended"],
)
def test_a_promotion_without_room_is_not_taken(
    db_url: str, terms: dict[str, object], discount: int
) -> None:
    with shop_app(db_url) as app:
        order_id = _order_id(app)
        coupon = add_coupon(app, code="X", name="X", **terms)
        with pytest.raises(PromotionUnavailable) as refused:
            _take(app, coupon, order_id, "guest:a", discount)
        assert status_of(refused.value) == 409
        assert refused.value.message == "the promotion 'X' is no longer available for this order"
        with session_scope(app) as session:
            assert session.scalar(sa.select(sa.func.count()).select_from(PromotionCounter)) == 0


def test_the_per_consumer_limit_is_taken_by_one_conditional_upsert(db_url: str) -> None:
    with shop_app(db_url) as app:
        order_id = _order_id(app)
        sale = add_flash_sale(app, 1, 3900, 5, per_consumer=2)
        _take(app, sale, order_id, "guest:a", 1100, units=1)
        with pytest.raises(PromotionUnavailable):
            _take(app, sale, order_id, "guest:a", 2200, units=2)
        with session_scope(app) as session:
            counter = session.get_one(PromotionCounter, (sale, "guest:a"))
            assert (counter.uses, counter.units) == (1, 1)
            assert session.get_one(Promotion, sale).units_sold == 1
