"""Checkout: a cart becomes one order ``awaiting_payment``, with its stock allocated.

Everything the consumer pays is computed here from the database (the shop's prices today,
each supplier's shipping fee), never taken from the browser. A repeated submission of the
same checkout form (its ``checkout_key``) returns the order the first one made.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from .. import signals
from ..catalog import allocation
from ..catalog.models import Product, Supplier, Variant
from ..consumers.identity import identity_key
from ..db import utcnow
from ..errors import Conflict, ValidationError
from ..pricing.breakdown import LineBreakdown, SplitError, break_down_line
from ..pricing.prices import MAX_PRICE, VariantBounds
from ..pricing.rates import RateBook
from ..promotions.engine import CartLine, Pricing
from ..promotions.offers import flash_sales_of
from ..referrals.binding import KEEP
from ..referrals.credit import Credit, decide_credit
from ..shops import listing
from ..shops.listing import ShopView
from ..sql import insert_row, table_of
from . import discounts, events, limits
from .discounts import Buyer
from .models import Order, OrderLine
from .states import OrderStatus
from .totals import OrderTotals, Part, order_totals

#: Order numbers: the day, then six characters nobody misreads (no 0/O, 1/I/L).
NUMBER_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
NUMBER_LENGTH = 6
#: Numbers drawn before giving up (each clashes with a day's n orders at n / 31**6).
NUMBER_ATTEMPTS = 5
#: Address fields of an order (``supplier-api.md``), all strings.
ADDRESS_FIELDS = ("name", "phone", "line1", "line2", "city", "region", "postal_code", "country")

_variant = table_of(Variant).c
_product = table_of(Product).c
_supplier = table_of(Supplier).c
_line = table_of(OrderLine)


@dataclass(frozen=True, slots=True)
class Contact:
    """How to reach the consumer: an email address, a phone number, or both."""

    email: str | None = None
    phone: str | None = None

    def customer_key(self) -> str:
        """The consumer's identity for customer binding: a hash of the normalised email
        (else phone), so the binding table holds no contact details."""
        if self.email:
            basis = "email:" + self.email.strip().lower()
        elif self.phone:
            basis = "phone:" + "".join(ch for ch in self.phone if ch.isdigit() or ch == "+")
        else:
            raise ValueError("a contact needs an email or a phone")
        return hashlib.sha256(basis.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class CheckoutRequest:
    """A consumer's checkout, already validated field by field by the page."""

    shop: ShopView
    cart: Mapping[int, int]
    contact: Contact
    address: Mapping[str, str]
    checkout_key: str
    locale: str
    provider: str
    #: The distributor a referral link attributes the visit to (last click), if any, and
    #: that visit (``ReferralVisit.token_id``).
    referred_by: int | None = None
    referral_token_id: str | None = None
    #: The distributor signed in to the console while buying (a self-purchase), if any.
    buyer_distributor_id: int | None = None
    #: The distributor whose email the consumer gave, if one has it (also a self-purchase).
    contact_distributor_id: int | None = None
    #: Who placed it, as :func:`client_key_of` their address (unpaid orders are counted
    #: per client); ``None`` counts for nobody.
    client_key: str | None = None
    #: The verified consumer signed in to the shop, if any (``sf_order.consumer_id``).
    consumer_id: int | None = None
    #: The coupon code the consumer applied in the cart, if any (upper-cased).
    coupon_code: str | None = None


class CartChanged(Conflict):
    """Some cart lines are no longer sold by the shop (HTTP 409); nothing was ordered."""

    code = "cart_changed"

    def __init__(self, variant_ids: list[int]) -> None:
        super().__init__("some items are no longer sold here")
        self.variant_ids = variant_ids


def quote_cart(
    session: Session,
    shop: ShopView,
    cart: Mapping[int, int],
    book: RateBook,
    locale: str,
    *,
    buyer: Buyer | None = None,
    credit: Credit | None = None,
    now: datetime | None = None,
) -> dict[str, OrderTotals]:
    """What ordering ``cart`` (variant id -> quantity) would cost now, by currency: the
    lines the shop sells and has in stock (or in a flash sale's quota), at the prices,
    promotions and shipping fees :func:`place_order` would charge ``buyer`` (the coupon
    asked for, the consumer signed in). The sale is assumed credited to the shop's owner
    unless ``credit`` says otherwise (the page knows no contact yet)."""
    if not any(quantity > 0 for quantity in cart.values()):
        return {}
    credit = credit or Credit(shop.distributor_id, "shop", shop.owner_parent_id)
    priced = _promoted_parts(
        session, shop, cart, book, locale, credit, buyer or Buyer(), now or utcnow(), strict=False
    )
    return {
        currency: order_totals(currency, parts, pricing)
        for currency, (parts, pricing) in priced.items()
    }


def place_order(
    session: Session,
    request: CheckoutRequest,
    rates: RateBook,
    now: datetime,
    expiry: timedelta,
    *,
    binding_policy: str = KEEP,
    unpaid_limit: int = 0,
    identity_limit: int = 0,
) -> Order:
    """The order for ``request``: its promotions applied and their usage taken, stock
    allocated, ``awaiting_payment`` until ``now + expiry``, credited as
    :func:`~storefront_sdk.referrals.credit.decide_credit` decides under
    ``binding_policy``. The same ``checkout_key`` in the same shop returns the existing order.

    Raises :class:`CartChanged` (lines no longer sold), :class:`.allocation.SoldOut` (not enough
    stock), :class:`TooManyUnpaidOrders` (the client address holds ``unpaid_limit`` unpaid
    orders already, or the consumer placed ``identity_limit`` unpaid ones in the last 10
    minutes; ``0``: no limit), :class:`.discounts.PromotionRefused` (the coupon does not
    apply, a flash line asks too many), :class:`.usage.PromotionUnavailable` (a promotion
    ran out meanwhile) or :class:`ValidationError` (an empty cart, several currencies, a
    total too large); the caller then rolls the transaction back, which undoes everything.
    """
    existing = find_by_checkout_key(session, request.shop.id, request.checkout_key)
    if existing is not None:
        return existing
    if request.shop.owner_status != "active":
        raise Conflict("this shop is not selling at the moment")
    contact = request.contact
    identity = identity_key(
        session,
        request.consumer_id,
        contact.customer_key(),
        email=contact.email,
        phone=contact.phone,
    )
    limits.check_unpaid(session, request.client_key, unpaid_limit, now)
    limits.check_identity(session, identity, identity_limit, now)
    credit = decide_credit(
        session,
        request.shop,
        contact.customer_key(),
        now,
        referred_by=request.referred_by,
        buyers={request.buyer_distributor_id, request.contact_distributor_id} - {None},
        policy=binding_policy,
    )
    _check_quantities(request.cart)
    buyer = Buyer(request.coupon_code, request.consumer_id, identity)
    priced = _promoted_parts(
        session, request.shop, request.cart, rates, request.locale, credit, buyer, now, strict=True
    )
    if len(priced) > 1:
        raise ValidationError(
            "items priced in different currencies must be ordered separately: "
            + ", ".join(sorted(priced))
        )
    currency, (parts, pricing) = next(iter(priced.items()))
    discounts.check_orderable(pricing)
    totals = order_totals(currency, parts, pricing)
    if totals.total > MAX_PRICE:
        raise ValidationError("this order is too large; please split it")
    fields = _order_fields(request, credit, totals, identity, now, now + expiry)
    order, placed = _insert_order(session, request, fields, now)
    if not placed:
        return order  # a twin submission of this form committed first: its order
    lines = [line | {"order_id": order.id} for part in parts.values() for line in part.lines]
    found = session.connection().execute(
        sa.insert(_line).returning(_line.c.id, _line.c.variant_id), lines
    )
    line_ids = {int(row.variant_id): int(row.id) for row in found}
    events.record(session, order, "placed", "consumer", {"total": order.total_minor})
    # Before the stock: a promotion out of room refuses the order with nothing locked.
    discounts.take_and_record(session, pricing, order.id or 0, line_ids, identity, now)
    flash = discounts.flash_units(pricing)
    stock = {v: n - flash.get(v, 0) for v, n in request.cart.items() if n - flash.get(v, 0) > 0}
    if stock:
        # Last, so the hot variants' rows stay locked for as short a time as can be.
        allocation.allocate(session, stock, savepoint=False)
    signals.send_after_commit(
        session, signals.order_placed, order_id=order.id, order_number=order.number
    )
    return order


def _insert_order(
    session: Session, request: CheckoutRequest, fields: dict[str, Any], now: datetime
) -> tuple[Order, bool]:
    """The new order row and ``True``; or the order a twin submission of the same form
    committed first and ``False``."""
    for _attempt in range(NUMBER_ATTEMPTS):
        order = insert_row(
            session,
            Order(number=_new_number(now), token=secrets.token_urlsafe(24), **fields),
            skip_duplicate=True,
        )
        if order is not None:
            return order, True
        # A twin submission of this form committed first: its order is the answer. Else
        # the random number was taken (a few in a billion a day): draw another.
        twin = find_by_checkout_key(session, request.shop.id, request.checkout_key)
        if twin is not None:
            return twin, False
    raise Conflict("no order number could be drawn; please try again")


def _order_fields(
    request: CheckoutRequest,
    credit: Credit,
    totals: OrderTotals,
    identity: str,
    now: datetime,
    expires_at: datetime,
) -> dict[str, Any]:
    """The columns of the new ``sf_order`` row but its number and token."""
    return {
        "shop_id": request.shop.id,
        "credited_distributor_id": credit.distributor_id,
        "credit_source": credit.source,
        "self_purchase_distributor_id": credit.buyer_id,
        "referral_token_id": request.referral_token_id if request.referred_by else None,
        "consumer_id": request.consumer_id,
        "customer_key": request.contact.customer_key(),
        "checkout_key": request.checkout_key,
        "client_key": request.client_key,
        "identity_key": identity,
        "status": OrderStatus.AWAITING_PAYMENT,
        "currency": totals.currency,
        "subtotal_minor": totals.subtotal,
        "discount_minor": totals.discount,
        "shipping_minor": totals.shipping,
        "shipping_parts": totals.shipping_parts,
        "total_minor": totals.total,
        "contact_email": request.contact.email,
        "contact_phone": request.contact.phone,
        "shipping_address": {name: request.address.get(name, "") for name in ADDRESS_FIELDS},
        "locale": request.locale,
        "payment_provider": request.provider,
        "expires_at": expires_at,
        "created_at": now,
        "updated_at": now,
    }


_order = table_of(Order).c
_BY_CHECKOUT_KEY = sa.select(_order.id).where(
    _order.shop_id == sa.bindparam("shop"), _order.checkout_key == sa.bindparam("key")
)


def find_by_checkout_key(session: Session, shop_id: int, checkout_key: str) -> Order | None:
    """The order a checkout form (``checkout_key``) already made in the shop, if any."""
    found = (
        session.connection()
        .execute(_BY_CHECKOUT_KEY, {"shop": shop_id, "key": checkout_key})
        .scalar()
    )
    return None if found is None else session.get_one(Order, found)


def _checkout_query(shop: ShopView) -> sa.Select[Any]:
    """:func:`.listing.cart_variants` with what an order line and shipping need."""
    return (
        listing.cart_variants(shop)
        .add_columns(
            _product.external_id,
            _supplier.shipping_fee_minor,
            _supplier.free_shipping_over_minor,
        )
        .join(table_of(Supplier), _supplier.id == _variant.supplier_id)
    )


#: The query of every shop that follows the whole catalogue (built once).
_CHECKOUT_OF_FOLLOWING_SHOP = _checkout_query(
    ShopView(0, 0, "", "", None, "", "", "", "", None, True, None, datetime.min, None, "")
)


def _check_quantities(cart: Mapping[int, int]) -> None:
    if not cart:
        raise ValidationError("the cart is empty")
    if any(quantity < 1 for quantity in cart.values()):
        raise ValidationError("every quantity must be at least 1")


def _promoted_parts(
    session: Session,
    shop: ShopView,
    cart: Mapping[int, int],
    book: RateBook,
    locale: str,
    credit: Credit,
    buyer: Buyer,
    now: datetime,
    *,
    strict: bool,
) -> dict[str, tuple[dict[int, Part], Pricing]]:
    """The cart's lines at the shop's prices today with their promotions, by currency and
    supplier (rows of ``sf_order_line`` but for their order), and each currency's
    :class:`Pricing`. ``strict`` (placing the order): a line no longer sold raises
    :class:`CartChanged`; else (the cart's figures) it is left out, as is a line out of
    stock and in no flash sale."""
    ids = sorted(id_ for id_, quantity in cart.items() if quantity > 0)
    query = _CHECKOUT_OF_FOLLOWING_SHOP if shop.follows_all else _checkout_query(shop)
    rows = {
        row.id: row for row in session.connection().execute(query, {"shop": shop.id, "ids": ids})
    }
    gone = [id_ for id_ in ids if id_ not in rows]
    if strict and gone:
        raise CartChanged(gone)
    flash = (
        set()
        if strict
        else {p.variant_id for p in flash_sales_of(session, shop.id, list(rows), now)}
    )
    entries: dict[str, list[tuple[Any, Any, CartLine]]] = {}
    for variant_id in (id_ for id_ in ids if id_ in rows):
        row = rows[variant_id]
        offer = listing.cart_offer(row, shop, book, locale)
        if not strict and offer.offer.sold_out and variant_id not in flash:
            continue
        try:
            line = _cart_line(row, offer.offer.price, cart[variant_id], book, credit, shop)
        except SplitError:
            if strict:
                raise CartChanged([variant_id]) from None  # its price no longer splits
            continue
        entries.setdefault(row.currency, []).append((row, offer, line))
    priced: dict[str, tuple[dict[int, Part], Pricing]] = {}
    for currency, found in entries.items():
        pricing = discounts.price_lines(session, shop.id, [e[2] for e in found], buyer, now)
        by_variant = {p.line.variant_id: p.breakdown for p in pricing.lines}
        parts: dict[int, Part] = {}
        for row, offer, _line in found:
            part = parts.setdefault(row.supplier_id, Part(row))
            part.lines.append(_line_row(row, offer, credit, by_variant[row.id]))
        priced[currency] = (parts, pricing)
    return priced


def _cart_line(
    row: Any, price: int, quantity: int, book: RateBook, credit: Credit, shop: ShopView
) -> CartLine:
    """A cart line before promotions (:func:`.breakdown.break_down_line`)."""
    bounds = VariantBounds(row.supply_price_minor, row.retail_price_minor, row.min_price_minor)
    breakdown = break_down_line(
        price,
        quantity,
        bounds,
        book.for_product(row.product_id, row.supplier_id, row.category_id),
        level1_earned=credit.distributor_id is not None,
        level2_earned=credit.recruiter_id is not None,
    )
    owner = credit.distributor_id is not None and credit.distributor_id == shop.distributor_id
    return CartLine(
        row.id, row.product_id, row.supplier_id, row.category_id, row.currency, breakdown, owner
    )


def _line_row(row: Any, offer: Any, credit: Credit, line: LineBreakdown) -> dict[str, Any]:
    """An ``sf_order_line`` row but for its order."""
    return {
        "supplier_id": row.supplier_id,
        "product_id": row.product_id,
        "variant_id": row.id,
        "sku": row.sku,
        "external_id": row.external_id,
        "title": offer.title,
        "options": dict(row.options),
        "image": offer.image,
        "currency": row.currency,
        "level1_distributor_id": credit.distributor_id,
        "level2_distributor_id": credit.recruiter_id,
        **line_columns(line),
    }


def line_columns(line: LineBreakdown) -> dict[str, int]:
    """The money columns of an ``sf_order_line`` row: its breakdown, as stored."""
    return {
        "quantity": line.quantity,
        "unit_price_minor": line.unit_price,
        "retail_price_minor": line.retail,
        "supply_price_minor": line.supply,
        "amount_minor": line.amount,
        "discount_minor": line.discount,
        "supplier_discount_minor": line.supplier_discount,
        "shop_discount_minor": line.shop_discount,
        "platform_discount_minor": line.platform_discount,
        "supply_amount_minor": line.supply_amount,
        "level1_minor": line.level1 - line.shop_discount,
        "level2_minor": line.level2,
        "platform_minor": line.platform - line.platform_discount,
    }


def _new_number(now: datetime) -> str:
    suffix = "".join(secrets.choice(NUMBER_ALPHABET) for _ in range(NUMBER_LENGTH))
    return f"{now:%y%m%d}-{suffix}"
