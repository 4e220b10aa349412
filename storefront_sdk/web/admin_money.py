"""Admin pages of money and orders: commission rates at every scope, orders (search, the
order, after-sales refunds of lines), webhook deliveries (retry), payouts (approve, reject,
mark paid, CSV for the bank) and supplier settlement statements (CSV).

Registered on :data:`.admin.bp`, behind its sign-in, role and CSRF checks.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import Response, current_app, request
from sqlmodel import col

from ..catalog.models import Supplier
from ..commissions import payouts, statements
from ..commissions.models import Payout, PayoutStatus
from ..db import get_session, utcnow
from ..errors import NotFound, StorefrontError, ValidationError
from ..fulfillment.after_sales import refund_lines
from ..fulfillment.dispatch import requeue
from ..fulfillment.models import STATUSES as DELIVERY_STATUSES
from ..fulfillment.models import DeliveryAttempt, OutboxEvent
from ..money import Money, format_money
from ..orders.models import Order, OrderLine, Refund, SupplierOrder
from ..pricing.models import SCOPES, CommissionRate
from ..pricing.rates import RateChange, load_rate_book, set_rates
from ..shops.models import Distributor
from .admin import DIGITS, PAGE, _, bp, locale, me, message, page, page_args, refused, to
from .shop_pages import default_rates


def money(minor: int, currency: str) -> str:
    return format_money(Money(minor, currency), locale(), "code")


# --- commission rates -----------------------------------------------------------------------


@bp.get("/rates")
def rates() -> Response:
    session = get_session()
    rows = session.scalars(
        sa.select(CommissionRate).order_by(col(CommissionRate.scope), col(CommissionRate.target_id))
    ).all()
    return page("rates.html", rows=rows, scopes=SCOPES, default=default_rates())


_PERCENT = re.compile(r"(\d{1,3})(?:\.(\d{1,2}))?")


def _bp_field(name: str) -> int | None:
    """A rate typed in percent ("10", "2.5") as basis points; blank: left to wider scopes."""
    text = request.form.get(name, "").strip().rstrip("%").strip()
    if not text:
        return None
    found = _PERCENT.fullmatch(text)
    if found is None:
        raise ValidationError(_("A rate is a percentage such as 10 or 2.5."))
    return int(found.group(1)) * 100 + int((found.group(2) or "").ljust(2, "0"))


@bp.post("/rates")
def set_rate() -> Response:
    """Set (or clear, with both levels blank) the rates of one scope, refused if some
    product's retail price would split into a negative part."""
    session = get_session()
    try:
        scope = request.form.get("scope", "")
        target = request.form.get("target_id", "0").strip() or "0"
        if not DIGITS.fullmatch(target):
            raise ValidationError(_("The target is the id of a supplier, category or product."))
        change = RateChange(scope, int(target), _bp_field("level1"), _bp_field("level2"))
        set_rates(session, load_rate_book(session, default_rates()), change, utcnow())
        session.commit()
    except StorefrontError as error:
        return refused(error)
    return to(".rates")


# --- orders -----------------------------------------------------------------------------------


@bp.get("/orders")
def orders() -> Response:
    """Orders, newest first: by number or contact (``q``) and status."""
    text = request.args.get("q", "").strip()[:100]
    status = request.args.get("status", "")
    query = sa.select(Order).order_by(col(Order.id).desc()).limit(PAGE + 1)
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
    before = page_args()
    if before is not None:
        query = query.where(col(Order.id) < before)
    rows = get_session().scalars(query).all()
    more = len(rows) > PAGE
    rows = rows[:PAGE]
    return page(
        "orders.html",
        orders=[{"order": o, "total": money(o.total_minor, o.currency)} for o in rows],
        q=text,
        chosen=status,
        next_before=rows[-1].id if more and rows else None,
    )


def _order(number: str) -> Order:
    found = get_session().scalars(sa.select(Order).where(col(Order.number) == number)).first()
    if found is None:
        raise NotFound(_("There is no order %(number)s.", number=number))
    return found


@bp.get("/orders/<number>")
def order(number: str) -> Response:
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
    return page(
        "order.html",
        order=found,
        total=money(found.total_minor, found.currency),
        lines=[
            {
                "line": line,
                "amount": money(line.amount_minor, line.currency),
                "left": line.amount_minor - line.refunded_minor,
                "left_text": money(line.amount_minor - line.refunded_minor, line.currency),
                "parts": [
                    money(line.supply_price_minor * line.quantity, line.currency),
                    money(line.level1_minor, line.currency),
                    money(line.level2_minor, line.currency),
                    money(line.platform_minor, line.currency),
                ],
            }
            for line in lines
        ],
        parts=parts,
        refunds=[{"refund": r, "amount": money(r.amount_minor, r.currency)} for r in refunds],
    )


@bp.post("/orders/<number>/refund")
def refund(number: str) -> Response:
    """An after-sales refund of part of one line (typed in major units)."""
    session = get_session()
    try:
        found = _order(number)
        line = request.form.get("line_id", "")
        if not DIGITS.fullmatch(line):
            raise ValidationError(_("Choose the line to refund."))
        try:
            amount = Money.from_major(request.form.get("amount", "").strip(), found.currency)
        except (TypeError, ValueError):
            raise ValidationError(_("The amount is a plain number such as 12.50.")) from None
        reason = request.form.get("reason", "").strip()[:300] or _("after-sales refund")
        refund_lines(
            session,
            found.id or 0,
            {int(line): amount.minor},
            reason,
            utcnow(),
            actor=f"admin:{me().id}",
        )
        session.commit()
    except StorefrontError as error:
        return refused(error)
    return to(".order", number=number)


# --- webhook deliveries -----------------------------------------------------------------------


@bp.get("/deliveries")
def deliveries() -> Response:
    """Outbox events (``status``: pending, delivered, failed, skipped), newest first."""
    status = request.args.get("status", "failed")
    query = sa.select(OutboxEvent).order_by(col(OutboxEvent.id).desc()).limit(PAGE + 1)
    if status in DELIVERY_STATUSES:
        query = query.where(col(OutboxEvent.status) == status)
    before = page_args()
    if before is not None:
        query = query.where(col(OutboxEvent.id) < before)
    session = get_session()
    rows = session.scalars(query).all()
    more = len(rows) > PAGE
    rows = rows[:PAGE]
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
        next_before=rows[-1].id if more and rows else None,
    )


@bp.post("/deliveries/<event_id>/retry")
def retry(event_id: str) -> Response:
    session = get_session()
    try:
        requeue(session, None, event_id, utcnow())
        session.commit()
    except StorefrontError as error:
        return refused(error)
    return to(".deliveries", status="pending")


# --- payouts --------------------------------------------------------------------------------


@bp.get("/payouts")
def payouts_page() -> Response:
    status = request.args.get("status", PayoutStatus.REQUESTED)
    query = (
        sa.select(Payout, col(Distributor.email), col(Distributor.name))
        .join(Distributor, col(Distributor.id) == col(Payout.distributor_id))
        .order_by(col(Payout.id).desc())
        .limit(PAGE)
    )
    if status in tuple(PayoutStatus):
        query = query.where(col(Payout.status) == status)
    rows = get_session().execute(query).all()
    provider = current_app.extensions["storefront"].payouts
    return page(
        "payouts.html",
        rows=[
            {"payout": p, "email": email, "name": name, "amount": money(p.amount_minor, p.currency)}
            for p, email, name in rows
        ],
        chosen=status,
        statuses=tuple(PayoutStatus),
        provider=provider.name,
        sends=provider.sends,
    )


@bp.post("/payouts/<int(max=999999999999999999):payout_id>/<action>")
def decide(payout_id: int, action: str) -> Response:
    """``approve`` (a sending provider sends it then), ``send`` (again: an approved payout
    the provider did not confirm), ``reject``, or ``paid`` (a manual payout's bank
    reference)."""
    session = get_session()
    provider = current_app.extensions["storefront"].payouts
    try:
        if action == "approve":
            payouts.approve(
                session, payout_id, me().id or 0, provider, utcnow(), commit=session.commit
            )
        elif action == "reject":
            payouts.reject(session, payout_id, request.form.get("note", ""), me().id or 0, utcnow())
            session.commit()
        elif action == "paid":
            payouts.mark_paid(
                session, payout_id, request.form.get("reference", ""), me().id or 0, utcnow()
            )
            session.commit()
        elif action == "send":
            payouts.send(session, payout_id, provider, utcnow(), commit=session.commit)
        else:
            return message(_("Unknown action."), 404)
    except StorefrontError as error:
        return refused(error)
    return to(".payouts_page", status=request.args.get("status", PayoutStatus.REQUESTED))


@bp.get("/payouts.csv")
def payouts_csv() -> Response:
    status = request.args.get("status", PayoutStatus.APPROVED)
    if status not in tuple(PayoutStatus):
        return message(_("Unknown status."), 404)
    body = payouts.export_csv(get_session(), status)
    return _csv(body, f"payouts-{status}.csv")


# --- supplier settlement statements ---------------------------------------------------------


def _period() -> tuple[datetime, datetime]:
    """``from`` (included) and ``to`` (excluded) dates of the query, default: last month."""
    today = utcnow().date()
    first = today.replace(day=1)
    default_from, default_to = (first - timedelta(days=1)).replace(day=1), first
    try:
        start = date.fromisoformat(request.args.get("from") or default_from.isoformat())
        end = date.fromisoformat(request.args.get("to") or default_to.isoformat())
    except ValueError:
        raise ValidationError(_("Dates look like 2026-11-01.")) from None
    if end <= start:
        raise ValidationError(_("The period must end after it starts."))
    return (
        datetime(start.year, start.month, start.day, tzinfo=UTC),
        datetime(end.year, end.month, end.day, tzinfo=UTC),
    )


@bp.get("/statements")
def statements_page() -> Response:
    session = get_session()
    found_suppliers = session.scalars(sa.select(Supplier).order_by(col(Supplier.name))).all()
    wanted = request.args.get("supplier", "")
    try:
        start, end = _period()
    except ValidationError as error:
        return message(error.message, 422)
    context: dict[str, Any] = {
        "suppliers": found_suppliers,
        "supplier_id": wanted,
        "start": start.date().isoformat(),
        "end": end.date().isoformat(),
        "statement": None,
    }
    if wanted:
        supplier = session.get(Supplier, int(wanted)) if DIGITS.fullmatch(wanted) else None
        if supplier is None:
            return message(_("There is no such supplier."), 404)
        found = statements.statement(session, supplier.id or 0, supplier.currency, start, end)
        if request.args.get("format") == "csv":
            return _csv(
                statements.statement_csv(found), f"statement-{supplier.id}-{context['start']}.csv"
            )
        context["statement"] = found
        context["supplier"] = supplier
        context["money"] = lambda minor: money(minor, supplier.currency)
    return page("statements.html", **context)


def _csv(body: str, name: str) -> Response:
    response = Response(body, mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
