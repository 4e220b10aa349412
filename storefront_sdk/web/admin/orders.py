"""The admin's order pages: orders (search by number or contact, status), one order with
each line's gross, its discounts (promotion and funder), its net amount and four parts, and
after-sales refunds of lines, and webhook deliveries (retry).

Behind the admin's sign-in, role and CSRF checks.
"""

from __future__ import annotations

import re
import secrets

import sqlalchemy as sa
from flask import Response, request
from sqlmodel import col

from ...db import utcnow
from ...errors import NotFound, ValidationError
from ...fulfillment.after_sales import (
    RefundTooLarge,
    TooManyUnits,
    refund_lines,
    refund_returned_units,
)
from ...fulfillment.dispatch import requeue
from ...fulfillment.models import STATUSES as DELIVERY_STATUSES
from ...fulfillment.models import DeliveryAttempt, OutboxEvent
from ...money import Money
from ...orders import progress
from ...orders.models import (
    REFUND_CANCELLED,
    REFUND_GOODWILL,
    REFUND_LATE_PAYMENT,
    REFUND_RETURNED,
    Order,
    OrderLine,
    OrderLineDiscount,
    Refund,
    SupplierOrder,
)
from ...promotions.models import PLATFORM, SHOP, SUPPLIER, Promotion
from ..pages import DIGITS, see_other
from ..pages import gettext as _
from ..sessions import get_session
from ..transactions import committed
from .access import me, message, money, newest_page, page, refused

#: The refund form's one-time key (a double submit of one form makes one refund).
FORM_KEY = re.compile(r"[A-Za-z0-9_-]{16,64}")


def orders() -> Response:
    """Orders, newest first: by number or contact (``q``) and status."""
    text = request.args.get("q", "").strip()[:100]
    status = request.args.get("status", "")
    query = sa.select(Order)
    if text:
        query = query.where(
            sa.or_(
                col(Order.number) == text.upper(),
                col(Order.contact_email) == text.lower(),
                col(Order.contact_phone) == text,
            )
        )
    if status:
        query = query.where(col(Order.status) == status)
    rows, next_before = newest_page(query, col(Order.id))
    shown = progress.display_statuses(get_session(), [(o.id or 0, o.status) for (o,) in rows])
    return page(
        "orders.html",
        orders=[
            {"order": o, "total": money(o.total_minor, o.currency), "shown": shown[o.id or 0]}
            for (o,) in rows
        ],
        q=text,
        chosen=status,
        next_before=next_before,
    )


def _order(number: str) -> Order:
    found = get_session().scalars(sa.select(Order).where(col(Order.number) == number)).first()
    if found is None:
        raise NotFound(_("There is no order %(number)s.", number=number))
    return found


def order(number: str) -> Response:
    """One order: each line with its four parts, its supplier parts and refunds."""
    session = get_session()
    try:
        found = _order(number)
    except NotFound as error:
        return message(error.message, 404)
    lines = session.scalars(
        sa.select(OrderLine).where(col(OrderLine.order_id) == found.id).order_by(col(OrderLine.id))
    ).all()
    parts = session.scalars(
        sa.select(SupplierOrder).where(col(SupplierOrder.order_id) == found.id)
    ).all()
    refunds = session.scalars(
        sa.select(Refund).where(col(Refund.order_id) == found.id).order_by(col(Refund.id))
    ).all()
    discounts = _discounts(found)
    return page(
        "order.html",
        order=found,
        shown=progress.display_status(found.status, [part.status for part in parts]),
        total=money(found.total_minor, found.currency),
        subtotal=money(found.subtotal_minor, found.currency),
        discount=money(-found.discount_minor, found.currency),
        shipping=money(found.shipping_minor, found.currency),
        lines=[_line_row(line, discounts.get(line.id or 0, [])) for line in lines],
        parts=parts,
        refunds=[_refund_row(r) for r in refunds],
        form_key=secrets.token_urlsafe(18),
    )


def funder_name(funder: str) -> str:
    """Who funds a promotion, in the admin's words."""
    names = {
        SUPPLIER: _("funded by the supplier"),
        SHOP: _("funded by the shop"),
        PLATFORM: _("funded by the platform"),
    }
    return names.get(funder, funder)


def _discounts(order: Order) -> dict[int, list[dict[str, object]]]:
    """Each line's discounts (``{line id: [{name, funder, amount}]}``), by promotion."""
    found: dict[int, list[dict[str, object]]] = {}
    if not order.discount_minor:
        return found
    rows = get_session().execute(
        sa.select(OrderLineDiscount, col(Promotion.name))
        .join(Promotion, col(Promotion.id) == col(OrderLineDiscount.promotion_id))
        .where(col(OrderLineDiscount.order_id) == order.id)
        .order_by(col(OrderLineDiscount.order_line_id), col(OrderLineDiscount.promotion_id))
    )
    for discount, name in rows:
        found.setdefault(discount.order_line_id, []).append(
            {
                "name": name,
                "funder": discount.funder,
                "funder_name": funder_name(discount.funder),
                "amount": money(-discount.amount_minor, order.currency),
            }
        )
    return found


def _line_row(line: OrderLine, discounts: list[dict[str, object]]) -> dict[str, object]:
    """A line as the order page shows it: its gross, its discounts, its net amount, what is
    left, its four parts (the supplier's is its supply amount; a platform part below zero
    is a subsidy)."""
    return {
        "line": line,
        "gross": money(line.unit_price_minor * line.quantity, line.currency),
        "discounts": discounts,
        "subsidy": line.platform_minor < 0,
        "amount": money(line.amount_minor, line.currency),
        "left": line.amount_minor - line.refunded_minor,
        "left_text": money(line.amount_minor - line.refunded_minor, line.currency),
        "units_left": line.quantity - line.cancelled_quantity - line.returned_quantity,
        "parts": [
            money(line.supply_amount_minor, line.currency),
            money(line.level1_minor, line.currency),
            money(line.level2_minor, line.currency),
            money(line.platform_minor, line.currency),
        ],
    }


def refund_kind(kind: str) -> str:
    """What a refund is for, in the admin's words."""
    names = {
        REFUND_CANCELLED: _("units cancelled by the supplier"),
        REFUND_RETURNED: _("units returned"),
        REFUND_GOODWILL: _("goodwill"),
        REFUND_LATE_PAYMENT: _("a payment after the order ended, given back"),
    }
    return names.get(kind, kind)


def _refund_row(refund: Refund) -> dict[str, object]:
    units = ", ".join(
        f"{item['sku']} \u00d7 {item['quantity']}" for item in refund.lines if item["quantity"]
    )
    return {
        "refund": refund,
        "amount": money(refund.amount_minor, refund.currency),
        "kind": refund_kind(refund.kind),
        "units": units,
    }


@committed(refused)
def refund(number: str) -> Response:
    """An after-sales refund of one line: units returned (their share of the line) or a goodwill
    amount (typed in the currency's units, e.g. ``12.50``). The form's one-time key makes
    a double submit one refund."""
    found = _order(number)
    line = request.form.get("line_id", "")
    if not DIGITS.fullmatch(line):
        raise ValidationError(_("Choose the line to refund."))
    form_key = request.form.get("form_key", "")
    if not FORM_KEY.fullmatch(form_key):
        raise ValidationError(_("This form has expired. Please reload the page and try again."))
    kind = request.form.get("kind", "")
    reason = request.form.get("reason", "").strip()[:300] or _("after-sales refund")
    session, order_id, line_id = get_session(), found.id or 0, int(line)
    actor, now = f"admin:{me().id}", utcnow()
    try:
        if kind == REFUND_RETURNED:
            units = {line_id: _units()}
            refund_returned_units(
                session, order_id, units, reason, now, actor=actor, form_key=form_key
            )
        elif kind == REFUND_GOODWILL:
            amounts = {line_id: _amount(found.currency)}
            refund_lines(session, order_id, amounts, reason, now, actor=actor, form_key=form_key)
        else:
            raise ValidationError(_("Choose what the refund is for: returned units or goodwill."))
    except RefundTooLarge as error:
        left = money(error.left.minor, error.left.currency)
        raise ValidationError(
            _("At most %(amount)s of this line is left to refund.", amount=left)
        ) from None
    except TooManyUnits as error:
        raise ValidationError(
            _("Only %(count)s unit(s) of this line are left to return.", count=error.left)
        ) from None
    return see_other(".order", number=number)


def _units() -> int:
    """The number of units returned, from the form (1 or more)."""
    text = request.form.get("units", "").strip()
    if not DIGITS.fullmatch(text) or int(text) < 1:
        raise ValidationError(_("The number of units returned is a whole number such as 1."))
    return int(text)


def _amount(currency: str) -> int:
    """The goodwill amount, typed in the currency's units (``12.50``), in minor units."""
    try:
        amount = Money.from_major(request.form.get("amount", "").strip(), currency)
    except (TypeError, ValueError):
        raise ValidationError(_("The amount is a plain number such as 12.50.")) from None
    if amount.minor < 1:
        raise ValidationError(_("The amount is a plain number such as 12.50."))
    return amount.minor


def deliveries() -> Response:
    """Outbox events (``status``: pending, delivered, failed, skipped), newest first."""
    status = request.args.get("status", "failed")
    query = sa.select(OutboxEvent)
    if status in DELIVERY_STATUSES:
        query = query.where(col(OutboxEvent.status) == status)
    found, next_before = newest_page(query, col(OutboxEvent.id))
    rows = [event for (event,) in found]
    session = get_session()
    last: dict[int, DeliveryAttempt] = {}
    for attempt in session.scalars(
        sa.select(DeliveryAttempt)
        .where(col(DeliveryAttempt.outbox_event_id).in_([e.id for e in rows]))
        .order_by(col(DeliveryAttempt.id))
    ):
        last[attempt.outbox_event_id] = attempt
    return page(
        "deliveries.html",
        events=rows,
        last=last,
        chosen=status,
        statuses=DELIVERY_STATUSES,
        next_before=next_before,
    )


@committed(refused)
def retry(event_id: str) -> Response:
    """Send a delivery again (a failed one, or one still being retried) now."""
    requeue(get_session(), None, event_id, utcnow())
    return see_other(".deliveries", status="pending")
