"""The cart shows each promotion's discount, who funds it, and the total before the order
is placed; the order charges exactly that and records each line's discounts."""

from __future__ import annotations

import sqlalchemy as sa
from promotion_support import (
    add_coupon,
    add_flash_sale,
    add_threshold,
    add_to_cart,
    apply_coupon,
    checkout,
    figures,
    order_token,
    sell_two_products,
    shop_app,
)
from shop_support import csrf_token

from storefront_sdk.catalog.models import Variant
from storefront_sdk.db import session_scope
from storefront_sdk.orders.models import Order, OrderLine, OrderLineDiscount
from storefront_sdk.promotions.models import Promotion, PromotionCounter, PromotionUse

STACKING = (
    "A flash-sale item takes no other discount; one coupon per order; spend-and-save "
    "offers apply before the coupon."
)


def test_cart_lists_each_discount_with_its_funder_and_the_order_charges_that_total(
    db_url: str,
) -> None:
    with shop_app(db_url) as app:
        # Given 50.00 + 20.00 in the cart, a platform 满60减10 and the shop's 10% coupon
        _, shop, skus = sell_two_products(app)
        threshold = add_threshold(app, [{"spend": 6000, "off": 1000}], name="满60减10")
        coupon = add_coupon(app, "shop", shop_id=shop.shop_id, code="SHOP10", name="Shop 10%")
        client = app.test_client()
        add_to_cart(client, shop.slug, skus["A"])
        add_to_cart(client, shop.slug, skus["B"])
        # When the consumer types the code and presses "Apply"
        page = apply_coupon(client, shop.slug, " shop10 ")
        # Then the cart lists both discounts, who funds each, and the total before ordering
        assert "Coupon code" in page
        assert ">Apply<" in page
        assert STACKING in page
        assert '满60减10<small data-testid="funder">Platform subsidy</small>' in page
        assert 'Shop 10%<small data-testid="funder">Shop coupon</small>' in page
        assert 'data-testid="coupon-applied">SHOP10<' in page
        cart = figures(page)
        assert cart["items-total"] == [7000]
        assert cart["discount-amount"] == [1000, 600]
        assert cart["total"] == [7000 - 1600 + cart["shipping-total"][0]]
        # And the order placed charges exactly that, line by line, funder by funder
        token = order_token(checkout(client, shop.slug))
    with session_scope(app) as session:
        order = session.scalars(sa.select(Order).where(Order.token == token)).one()
        assert (order.subtotal_minor, order.discount_minor) == (7000, 1600)
        assert order.total_minor == cart["total"][0]
        lines = {
            line.variant_id: line
            for line in session.scalars(sa.select(OrderLine).where(OrderLine.order_id == order.id))
        }
        a, b = lines[skus["A"]], lines[skus["B"]]
        # 10.00 over 50.00 : 20.00 → 7.14 / 2.86; 6.00 over 42.86 : 17.14 → 4.29 / 1.71
        assert (a.platform_discount_minor, a.shop_discount_minor, a.amount_minor) == (
            714,
            429,
            5000 - 1143,
        )
        assert (b.platform_discount_minor, b.shop_discount_minor, b.amount_minor) == (
            286,
            171,
            2000 - 457,
        )
        assert (a.level1_minor, b.level1_minor) == (500 - 429, 200 - 171)
        rows = session.execute(
            sa.select(
                OrderLineDiscount.order_line_id,
                OrderLineDiscount.promotion_id,
                OrderLineDiscount.funder,
                OrderLineDiscount.amount_minor,
            ).order_by(OrderLineDiscount.order_line_id, OrderLineDiscount.promotion_id)
        ).all()
        assert [tuple(r) for r in rows] == [
            (a.id, threshold, "platform", 714),
            (a.id, coupon, "shop", 429),
            (b.id, threshold, "platform", 286),
            (b.id, coupon, "shop", 171),
        ]
        # And each promotion's usage was taken with the order
        used = session.get_one(Promotion, coupon)
        assert (used.uses, used.discount_given_minor) == (1, 600)
        assert session.get_one(Promotion, threshold).discount_given_minor == 1000
        uses = session.scalars(sa.select(PromotionUse).order_by(PromotionUse.promotion_id)).all()
        assert [(u.promotion_id, u.discount_minor, u.status) for u in uses] == [
            (threshold, 1000, "taken"),
            (coupon, 600, "taken"),
        ]
        counter = session.get_one(PromotionCounter, (coupon, uses[1].identity_key))
        assert counter.uses == 1


def test_removing_the_coupon_shows_the_cart_without_it(db_url: str) -> None:
    with shop_app(db_url) as app:
        _, shop, skus = sell_two_products(app)
        add_coupon(app, code="SAVE10")
        client = app.test_client()
        add_to_cart(client, shop.slug, skus["A"])
        page = apply_coupon(client, shop.slug, "SAVE10")
        assert figures(page)["discount-amount"] == [500]
        # When "Remove" is pressed
        response = client.post(
            f"/s/{shop.slug}/cart/coupon/remove", data={"csrf_token": csrf_token(page)}
        )
        # Then the cart has no discount any more
        assert response.status_code == 303
        page = client.get(f"/s/{shop.slug}/cart").get_data(as_text=True)
        assert "discount-amount" not in page
        assert "coupon-applied" not in page


def test_the_coupon_is_taken_off_the_cart_once_its_order_is_placed(db_url: str) -> None:
    with shop_app(db_url) as app:
        # Given an order placed with the coupon SAVE10
        _, shop, skus = sell_two_products(app)
        add_coupon(app, code="SAVE10", per_consumer=1)
        client = app.test_client()
        add_to_cart(client, shop.slug, skus["A"])
        apply_coupon(client, shop.slug, "SAVE10")
        order_token(checkout(client, shop.slug))
        # When the consumer fills a new cart
        add_to_cart(client, shop.slug, skus["B"])
        page = client.get(f"/s/{shop.slug}/cart").get_data(as_text=True)
        # Then it carries no coupon (not one already used, refused at the next checkout)
        assert "coupon-applied" not in page
        assert "coupon-refusal" not in page


def test_an_empty_coupon_code_is_refused_with_a_message(db_url: str) -> None:
    with shop_app(db_url) as app:
        _, shop, skus = sell_two_products(app)
        client = app.test_client()
        add_to_cart(client, shop.slug, skus["A"])
        page = client.get(f"/s/{shop.slug}/cart").get_data(as_text=True)
        response = client.post(
            f"/s/{shop.slug}/cart/coupon", data={"csrf_token": csrf_token(page), "coupon_code": " "}
        )
        assert response.status_code == 422
        assert "Type a coupon code." in response.get_data(as_text=True)


def test_a_coupon_without_csrf_token_is_refused(db_url: str) -> None:
    with shop_app(db_url) as app:
        _, shop, skus = sell_two_products(app)
        client = app.test_client()
        add_to_cart(client, shop.slug, skus["A"])
        response = client.post(f"/s/{shop.slug}/cart/coupon", data={"coupon_code": "SAVE10"})
        assert response.status_code == 422
        assert "This form has expired" in response.get_data(as_text=True)


def test_a_flash_sale_line_shows_its_price_and_takes_its_units_from_the_quota(
    db_url: str,
) -> None:
    with shop_app(db_url) as app:
        # Given A at 50.00 in a supplier's flash sale at 39.00 (4 units reserved of 10)
        supplier, shop, skus = sell_two_products(app, stock=10)
        sale = add_flash_sale(
            app, skus["A"], 3900, 4, "supplier", supplier_id=supplier.supplier_id, name="Flash A"
        )
        add_coupon(app, code="SAVE10", name="Save 10")
        client = app.test_client()
        # When 2 are put in the cart with a coupon
        add_to_cart(client, shop.slug, skus["A"], 2)
        page = apply_coupon(client, shop.slug, "SAVE10")
        # Then the line shows its flash price, funded by the supplier; the coupon finds
        # nothing else to apply to
        assert 'data-testid="flash-price">Flash sale: CN¥78.00<' in page
        assert 'Flash A<small data-testid="funder">Supplier offer</small>' in page
        assert figures(page)["discount-amount"] == [2200]
        assert "The coupon Save 10 does not apply to anything in your cart." in page
        # And once the coupon is removed the order takes 2 units of the quota, not of stock
        with client.session_transaction() as session:
            session.pop("sf_coupon", None)
        order_token(checkout(client, shop.slug))
    with session_scope(app) as session:
        assert session.get_one(Promotion, sale).units_sold == 2
        assert session.get_one(Variant, skus["A"]).available == 6
        line = session.scalars(sa.select(OrderLine)).one()
        assert (line.unit_price_minor, line.amount_minor, line.supplier_discount_minor) == (
            5000,
            7800,
            2200,
        )
        assert line.supply_amount_minor == 6000 - 2200
