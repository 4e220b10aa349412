"""The console's pages that show: the shop at a glance, its links and posters, the team,
and the orders with the customers bound to the distributor (and why a customer is, or is
not, theirs)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from flask import Response, url_for

from ... import i18n
from ...commissions import reports
from ...money import money_formatter
from ...orders import progress
from ...orders.models import Order
from ...referrals.binding import history_of as binding_history
from ...referrals.models import CustomerBinding
from ...shops.models import Distributor, Shop
from ...sql import table_of
from ..pages import cursor_arg, time_zone
from ..sessions import get_session
from ..shop_reads import reader
from .access import locale, me, my_shop, page

#: Recruits per page of the team.
TEAM_PAGE = 50
#: Orders and bound customers listed on the console's orders page.
ORDERS_PAGE = 50


def shop_url(shop: Shop) -> str:
    """The public address of ``shop``'s front page."""
    return url_for("storefront_shop.home", slug=shop.slug, _external=True)


def invite_url(distributor: Distributor) -> str:
    """The sign-up link that records ``distributor`` as the recruiter."""
    return url_for(".join", code=distributor.referral_code, _external=True)


def home() -> Response:
    """The shop at a glance and the way to every section."""
    return page("home.html", shop_link=shop_url(my_shop()), markup=_markup_percent(my_shop()))


def _markup_percent(shop: Shop) -> int | None:
    return None if shop.markup_bp is None else shop.markup_bp // 100


def links() -> Response:
    """The shop's link, referral and invite links, and share posters, with copy buttons."""
    shop, distributor = my_shop(), me()
    read = reader(fresh=True)
    products = read.listing(read.shop(slug=shop.slug), locale(), limit=10).items
    code = distributor.referral_code
    return page(
        "links.html",
        shop_link=shop_url(shop),
        referral_link=url_for("storefront_referral.link", code=code, _external=True),
        invite_link=invite_url(distributor),
        shop_poster=url_for("storefront_posters.shop_poster", slug=shop.slug),
        shop_poster_png=url_for("storefront_posters.shop_poster_png", slug=shop.slug),
        products=[
            {
                "title": product.title,
                "link": url_for(
                    "storefront_referral.link", code=code, product_id=product.id, _external=True
                ),
                "poster": url_for(
                    "storefront_posters.product_poster", slug=shop.slug, product_id=product.id
                ),
                "poster_png": url_for(
                    "storefront_posters.product_poster_png", slug=shop.slug, product_id=product.id
                ),
            }
            for product in products
        ],
    )


def team() -> Response:
    """The invite link and the distributors this distributor recruited (theirs only)."""
    recruits, next_after = _recruits(me().id or 0, cursor_arg("after"))
    return page("team.html", invite_link=invite_url(me()), recruits=recruits, next_after=next_after)


def _recruits(parent_id: int, after: int | None) -> tuple[list[dict[str, str]], int | None]:
    distributor, shop = table_of(Distributor).c, table_of(Shop).c
    stmt = (
        sa.select(distributor.id, distributor.name, distributor.created_at, shop.name)
        .join(table_of(Shop), shop.distributor_id == distributor.id)
        .where(distributor.parent_id == parent_id)
    )
    if after is not None:
        stmt = stmt.where(distributor.id < after)
    rows = get_session().execute(stmt.order_by(distributor.id.desc()).limit(TEAM_PAGE + 1)).all()
    more = len(rows) > TEAM_PAGE
    rows = rows[:TEAM_PAGE]
    recruits = [{"name": row[1], "shop_name": row[3], "joined": _date(row[2])} for row in rows]
    return recruits, rows[-1][0] if more and rows else None


def orders() -> Response:
    """The orders credited to this distributor (in their shop or, by binding or link, in
    another) and the others placed in their shop, with totals and commission after refunds;
    the customers bound to this distributor, and the history of those bindings (why a
    customer is, or is not, theirs). Another distributor is never named."""
    session_ = get_session()
    order = table_of(Order).c
    binding = table_of(CustomerBinding).c
    bound = session_.execute(
        sa.select(binding.bound_at, binding.expires_at, order.contact_email, order.contact_phone)
        .join(table_of(Order), order.id == binding.order_id)
        .where(binding.distributor_id == me().id)
        .order_by(binding.id.desc())
        .limit(ORDERS_PAGE)
    ).all()
    return page(
        "orders.html",
        orders=_orders_of(me().id or 0, my_shop()),
        bindings=[
            {
                "customer": _masked(row.contact_email, row.contact_phone),
                "since": _date(row.bound_at),
                "until": _date(row.expires_at),
            }
            for row in bound
        ],
        history=_binding_history(me().id or 0),
    )


def _orders_of(distributor_id: int, shop: Shop) -> list[dict[str, Any]]:
    """The Orders tab's rows (:func:`~storefront_sdk.commissions.reports.credited_orders`),
    their amounts formatted."""
    session_ = get_session()
    found_orders = reports.credited_orders(session_, distributor_id, shop.id or 0, ORDERS_PAGE)
    shown = progress.display_statuses(
        session_, [(found.id, found.status) for found in found_orders]
    )
    rows = []
    for found in found_orders:
        money = money_formatter(found.currency, locale(), shop.currency_display)
        rows.append(
            {
                "number": found.number,
                "date": _date(found.created_at),
                "total": money(found.net_total),
                "refunded": money(found.refunded) if found.refunded else None,
                "sold_for": money(found.total),
                "status": shown[found.id],
                "credit": found.credit,
                "source": found.source,
                "in_own_shop": found.in_own_shop,
                "commission": money(found.commission),
                "shop_discount": money(found.shop_discount) if found.shop_discount else None,
                "earns": found.commission > 0,
            }
        )
    return rows


def _binding_history(distributor_id: int) -> list[dict[str, Any]]:
    """The binding events concerning the distributor, each with its customer (masked) and,
    on their own side, the order's number."""
    session_ = get_session()
    events = binding_history(session_, distributor_id)
    order = table_of(Order).c
    ids = sorted({event.order_id for event in events if event.order_id is not None})
    contacts = {
        row.id: row
        for row in session_.execute(
            sa.select(order.id, order.number, order.contact_email, order.contact_phone).where(
                order.id.in_(ids)
            )
        )
    }
    rows = []
    for event in events:
        found = contacts.get(event.order_id or 0)
        rows.append(
            {
                "kind": event.kind,
                "theirs": event.theirs,
                "other": event.other,
                "date": _date(event.happened_at),
                "until": _date(event.expires_at),
                "customer": _masked(found.contact_email, found.contact_phone) if found else "",
                "order": found.number if found is not None and event.theirs else None,
            }
        )
    return rows


def _masked(email: str | None, phone: str | None) -> str:
    """A customer's contact with most of it hidden (``li***@example.com``, ``***5678``)."""
    if email:
        name, _, domain = email.partition("@")
        return f"{name[:2]}***@{domain}"
    return f"***{(phone or '')[-4:]}"


def _date(when: datetime) -> str:
    return i18n.local_date(when, locale(), time_zone(my_shop().time_zone))
