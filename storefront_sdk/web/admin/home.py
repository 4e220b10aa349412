"""Signing in to the admin and out, and the overview: what needs the platform's attention."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import Response, request
from sqlmodel import col

from ...commissions.models import Payout, PayoutStatus
from ...db import begin_read
from ...fulfillment.models import FAILED, OutboxEvent
from ...platform_admins import PlatformAdmin, authenticate_admin
from ...shops import accounts
from ...shops.models import Distributor
from .. import identity
from ..pages import gettext as _
from ..pages import see_other
from ..sessions import get_session
from ..transactions import commit_or_refuse
from .access import LOGIN_NAMESPACE, page


def login() -> Response:
    """Sign-in; the same answer for an unknown email and a wrong password; each attempt is
    counted before the password is checked, 429 past the limit (per account, per client)."""
    if request.method == "GET":
        return page("login.html")
    email = request.form.get("email", "").strip().lower()[:254]
    password = request.form.get("password", "")[:1024]
    if not email or not password:
        return page("login.html", 422, error=_("Enter your email address and password."))
    wait = identity.sign_in_wait(email, LOGIN_NAMESPACE)
    if wait is not None:
        response = page(
            "login.html", 429, error=_("Too many failed sign-in attempts. Please try again later.")
        )
        response.headers["Retry-After"] = str(wait)
        return response
    session_ = get_session()
    begin_read(session_)
    found = authenticate_admin(session_, email, password)
    if found is None:
        return page("login.html", 401, error=_("Wrong email or password."))
    identity.signed_in_as(email, LOGIN_NAMESPACE)
    identity.sign_in_admin(found)
    return see_other(".home")


def logout() -> Response:
    """Signs out on every browser (the admin's session generation moves on)."""
    claimed = identity.claimed_admin_id()

    def end_sessions() -> Response:
        found = get_session().get(PlatformAdmin, claimed) if claimed is not None else None
        if found is not None and identity.check_admin(found):
            accounts.end_sessions(found)
        return see_other(".login")

    response = commit_or_refuse(end_sessions, lambda error: see_other(".login"))
    identity.sign_out_admin()
    return response


def home() -> Response:
    """What needs the platform's attention."""
    session_ = get_session()

    def count(query: Any) -> int:
        return int(session_.scalar(query) or 0)

    return page(
        "home.html",
        payouts=count(
            sa.select(sa.func.count()).where(col(Payout.status) == PayoutStatus.REQUESTED)
        ),
        approved=count(
            sa.select(sa.func.count()).where(col(Payout.status) == PayoutStatus.APPROVED)
        ),
        failed=count(sa.select(sa.func.count()).where(col(OutboxEvent.status) == FAILED)),
        pending=count(sa.select(sa.func.count()).where(col(Distributor.status) == "pending")),
    )
