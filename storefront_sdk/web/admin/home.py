"""Signing in to the admin and out, and the overview: what needs the platform's attention."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import Response, request
from sqlmodel import col

from ...commissions.models import Payout, PayoutStatus
from ...db import begin_read
from ...fulfillment.models import FAILED, OutboxEvent
from ...platform_admins import authenticate_admin
from ...shops.models import Distributor
from .. import identity
from ..pages import gettext as _
from ..pages import see_other
from ..sessions import get_session
from .access import LOGIN_NAMESPACE, page


def login() -> Response:
    """Sign-in; the same answer for an unknown email and a wrong password; 429 past the
    limit of failed attempts (per email and per client)."""
    if request.method == "GET":
        return page("login.html")
    email = request.form.get("email", "").strip().lower()[:254]
    password = request.form.get("password", "")[:1024]
    wait = identity.login_wait(email, LOGIN_NAMESPACE)
    if wait is not None:
        response = page(
            "login.html", 429, error=_("Too many failed sign-in attempts. Please try again later.")
        )
        response.headers["Retry-After"] = str(wait)
        return response
    session_ = get_session()
    begin_read(session_)
    found = authenticate_admin(session_, email, password) if email and password else None
    if found is None:
        identity.login_failed(email, LOGIN_NAMESPACE)
        return page("login.html", 401, error=_("Wrong email or password."))
    identity.sign_in_admin(found.id or 0, found.password_hash)
    return see_other(".home")


def logout() -> Response:
    identity.sign_out_admin()
    return see_other(".login")


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
