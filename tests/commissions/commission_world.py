"""A small marketplace driven through the domain services, for the commission tests: one
supplier (CNY) with three SKUs, a recruiter (Ann) and the distributor she recruited (Bob)
whose shop sells everything at retail; consumers buy and pay in test mode; the supplier
ships, delivers and cancels; the platform refunds, settles and pays out."""

from __future__ import annotations

import itertools
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from conftest import build_app
from flask import Flask
from sqlalchemy.orm import Session

from storefront_sdk.catalog.sync import sync_products
from storefront_sdk.commissions import ledger, payouts
from storefront_sdk.commissions.models import CommissionEntry, Payout
from storefront_sdk.commissions.payout_providers import ManualPayouts
from storefront_sdk.db import session_scope
from storefront_sdk.errors import NotFound
from storefront_sdk.fulfillment import after_sales, supplier_orders
from storefront_sdk.fulfillment.supplier_orders import LineQuantity
from storefront_sdk.orders.checkout import CheckoutRequest, Contact, place_order
from storefront_sdk.orders.models import Order, OrderLine, SupplierOrder
from storefront_sdk.payments import service
from storefront_sdk.payments.providers import SUCCEEDED, DevProvider, PaymentState
from storefront_sdk.platform_admins import create_admin
from storefront_sdk.pricing.prices import Rates
from storefront_sdk.pricing.rates import RateBook, load_rate_book
from storefront_sdk.shops.accounts import create_distributor
from storefront_sdk.shops.listing import load_shop
from storefront_sdk.testing.factories import make_supplier, product_payload, variant_payload

#: SKU: (supply, retail) in fen; TEA's retail is odd so that splits round.
PRICES = {"TEE": (3000, 5000), "CAP": (1000, 2000), "TEA": (700, 1999)}
RATES = Rates(1000, 200)
ADDRESS = {"name": "Li Lei", "line1": "1 Nanjing Road", "city": "Shanghai", "country": "CN"}
_buyers = itertools.count(1)


@dataclass
class World:
    """See the module docstring. Times move only when a test says so (``now``)."""

    app: Flask
    supplier_id: int
    ann: int
    bob: int
    shop_slug: str
    admin_id: int
    variants: dict[str, int]
    now: datetime = field(default_factory=lambda: datetime(2026, 12, 1, 12, tzinfo=UTC))

    # --- sales -------------------------------------------------------------------------

    def buy(
        self,
        cart: dict[str, int],
        *,
        email: str | None = None,
        binding_days: int = 0,
        shop_slug: str | None = None,
        referred_by: int | None = None,
        discounts: Callable[[Session, Order], None] | None = None,
        coupon_code: str | None = None,
    ) -> int:
        """A consumer buys ``cart`` (SKU → units) in Bob's shop (or ``shop_slug``'s) and pays
        (binding them for ``binding_days``), through ``referred_by``'s link if given; the
        order id. ``coupon_code`` is the coupon typed at checkout; ``discounts`` may give the
        placed order's lines their promotions' discounts before it is paid
        (``money_discounts``)."""
        with self.session() as session:
            shop = load_shop(session, slug=shop_slug or self.shop_slug)
            contact = email or f"buyer{next(_buyers)}@example.com"
            request = CheckoutRequest(
                shop=shop,
                cart={self.variants[sku]: units for sku, units in cart.items()},
                contact=Contact(contact),
                address=ADDRESS,
                checkout_key=secrets.token_urlsafe(18),
                locale="en",
                provider="dev",
                contact_distributor_id=self._distributor_with(session, contact),
                referred_by=referred_by,
                coupon_code=coupon_code,
            )
            order = place_order(session, request, self.book(session), self.now, timedelta(hours=1))
            if discounts is not None:
                discounts(session, order)
            service.start_payment(session, order, DevProvider())
            session.commit()
            paid = PaymentState(order.payment_ref or "", SUCCEEDED, order.total_minor, "CNY")
            outcome = service.apply_payment(
                session, order.id or 0, paid, actor="test", now=self.now, binding_days=binding_days
            )
            assert outcome == "paid"
            return order.id or 0

    def cancel(self, order_id: int, sku: str, units: int) -> None:
        """The supplier cancels ``units`` of the order's ``sku`` line (before shipping)."""
        with self.session() as session:
            supplier_orders.cancel(
                session,
                self.supplier_id,
                self._part(session, order_id),
                "out of stock",
                [LineQuantity(sku, units)],
                self.now,
            )

    def deliver(self, order_id: int) -> None:
        """The supplier ships what is left and marks it delivered."""
        with self.session() as session:
            part = self._part(session, order_id)
            supplier_orders.ship(session, self.supplier_id, part, "SF", "SF1", None, self.now)
            supplier_orders.deliver(session, self.supplier_id, part, self.now)

    def refund(self, order_id: int, sku: str, amount: int) -> None:
        """The platform refunds ``amount`` of the order's ``sku`` line (after-sales)."""
        with self.session() as session:
            line_id = session.scalar(
                sa.select(OrderLine.id).where(OrderLine.order_id == order_id, OrderLine.sku == sku)
            )
            if line_id is None:
                raise NotFound(f"order {order_id} has no {sku} line")
            after_sales.refund_lines(
                session, order_id, {line_id: amount}, "damaged", self.now, actor="admin:1"
            )

    def settle(self, window_days: int = 0) -> ledger.SettleCounts:
        with self.session() as session:
            return ledger.settle(
                session, self.now, timedelta(days=window_days), commit=session.commit
            )

    def pay_out(self, distributor_id: int, minimum: int = 1) -> Payout:
        """The distributor asks for their available balance; the platform approves and
        marks it paid (a bank transfer)."""
        with self.session() as session:
            asked = payouts.request_payout(session, distributor_id, "CNY", minimum, self.now)
            session.commit()
            payout_id = asked.id or 0
            payouts.approve(
                session,
                payout_id,
                self.admin_id,
                ManualPayouts(),
                self.now,
                commit=session.commit,
            )
            return payouts.mark_paid(session, payout_id, "BANK-REF-1", self.admin_id, self.now)

    # --- reading -----------------------------------------------------------------------

    def balances(self, distributor_id: int) -> dict[str, int]:
        """``{bucket: amount}`` in CNY (every bucket, zeros included)."""
        with self.session() as session:
            found = ledger.balances(session, distributor_id)
        buckets = {"pending": 0, "available": 0, "payout": 0, "paid": 0}
        for balance in found:
            assert balance.currency == "CNY"
            buckets.update(
                pending=balance.pending,
                available=balance.available,
                payout=balance.payout,
                paid=balance.paid,
            )
        return buckets

    def lines(self, order_id: int) -> dict[str, OrderLine]:
        with self.session() as session:
            return {
                line.sku: line
                for line in session.scalars(
                    sa.select(OrderLine).where(OrderLine.order_id == order_id)
                )
            }

    def entries(self) -> list[CommissionEntry]:
        with self.session() as session:
            return list(session.scalars(sa.select(CommissionEntry).order_by(CommissionEntry.id)))

    # --- plumbing ----------------------------------------------------------------------

    @contextmanager
    def session(self) -> Iterator[Session]:
        with session_scope(self.app) as session:
            yield session

    def book(self, session: Session) -> RateBook:
        return load_rate_book(session, RATES)

    def _part(self, session: Session, order_id: int) -> str:
        found = session.scalar(
            sa.select(SupplierOrder.public_id).where(SupplierOrder.order_id == order_id)
        )
        assert found is not None
        return found

    def _distributor_with(self, session: Session, email: str) -> int | None:
        from storefront_sdk.shops.models import Distributor

        found: int | None = session.scalar(
            sa.select(Distributor.id).where(Distributor.email == email)
        )
        return found


def make_world(db_url: str, **config: Any) -> World:
    """A fresh :class:`World` on ``db_url`` (its app is the caller's to dispose of)."""
    app = build_app(db_url, STOREFRONT_PAYMENT_PROVIDER="dev", **config)
    with session_scope(app) as session:
        supplier, _ = make_supplier(session, currency="CNY")
        products = [
            product_payload(
                f"P-{sku}",
                title=f"Product {sku}",
                variants=[
                    variant_payload(
                        sku, stock=1000, supply_price=supply, retail_price=retail, min_price=None
                    )
                ],
            )
            for sku, (supply, retail) in PRICES.items()
        ]
        sync_products(session, supplier, products, keep_valid=False, now=datetime.now(UTC))
        ann = create_distributor(session, "ann@example.com", "password123", shop_name="Ann")
        bob = create_distributor(
            session,
            "bob@example.com",
            "password123",
            shop_name="Bob",
            parent_code=ann.distributor.referral_code,
        )
        admin = create_admin(session, "root@example.com", "password123")
        session.flush()
        from storefront_sdk.catalog.models import Variant

        variants = {v.sku: v.id or 0 for v in session.scalars(sa.select(Variant))}
        return World(
            app,
            supplier.id or 0,
            ann.distributor.id or 0,
            bob.distributor.id or 0,
            bob.shop.slug,
            admin.id or 0,
            variants,
        )


def dispose(world: World) -> None:
    world.app.extensions["storefront"].engine.dispose()


def order_total(world: World, order_id: int) -> int:
    with world.session() as session:
        return session.get_one(Order, order_id).total_minor
