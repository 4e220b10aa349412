"""Checkout: a cart becomes one order ``awaiting_payment``, with its stock allocated.

Everything the consumer pays is computed here from the database (the shop's prices today,
each supplier's shipping fee), never taken from the browser. A repeated submission of the
same checkout form (its ``checkout_key``) returns the order the first one made.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.orm import Session

from .. import signals
from ..catalog import allocation
from ..catalog.models import Product, Supplier, Variant
from ..consumers.identity import consumer_for_contact
from ..errors import Conflict, ValidationError
from ..pricing.breakdown import LineBreakdown, SplitError, break_down_line
from ..pricing.prices import MAX_PRICE, VariantBounds
from ..pricing.rates import RateBook
from ..referrals.binding import KEEP
from ..referrals.credit import Credit, decide_credit
from ..shops import listing
from ..shops.listing import ShopView
from ..sql import insert_row, table_of
from . import events
from .models import Order, OrderLine
from .states import OrderStatus

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


class TooManyUnpaidOrders(Conflict):
    """The client already holds as many unpaid orders as allowed; nothing was ordered."""

    code = "too_many_unpaid_orders"

    def __init__(self, limit: int) -> None:
        super().__init__(f"this client already has {limit} unpaid orders")
        self.limit = limit


def client_key_of(address: str, secret: str | bytes) -> str:
    """The key of a client address among orders: keyed by the app's ``secret``, so the
    table never holds an address nor a hash anyone can reverse by trying them all."""
    key = secret.encode() if isinstance(secret, str) else secret
    return hmac.new(key, b"client:" + address.encode(), hashlib.sha256).hexdigest()


def count_unpaid(session: Session, client_key: str, now: datetime) -> int:
    """Orders of ``client_key`` that hold their stock waiting for payment: awaiting it and
    not overdue, or being settled (``processing``)."""
    found = session.connection().execute(_UNPAID, {"client": client_key, "now": now}).scalar()
    return int(found or 0)


def _check_unpaid(session: Session, client_key: str | None, limit: int, now: datetime) -> None:
    if limit and client_key is not None and count_unpaid(session, client_key, now) >= limit:
        raise TooManyUnpaidOrders(limit)


class ShippingRule(Protocol):
    """A supplier's shipping terms (a :class:`~.catalog.models.Supplier`, or a row with the
    same two columns)."""

    @property
    def shipping_fee_minor(self) -> int: ...

    @property
    def free_shipping_over_minor(self) -> int | None: ...


@dataclass
class _Part:
    rule: ShippingRule
    lines: list[dict[str, Any]] = field(default_factory=list)

    @property
    def subtotal(self) -> int:
        return sum(line["amount_minor"] for line in self.lines)


def shipping_fee(supplier: ShippingRule, subtotal: int) -> int:
    """What the consumer pays for shipping a supplier's part worth ``subtotal``."""
    free_over = supplier.free_shipping_over_minor
    if free_over is not None and subtotal >= free_over:
        return 0
    return supplier.shipping_fee_minor


@dataclass(frozen=True, slots=True)
class OrderTotals:
    """What an order comes to, in minor units of ``currency``: its items, each supplier's
    shipping fee (by supplier id, as a string) and the total to pay."""

    currency: str
    subtotal: int
    shipping_parts: dict[str, int]

    @property
    def shipping(self) -> int:
        """Every supplier's shipping fee together."""
        return sum(self.shipping_parts.values())

    @property
    def total(self) -> int:
        """What the consumer pays: the items and their shipping."""
        return self.subtotal + self.shipping


def order_totals(currency: str, parts: Mapping[int, _Part]) -> OrderTotals:
    """The totals of an order of ``parts`` (its lines by supplier): the one rule both the
    cart's figures and :func:`place_order` follow."""
    fees = {str(id_): shipping_fee(part.rule, part.subtotal) for id_, part in parts.items()}
    return OrderTotals(currency, sum(part.subtotal for part in parts.values()), fees)


def quote_cart(
    session: Session, shop: ShopView, cart: Mapping[int, int], book: RateBook, locale: str
) -> dict[str, OrderTotals]:
    """What ordering ``cart`` (variant id -> quantity) would cost now, by currency: the
    lines the shop sells and has in stock, at the prices and shipping fees
    :func:`place_order` would charge."""
    ids = sorted(id_ for id_, quantity in cart.items() if quantity > 0)
    if not ids:
        return {}
    query = _CHECKOUT_OF_FOLLOWING_SHOP if shop.follows_all else _checkout_query(shop)
    by_currency: dict[str, dict[int, _Part]] = {}
    for row in session.connection().execute(query, {"shop": shop.id, "ids": ids}):
        offer = listing.cart_offer(row, shop, book, locale).offer
        if offer.sold_out:
            continue
        parts = by_currency.setdefault(row.currency, {})
        part = parts.setdefault(row.supplier_id, _Part(row))
        part.lines.append({"amount_minor": offer.price * cart[row.id]})
    return {currency: order_totals(currency, parts) for currency, parts in by_currency.items()}


def place_order(
    session: Session,
    request: CheckoutRequest,
    rates: RateBook,
    now: datetime,
    expiry: timedelta,
    *,
    binding_policy: str = KEEP,
    unpaid_limit: int = 0,
) -> Order:
    """The order for ``request``: stock allocated, ``awaiting_payment`` until ``now +
    expiry``, credited as :func:`~storefront_sdk.referrals.credit.decide_credit` decides
    under ``binding_policy``. The same ``checkout_key`` in the same shop returns the existing order.

    Raises :class:`CartChanged` (lines no longer sold), :class:`.allocation.SoldOut` (not enough
    stock), :class:`TooManyUnpaidOrders` (the client holds ``unpaid_limit`` unpaid orders
    already; ``0``: no limit) or :class:`ValidationError` (an empty cart, several
    currencies, a total too large); the caller then rolls the transaction back, which undoes
    everything.
    """
    existing = find_by_checkout_key(session, request.shop.id, request.checkout_key)
    if existing is not None:
        return existing
    if request.shop.owner_status != "active":
        raise Conflict("this shop is not selling at the moment")
    _check_unpaid(session, request.client_key, unpaid_limit, now)
    credit = decide_credit(
        session,
        request.shop,
        request.contact.customer_key(),
        now,
        referred_by=request.referred_by,
        buyers={request.buyer_distributor_id, request.contact_distributor_id} - {None},
        policy=binding_policy,
    )
    parts = _priced_parts(session, request, rates, credit)
    currencies = {line["currency"] for part in parts.values() for line in part.lines}
    if len(currencies) > 1:
        raise ValidationError(
            "items priced in different currencies must be ordered separately: "
            + ", ".join(sorted(currencies))
        )
    totals = order_totals(currencies.pop(), parts)
    if totals.total > MAX_PRICE:
        raise ValidationError("this order is too large; please split it")
    fields: dict[str, Any] = {
        "shop_id": request.shop.id,
        "credited_distributor_id": credit.distributor_id,
        "credit_source": credit.source,
        "self_purchase_distributor_id": credit.buyer_id,
        "referral_token_id": request.referral_token_id if request.referred_by else None,
        "customer_key": request.contact.customer_key(),
        "consumer_id": request.consumer_id
        or consumer_for_contact(session, request.contact.email, request.contact.phone),
        "checkout_key": request.checkout_key,
        "client_key": request.client_key,
        "status": OrderStatus.AWAITING_PAYMENT,
        "currency": totals.currency,
        "subtotal_minor": totals.subtotal,
        "shipping_minor": totals.shipping,
        "shipping_parts": totals.shipping_parts,
        "total_minor": totals.total,
        "contact_email": request.contact.email,
        "contact_phone": request.contact.phone,
        "shipping_address": {name: request.address.get(name, "") for name in ADDRESS_FIELDS},
        "locale": request.locale,
        "payment_provider": request.provider,
        "expires_at": now + expiry,
        "created_at": now,
        "updated_at": now,
    }
    for _attempt in range(NUMBER_ATTEMPTS):
        order = insert_row(
            session,
            Order(number=_new_number(now), token=secrets.token_urlsafe(24), **fields),
            skip_duplicate=True,
        )
        if order is not None:
            break
        # A twin submission of this form committed first: its order is the answer. Else
        # the random number was taken (a few in a billion a day): draw another.
        twin = find_by_checkout_key(session, request.shop.id, request.checkout_key)
        if twin is not None:
            return twin
    else:
        raise Conflict("no order number could be drawn; please try again")
    lines = [line | {"order_id": order.id} for part in parts.values() for line in part.lines]
    session.connection().execute(sa.insert(_line), lines)
    events.record(session, order, "placed", "consumer", {"total": order.total_minor})
    # Last, so the hot variants' rows stay locked for as short a time as can be.
    allocation.allocate(session, dict(request.cart), savepoint=False)
    signals.send_after_commit(
        session, signals.order_placed, order_id=order.id, order_number=order.number
    )
    return order


_order = table_of(Order).c
_BY_CHECKOUT_KEY = sa.select(_order.id).where(
    _order.shop_id == sa.bindparam("shop"), _order.checkout_key == sa.bindparam("key")
)


_UNPAID = sa.select(sa.func.count()).where(
    _order.client_key == sa.bindparam("client"),
    sa.or_(
        sa.and_(
            _order.status == OrderStatus.AWAITING_PAYMENT,
            _order.expires_at > sa.bindparam("now"),
        ),
        _order.status == OrderStatus.PROCESSING,
    ),
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


def _priced_parts(
    session: Session, request: CheckoutRequest, book: RateBook, credit: Credit
) -> dict[int, _Part]:
    """The cart's lines at the shop's prices today, by supplier (rows of ``sf_order_line``
    but for their order), each with its breakdown (:func:`.breakdown.break_down_line`)."""
    if not request.cart:
        raise ValidationError("the cart is empty")
    if any(quantity < 1 for quantity in request.cart.values()):
        raise ValidationError("every quantity must be at least 1")
    ids = sorted(request.cart)
    shop = request.shop
    query = _CHECKOUT_OF_FOLLOWING_SHOP if shop.follows_all else _checkout_query(shop)
    found = session.connection().execute(query, {"shop": shop.id, "ids": ids})
    rows = {row.id: row for row in found}
    gone = [id_ for id_ in ids if id_ not in rows]
    if gone:
        raise CartChanged(gone)
    parts: dict[int, _Part] = {}
    for variant_id in ids:
        row, quantity = rows[variant_id], request.cart[variant_id]
        offer = listing.cart_offer(row, shop, book, request.locale)
        bounds = VariantBounds(row.supply_price_minor, row.retail_price_minor, row.min_price_minor)
        try:
            line = break_down_line(
                offer.offer.price,
                quantity,
                bounds,
                book.for_product(row.product_id, row.supplier_id, row.category_id),
                level1_earned=credit.distributor_id is not None,
                level2_earned=credit.recruiter_id is not None,
            )
        except SplitError:
            raise CartChanged([variant_id]) from None  # its price no longer splits: not sold
        part = parts.setdefault(row.supplier_id, _Part(row))
        part.lines.append(
            {
                "supplier_id": row.supplier_id,
                "product_id": row.product_id,
                "variant_id": variant_id,
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
        )
    return parts


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
