"""Console pages of the distributor's money: earnings (balances, a chart of sales and
commissions, the team's sales, the ledger's latest entries) and payouts (asking for one,
their history, the Stripe account payouts go to).

Behind the console's sign-in and CSRF checks; every query is the signed-in distributor's
own (:mod:`storefront_sdk.commissions.reports`).
"""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from flask import Response, current_app, redirect, request, url_for
from markupsafe import Markup
from sqlmodel import col

from ... import i18n
from ...commissions import ledger, payouts, reports
from ...commissions.models import PayoutStatus
from ...commissions.payout_providers import PayoutError, StripeConnectPayouts
from ...db import utcnow
from ...errors import Conflict, StorefrontError, ValidationError
from ...money import Money, format_money
from ...shops.models import Distributor
from ..pages import gettext as _
from ..pages import see_other, time_zone
from ..sessions import get_session
from ..transactions import commit_or_refuse
from .access import locale, me, message_page, my_shop, page
from .charts import Point, bar_chart
from .payout_account import account_section, save_payout_account

#: Days the earnings chart covers.
CHART_DAYS = 30


def _money(minor: int, currency: str) -> str:
    return format_money(Money(minor, currency), locale(), my_shop().currency_display)


def _entry_kinds() -> dict[str, str]:
    return {
        "earned": _("Earned"),
        "settled": _("Became available"),
        "reversed": _("Taken back by a refund"),
        "payout_requested": _("Payout asked for"),
        "payout_sent": _("Paid out"),
        "payout_returned": _("Payout returned"),
        "clawback": _("Transfer taken back"),
    }


def _bucket_names() -> dict[str, str]:
    return {
        "pending": _("Pending"),
        "available": _("Available"),
        "payout": _("Payout on its way"),
        "paid": _("Paid out"),
    }


def earnings() -> Response:
    """Balances per currency, the last 30 days as a chart and a table, the team's sales
    and the latest ledger entries."""
    session, distributor = get_session(), me()
    found = ledger.balances(session, distributor.id or 0)
    currency = request.args.get("currency") or (found[0].currency if found else None)
    if currency is not None and currency not in {b.currency for b in found}:
        currency = found[0].currency if found else None
    days: list[reports.Day] = []
    chart = None
    if currency is not None:
        days = reports.daily(session, distributor.id or 0, currency, utcnow(), CHART_DAYS)
        chart = Markup(  # noqa: S704 - built from numbers and escaped labels only
            bar_chart(
                [Point(day.day.strftime("%m-%d"), day.sales, day.commission) for day in days],
                title=_("Sales and commissions, last %(days)s days", days=CHART_DAYS),
                bars_name=_("Sales after refunds"),
                line_name=_("Commission after refunds"),
                money=lambda minor: _money(minor, currency or "CNY"),
            )
        )
    since = utcnow() - timedelta(days=CHART_DAYS)
    kinds, buckets = _entry_kinds(), _bucket_names()
    return page(
        "earnings.html",
        balances=[
            {
                "currency": b.currency,
                "pending": _money(b.pending, b.currency),
                "available": _money(b.available, b.currency),
                "payout": _money(b.payout, b.currency),
                "paid": _money(b.paid, b.currency),
                "negative": b.available < 0,
            }
            for b in found
        ],
        currency=currency,
        chart=chart,
        chart_days=CHART_DAYS,
        days=[
            {
                "day": day.day.isoformat(),
                "sales": _money(day.sales, currency or "CNY"),
                "commission": _money(day.commission, currency or "CNY"),
            }
            for day in days
            if day.sales or day.commission
        ],
        team=[
            {
                "name": recruit.name or recruit.shop_name,
                "shop_name": recruit.shop_name,
                "sales": _money(recruit.sales, recruit.currency),
                "override": _money(recruit.override, recruit.currency),
            }
            for recruit in reports.team(session, distributor.id or 0, since)
        ],
        entries=[
            {
                "when": i18n.local_date(entry.created_at, locale(), time_zone(my_shop().time_zone)),
                "kind": kinds.get(entry.kind, entry.kind),
                "bucket": buckets.get(entry.bucket, entry.bucket),
                "amount": _money(entry.amount_minor, entry.currency),
                "negative": entry.amount_minor < 0,
            }
            for entry in reports.recent_entries(session, distributor.id or 0)
        ],
    )


def _status_names() -> dict[str, str]:
    return {
        PayoutStatus.REQUESTED: _("Asked for"),
        PayoutStatus.APPROVED: _("Approved, being sent"),
        PayoutStatus.PAID: _("Paid"),
        PayoutStatus.REJECTED: _("Turned down"),
        PayoutStatus.FAILED: _("Could not be sent"),
    }


def payouts_page(
    error: str | None = None,
    status: int = 200,
    *,
    account_error: str | None = None,
    typed: dict[str, str] | None = None,
) -> Response:
    """What may be paid out now, the way to ask for it, the payouts so far and where they
    are paid (``account_error`` and ``typed``: a refused change of the payout account)."""
    session, distributor = get_session(), me()
    minimum = current_app.config["STOREFRONT_PAYOUT_MINIMUM_MINOR"]
    provider = current_app.extensions["storefront"].payouts
    names = _status_names()
    return page(
        "payouts.html",
        status=status,
        error=error,
        asked=request.args.get("asked") == "1",
        connected=request.args.get("connected") == "1",
        available=[
            {
                "currency": b.currency,
                "amount": _money(b.available, b.currency),
                "minimum": _money(minimum, b.currency),
                "enough": b.available >= minimum,
                "negative": b.available < 0,
                "owed": _money(-b.available, b.currency) if b.available < 0 else None,
                "taken_back": _taken_back(distributor.id or 0, b.currency)
                if b.available < 0
                else [],
            }
            for b in ledger.balances(session, distributor.id or 0)
        ],
        takes_back_transfers=provider.sends,
        stripe_connect=isinstance(provider, StripeConnectPayouts),
        stripe_account=distributor.stripe_account_id,
        account_error=account_error,
        **account_section(typed),
        payouts=[
            {
                "id": payout.id,
                "amount": _money(payout.amount_minor, payout.currency),
                "status": payout.status,
                "status_name": names.get(payout.status, payout.status),
                "requested": i18n.local_date(
                    payout.requested_at, locale(), time_zone(my_shop().time_zone)
                ),
                "reference": payout.reference,
                "note": payout.note,
            }
            for payout in payouts.payouts_of(session, distributor.id or 0)
        ],
    )


def _taken_back(distributor_id: int, currency: str) -> list[dict[str, str]]:
    """The orders whose refunds took back commissions already available (or paid out)."""
    return [
        {"order": found.order_number, "amount": _money(found.amount, currency)}
        for found in reports.taken_back_after_settling(get_session(), distributor_id, currency)
    ]


def ask_for_payout() -> Response:
    """Ask for the whole available balance in one currency."""
    session, distributor = get_session(), me()
    currency = request.form.get("currency", "")
    minimum = current_app.config["STOREFRONT_PAYOUT_MINIMUM_MINOR"]
    if currency not in {b.currency for b in ledger.balances(session, distributor.id or 0)}:
        return payouts_page(_("Choose a currency to be paid in."), 422)

    def ask() -> Response:
        payouts.request_payout(session, distributor.id or 0, currency, minimum, utcnow())
        return see_other(".payouts_page", asked=1)

    def refuse(error: StorefrontError) -> Response:
        if isinstance(error, ValidationError):
            available = ledger.balance(session, distributor.id or 0, currency, "available")
            message = _(
                "Payouts start at %(minimum)s; %(available)s is available now.",
                minimum=_money(minimum, currency),
                available=_money(available, currency),
            )
            return payouts_page(message, 422)
        if isinstance(error, Conflict) and distributor.status != "active":
            return payouts_page(_("Your account is suspended: payouts are on hold."), 409)
        if isinstance(error, Conflict):
            return payouts_page(_("A payout in this currency is already on its way."), 409)
        return payouts_page(error.message, 422)

    return commit_or_refuse(ask, refuse)


def payout_account() -> Response:
    """Set or change the account payouts are paid to (:mod:`.payout_account`)."""
    return save_payout_account(
        lambda text, typed: payouts_page(account_error=text, status=422, typed=typed)
    )


def connect_stripe() -> Response:
    """Onboard (or resume onboarding) the Stripe account payouts go to. No transaction stays
    open while Stripe is asked: this view ends each one itself, around the calls."""
    provider = current_app.extensions["storefront"].payouts
    if not isinstance(provider, StripeConnectPayouts):
        return message_page(_("Payouts here are made by bank transfer."), 404)
    session, distributor = get_session(), me()
    distributor_id, email = distributor.id or 0, distributor.email
    account = distributor.stripe_account_id
    session.rollback()  # (no transaction stays open while Stripe is asked)
    try:
        if account is None:
            # One account per distributor however often this is clicked: the same key
            # answers the same account, and only the first one is kept.
            account = provider.create_account(email, key=f"storefront-account-{distributor_id}")
            session.execute(
                sa.update(Distributor)
                .where(
                    col(Distributor.id) == distributor_id,
                    col(Distributor.stripe_account_id).is_(None),
                )
                .values(stripe_account_id=account)
            )
            session.commit()
            account = (
                session.scalar(
                    sa.select(col(Distributor.stripe_account_id)).where(
                        col(Distributor.id) == distributor_id
                    )
                )
                or account
            )
            session.rollback()
        link = provider.onboarding_link(
            account,
            refresh_url=url_for(".payouts_page", _external=True),
            return_url=url_for(".payouts_page", connected=1, _external=True),
        )
    except PayoutError:
        session.rollback()
        return payouts_page(_("Stripe did not answer. Please try again in a moment."), 502)
    return redirect(link, code=303)  # type: ignore[return-value]
