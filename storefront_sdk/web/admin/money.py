"""The admin's money pages: commission rates at every scope, payouts (approve and reject,
each confirmed first, send again, mark paid, CSV for the bank with each payout account) and
supplier settlement statements (CSV).

Behind the admin's sign-in, role and CSRF checks.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import Response, current_app, flash, request
from sqlmodel import col

from ...catalog.models import Supplier
from ...commissions import payouts, statements
from ...commissions.models import Payout, PayoutStatus
from ...commissions.payout_accounts import (
    AccountKind,
    PayoutAccount,
    accounts_of,
    mask,
    payout_account_of,
)
from ...db import utcnow
from ...errors import ValidationError
from ...pricing.models import SCOPES, CommissionRate
from ...pricing.rates import RateChange, default_rates, load_rate_book, set_rates
from ...shops.models import Distributor
from ..pages import DIGITS, see_other
from ..pages import gettext as _
from ..sessions import get_session
from ..transactions import committed
from .access import PAGE, me, message, money, page, refused


def rates() -> Response:
    """The rates set at every scope, and the defaults under them."""
    session = get_session()
    rows = session.scalars(
        sa.select(CommissionRate).order_by(col(CommissionRate.scope), col(CommissionRate.target_id))
    ).all()
    return page("rates.html", rows=rows, scopes=SCOPES, default=default_rates(current_app.config))


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


@committed(refused)
def set_rate() -> Response:
    """Set (or clear, with both levels blank) the rates of one scope, refused if some
    product's retail price would split into a negative part."""
    session = get_session()
    scope = request.form.get("scope", "")
    target = request.form.get("target_id", "0").strip() or "0"
    if not DIGITS.fullmatch(target):
        raise ValidationError(_("The target is the id of a supplier, category or product."))
    change = RateChange(scope, int(target), _bp_field("level1"), _bp_field("level2"))
    set_rates(session, load_rate_book(session, default_rates(current_app.config)), change, utcnow())
    return see_other(".rates")


def payouts_page() -> Response:
    """Payouts in one status (``requested`` first), newest first."""
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
    accounts = accounts_of(get_session(), sorted({p.distributor_id for p, _, _ in rows}))
    provider = current_app.extensions["storefront"].payouts
    return page(
        "payouts.html",
        rows=[
            {
                "payout": p,
                "email": email,
                "name": name,
                "amount": money(p.amount_minor, p.currency),
                "account": masked_account(accounts[p.distributor_id])
                if p.distributor_id in accounts
                else None,
            }
            for p, email, name in rows
        ],
        chosen=status,
        statuses=tuple(PayoutStatus),
        provider=provider.name,
        sends=provider.sends,
    )


#: Decisions asked to be confirmed first: the list's button shows what will happen, and
#: the confirmation page's form posts again with ``confirmed=1`` (no script needed).
CONFIRMED = ("approve", "reject")
_ACTIONS = ("approve", "reject", "paid", "send")
#: The statuses a confirmed decision can be asked from (the service checks again).
_DECIDABLE = {
    "approve": (PayoutStatus.REQUESTED,),
    "reject": (PayoutStatus.REQUESTED, PayoutStatus.APPROVED),
}


@committed(refused)
def decide(payout_id: int, action: str) -> Response:
    """``approve`` (a sending provider sends it then), ``send`` (again: an approved payout
    the provider did not confirm), ``reject`` (with the reason the distributor is shown),
    or ``paid`` (a manual payout's bank reference). Approving and rejecting are confirmed
    first; each decision is then said (a flashed message on the list)."""
    if action not in _ACTIONS:
        return message(_("Unknown action."), 404)
    session = get_session()
    if action in CONFIRMED and request.form.get("confirmed") != "1":
        return confirm_decision(payout_id, action)
    note = " ".join(request.form.get("note", "").split())
    if action == "reject" and not note:
        return confirm_decision(
            payout_id, action, _("Give the reason: the distributor is shown it."), 422
        )
    provider = current_app.extensions["storefront"].payouts
    if action == "approve":
        done = payouts.approve(
            session, payout_id, me().id or 0, provider, utcnow(), commit=session.commit
        )
    elif action == "reject":
        done = payouts.reject(session, payout_id, note, me().id or 0, utcnow())
    elif action == "paid":
        done = payouts.mark_paid(
            session, payout_id, request.form.get("reference", ""), me().id or 0, utcnow()
        )
    else:
        done = payouts.send(session, payout_id, provider, utcnow(), commit=session.commit)
    flash(decision_said(done, action))
    return see_other(".payouts_page", status=request.args.get("status", PayoutStatus.REQUESTED))


def decision_said(payout: Payout, action: str) -> str:
    """What a decision did to ``payout``, as the admin is told."""
    number = payout.id or 0
    if payout.status == PayoutStatus.PAID:
        if action == "paid":
            return _("Payout #%(id)s marked paid.", id=number)
        return _("Payout #%(id)s approved and sent.", id=number)
    if payout.status == PayoutStatus.REJECTED:
        return _("Payout #%(id)s rejected.", id=number)
    if payout.status == PayoutStatus.FAILED:
        return _("Payout #%(id)s could not be sent: %(why)s", id=number, why=payout.note or "")
    if payout.note:
        return _("Payout #%(id)s approved; %(why)s", id=number, why=payout.note)
    return _("Payout #%(id)s approved.", id=number)


def confirm_decision(
    payout_id: int, action: str, error: str | None = None, status: int = 200
) -> Response:
    """The page asking to confirm approving or rejecting a payout: who is paid, how much,
    where to (masked), and for a rejection the reason to give."""
    session = get_session()
    payout = session.get(Payout, payout_id)
    if payout is None:
        return message(_("There is no such payout."), 404)
    if payout.status not in _DECIDABLE[action]:
        return message(
            _("This payout is %(status)s: there is nothing to decide.", status=payout.status), 409
        )
    distributor = session.get_one(Distributor, payout.distributor_id)
    account = payout_account_of(session, payout.distributor_id)
    return page(
        "confirm_payout.html",
        status,
        payout=payout,
        action=action,
        error=error,
        distributor=distributor,
        amount=money(payout.amount_minor, payout.currency),
        account=None if account is None else masked_account(account),
        chosen=request.args.get("status", PayoutStatus.REQUESTED),
        note=request.form.get("note", ""),
    )


def masked_account(account: PayoutAccount) -> str:
    """A payout account as the admin's pages show it: kind, holder, bank, masked number."""
    kind = _("Bank") if account.kind == AccountKind.BANK else _("Alipay")
    parts = [kind, account.holder_name, account.bank_name or "", mask(account.account_number)]
    return " · ".join(part for part in parts if part)


def payouts_csv() -> Response:
    """The payouts in one status (``approved``) as CSV, for the bank."""
    status = request.args.get("status", PayoutStatus.APPROVED)
    if status not in tuple(PayoutStatus):
        return message(_("Unknown status."), 404)
    body = payouts.export_csv(get_session(), status)
    return _csv(body, f"payouts-{status}.csv")


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


def statements_page() -> Response:
    """A supplier's settlement statement for a period, as a page or CSV."""
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
