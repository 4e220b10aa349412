"""Shops' own host names: the list (pending first, by default), and the admin's decision on
one, approve (the shop is served there) or refuse, each confirmed on a page of its own before
the ``POST`` that makes it."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Response, abort, current_app, request
from sqlmodel import col

from ...shops import hosts
from ...shops.models import HOST_STATUSES, Distributor, Shop
from ..pages import gettext as _
from ..pages import see_other
from ..sessions import get_session
from ..transactions import committed
from .access import message, newest_page, page, refused


def host_names() -> Response:
    """Shops with a host name of one status (``status``, default ``pending``), newest
    first."""
    wanted = request.args.get("status", "pending")
    if wanted not in HOST_STATUSES:
        wanted = "pending"
    query = (
        sa.select(Shop, col(Distributor.email))
        .join(Distributor, col(Distributor.id) == col(Shop.distributor_id))
        .where(col(Shop.host).is_not(None), col(Shop.host_status) == wanted)
    )
    rows, next_before = newest_page(query, col(Shop.id))
    return page(
        "hosts.html",
        rows=rows,
        chosen=wanted,
        statuses=HOST_STATUSES,
        next_before=next_before,
        custom_hosts=current_app.config["STOREFRONT_CUSTOM_HOSTS"],
    )


def _decision(decision: str) -> str:
    if decision not in hosts.DECISIONS:
        abort(404, description=_("There is no such page."))
    return decision


def confirm_host_decision(shop_id: int, decision: str) -> Response:
    """Asks the admin to confirm approving or refusing the shop's host name."""
    shop = get_session().get(Shop, shop_id)
    if shop is None or shop.host is None:
        return message(_("There is no such host name."), 404)
    return page("host_decision.html", shop=shop, decision=_decision(decision))


@committed(refused)
def decide_host_name(shop_id: int, decision: str) -> Response:
    """Approves or refuses the shop's host name (confirmed on the page before)."""
    hosts.decide_host(get_session(), shop_id, _decision(decision))
    middleware = current_app.extensions["storefront"].shop_hosts
    if middleware is not None:
        middleware.forget()
    return see_other(".host_names")
