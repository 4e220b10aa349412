"""Signing in and out of the console, and signing up (through a recruiter's invite link, who
is recorded as the new distributor's recruiter, or not)."""

from __future__ import annotations

import math

from flask import Response, current_app, redirect, request, session, url_for
from sqlmodel import select

from ...db import begin_read
from ...errors import Conflict, NotFound, StorefrontError
from ...shops import accounts
from ...shops.models import Distributor, Shop
from .. import identity
from ..errors import status_of
from ..pages import gettext as _
from ..pages import see_other
from ..sessions import get_session
from ..transactions import commit_or_refuse
from .access import LOCALE_KEY, LOGIN_NAMESPACE, message_page, page, safe_next
from .forms import JoinForm, LoginForm, first_error


def login() -> Response:
    """Sign-in: the same answer for an unknown email and a wrong password; past the limit of
    failed attempts (per email and per client), 429 even with the right password."""
    form = LoginForm()
    next_url = safe_next(request.args.get("next"))
    if request.method == "GET":
        return page("login.html", form=form, next_url=next_url)
    email = (form.email.data or "").strip().lower()
    wait = identity.login_wait(email, LOGIN_NAMESPACE)
    if wait is not None:
        minutes = max(1, math.ceil(wait / 60))
        message = _(
            "Too many failed sign-in attempts. Please try again in %(minutes)s minutes.",
            minutes=minutes,
        )
        response = page("login.html", 429, form=form, next_url=next_url, error=message)
        response.headers["Retry-After"] = str(wait)
        return response
    if not form.validate():
        return page("login.html", 422, form=form, next_url=next_url, error=first_error(form))
    session_ = get_session()
    begin_read(session_)
    found = accounts.authenticate_distributor(session_, email, form.password.data or "")
    if found is None:
        identity.login_failed(email, LOGIN_NAMESPACE)
        error = _("Wrong email or password.")
        return page("login.html", 401, form=form, next_url=next_url, error=error)
    _sign_in(found)
    return redirect(next_url or url_for(".home"), code=303)  # type: ignore[return-value]


def _sign_in(distributor: Distributor) -> None:
    chosen = session.get(LOCALE_KEY)
    identity.sign_in(distributor.id or 0, distributor.password_hash)
    if chosen:
        session[LOCALE_KEY] = chosen


def logout() -> Response:
    """Signs out (POST only, with the CSRF token, so no link or image can do it)."""
    identity.sign_out()
    return see_other(".login")


def join(code: str | None) -> Response:
    """Sign-up, through a recruiter's invite link (recorded as the parent) or not."""
    session_ = get_session()
    if request.method == "GET":
        begin_read(session_)
    inviter = None
    if code is not None:
        try:
            inviter = _inviter(code)
        except NotFound:
            message = _("This invite link is not valid. Ask the person who sent it for a new one.")
            return message_page(message, 404)
    form = JoinForm()
    if request.method == "GET":
        return page("join.html", form=form, inviter=inviter, code=code)
    if not form.validate():
        return page(
            "join.html", 422, form=form, inviter=inviter, code=code, error=first_error(form)
        )
    return _sign_up(form, inviter, code)


def _sign_up(form: JoinForm, inviter: dict[str, str] | None, code: str | None) -> Response:
    """The new distributor, committed, then signed in; the form again if refused."""
    made: list[Distributor] = []

    def create() -> Response:
        signed_up = accounts.create_distributor(
            get_session(),
            form.email.data or "",
            form.password.data or "",
            name=form.name.data or "",
            shop_name=form.shop_name.data or None,
            parent_code=code,
            pending=current_app.config["STOREFRONT_DISTRIBUTOR_APPROVAL"],
        )
        made.append(signed_up.distributor)
        return see_other(".home")

    def refuse(error: StorefrontError) -> Response:
        if isinstance(error, Conflict):
            message = _("An account with this email address already exists. Sign in instead.")
            return page("join.html", 409, form=form, inviter=inviter, code=code, error=message)
        status = status_of(error) or 400
        return page("join.html", status, form=form, inviter=inviter, code=code, error=error.message)

    response = commit_or_refuse(create, refuse)
    if made and response.status_code < 400:
        _sign_in(made[0])
    return response


def _inviter(code: str) -> dict[str, str]:
    """Who invites, as the sign-up page shows them."""
    session_ = get_session()
    found = accounts.find_by_code(session_, code)
    shop_name = session_.scalars(select(Shop.name).where(Shop.distributor_id == found.id)).first()
    return {"name": found.name, "shop_name": shop_name or ""}
