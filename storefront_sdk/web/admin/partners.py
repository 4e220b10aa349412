"""The platform's partners: suppliers and their API keys, and distributors (approve a
pending one, suspend one, whose shop then closes, after a confirmation, reinstate)."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Response, abort, flash, request
from sqlmodel import col

from ...catalog.models import ApiKey, Supplier
from ...catalog.suppliers import create_api_key, create_supplier, revoke_api_key_by_prefix
from ...db import utcnow
from ...shops.models import Distributor, Shop
from ..pages import gettext as _
from ..pages import see_other
from ..sessions import get_session
from ..transactions import committed
from .access import PAGE, message, newest_page, page, refused

_STATUSES = ("pending", "active", "suspended")


def suppliers(new_key: str | None = None, status: int = 200) -> Response:
    """Suppliers, newest first, with their keys (a new key shown once)."""
    session_ = get_session()
    rows = session_.scalars(sa.select(Supplier).order_by(col(Supplier.id).desc()).limit(PAGE)).all()
    keys: dict[int, list[ApiKey]] = {}
    for key in session_.scalars(
        sa.select(ApiKey)
        .where(col(ApiKey.supplier_id).in_([s.id for s in rows]))
        .order_by(col(ApiKey.id))
    ):
        keys.setdefault(key.supplier_id, []).append(key)
    return page("suppliers.html", status, suppliers=rows, keys=keys, new_key=new_key)


@committed(refused)
def add_supplier() -> Response:
    """A new supplier and its first API key (shown once)."""
    session_ = get_session()
    supplier = create_supplier(
        session_, request.form.get("name", ""), request.form.get("currency", "")
    )
    _, key = create_api_key(session_, supplier.id or 0)
    return suppliers(new_key=key, status=201)


@committed(refused)
def add_key(supplier_id: int) -> Response:
    """Another API key of a supplier (shown once)."""
    _, key = create_api_key(get_session(), supplier_id)
    return suppliers(new_key=key, status=201)


@committed(refused)
def revoke_key(supplier_id: int) -> Response:
    """Revoke the supplier's key with this prefix."""
    revoke_api_key_by_prefix(get_session(), supplier_id, request.form.get("prefix", ""), utcnow())
    return see_other(".suppliers")


def distributors() -> Response:
    """Distributors, newest first (``status``, ``q``: email or name contains)."""
    wanted = request.args.get("status", "")
    text = request.args.get("q", "").strip()[:100]
    query = sa.select(Distributor, col(Shop.slug), col(Shop.name)).join(
        Shop, col(Shop.distributor_id) == col(Distributor.id)
    )
    if wanted in _STATUSES:
        query = query.where(col(Distributor.status) == wanted)
    if text:
        query = query.where(
            sa.or_(
                col(Distributor.email).contains(text.lower(), autoescape=True),
                sa.func.lower(col(Distributor.name)).contains(text.lower(), autoescape=True),
            )
        )
    rows, next_before = newest_page(query, col(Distributor.id))
    return page(
        "distributors.html",
        rows=rows,
        chosen=wanted,
        q=text,
        statuses=_STATUSES,
        next_before=next_before,
    )


#: What each action makes of a distributor's status, and from which statuses.
_ACTIONS = {
    "approve": ("active", ("pending",)),
    "suspend": ("suspended", ("pending", "active")),
    "reinstate": ("active", ("suspended",)),
}


@committed(refused)
def set_status(distributor_id: int) -> Response:
    """Approve a pending distributor, suspend one (their shop closes; confirmed first, by
    a second post with ``confirmed=1``), or reinstate; what was done is then said."""
    action = request.form.get("action", "")
    if action not in _ACTIONS:
        abort(400, description=_("Unknown action."))
    target, sources = _ACTIONS[action]
    session_ = get_session()
    distributor = session_.get(Distributor, distributor_id, with_for_update=True)
    if distributor is None:
        return message(_("There is no such distributor."), 404)
    if distributor.status not in sources:
        return message(
            _("This cannot be done to a distributor who is %(status)s.", status=distributor.status),
            409,
        )
    if action == "suspend" and request.form.get("confirmed") != "1":
        return page("confirm_suspend.html", distributor=distributor)
    distributor.status = target
    session_.add(distributor)
    flash(_status_said(action, distributor.name or distributor.email))
    return see_other(".distributors")


def _status_said(action: str, who: str) -> str:
    if action == "suspend":
        return _("%(who)s suspended: their shop is closed.", who=who)
    if action == "reinstate":
        return _("%(who)s reinstated.", who=who)
    return _("%(who)s approved.", who=who)
